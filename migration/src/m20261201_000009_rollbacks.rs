//! Rollbacks (SPEC §7): a rollback is a batch whose jobs restore listings toward the
//! snapshots taken before a sync, or delete the listings a sync created. It runs through
//! the same queue as a sync batch, so it has the same progress, retries and dead letters.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE sync_batches
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'rollback')),
    -- The batch a rollback undoes; null when it undoes chosen products' latest syncs.
    ADD COLUMN rollback_of TEXT REFERENCES sync_batches(id) ON DELETE SET NULL;

-- A rollback job's plan: the snapshot it restores toward, what it does on the marketplace
-- and to which listing (the one restored, or the one the undone sync created). All null
-- for a sync job.
ALTER TABLE sync_jobs
    ADD COLUMN snapshot_id BIGINT REFERENCES sync_snapshots(id),
    ADD COLUMN plan_action TEXT CHECK (plan_action IN ('delete', 'restore')),
    ADD COLUMN plan_external_id TEXT;

-- A rollback backs up what it is about to change too; its snapshots are never the state a
-- later rollback goes back to.
ALTER TABLE sync_snapshots
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'rollback'));
"#;

const DOWN: &str = r#"
ALTER TABLE sync_snapshots DROP COLUMN kind;
ALTER TABLE sync_jobs DROP COLUMN plan_external_id, DROP COLUMN plan_action, DROP COLUMN snapshot_id;
ALTER TABLE sync_batches DROP COLUMN rollback_of, DROP COLUMN kind;
"#;

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
