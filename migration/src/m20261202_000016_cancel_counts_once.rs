//! A cancel counts the jobs it discards once, instead of once per job. Since migration 15
//! every job that leaves the still-to-run states writes its batch's row, which is right
//! for a worker ending one job; but a cancel discards a whole batch's waiting jobs in one
//! statement, and every one of those writes lands on the same row inside one transaction,
//! each walking past the versions the others left: quadratic, about 1 s for the 8,300 jobs
//! of a whole-catalog batch to both platforms and 5 s for 18,700 (`docs/benchmarks.md`).
//!
//! The trigger's function now leaves `remaining` alone while the transaction has set
//! `syncstore.jobs_counted_by_statement` to `on` (a transaction-local setting that only
//! `db::queue::cancel_batch` sets, around its one discard); that statement then takes the
//! number it discarded off `remaining` itself, in the same transaction. Only the
//! function's body changes, so no table is locked.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
SET LOCAL lock_timeout = '10s';

CREATE OR REPLACE FUNCTION sync_job_remaining_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta INTEGER := CASE WHEN sync_job_unfinished(NEW.state) = 1 THEN 1 ELSE -1 END;
BEGIN
    IF current_setting('syncstore.jobs_counted_by_statement', true) = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE sync_batches SET remaining = remaining + delta,
        finished_at = CASE WHEN remaining + delta = 0 THEN COALESCE(finished_at, now()) END
    WHERE id = NEW.batch_id;
    RETURN NULL;
END $$;
"#;

const DOWN: &str = r#"
SET LOCAL lock_timeout = '10s';

CREATE OR REPLACE FUNCTION sync_job_remaining_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta INTEGER := CASE WHEN sync_job_unfinished(NEW.state) = 1 THEN 1 ELSE -1 END;
BEGIN
    UPDATE sync_batches SET remaining = remaining + delta,
        finished_at = CASE WHEN remaining + delta = 0 THEN COALESCE(finished_at, now()) END
    WHERE id = NEW.batch_id;
    RETURN NULL;
END $$;
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
