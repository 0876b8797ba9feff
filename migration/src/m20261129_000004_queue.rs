//! Batches and their jobs: Postgres is the system of record for the queue (Redis only
//! carries job ids to workers), so every state a job can be in is a row here.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE sync_batches (
    id          TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  BIGINT REFERENCES users(id),
    platform    TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok', 'both')),
    total       INTEGER NOT NULL,
    cancelled   BOOLEAN NOT NULL DEFAULT false,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX sync_batches_created ON sync_batches (created_at DESC);

-- state: waiting → active → completed | retrying (→ active) | failed (the dead-letter
-- queue) → waiting (retried by an operator) | discarded (with a reason).
CREATE TABLE sync_jobs (
    id             TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    batch_id       TEXT NOT NULL REFERENCES sync_batches(id) ON DELETE CASCADE,
    product_id     BIGINT NOT NULL,
    platform       TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    state          TEXT NOT NULL DEFAULT 'waiting'
                   CHECK (state IN ('waiting', 'active', 'retrying', 'completed', 'failed', 'discarded')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL DEFAULT 3,
    stalls         INTEGER NOT NULL DEFAULT 0,
    run_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    worker_id      TEXT,
    heartbeat_at   TIMESTAMPTZ,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    duration_ms    INTEGER NOT NULL DEFAULT 0,
    action         TEXT,
    error_code     TEXT,
    error_message  TEXT,
    discard_reason TEXT,
    discarded_by   BIGINT REFERENCES users(id),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (batch_id, product_id, platform)
);
CREATE INDEX sync_jobs_batch ON sync_jobs (batch_id);
CREATE INDEX sync_jobs_unfinished ON sync_jobs (state, run_at)
    WHERE state IN ('waiting', 'active', 'retrying');
CREATE INDEX sync_jobs_dead ON sync_jobs (finished_at DESC) WHERE state = 'failed';
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
            .execute_unprepared("DROP TABLE sync_jobs, sync_batches;")
            .await?;
        Ok(())
    }
}
