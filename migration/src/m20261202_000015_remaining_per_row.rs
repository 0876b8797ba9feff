//! A batch's `remaining` follows its jobs' updates row by row, and only the updates that
//! move a job between still-to-run and finished touch it. Migration 14's statement-level
//! update trigger made Postgres copy every updated job into transition tables and run a
//! grouped query for every claim and heartbeat too, although neither changes the number:
//! a claim and an end of an attempt together cost 0.92 ms with it and 0.69 ms with this
//! (`pgbench -M prepared`, one client). The price is in statements that finish many jobs
//! of one batch at once (a cancel): each job writes the batch's row again in the same
//! transaction, 0.1 s for 2,000 jobs and 1 s for 8,000 (`docs/benchmarks.md`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- No job changes between the old trigger's drop and the new one's creation. Only
-- `sync_jobs` is locked: a statement already running holds its lock on the table before
-- any row of a batch, so nothing here waits in a circle with it. Behind a long open
-- transaction the lock request would hold up every worker queued after it, so the
-- migration gives up after a few seconds instead (and is run again).
SET LOCAL lock_timeout = '5s';
LOCK TABLE sync_jobs IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER sync_jobs_remaining_update ON sync_jobs;
DROP FUNCTION sync_jobs_remaining_updated();

-- Fires only when the job went from still to run to finished or back, so the change is
-- one either way.
CREATE FUNCTION sync_job_remaining_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta INTEGER := CASE WHEN sync_job_unfinished(NEW.state) = 1 THEN 1 ELSE -1 END;
BEGIN
    UPDATE sync_batches SET remaining = remaining + delta,
        finished_at = CASE WHEN remaining + delta = 0 THEN COALESCE(finished_at, now()) END
    WHERE id = NEW.batch_id;
    RETURN NULL;
END $$;

CREATE TRIGGER sync_jobs_remaining_update AFTER UPDATE OF state ON sync_jobs
    FOR EACH ROW
    WHEN (sync_job_unfinished(OLD.state) <> sync_job_unfinished(NEW.state))
    EXECUTE FUNCTION sync_job_remaining_moved();
"#;

const DOWN: &str = r#"
LOCK TABLE sync_jobs IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER sync_jobs_remaining_update ON sync_jobs;
DROP FUNCTION sync_job_remaining_moved();

CREATE FUNCTION sync_jobs_remaining_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_batch_moved(d.batch_id, d.delta)
    FROM (SELECT n.batch_id,
                 sum(sync_job_unfinished(n.state) - sync_job_unfinished(o.state)) AS delta
          FROM new_jobs n JOIN old_jobs o ON o.id = n.id GROUP BY n.batch_id) d
    WHERE d.delta <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER sync_jobs_remaining_update AFTER UPDATE ON sync_jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_remaining_updated();
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
