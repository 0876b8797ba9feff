//! Which worker ran each queued attempt, so an attempt in the sync log can be traced to
//! the process that made its marketplace calls (`docs/queue.md`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// NULL for manual syncs from the API or the dashboard, and for attempts logged before.
const UP: &str = "ALTER TABLE sync_logs ADD COLUMN worker_id TEXT;";

const DOWN: &str = "ALTER TABLE sync_logs DROP COLUMN worker_id;";

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
