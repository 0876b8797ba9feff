//! Sync claims: at most one sync of a (product, platform) runs at any moment, across every
//! process. A claim lapses at `expires_at` unless its holder renews it, so a crashed or
//! frozen holder blocks the pair for one lease at most.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE sync_claims (
    product_id BIGINT NOT NULL,
    platform   TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    holder     TEXT NOT NULL,
    job_id     TEXT,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (product_id, platform)
);
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
            .execute_unprepared("DROP TABLE sync_claims;")
            .await?;
        Ok(())
    }
}
