//! A worker process's share of the queue: `concurrency` slots that each take one job at a
//! time, a heartbeat, and the periodic recovery work. Runs inside `syncstore serve` and as
//! `syncstore worker`, any number of them against the same Postgres and Redis.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::prelude::*;
use fred::types::lists::LMoveDirection;
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{retry, JobHandler, Queue, QueueError};
use crate::db::queue::{self as jobs, ClaimedJob, Finish};
use crate::sync::AttemptContext;

const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// The alive key outlives a few missed heartbeats.
const ALIVE_FOR_MS: i64 = 10_000;
const MAINTAIN_EVERY: Duration = Duration::from_millis(500);
/// When a job whose product was busy with another sync is tried again.
const BUSY_RETRY: Duration = Duration::from_secs(1);
/// How long a job waits for its disconnected shop before it is looked at again: far
/// beyond any reconnect, which resumes it at once.
const PAUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a job may keep running after SIGTERM before it is handed back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Acknowledges job `ARGV[1]` (out of the worker's list `KEYS[1]`) and, when `ARGV[2]` is
/// `take`, moves the next id from the wait list `KEYS[2]` into the worker's list,
/// atomically: the next id or nil.
const ACK_AND_TAKE: &str = r#"
redis.call('LREM', KEYS[1], 1, ARGV[1])
if ARGV[2] == 'take' then
  return redis.call('LMOVE', KEYS[2], KEYS[1], 'RIGHT', 'LEFT')
end
return false
"#;

/// Every how many heartbeats a worker looks for ids in its list that no slot holds.
const STRAYS_EVERY_BEATS: u64 = 5;

pub struct Worker {
    id: String,
    queue: Queue,
    handler: Arc<dyn JobHandler>,
    /// The jobs this process runs now; only these get heartbeats.
    held: Arc<Mutex<HashSet<String>>>,
    /// The ids this process's slots have taken into its list and not yet let go, with how
    /// many slots hold each (a job id delivered twice may reach two slots).
    in_hand: Arc<Mutex<HashMap<String, usize>>>,
}

impl Worker {
    pub fn new(queue: Queue, handler: Arc<dyn JobHandler>) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
        let tag: u32 = rand::thread_rng().gen();
        Worker {
            id: format!("{host}-{}-{tag:08x}", std::process::id()),
            queue,
            handler,
            held: Arc::default(),
            in_hand: Arc::default(),
        }
    }

    /// Works until `shutdown` turns true, then finishes or hands back the jobs in hand.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), QueueError> {
        let this = Arc::new(self);
        this.announce().await?;
        let mut tasks = JoinSet::new();
        tasks.spawn(this.clone().heartbeat_loop(shutdown.clone()));
        tasks.spawn(this.clone().maintenance_loop(shutdown.clone()));
        for _ in 0..this.queue.settings.concurrency.max(1) {
            let client = this.queue.redis.next().clone_new();
            client.init().await?;
            tasks.spawn(this.clone().slot(client, shutdown.clone()));
        }
        tracing::info!(worker = %this.id, concurrency = this.queue.settings.concurrency, "worker started");
        while tasks.join_next().await.is_some() {}
        this.queue.flush_progress().await;
        let keys = &this.queue.keys;
        let _: Result<i64, _> = this.queue.redis.del(keys.alive(&this.id)).await;
        let _: Result<i64, _> = this.queue.redis.srem(&keys.workers, this.id.clone()).await;
        tracing::info!(worker = %this.id, "worker stopped");
        Ok(())
    }

    /// Registers this worker and its alive key.
    async fn announce(&self) -> Result<(), QueueError> {
        let keys = &self.queue.keys;
        let _: () = self
            .queue
            .redis
            .set(
                keys.alive(&self.id),
                1,
                Some(Expiration::PX(ALIVE_FOR_MS)),
                None,
                false,
            )
            .await?;
        let _: i64 = self
            .queue
            .redis
            .sadd(&keys.workers, self.id.clone())
            .await?;
        Ok(())
    }

    async fn heartbeat_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut beats: u64 = 0;
        let mut strays = HashSet::new();
        loop {
            if let Err(e) = self.announce().await {
                tracing::warn!(error = %e, "heartbeat to Redis failed");
            }
            beats += 1;
            if beats.is_multiple_of(STRAYS_EVERY_BEATS) {
                if let Err(e) = self.return_strays(&mut strays).await {
                    tracing::warn!(error = %e, "looking for stray job ids failed");
                }
            }
            let held: Vec<String> = self.held().into_iter().collect();
            if !held.is_empty() {
                if let Err(e) = jobs::heartbeat(&self.queue.db, &self.id, &held).await {
                    tracing::warn!(error = %e, "heartbeat to Postgres failed");
                }
            }
            // Beats continue through a graceful shutdown until the last job is let go.
            if *shutdown.borrow() {
                if held.is_empty() {
                    return;
                }
                // The stop was seen: `changed()` would answer at once from now on (its
                // sender may be gone), so the beats keep their pace by the clock alone.
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn maintenance_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut ticks: u64 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.queue.promote_due().await {
                tracing::warn!(error = %e, "promoting due retries failed");
            }
            if ticks.is_multiple_of(4) {
                if let Err(e) = self
                    .queue
                    .maintain(&self.id, ticks.is_multiple_of(20))
                    .await
                {
                    tracing::warn!(error = %e, "queue maintenance failed");
                }
            }
            ticks += 1;
            tokio::select! {
                _ = tokio::time::sleep(MAINTAIN_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Hands back ids that sit in this worker's list while no slot holds them, seen so on
    /// two looks in a row (10 s apart): Redis moved them in for a reply that never reached
    /// the slot (a connection cut just then). Without this they would wait for the
    /// worker's end. Another worker may then get an id this one also runs; the claim in
    /// Postgres lets only one of them run the job.
    async fn return_strays(&self, seen_before: &mut HashSet<String>) -> Result<(), QueueError> {
        let active = self.queue.keys.active(&self.id);
        let listed: Vec<String> = self.queue.redis.lrange(&active, 0, -1).await?;
        let strays: HashSet<String> = {
            let in_hand = self.in_hand.lock().unwrap_or_else(|p| p.into_inner());
            listed
                .into_iter()
                .filter(|id| !in_hand.contains_key(id))
                .collect()
        };
        for job_id in strays.intersection(seen_before) {
            tracing::warn!(%job_id, "job id in this worker's list but in no slot; handed back");
            self.queue.dispatch_first(job_id).await?;
            let _: i64 = self.queue.redis.lrem(&active, 1, job_id).await?;
        }
        *seen_before = strays.difference(seen_before).cloned().collect();
        Ok(())
    }

    /// A slot took `job_id` into this worker's list (`true`) or let it go (`false`).
    fn in_hand(&self, job_id: &str, taken: bool) {
        let mut in_hand = self.in_hand.lock().unwrap_or_else(|p| p.into_inner());
        if taken {
            *in_hand.entry(job_id.to_string()).or_default() += 1;
        } else if let Some(n) = in_hand.get_mut(job_id) {
            *n -= 1;
            if *n == 0 {
                in_hand.remove(job_id);
            }
        }
    }

    fn held(&self) -> HashSet<String> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn hold(&self, job_id: &str, holding: bool) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if holding {
            held.insert(job_id.to_string());
        } else {
            held.remove(job_id);
        }
    }

    /// One slot: takes a job id into this worker's private list (so it is never only in
    /// memory), runs it, acknowledges it and takes the next in the same round trip; waits
    /// for one only when the line is empty.
    async fn slot(self: Arc<Self>, client: Client, shutdown: watch::Receiver<bool>) {
        let active = self.queue.keys.active(&self.id);
        let mut next: Option<String> = None;
        while !*shutdown.borrow() {
            let taken: Result<Option<String>, _> = match next.take() {
                Some(job_id) => Ok(Some(job_id)),
                None => {
                    let taken: Result<Option<String>, _> = client
                        .blmove(
                            &self.queue.keys.wait,
                            &active,
                            LMoveDirection::Right,
                            LMoveDirection::Left,
                            1.0,
                        )
                        .await;
                    if let Ok(Some(job_id)) = &taken {
                        self.in_hand(job_id, true);
                    }
                    taken
                }
            };
            match taken {
                Ok(Some(job_id)) if *shutdown.borrow() => {
                    // Taken just as the worker began to stop: back to the front of the line.
                    if self.queue.dispatch_first(&job_id).await.is_ok() {
                        let _: Result<i64, _> = self.queue.redis.lrem(&active, 1, &job_id).await;
                    }
                    self.in_hand(&job_id, false);
                }
                Ok(Some(job_id)) => match self.take(&job_id, shutdown.clone()).await {
                    Ok(()) => match self.acknowledge(&client, &active, &job_id, &shutdown).await {
                        Ok(taken) => {
                            self.in_hand(&job_id, false);
                            if let Some(taken) = &taken {
                                self.in_hand(taken, true);
                            }
                            next = taken;
                        }
                        Err(e) => {
                            // Redis may have run the script with its reply lost: whatever
                            // it left in this worker's list (this finished job's id, the next
                            // one) is handed back as a stray, and a finished job's id is
                            // dropped by the claim.
                            self.in_hand(&job_id, false);
                            tracing::warn!(error = %e, %job_id, "acknowledging a job failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                    Err(e) => {
                        // Back in line for any worker; should Redis be failing too, the
                        // orphan sweep finds the job from Postgres later.
                        tracing::error!(error = %e, %job_id, "job could not be processed");
                        if self.queue.dispatch_first(&job_id).await.is_ok() {
                            let _: Result<i64, _> =
                                self.queue.redis.lrem(&active, 1, &job_id).await;
                        }
                        self.in_hand(&job_id, false);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                // fred reports a blocking pop that found nothing as a timeout.
                Ok(None) => {}
                Err(e) if *e.kind() == fred::error::ErrorKind::Timeout => {}
                Err(e) => {
                    tracing::warn!(error = %e, "waiting for jobs failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        if let Some(job_id) = next {
            // Taken as the worker stopped: back to the front of the line.
            if self.queue.dispatch_first(&job_id).await.is_ok() {
                let _: Result<i64, _> = self.queue.redis.lrem(&active, 1, &job_id).await;
            }
            self.in_hand(&job_id, false);
        }
        let _ = client.quit().await;
    }

    /// Removes a recorded job from this worker's list and, unless the worker is stopping,
    /// moves the next waiting id into it, in one script: the id of the next job, if any.
    async fn acknowledge(
        &self,
        client: &Client,
        active: &str,
        job_id: &str,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Option<String>, QueueError> {
        let take = if *shutdown.borrow() { "stop" } else { "take" };
        Ok(client
            .eval(
                ACK_AND_TAKE,
                vec![active.to_string(), self.queue.keys.wait.clone()],
                vec![job_id.to_string(), take.to_string()],
            )
            .await?)
    }

    /// Claims and runs a job whose id this worker took; a job it cannot claim (held by
    /// another worker, finished, not yet due) is left alone.
    async fn take(&self, job_id: &str, shutdown: watch::Receiver<bool>) -> Result<(), QueueError> {
        match jobs::claim(&self.queue.db, job_id, &self.id).await? {
            Some(job) => {
                self.hold(job_id, true);
                let result = self.execute(&job, shutdown).await;
                self.hold(job_id, false);
                result?;
            }
            None => {
                // Someone else holds it, it is finished, or it is not due yet (a duplicate
                // delivery): only a future run needs keeping.
                if let Some((state, due_in_ms)) = jobs::job_state(&self.queue.db, job_id).await? {
                    if (state == "waiting" || state == "retrying") && due_in_ms > 0 {
                        self.queue.delay(job_id, due_in_ms).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn execute(
        &self,
        job: &ClaimedJob,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), QueueError> {
        self.queue.publish(&job.batch_id).await;
        let ctx = AttemptContext {
            job_id: Some(job.id.clone()),
            batch_id: Some(job.batch_id.clone()),
            attempt: job.attempts,
            worker_id: Some(self.id.clone()),
        };
        let started = Instant::now();
        let run = self.handler.run(job, &ctx);
        tokio::pin!(run);
        let stopping = async {
            let _ = shutdown.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let outcome = tokio::select! {
            outcome = &mut run => Some(outcome),
            _ = stopping => None,
        };
        let duration_ms = started.elapsed().as_millis() as i64;
        let Some(outcome) = outcome else {
            // Shutting down and the job did not finish in time: hand it back whole. The
            // sync is idempotent, so the next worker picks up wherever this one stopped.
            tracing::warn!(job_id = %job.id, "shutting down; job handed back");
            // Waiting in Postgres before it is in line, so no other worker finds it active.
            jobs::hand_back(&self.queue.db, &job.id, &self.id).await?;
            self.queue.dispatch_first(&job.id).await?;
            self.queue.publish(&job.batch_id).await;
            return Ok(());
        };
        let finish = match outcome {
            Ok(action) => Finish::Completed { action },
            // Parked until the shop is connected again ([`Queue::resume_paused`]).
            Err(f) if f.paused => Finish::Busy {
                delay_ms: PAUSED_FOR.as_millis() as i64,
                code: f.code,
                message: f.message,
            },
            Err(f) if f.busy => Finish::Busy {
                delay_ms: BUSY_RETRY.as_millis() as i64,
                code: f.code,
                message: f.message,
            },
            Err(f) if f.retryable && job.attempts < job.max_attempts => Finish::Retry {
                delay_ms: retry::backoff(
                    job.attempts,
                    self.queue.settings.retry_base,
                    f.retry_after,
                )
                .as_millis() as i64,
                code: f.code,
                message: f.message,
            },
            Err(f) => Finish::Failed {
                code: f.code,
                message: f.message,
            },
        };
        // A job finished here also closes its batch when it was the last (one statement).
        let finished =
            jobs::finish(&self.queue.db, &job.id, &self.id, duration_ms, &finish).await?;
        if !finished {
            tracing::warn!(job_id = %job.id, "job was recovered from this worker meanwhile");
        }
        // Recorded first, so the retry cannot be claimed while the job still looks active;
        // timed before the id leaves this worker's list, so it is always somewhere in Redis.
        if let Finish::Retry { delay_ms, .. } | Finish::Busy { delay_ms, .. } = &finish {
            self.queue.delay(&job.id, *delay_ms).await?;
        }
        self.queue.publish(&job.batch_id).await;
        Ok(())
    }
}
