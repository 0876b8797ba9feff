//! What syncing needs: uploaded-image reuse by content hash, and the master → platform
//! category mapping.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- The same bytes are uploaded to a platform once; later listings reuse the image id.
CREATE TABLE image_uploads (
    platform    TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    sha256      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, sha256)
);

-- Master category → the platform's leaf category. The defaults are the marketplace
-- sandbox's leaf categories for the demo catalog; the owner sets the shop's real ones.
CREATE TABLE category_mappings (
    platform        TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    master_category TEXT NOT NULL,
    category_id     TEXT NOT NULL,
    PRIMARY KEY (platform, master_category)
);
INSERT INTO category_mappings (platform, master_category, category_id) VALUES
    ('shopee', 'Fashion', '100011'), ('shopee', 'Rumah Tangga', '100021'),
    ('shopee', 'Kecantikan', '100031'), ('shopee', 'Aksesoris Gadget', '100041'),
    ('shopee', 'Makanan', '100051'),
    ('tiktok', 'Fashion', '600011'), ('tiktok', 'Rumah Tangga', '600021'),
    ('tiktok', 'Kecantikan', '600031'), ('tiktok', 'Aksesoris Gadget', '600041'),
    ('tiktok', 'Makanan', '600051');
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE category_mappings, image_uploads;")
            .await?;
        Ok(())
    }
}
