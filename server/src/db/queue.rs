//! Batches and jobs in Postgres, the queue's system of record. A job changes state only
//! through these statements, each guarded by the state it expects, so two workers that
//! both received a job id can never both run it.

use app::api::Platform;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};

use super::sql;

/// Placeholders `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids among `ids` that name no product.
pub async fn unknown_products(db: &DatabaseConnection, ids: &[i64]) -> Result<Vec<i64>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(sql(
            &format!(
                "SELECT id FROM products WHERE id IN ({})",
                placeholders(1, ids.len())
            ),
            ids.iter().map(|id| (*id).into()),
        ))
        .await?;
    let known: std::collections::HashSet<i64> = rows
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "id").ok())
        .collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !known.contains(id))
        .collect())
}

/// What creating a batch came to.
pub enum NewBatch {
    Created {
        batch_id: String,
        job_ids: Vec<String>,
    },
    /// These products already have an unfinished job for one of the platforms.
    Busy(Vec<i64>),
    /// The rollout's rules refuse a batch now (`rollout::batch_gate`).
    Gated(String),
}

/// Creates a batch with one job per product and platform, in one transaction, unless a
/// product already has an unfinished job for one of the platforms in another batch.
/// Batch creations take turns (a transaction-scoped advisory lock), so two batches holding
/// the same product cannot both pass the check.
pub async fn create_batch(
    db: &DatabaseConnection,
    created_by: Option<i64>,
    platform_label: &str,
    product_ids: &[i64],
    platforms: &[Platform],
) -> Result<NewBatch, DbErr> {
    let txn = db.begin().await?;
    txn.execute_raw(sql(
        "SELECT pg_advisory_xact_lock(hashtext('syncstore.create_batch'))",
        [],
    ))
    .await?;
    if let Some(reason) = crate::rollout::batch_gate(&txn, product_ids.len()).await? {
        return Ok(NewBatch::Gated(reason));
    }
    let id_list = format!(
        "{{{}}}",
        product_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let platform_list = format!(
        "{{{}}}",
        platforms
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let busy = txn
        .query_all_raw(sql(
            "SELECT DISTINCT product_id FROM sync_jobs
             WHERE product_id = ANY($1::bigint[]) AND platform = ANY($2::text[])
               AND state IN ('waiting', 'active', 'retrying')
             ORDER BY product_id",
            [id_list.into(), platform_list.into()],
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "product_id"))
        .collect::<Result<Vec<_>, _>>()?;
    if !busy.is_empty() {
        return Ok(NewBatch::Busy(busy));
    }
    let total = (product_ids.len() * platforms.len()) as i32;
    let batch_id: String = txn
        .query_one_raw(sql(
            "INSERT INTO sync_batches (created_by, platform, total) VALUES ($1, $2, $3) RETURNING id",
            [created_by.into(), platform_label.into(), total.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("inserting a batch returned no row".into()))?
        .try_get("", "id")?;
    let mut values: Vec<sea_orm::Value> = vec![batch_id.clone().into()];
    let mut rows = Vec::new();
    for product_id in product_ids {
        for platform in platforms {
            values.push((*product_id).into());
            values.push(platform.as_str().into());
            rows.push(format!("($1, ${}, ${})", values.len() - 1, values.len()));
        }
    }
    let job_rows = txn
        .query_all_raw(sql(
            &format!(
                "INSERT INTO sync_jobs (batch_id, product_id, platform) VALUES {} RETURNING id",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    let job_ids = job_rows
        .iter()
        .map(|r| r.try_get::<String>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    txn.commit().await?;
    Ok(NewBatch::Created { batch_id, job_ids })
}

/// A condition that is always true and lets the statement's own (implicit) transaction
/// commit before its WAL reaches the disk (`SET LOCAL synchronous_commit = off` for one
/// statement: a row the statement changes has passed every condition, this one too). Only
/// for the claim and the end of an attempt, where losing the commit is harmless: should
/// Postgres crash in the fraction of a second before the WAL is flushed, the job is found
/// as it was before, waiting (a lost claim: dispatched again from Postgres) or active with
/// no heartbeat (a lost end: recovered as stalled, the attempt not counted), and the sync
/// it runs again is idempotent. A batch's creation, the sync log, the claims on products
/// and everything else keep the default, durable commit.
const RELAXED_COMMIT: &str = "set_config('synchronous_commit', 'off', true) IS NOT NULL";

/// A job a worker now holds.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ClaimedJob {
    pub id: String,
    pub batch_id: String,
    pub product_id: i64,
    pub platform: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// A rollback job: the snapshot it restores toward, what it does (`delete` or
    /// `restore`) and the listing it does it to; all `None` for a sync job.
    pub snapshot_id: Option<i64>,
    pub plan_action: Option<String>,
    pub plan_external_id: Option<String>,
    /// Whether the batch had started before this claim.
    pub batch_started: bool,
}

impl ClaimedJob {
    /// The table's CHECK constraint allows only the two platforms.
    pub fn platform(&self) -> Platform {
        Platform::parse(&self.platform).unwrap_or(Platform::Shopee)
    }
}

/// Takes a job for `worker_id` if it is due and nobody holds it; `None` otherwise.
pub async fn claim(
    db: &DatabaseConnection,
    job_id: &str,
    worker_id: &str,
) -> Result<Option<ClaimedJob>, DbErr> {
    let job = ClaimedJob::find_by_statement(sql(
        &format!(
            "UPDATE sync_jobs SET state = 'active', attempts = attempts + 1, worker_id = $2,
                heartbeat_at = now(), started_at = COALESCE(started_at, now()), updated_at = now()
             WHERE id = $1 AND state IN ('waiting', 'retrying') AND run_at <= now() + interval '50 milliseconds'
               AND NOT EXISTS (SELECT 1 FROM sync_batches b WHERE b.id = sync_jobs.batch_id AND b.cancelled)
               AND {RELAXED_COMMIT}
             RETURNING id, batch_id, product_id, platform, attempts, max_attempts, snapshot_id, plan_action,
                       plan_external_id,
                       (SELECT b.started_at IS NOT NULL FROM sync_batches b WHERE b.id = sync_jobs.batch_id)
                           AS batch_started"
        ),
        [job_id.into(), worker_id.into()],
    ))
    .one(db)
    .await?;
    // Its own statement, holding no job: only the batch's first claim has anything to
    // write, and the batch's row is taken after a job's by every statement (`cancel_batch`).
    if let Some(job) = job.as_ref().filter(|job| !job.batch_started) {
        db.execute_raw(sql(
            "UPDATE sync_batches SET started_at = now() WHERE id = $1 AND started_at IS NULL",
            [job.batch_id.clone().into()],
        ))
        .await?;
    }
    Ok(job)
}

/// Where a job that could not be claimed stands: its state and, if it is waiting for a
/// later run, how many milliseconds from now.
pub async fn job_state(
    db: &DatabaseConnection,
    job_id: &str,
) -> Result<Option<(String, i64)>, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT state, GREATEST(0, (EXTRACT(EPOCH FROM (run_at - now())) * 1000))::bigint AS due_in_ms
             FROM sync_jobs WHERE id = $1",
            [job_id.into()],
        ))
        .await?;
    row.map(|r| Ok((r.try_get("", "state")?, r.try_get("", "due_in_ms")?)))
        .transpose()
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Finish {
    Completed {
        action: Option<String>,
    },
    /// Run again after `delay_ms`.
    Retry {
        delay_ms: i64,
        code: String,
        message: String,
    },
    /// Into the dead-letter queue.
    Failed {
        code: String,
        message: String,
    },
    /// Another sync of the pair was running, so nothing was tried: run again after
    /// `delay_ms` without spending an attempt.
    Busy {
        delay_ms: i64,
        code: String,
        message: String,
    },
}

/// Records the end of an attempt held by `worker_id`; `false` when the job was no longer
/// this worker's (it was recovered as stalled meanwhile), in which case nothing changes.
/// A retry of a job whose batch was cancelled while it ran is discarded instead: cancel
/// means no new attempt starts.
pub async fn finish(
    db: &DatabaseConnection,
    job_id: &str,
    worker_id: &str,
    duration_ms: i64,
    finish: &Finish,
) -> Result<bool, DbErr> {
    let mut spent: i32 = 0;
    let (state, delay_ms, action, code, message) = match finish {
        Finish::Completed { action } => ("completed", 0, action.clone(), None, None),
        Finish::Busy {
            delay_ms,
            code,
            message,
        } => {
            spent = -1;
            (
                "retrying",
                *delay_ms,
                None,
                Some(code.clone()),
                Some(message.clone()),
            )
        }
        Finish::Retry {
            delay_ms,
            code,
            message,
        } => (
            "retrying",
            *delay_ms,
            None,
            Some(code.clone()),
            Some(message.clone()),
        ),
        Finish::Failed { code, message } => {
            ("failed", 0, None, Some(code.clone()), Some(message.clone()))
        }
    };
    // One statement: the job's end and, when it was the last one, its batch's end (the
    // trigger on `sync_jobs` closes the batch) commit together, so no reader sees every job
    // finished while the batch is not.
    //
    // Locks: the job's row first, then its batch's (by the trigger, or by `b` for a retry),
    // the order every statement takes them in (see [`cancel_batch`]), so none can close a
    // cycle with an end; and the batch's row, the one row every job of a batch writes, is
    // held only from the trigger to the commit instead of for the whole statement: at 4
    // worker slots the ends of one batch had spent most of their time waiting for it
    // (`docs/benchmarks.md`).
    let statement = if state == "retrying" {
        // A retry must see a cancel committing meanwhile, so the batch is read locked:
        // a retry of a cancelled batch is discarded instead (no new attempt starts).
        format!(
            "{HELD_JOB_THEN_BATCH}
             UPDATE sync_jobs j SET
                state = CASE WHEN b.cancelled THEN 'discarded' ELSE $3 END,
                run_at = now() + $4 * interval '1 millisecond',
                action = $5, error_code = $6, error_message = $7,
                discard_reason = CASE WHEN b.cancelled THEN 'batch cancelled' ELSE j.discard_reason END,
                duration_ms = j.duration_ms + $8, worker_id = NULL, heartbeat_at = NULL,
                attempts = GREATEST(j.attempts + $9, 0),
                finished_at = CASE WHEN b.cancelled THEN now() END,
                updated_at = now()
             FROM b
             WHERE b.id = j.batch_id AND j.id = $1 AND j.state = 'active' AND j.worker_id = $2
               AND {RELAXED_COMMIT}"
        )
    } else {
        // Completed or failed: the same end whether or not the batch was cancelled.
        format!(
            "UPDATE sync_jobs j SET
                state = $3, run_at = now() + $4 * interval '1 millisecond',
                action = $5, error_code = $6, error_message = $7,
                duration_ms = j.duration_ms + $8, worker_id = NULL, heartbeat_at = NULL,
                attempts = GREATEST(j.attempts + $9, 0), finished_at = now(), updated_at = now()
             WHERE j.id = $1 AND j.state = 'active' AND j.worker_id = $2 AND {RELAXED_COMMIT}"
        )
    };
    let result = db
        .execute_raw(sql(
            &statement,
            [
                job_id.into(),
                worker_id.into(),
                state.into(),
                delay_ms.into(),
                action.into(),
                code.into(),
                message.map(|m| crate::redact::redact(&m)).into(),
                duration_ms.min(i32::MAX as i64).into(),
                spent.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The job `$1` if it is active on worker `$2`, locked, then its batch's row (`b`, with
/// `cancelled`): the order every statement takes them in (see [`cancel_batch`]).
const HELD_JOB_THEN_BATCH: &str = "WITH job AS (
    SELECT id, batch_id FROM sync_jobs
    WHERE id = $1 AND state = 'active' AND worker_id = $2 FOR UPDATE
), b AS (
    SELECT b.id, b.cancelled FROM sync_batches b
    WHERE b.id = (SELECT batch_id FROM job) FOR UPDATE
)";

/// Hands a job back unfinished (graceful shutdown): the interrupted attempt is not held
/// against it. A job of a cancelled batch is discarded instead.
pub async fn hand_back(
    db: &DatabaseConnection,
    job_id: &str,
    worker_id: &str,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(sql(
            // The job's row, then its batch's, as [`finish`] takes them.
            &format!(
                "{HELD_JOB_THEN_BATCH}
             UPDATE sync_jobs j SET
                state = CASE WHEN b.cancelled THEN 'discarded' ELSE 'waiting' END,
                discard_reason = CASE WHEN b.cancelled THEN 'batch cancelled' ELSE j.discard_reason END,
                finished_at = CASE WHEN b.cancelled THEN now() END,
                attempts = GREATEST(j.attempts - 1, 0),
                worker_id = NULL, heartbeat_at = NULL, run_at = now(), updated_at = now()
             FROM b
             WHERE b.id = j.batch_id AND j.id = $1 AND j.state = 'active' AND j.worker_id = $2"
            ),
            [job_id.into(), worker_id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks the batch finished if none of its jobs is left to run (its `remaining`, kept by
/// triggers on `sync_jobs`, is 0). The triggers close a batch themselves when its last job
/// ends; this is for a cancel that ended no job (a batch with none left to discard).
pub async fn close_batch_if_done(db: &DatabaseConnection, batch_id: &str) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "UPDATE sync_batches SET finished_at = now()
         WHERE id = $1 AND finished_at IS NULL AND remaining = 0",
        [batch_id.into()],
    ))
    .await
    .map(|_| ())
}

/// Proves the worker is alive for the jobs it still runs.
pub async fn heartbeat(
    db: &DatabaseConnection,
    worker_id: &str,
    job_ids: &[String],
) -> Result<(), DbErr> {
    if job_ids.is_empty() {
        return Ok(());
    }
    let mut values: Vec<sea_orm::Value> = vec![worker_id.into()];
    values.extend(job_ids.iter().map(|id| id.clone().into()));
    db.execute_raw(sql(
        &format!(
            // Rows locked in id order, as a cancel locks its batch's unfinished jobs
            // (these among them) for the moment it takes.
            "UPDATE sync_jobs SET heartbeat_at = now()
             WHERE id IN (SELECT id FROM sync_jobs
                          WHERE worker_id = $1 AND state = 'active' AND id IN ({})
                          ORDER BY id FOR UPDATE)
               AND worker_id = $1 AND state = 'active'",
            placeholders(2, job_ids.len())
        ),
        values,
    ))
    .await
    .map(|_| ())
}

/// Jobs whose worker stopped sending heartbeats `stall_ms` ago go back to waiting; the cut
/// attempt is not held against them, but a job that stalls 3 times is dead-lettered
/// (`WORKER_LOST`) rather than take down worker after worker. Returns (job, batch, state).
///
/// One job per statement, its row locked before its batch's: the order [`finish`] takes
/// them in, so a job recovered just as its worker ends it is one or the other, never a
/// deadlock. A job whose worker ended it meanwhile fails the statement's recheck, and the
/// statement then locks no batch: were several jobs recovered in one statement, it could
/// hold such a job's row (Postgres keeps the lock of a row that failed its recheck) while
/// it waits for a batch a cancel holds, and that cancel could be waiting for the row.
pub async fn recover_stalled(
    db: &DatabaseConnection,
    stall_ms: i64,
) -> Result<Vec<(String, String, String)>, DbErr> {
    let stalled = db
        .query_all_raw(sql(
            "SELECT id FROM sync_jobs
             WHERE state = 'active' AND heartbeat_at < now() - $1 * interval '1 millisecond'
             ORDER BY id",
            [stall_ms.into()],
        ))
        .await?;
    let mut recovered = Vec::new();
    for row in stalled {
        let job_id: String = row.try_get("", "id")?;
        let Some(row) = db
            .query_one_raw(sql(
                "WITH job AS (
                    SELECT id, batch_id FROM sync_jobs
                    WHERE id = $1 AND state = 'active'
                      AND heartbeat_at < now() - $2 * interval '1 millisecond'
                    FOR UPDATE
                 ), b AS (
                    SELECT b.id, b.cancelled FROM sync_batches b
                    WHERE b.id = (SELECT batch_id FROM job) FOR UPDATE
                 )
                 UPDATE sync_jobs j SET
                    state = CASE WHEN b.cancelled THEN 'discarded'
                        WHEN j.stalls + 1 >= 3 THEN 'failed' ELSE 'waiting' END,
                    error_code = CASE WHEN b.cancelled THEN 'CANCELLED'
                        WHEN j.stalls + 1 >= 3 THEN 'WORKER_LOST' ELSE j.error_code END,
                    error_message = CASE WHEN b.cancelled THEN 'the batch was cancelled while this job ran'
                        WHEN j.stalls + 1 >= 3 THEN 'the worker running this job stopped 3 times'
                        ELSE j.error_message END,
                    discard_reason = CASE WHEN b.cancelled THEN 'batch cancelled' ELSE j.discard_reason END,
                    finished_at = CASE WHEN b.cancelled OR j.stalls + 1 >= 3 THEN now() END,
                    attempts = GREATEST(j.attempts - 1, 0), stalls = j.stalls + 1,
                    worker_id = NULL, heartbeat_at = NULL, run_at = now(), updated_at = now()
                 FROM b
                 WHERE b.id = j.batch_id AND j.id = $1 AND j.state = 'active'
                   AND j.heartbeat_at < now() - $2 * interval '1 millisecond'
                 RETURNING j.id, j.batch_id, j.state",
                [job_id.into(), stall_ms.into()],
            ))
            .await?
        else {
            continue;
        };
        recovered.push((
            row.try_get("", "id")?,
            row.try_get("", "batch_id")?,
            row.try_get("", "state")?,
        ));
    }
    Ok(recovered)
}

/// A job Postgres says must still run, for re-dispatching to Redis.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PendingJob {
    pub id: String,
    pub state: String,
    pub due_in_ms: i64,
}

/// Every waiting or retrying job; with `overdue_ms`, only those due that long ago.
pub async fn pending_jobs(
    db: &DatabaseConnection,
    overdue_ms: Option<i64>,
) -> Result<Vec<PendingJob>, DbErr> {
    PendingJob::find_by_statement(sql(
        "SELECT id, state, GREATEST(0, (EXTRACT(EPOCH FROM (run_at - now())) * 1000))::bigint AS due_in_ms
         FROM sync_jobs
         WHERE state IN ('waiting', 'retrying')
           AND ($1::bigint IS NULL OR run_at < now() - $1 * interval '1 millisecond')
         ORDER BY run_at",
        [overdue_ms.into()],
    ))
    .all(db)
    .await
}

/// Puts a dead-lettered job back in line with fresh attempts; its batch is open again.
/// Returns the batch id, or `None` when the job is not in the dead-letter queue or its
/// batch was cancelled (no job of a cancelled batch runs, so a retry would wait for ever).
/// Takes the lock batch creation holds, so a new batch's gate never sees the job half-way
/// between failed and waiting, then the job's row and the batch's, in the order every end
/// and a cancel take them: a cancel committing while the retry waits for the batch's row is
/// seen, not raced.
pub async fn retry_dead(db: &DatabaseConnection, job_id: &str) -> Result<Option<String>, DbErr> {
    if !app::api::plausible_id(job_id) {
        return Ok(None);
    }
    let txn = db.begin().await?;
    txn.execute_raw(sql(
        "SELECT pg_advisory_xact_lock(hashtext('syncstore.create_batch'))",
        [],
    ))
    .await?;
    let row = txn
        .query_one_raw(sql(
            "WITH dead AS (
                SELECT id, batch_id FROM sync_jobs WHERE id = $1 AND state = 'failed' FOR UPDATE
             ), b AS (
                SELECT b.id FROM sync_batches b
                WHERE b.id = (SELECT batch_id FROM dead) AND NOT b.cancelled
                FOR UPDATE
             ), job AS (
                UPDATE sync_jobs j SET state = 'waiting', attempts = 0, stalls = 0, run_at = now(),
                    finished_at = NULL, updated_at = now()
                FROM b
                WHERE j.id = $1 AND j.batch_id = b.id AND j.state = 'failed' RETURNING j.batch_id
             ), reopened AS (
                UPDATE sync_batches SET finished_at = NULL WHERE id IN (SELECT batch_id FROM job)
             )
             SELECT batch_id FROM job",
            [job_id.into()],
        ))
        .await?;
    let batch = row.map(|r| r.try_get("", "batch_id")).transpose()?;
    txn.commit().await?;
    Ok(batch)
}

/// Takes a job out of the dead-letter queue for good, keeping who and why.
pub async fn discard_dead(
    db: &DatabaseConnection,
    job_id: &str,
    user_id: Option<i64>,
    reason: &str,
) -> Result<Option<String>, DbErr> {
    if !app::api::plausible_id(job_id) {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sql(
            "UPDATE sync_jobs SET state = 'discarded', discard_reason = $2, discarded_by = $3,
                updated_at = now()
             WHERE id = $1 AND state = 'failed' RETURNING batch_id",
            [job_id.into(), reason.into(), user_id.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "batch_id")).transpose()
}

/// Stops a batch: jobs not started yet are discarded, running ones finish. `false` when no
/// unfinished batch has this id.
///
/// Locks, in the order every statement takes them (a job's row, then its batch's; several
/// jobs' rows in id order): first every unfinished job of the batch, so that an end in
/// flight has committed and a job its worker ended as a retry is discarded with the rest;
/// then the batch's row, to mark it cancelled; then the discard. While it holds the batch's
/// row the cancel never waits for a job: a job that turned waiting after the first step (a
/// dead letter put back) may have been claimed since and be ending, its worker holding the
/// job and waiting for the batch's row, so the discard passes over jobs another
/// transaction holds (`SKIP LOCKED`). After the commit, with the batch's row let go, one
/// more statement discards, waiting for each, whatever it passed over and still waits.
pub async fn cancel_batch(
    db: &DatabaseConnection,
    batch_id: &str,
    user_id: Option<i64>,
) -> Result<bool, DbErr> {
    if !app::api::plausible_id(batch_id) {
        return Ok(false);
    }
    let txn = db.begin().await?;
    txn.execute_raw(sql(
        "SELECT count(*) FROM (SELECT id FROM sync_jobs
                               WHERE batch_id = $1 AND state IN ('waiting', 'retrying', 'active')
                               ORDER BY id FOR UPDATE) locked",
        [batch_id.into()],
    ))
    .await?;
    let marked = txn
        .execute_raw(sql(
            "UPDATE sync_batches SET cancelled = true WHERE id = $1 AND finished_at IS NULL",
            [batch_id.into()],
        ))
        .await?;
    if marked.rows_affected() == 0 {
        return Ok(false);
    }
    // The discarded jobs are taken off the batch's `remaining` in one write rather than one
    // per job by the trigger (migration 16): a whole-catalog batch is thousands of jobs,
    // and their writes to the one batch row in one transaction cost quadratic time. The
    // setting is local to this transaction; the count's statement turns it off again.
    txn.execute_raw(sql(
        "SELECT set_config('syncstore.jobs_counted_by_statement', 'on', true)",
        [],
    ))
    .await?;
    let discarded = txn
        .execute_raw(sql(
            &format!(
                "UPDATE sync_jobs SET {DISCARDED_BY_CANCEL}, discarded_by = $2
                 WHERE id IN (SELECT id FROM sync_jobs
                              WHERE batch_id = $1 AND state IN ('waiting', 'retrying')
                              FOR UPDATE SKIP LOCKED)
                   AND state IN ('waiting', 'retrying')"
            ),
            [batch_id.into(), user_id.into()],
        ))
        .await?
        .rows_affected();
    txn.execute_raw(sql(
        "UPDATE sync_batches SET remaining = remaining - $2,
            finished_at = CASE WHEN remaining - $2 = 0 THEN COALESCE(finished_at, now()) END
         WHERE id = $1 AND set_config('syncstore.jobs_counted_by_statement', 'off', true) IS NOT NULL",
        [batch_id.into(), (discarded as i64).into()],
    ))
    .await?;
    txn.commit().await?;
    // Jobs first, in id order, and the batch's row by the trigger once they are all held;
    // nothing can turn waiting in a batch whose cancel has committed, so this is the last.
    // The cancel stands whatever happens here: should this fail, the maintenance sweep
    // discards what is left ([`discard_left_in_cancelled_batches`]).
    let passed_over = db
        .execute_raw(sql(
            &format!(
                "UPDATE sync_jobs SET {DISCARDED_BY_CANCEL}, discarded_by = $2
                 WHERE id IN (SELECT id FROM sync_jobs
                              WHERE batch_id = $1 AND state IN ('waiting', 'retrying')
                              ORDER BY id FOR UPDATE)
                   AND state IN ('waiting', 'retrying')"
            ),
            [batch_id.into(), user_id.into()],
        ))
        .await;
    if let Err(e) = passed_over {
        tracing::warn!(error = %e, batch_id, "cancelled; jobs left to the maintenance sweep");
    }
    if let Err(e) = close_batch_if_done(db, batch_id).await {
        tracing::warn!(error = %e, batch_id, "cancelled; its close left to the maintenance sweep");
    }
    Ok(true)
}

/// Discards every waiting or retrying job of a cancelled batch: what a cancel passed over
/// and could not discard after its commit (the process stopped in between, say). Jobs in
/// id order, then their batches' rows by the trigger, as a cancel takes them. Answers the
/// batches it touched.
pub async fn discard_left_in_cancelled_batches(
    db: &DatabaseConnection,
) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(sql(
            &format!(
                "UPDATE sync_jobs SET {DISCARDED_BY_CANCEL}
                 WHERE id IN (SELECT id FROM sync_jobs
                              WHERE batch_id IN (SELECT id FROM sync_batches
                                                 WHERE cancelled AND finished_at IS NULL)
                                AND state IN ('waiting', 'retrying')
                              ORDER BY id FOR UPDATE)
                   AND state IN ('waiting', 'retrying')
                 RETURNING batch_id"
            ),
            [],
        ))
        .await?;
    let mut batches = Vec::new();
    for row in rows {
        let batch: String = row.try_get("", "batch_id")?;
        if !batches.contains(&batch) {
            batches.push(batch);
        }
    }
    for batch in &batches {
        close_batch_if_done(db, batch).await?;
    }
    Ok(batches)
}

/// What a cancel writes on a job it discards.
const DISCARDED_BY_CANCEL: &str = "state = 'discarded', error_code = 'CANCELLED',
    error_message = 'the batch was cancelled before this job ran',
    discard_reason = 'batch cancelled', finished_at = now(), updated_at = now()";
