//! Backups taken before a sync touches a listing (SPEC §7, "backup first"): the mapping
//! as SyncStore held it and the listing as the marketplace showed it. Rollback restores
//! from these; a sync that cannot take one does not start.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE sync_snapshots (
    id          BIGSERIAL PRIMARY KEY,
    taken_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    product_id  BIGINT NOT NULL,
    platform    TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    -- The queued job and batch the sync belonged to; both null for a manual sync.
    job_id      TEXT,
    batch_id    TEXT,
    -- The listing the sync was about to change; null when there was none (a create).
    external_id TEXT,
    -- {"mapping": platform_mappings row, "variants": [variant_mappings rows]}; null when
    -- the product had no mapping on this platform.
    mapping     JSONB,
    -- The listing as the marketplace answered for it; null when there was none.
    listing     JSONB
);
CREATE INDEX sync_snapshots_product ON sync_snapshots (product_id, platform, taken_at DESC);
CREATE INDEX sync_snapshots_batch ON sync_snapshots (batch_id) WHERE batch_id IS NOT NULL;
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
            .execute_unprepared("DROP TABLE sync_snapshots;")
            .await?;
        Ok(())
    }
}
