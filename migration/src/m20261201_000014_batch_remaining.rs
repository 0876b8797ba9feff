//! Each batch keeps the number of its jobs still to run, and is closed (`finished_at`) the
//! moment that number reaches 0, in the statement that moved its last job: closing a batch
//! no longer reads every job of the batch on every finish (`docs/queue.md`). Triggers keep
//! the number right whichever statement moves a job: a finish, a cancel, a recovery, a
//! retry of a dead letter (which opens the batch again), a rollback's jobs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- No job changes while the number is first counted and the triggers are put in place.
-- Both tables are locked up front, batches first as a cancel takes them. A statement of a
-- process still running that takes them the other way round (a claim reads its batch
-- after locking its job) can meet this in a deadlock in the microseconds between the two;
-- Postgres then aborts one side: a worker retries its claim, a failed migration runs
-- again at the next start.
LOCK TABLE sync_batches IN ACCESS EXCLUSIVE MODE;
LOCK TABLE sync_jobs IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE sync_batches ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;

UPDATE sync_batches b SET remaining = n.remaining
FROM (SELECT batch_id, count(*) AS remaining FROM sync_jobs
      WHERE state IN ('waiting', 'active', 'retrying') GROUP BY batch_id) n
WHERE b.id = n.batch_id;

-- A batch with nothing left is closed (once: its first close time is kept); one that has
-- jobs to run again is open.
CREATE FUNCTION sync_batch_moved(batch_id TEXT, delta BIGINT) RETURNS VOID
LANGUAGE sql AS $$
    UPDATE sync_batches SET remaining = remaining + delta,
        finished_at = CASE WHEN remaining + delta = 0 THEN COALESCE(finished_at, now()) END
    WHERE id = batch_id
$$;

-- 1 for a job still to run (waiting, active, retrying), 0 for a finished one.
CREATE FUNCTION sync_job_unfinished(state TEXT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN state IN ('waiting', 'active', 'retrying') THEN 1 ELSE 0 END
$$;

-- Once per statement, whatever the number of jobs it moved; a batch whose number does not
-- change (a claim, a heartbeat) is not written.
CREATE FUNCTION sync_jobs_remaining_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_batch_moved(d.batch_id, d.delta)
    FROM (SELECT batch_id, sum(sync_job_unfinished(state)) AS delta
          FROM new_jobs GROUP BY batch_id) d
    WHERE d.delta <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION sync_jobs_remaining_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_batch_moved(d.batch_id, d.delta)
    FROM (SELECT n.batch_id,
                 sum(sync_job_unfinished(n.state) - sync_job_unfinished(o.state)) AS delta
          FROM new_jobs n JOIN old_jobs o ON o.id = n.id GROUP BY n.batch_id) d
    WHERE d.delta <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION sync_jobs_remaining_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_batch_moved(d.batch_id, -d.delta)
    FROM (SELECT batch_id, sum(sync_job_unfinished(state)) AS delta
          FROM old_jobs GROUP BY batch_id) d
    WHERE d.delta <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER sync_jobs_remaining_insert AFTER INSERT ON sync_jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_remaining_inserted();
CREATE TRIGGER sync_jobs_remaining_update AFTER UPDATE ON sync_jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_remaining_updated();
CREATE TRIGGER sync_jobs_remaining_delete AFTER DELETE ON sync_jobs
    REFERENCING OLD TABLE AS old_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_remaining_deleted();
"#;

const DOWN: &str = r#"
DROP TRIGGER sync_jobs_remaining_delete ON sync_jobs;
DROP TRIGGER sync_jobs_remaining_update ON sync_jobs;
DROP TRIGGER sync_jobs_remaining_insert ON sync_jobs;
DROP FUNCTION sync_jobs_remaining_deleted();
DROP FUNCTION sync_jobs_remaining_updated();
DROP FUNCTION sync_jobs_remaining_inserted();
DROP FUNCTION sync_batch_moved(TEXT, BIGINT);
DROP FUNCTION sync_job_unfinished(TEXT);
ALTER TABLE sync_batches DROP COLUMN remaining;
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
