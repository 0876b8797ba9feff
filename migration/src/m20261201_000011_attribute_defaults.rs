//! The owner's default values for the attributes a marketplace category makes mandatory
//! and that SyncStore cannot fill without claiming something (SPEC §9a settings).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE category_attribute_defaults (
    platform     TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    category_id  TEXT NOT NULL,
    attribute_id TEXT NOT NULL,
    -- A value id from the attribute's own list.
    value        TEXT NOT NULL,
    PRIMARY KEY (platform, category_id, attribute_id)
);
"#;

const DOWN: &str = "DROP TABLE category_attribute_defaults;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
