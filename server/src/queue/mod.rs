//! The batch queue (SPEC §6). Postgres holds every batch and job and decides who may run a
//! job; Redis carries job ids to the workers, holds backoff timers, shares the per-shop
//! rate limits and publishes progress. docs/queue.md explains the design and what each
//! failure does.

pub mod events;
pub mod job;
mod progress;
mod recovery;
pub mod retry;
pub mod rollback;
pub mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::api::{
    dedupe_ids, parse_batch_platform, BatchCreated, BatchRequest, Platform, MAX_BATCH_PRODUCTS,
};
use fred::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::json;

use crate::db::{audit, queue as jobs};

pub use job::{JobFailure, JobHandler};
pub use rollback::RollbackRejected;
pub use worker::Worker;

/// How the workers behave; from `SYNCSTORE_WORKER_CONCURRENCY`, `SYNCSTORE_RETRY_BASE_MS`
/// and `SYNCSTORE_STALL_TIMEOUT_MS`.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Jobs one worker process runs at once.
    pub concurrency: usize,
    /// The first retry waits between half and all of this.
    pub retry_base: Duration,
    /// A job whose worker sent no heartbeat for this long is given to another worker.
    pub stall_timeout: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            concurrency: 4,
            retry_base: Duration::from_secs(2),
            stall_timeout: Duration::from_secs(15),
        }
    }
}

/// Redis key names, all under the installation's prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// LIST of job ids ready to run (LPUSH in, BLMOVE out from the right).
    pub wait: String,
    /// ZSET of job ids waiting out a backoff, scored by due time in ms.
    pub delayed: String,
    /// SET of worker ids that have a private active list.
    pub workers: String,
    /// Present while Redis still has the queue's data; its absence means Redis lost it.
    pub epoch: String,
    /// Held by the one process doing recovery work at the moment.
    pub maintenance: String,
    /// Pub/sub channel carrying the id of each batch that changed.
    pub events: String,
    active_prefix: String,
    alive_prefix: String,
}

impl Keys {
    fn new(prefix: &str) -> Keys {
        Keys {
            wait: format!("{prefix}queue:wait"),
            delayed: format!("{prefix}queue:delayed"),
            workers: format!("{prefix}queue:workers"),
            epoch: format!("{prefix}queue:epoch"),
            maintenance: format!("{prefix}queue:maintenance"),
            events: format!("{prefix}queue:events"),
            active_prefix: format!("{prefix}queue:active:"),
            alive_prefix: format!("{prefix}queue:alive:"),
        }
    }

    /// LIST of the jobs a worker has taken and not yet acknowledged.
    pub fn active(&self, worker: &str) -> String {
        format!("{}{worker}", self.active_prefix)
    }

    /// Expiring key a worker keeps renewing while it is alive.
    pub fn alive(&self, worker: &str) -> String {
        format!("{}{worker}", self.alive_prefix)
    }
}

/// Why a batch was not started; nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum BatchRejected {
    #[error("{0}")]
    Invalid(String),
    #[error("a batch holds at most {MAX_BATCH_PRODUCTS} products; this one has {0}")]
    TooLarge(usize),
    #[error("no product with id {}", .0.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))]
    UnknownProducts(Vec<i64>),
    #[error("already in an unfinished batch: product {}; wait for it to finish or cancel it", .0.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))]
    InProgress(Vec<i64>),
    /// The rollout's rules (SPEC §7) do not allow this batch now; the text says which.
    #[error("{0}")]
    Gate(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("Redis error: {0}")]
    Redis(#[from] fred::error::Error),
}

/// Moves due job ids from the backoff set to the wait list, on Redis's clock.
const PROMOTE_DUE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 200)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('LPUSH', KEYS[2], id)
end
return #due
"#;

/// Schedules a job id `ARGV[2]` milliseconds from now, on Redis's clock.
const DELAY: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"#;

#[derive(Clone)]
pub struct Queue {
    pub(crate) db: DatabaseConnection,
    pub(crate) redis: Pool,
    pub(crate) keys: Keys,
    pub(crate) settings: QueueSettings,
    progress: Arc<progress::Progress>,
}

impl Queue {
    pub fn new(
        db: DatabaseConnection,
        redis: Pool,
        prefix: &str,
        settings: QueueSettings,
    ) -> Queue {
        Queue {
            db,
            redis,
            keys: Keys::new(prefix),
            settings,
            progress: Arc::default(),
        }
    }

    /// The pub/sub channel batch progress is published on.
    pub fn events_channel(&self) -> String {
        self.keys.events.clone()
    }

    /// Checks a batch request (platform, 1–50 distinct known products; repeated ids count
    /// once) and starts it, or rejects it as a whole.
    pub async fn start_batch(
        &self,
        created_by: Option<i64>,
        request: &BatchRequest,
    ) -> Result<BatchCreated, BatchRejected> {
        let platforms = parse_batch_platform(&request.platform).map_err(BatchRejected::Invalid)?;
        let ids = dedupe_ids(&request.product_ids);
        if ids.is_empty() {
            return Err(BatchRejected::Invalid("choose at least one product".into()));
        }
        if ids.len() > MAX_BATCH_PRODUCTS {
            return Err(BatchRejected::TooLarge(ids.len()));
        }
        let unknown = jobs::unknown_products(&self.db, &ids)
            .await
            .map_err(QueueError::from)?;
        if !unknown.is_empty() {
            return Err(BatchRejected::UnknownProducts(unknown));
        }
        let created = self
            .submit_batch(created_by, &request.platform, &ids, &platforms)
            .await?;
        audit::record(
            &self.db,
            created_by,
            "batch.start",
            json!({"batch_id": created.batch_id, "platform": request.platform, "product_ids": ids}),
        )
        .await
        .map_err(QueueError::from)?;
        Ok(created)
    }

    /// Records a batch with one job per product and platform, then hands the jobs to the
    /// workers. The product ids must already be checked (known, deduplicated, ≤ 50).
    pub async fn submit_batch(
        &self,
        created_by: Option<i64>,
        platform_label: &str,
        product_ids: &[i64],
        platforms: &[Platform],
    ) -> Result<BatchCreated, BatchRejected> {
        let (batch_id, job_ids) =
            match jobs::create_batch(&self.db, created_by, platform_label, product_ids, platforms)
                .await
                .map_err(QueueError::from)?
            {
                jobs::NewBatch::Created { batch_id, job_ids } => (batch_id, job_ids),
                jobs::NewBatch::Busy(ids) => return Err(BatchRejected::InProgress(ids)),
                jobs::NewBatch::Gated(reason) => return Err(BatchRejected::Gate(reason)),
            };
        // Were Redis to refuse now, the jobs are safe in Postgres and the maintenance
        // sweep dispatches them; the batch is still accepted.
        if let Err(e) = self.dispatch(&job_ids).await {
            tracing::warn!(error = %e, %batch_id, "batch recorded but not yet dispatched");
        }
        self.publish(&batch_id).await;
        Ok(BatchCreated {
            batch_id,
            total_jobs: job_ids.len() as i64,
        })
    }

    /// Jobs paused because `platform`'s shop was disconnected run again now (the shop is
    /// connected again). Answers how many.
    pub async fn resume_paused(&self, platform: Platform) -> Result<usize, QueueError> {
        let rows = self
            .db
            .query_all_raw(crate::db::sql(
                // In id order, as a cancel locks its batch's unfinished jobs.
                "UPDATE sync_jobs SET run_at = now(), updated_at = now()
                 WHERE id IN (SELECT id FROM sync_jobs
                              WHERE state = 'retrying' AND error_code = 'SHOP_DISCONNECTED'
                                AND platform = $1 AND run_at > now()
                              ORDER BY id FOR UPDATE)
                   AND state = 'retrying' AND error_code = 'SHOP_DISCONNECTED' AND run_at > now()
                 RETURNING id, batch_id",
                [platform.as_str().into()],
            ))
            .await?;
        let mut ids = Vec::new();
        let mut batches = std::collections::BTreeSet::new();
        for row in rows {
            ids.push(row.try_get::<String>("", "id")?);
            batches.insert(row.try_get::<String>("", "batch_id")?);
        }
        self.dispatch(&ids).await?;
        for batch in batches {
            self.publish(&batch).await;
        }
        if !ids.is_empty() {
            tracing::info!(
                platform = platform.as_str(),
                jobs = ids.len(),
                "paused jobs resumed"
            );
        }
        Ok(ids.len())
    }

    /// Puts job ids at the back of the line.
    pub async fn dispatch(&self, job_ids: &[String]) -> Result<(), QueueError> {
        if job_ids.is_empty() {
            return Ok(());
        }
        if self.ensure_epoch().await? {
            // Redis lost the queue and this dispatch noticed first: bring back the rest.
            self.redispatch_pending(job_ids).await?;
        }
        let _: i64 = self.redis.lpush(&self.keys.wait, job_ids.to_vec()).await?;
        Ok(())
    }

    /// Puts a job id at the front of the line (a job handed back or recovered).
    pub(crate) async fn dispatch_first(&self, job_id: &str) -> Result<(), QueueError> {
        let _: i64 = self.redis.rpush(&self.keys.wait, job_id).await?;
        Ok(())
    }

    /// Runs a job again `delay_ms` from now.
    pub(crate) async fn delay(&self, job_id: &str, delay_ms: i64) -> Result<(), QueueError> {
        let _: i64 = self
            .redis
            .eval(
                DELAY,
                vec![self.keys.delayed.clone()],
                vec![job_id.to_string(), delay_ms.max(0).to_string()],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn promote_due(&self) -> Result<i64, QueueError> {
        Ok(self
            .redis
            .eval(
                PROMOTE_DUE,
                vec![self.keys.delayed.clone(), self.keys.wait.clone()],
                Vec::<String>::new(),
            )
            .await?)
    }

    /// Tells every listener (the SSE streams) that a batch changed, at most once per
    /// batch every 100 ms from this process (`progress`). Best effort: the streams also
    /// re-read the batch every few seconds.
    pub async fn publish(&self, batch_id: &str) {
        match self.progress.changed(batch_id, Instant::now()) {
            progress::Publish::Now => self.send_progress(batch_id).await,
            progress::Publish::After(wait) => {
                let (queue, batch_id) = (self.clone(), batch_id.to_string());
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    queue.progress.sending(&batch_id, Instant::now());
                    queue.send_progress(&batch_id).await;
                });
            }
            progress::Publish::Covered => {}
        }
    }

    /// Sends now every progress event still waiting out its interval: called as a worker
    /// stops, when the tasks that would send them may not get the chance. Without it the
    /// last change of a batch (often its end) could reach no dashboard.
    pub async fn flush_progress(&self) {
        for batch_id in self.progress.take_due(Instant::now()) {
            self.send_progress(&batch_id).await;
        }
    }

    async fn send_progress(&self, batch_id: &str) {
        let sent: Result<i64, _> = self.redis.next().publish(&self.keys.events, batch_id).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, batch_id, "could not publish batch progress");
        }
    }

    /// Stops a batch (see [`jobs::cancel_batch`]); `false` when it had already finished
    /// or does not exist.
    pub async fn cancel_batch(
        &self,
        batch_id: &str,
        user_id: Option<i64>,
    ) -> Result<bool, QueueError> {
        let cancelled = jobs::cancel_batch(&self.db, batch_id, user_id).await?;
        if cancelled {
            audit::record(
                &self.db,
                user_id,
                "batch.cancel",
                json!({"batch_id": batch_id}),
            )
            .await?;
            self.publish(batch_id).await;
        }
        Ok(cancelled)
    }

    /// Puts a dead-lettered job back in line with fresh attempts.
    pub async fn retry_dead(&self, job_id: &str, user_id: Option<i64>) -> Result<bool, QueueError> {
        let Some(batch_id) = jobs::retry_dead(&self.db, job_id).await? else {
            return Ok(false);
        };
        audit::record(
            &self.db,
            user_id,
            "dead_letter.retry",
            json!({"job_id": job_id, "batch_id": batch_id}),
        )
        .await?;
        self.dispatch(&[job_id.to_string()]).await?;
        self.publish(&batch_id).await;
        Ok(true)
    }

    /// Takes a job out of the dead-letter queue for good.
    pub async fn discard_dead(
        &self,
        job_id: &str,
        user_id: Option<i64>,
        reason: &str,
    ) -> Result<bool, QueueError> {
        let Some(batch_id) = jobs::discard_dead(&self.db, job_id, user_id, reason).await? else {
            return Ok(false);
        };
        audit::record(
            &self.db,
            user_id,
            "dead_letter.discard",
            json!({"job_id": job_id, "batch_id": batch_id, "reason": reason}),
        )
        .await?;
        self.publish(&batch_id).await;
        Ok(true)
    }
}
