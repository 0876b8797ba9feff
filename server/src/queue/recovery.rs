//! Recovery work, done every few seconds by one process at a time: Redis data loss, dead
//! workers' private lists, stalled jobs in Postgres, and jobs no Redis structure holds.

use std::time::Duration;

use fred::prelude::*;
use fred::types::SetOptions;

use super::{Queue, QueueError};
use crate::db::queue as jobs;

/// Hands the private lists of workers that stopped renewing their alive key back to the
/// wait list (front of the line), and forgets those workers.
const RECOVER_DEAD_WORKERS: &str = r#"
local moved = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. w) == 0 then
    local list = ARGV[2] .. w
    while redis.call('RPOPLPUSH', list, KEYS[2]) do
      moved = moved + 1
    end
    redis.call('SREM', KEYS[1], w)
  end
end
return moved
"#;

/// Of the job ids in ARGV[2..], those in no wait list, backoff set or worker list.
const MISSING: &str = r#"
local lists = {KEYS[1]}
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  table.insert(lists, ARGV[1] .. w)
end
local missing = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local found = redis.call('ZSCORE', KEYS[2], id)
  if not found then
    for _, l in ipairs(lists) do
      if redis.call('LPOS', l, id) then
        found = true
        break
      end
    end
  end
  if not found then
    table.insert(missing, id)
  end
end
return missing
"#;

impl Queue {
    pub(crate) async fn recover_dead_workers(&self) -> Result<i64, QueueError> {
        Ok(self
            .redis
            .eval(
                RECOVER_DEAD_WORKERS,
                vec![self.keys.workers.clone(), self.keys.wait.clone()],
                vec![
                    self.keys.alive_prefix.clone(),
                    self.keys.active_prefix.clone(),
                ],
            )
            .await?)
    }

    /// `true` when the epoch marker had to be set again: Redis lost the queue's data (or
    /// this is its first use), and pending jobs must be dispatched from Postgres.
    pub(super) async fn ensure_epoch(&self) -> Result<bool, QueueError> {
        let set: Option<String> = self
            .redis
            .set(
                &self.keys.epoch,
                chrono::Utc::now().to_rfc3339(),
                None,
                Some(SetOptions::NX),
                false,
            )
            .await?;
        Ok(set.is_some())
    }

    /// Re-dispatches every waiting or retrying job from Postgres but `except` (after Redis
    /// lost its data). Duplicates are harmless: a worker runs a job only if Postgres lets
    /// it claim the job.
    pub(super) async fn redispatch_pending(&self, except: &[String]) -> Result<usize, QueueError> {
        let pending = jobs::pending_jobs(&self.db, None).await?;
        let mut placed = 0;
        for job in pending.iter().filter(|j| !except.contains(&j.id)) {
            self.place(job).await?;
            placed += 1;
        }
        Ok(placed)
    }

    async fn place(&self, job: &jobs::PendingJob) -> Result<(), QueueError> {
        if job.due_in_ms > 0 {
            self.delay(&job.id, job.due_in_ms).await
        } else {
            let _: i64 = self.redis.lpush(&self.keys.wait, job.id.clone()).await?;
            Ok(())
        }
    }

    /// Finds jobs Postgres says are due for a while but Redis does not hold anywhere (a
    /// dispatch that failed, a partial loss) and dispatches them again.
    async fn redispatch_orphans(&self, overdue: Duration) -> Result<usize, QueueError> {
        let pending = jobs::pending_jobs(&self.db, Some(overdue.as_millis() as i64)).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut args = vec![self.keys.active_prefix.clone()];
        args.extend(pending.iter().map(|j| j.id.clone()));
        let missing: Vec<String> = self
            .redis
            .eval(
                MISSING,
                vec![
                    self.keys.wait.clone(),
                    self.keys.delayed.clone(),
                    self.keys.workers.clone(),
                ],
                args,
            )
            .await?;
        for job in pending.iter().filter(|j| missing.contains(&j.id)) {
            self.place(job).await?;
        }
        Ok(missing.len())
    }

    /// The recovery work one process at a time does every few seconds: Redis data loss,
    /// dead workers' private lists, stalled jobs in Postgres, orphaned jobs.
    pub(crate) async fn maintain(
        &self,
        holder: &str,
        sweep_orphans: bool,
    ) -> Result<(), QueueError> {
        let lock: Option<String> = self
            .redis
            .set(
                &self.keys.maintenance,
                holder,
                Some(Expiration::PX(2_000)),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        if lock.is_none() {
            return Ok(());
        }
        if self.ensure_epoch().await? {
            let n = self.redispatch_pending(&[]).await?;
            if n > 0 {
                tracing::warn!(
                    jobs = n,
                    "Redis had lost the queue; re-dispatched from Postgres"
                );
            }
        }
        let moved = self.recover_dead_workers().await?;
        if moved > 0 {
            tracing::warn!(jobs = moved, "took back jobs from workers that stopped");
        }
        let stall_ms = self.settings.stall_timeout.as_millis() as i64;
        for (job_id, batch_id, state) in jobs::recover_stalled(&self.db, stall_ms).await? {
            tracing::warn!(%job_id, %batch_id, %state, "job's worker stopped; job recovered");
            // A job that ended here (dead-lettered, discarded) closed its batch if it was
            // the last, through the batch's remaining-jobs trigger.
            if state == "waiting" {
                self.dispatch_first(&job_id).await?;
            }
            self.publish(&batch_id).await;
        }
        for batch_id in jobs::discard_left_in_cancelled_batches(&self.db).await? {
            tracing::warn!(%batch_id, "discarded jobs a cancel had left waiting");
            self.publish(&batch_id).await;
        }
        if sweep_orphans {
            let n = self.redispatch_orphans(self.settings.stall_timeout).await?;
            if n > 0 {
                tracing::warn!(jobs = n, "dispatched jobs Redis did not hold");
            }
        }
        Ok(())
    }
}
