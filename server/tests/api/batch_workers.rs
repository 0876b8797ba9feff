//! Worker processes against one batch: killed, stopped, doubled, rate-limited, and Redis
//! losing the queue under them.

use std::time::{Duration, Instant};

use crate::batch::{
    assert_listings, count, job_states, product_ids, start_ok, status, wait_finished,
};
use crate::support::{
    app_with_catalog, spawn_app_with_options, AppOptions, DbRelay, PrivateRedis, TestApp,
};

/// A catalog on an app without an in-process worker.
async fn app_for_workers(count: usize) -> (TestApp, Vec<i64>) {
    app_for_workers_with(count, None).await
}

async fn app_for_workers_with(count: usize, sandbox_qps: Option<u32>) -> (TestApp, Vec<i64>) {
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        sandbox_qps,
        ..AppOptions::default()
    })
    .await;
    app.import(&syncstore::catalog::demo::demo_catalog(count, &app.base))
        .await;
    app.login().await;
    let ids = product_ids(&app, count).await;
    (app, ids)
}

/// The `worker_id` pattern of a worker process (`{host}-{pid}-{tag}`).
fn of_worker(pid: u32) -> String {
    format!("'%-{pid}-%'")
}

/// How many of the batch's logged attempts the worker process made.
async fn attempts_by(app: &TestApp, batch: &str, pid: u32) -> i64 {
    count(
        app,
        &format!(
            "SELECT count(*) AS n FROM sync_logs WHERE batch_id = '{batch}' AND worker_id LIKE {}",
            of_worker(pid)
        ),
    )
    .await
}

/// Waits until `n` worker processes have registered with the queue, so a batch started
/// next is open to all of them from its first job.
async fn workers_up(app: &TestApp, n: i64) {
    use fred::prelude::*;
    let redis = syncstore::redis::connect(&app.settings.redis_url)
        .await
        .unwrap();
    let key = format!("{}queue:workers", app.settings.redis_prefix);
    app.eventually("the workers to start", Duration::from_secs(60), || async {
        let up: i64 = redis.scard(&key).await.unwrap();
        (up >= n).then_some(())
    })
    .await;
}

/// The jobs Postgres says the worker process is running.
async fn held_by(app: &TestApp, pid: u32) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT id FROM sync_jobs WHERE state = 'active' AND worker_id LIKE {}",
                of_worker(pid)
            ),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "id").unwrap())
        .collect()
}

#[tokio::test]
async fn two_worker_processes_share_a_batch_and_run_each_job_once() {
    let (app, ids) = app_for_workers(8).await;
    // Slow enough answers that neither process can run the whole batch alone.
    app.sandbox.latency(100).await;
    let a = app.worker_process(3);
    let b = app.worker_process(3);
    workers_up(&app, 2).await;
    let batch = start_ok(&app, &ids, "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert!(job_states(&body)
        .iter()
        .all(|(_, attempts, _)| *attempts == 1));
    let runs = count(
        &app,
        &format!("SELECT count(*) AS n FROM sync_logs WHERE batch_id = '{batch}'"),
    )
    .await;
    assert_eq!(runs, 16, "each job ran exactly once");
    let (by_a, by_b) = (
        attempts_by(&app, &batch, a.id().unwrap()).await,
        attempts_by(&app, &batch, b.id().unwrap()).await,
    );
    assert!(
        by_a > 0 && by_b > 0,
        "both processes ran jobs: {by_a} and {by_b}"
    );
    assert_eq!(by_a + by_b, 16);
    assert_listings(&app, 8).await;
}

#[tokio::test]
async fn workers_killed_at_growing_delays_during_creates_lose_no_job_and_list_each_product_once() {
    let (app, ids) = app_for_workers(8).await;
    // Slow answers: a create takes several calls, so each kill lands somewhere inside one.
    app.sandbox.latency(150).await;
    let batch = start_ok(&app, &ids, "both").await;
    let mut cut = Vec::new();
    for delay in [0, 350, 900] {
        let mut doomed = app.worker_process(2);
        let pid = doomed.id().unwrap();
        app.eventually(
            "the worker to hold a job",
            Duration::from_secs(60),
            || async { (!held_by(&app, pid).await.is_empty()).then_some(()) },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        doomed.start_kill().unwrap(); // SIGKILL: no chance to hand anything back
        doomed.wait().await.unwrap();
        let held = held_by(&app, pid).await;
        assert!(
            !held.is_empty(),
            "the worker killed after {delay} ms held no job"
        );
        cut.extend(held);
    }
    let _survivor = app.worker_process(4);
    wait_finished(&app, &batch, Duration::from_secs(120)).await;
    // docs/queue.md: a job cut by a dead worker goes back without counting that attempt; a
    // job cut three times (recovered jobs go first, so the next worker may take it again)
    // is dead-lettered as WORKER_LOST instead of killing worker after worker.
    let as_documented = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}'
               AND ((state = 'completed' AND attempts = 1 AND stalls < 3)
                 OR (state = 'failed' AND error_code = 'WORKER_LOST' AND stalls = 3))"
        ),
    )
    .await;
    assert_eq!(
        as_documented, 16,
        "every job completed on its first counted attempt or was lost three times"
    );
    let list = cut
        .iter()
        .map(|j| format!("'{j}'"))
        .collect::<Vec<_>>()
        .join(",");
    let recovered = count(
        &app,
        &format!("SELECT count(*) AS n FROM sync_jobs WHERE id IN ({list}) AND stalls >= 1"),
    )
    .await;
    let distinct = cut.iter().collect::<std::collections::HashSet<_>>().len() as i64;
    assert_eq!(
        recovered, distinct,
        "every job a killed worker held was recovered: {cut:?}"
    );
    // Synced again by hand, a lost job's product is found by its SKU, not listed twice:
    // then every product has exactly one listing on each platform.
    use sea_orm::{ConnectionTrait, Statement};
    let lost = app
        .db
        .query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT product_id, platform FROM sync_jobs WHERE batch_id = '{batch}' AND state = 'failed'"),
        ))
        .await
        .unwrap();
    for row in lost {
        let product: i64 = row.try_get("", "product_id").unwrap();
        let platform: String = row.try_get("", "platform").unwrap();
        let (status, body) = app.manual_sync(product, &platform).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_listings(&app, 8).await;
}

#[tokio::test]
async fn the_same_job_id_delivered_twice_runs_once() {
    use fred::prelude::*;
    let (app, ids) = app_for_workers(4).await;
    app.sandbox.latency(100).await;
    let batch = start_ok(&app, &ids, "both").await;
    let jobs: Vec<String> = status(&app, &batch).await["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().to_string())
        .collect();
    // Redis now carries every id twice, as a retried push or a recovery racing a worker can.
    app.state().await.queue.dispatch(&jobs).await.unwrap();
    let redis = syncstore::redis::connect(&app.settings.redis_url)
        .await
        .unwrap();
    let wait_list = format!("{}queue:wait", app.settings.redis_prefix);
    let waiting: i64 = redis.llen(&wait_list).await.unwrap();
    assert_eq!(waiting, 16);
    let _a = app.worker_process(4);
    let _b = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    for job in &jobs {
        let runs = count(
            &app,
            &format!("SELECT count(*) AS n FROM sync_logs WHERE job_id = '{job}'"),
        )
        .await;
        assert_eq!(runs, 1, "job {job} ran {runs} times");
    }
    assert!(job_states(&body)
        .iter()
        .all(|(_, attempts, _)| *attempts == 1));
    app.eventually(
        "the duplicates to be dropped",
        Duration::from_secs(10),
        || async {
            let left: i64 = redis.llen(&wait_list).await.unwrap();
            (left == 0).then_some(())
        },
    )
    .await;
    assert_listings(&app, 4).await;
}

#[tokio::test]
async fn a_batch_survives_redis_stopped_and_started_again_under_it() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let app = crate::support::spawn_app_with_options_and(
        AppOptions {
            worker: false,
            sandbox_qps: Some(10),
            ..AppOptions::default()
        },
        |s| {
            s.redis_url = url;
            s.shopee_qps = 8;
            s.tiktok_qps = 8;
        },
    )
    .await;
    app.import(&syncstore::catalog::demo::demo_catalog(8, &app.base))
        .await;
    app.login().await;
    let ids = product_ids(&app, 8).await;
    app.sandbox.latency(100).await;
    let batch = start_ok(&app, &ids, "both").await;
    // One process with more slots than the platform's limit allows unpaced: while Redis is
    // gone it paces itself alone, under that limit.
    let _worker = app.worker_process(8);
    let done = format!(
        "SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}' AND state = 'completed'"
    );
    app.eventually("two jobs done", Duration::from_secs(60), || async {
        (count(&app, &done).await >= 2).then_some(())
    })
    .await;
    redis.kill();
    let before = count(&app, &done).await;
    // The jobs already running finish in Postgres without Redis.
    app.eventually(
        "a job to finish while Redis is down",
        Duration::from_secs(30),
        || async { (count(&app, &done).await > before).then_some(()) },
    )
    .await;
    // Down a while longer: the running jobs keep calling the shops, paced locally.
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart().await; // empty: the wait list, timers and private lists are gone
    app.login().await; // so are the sessions
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_eq!(body["failed"], 0, "{body:#}");
    let limited = count(
        &app,
        "SELECT count(*) AS n FROM sync_logs WHERE error_code = 'RATE_LIMITED'",
    )
    .await;
    assert_eq!(limited, 0, "pacing without Redis provoked a platform limit");
    assert_listings(&app, 8).await;
}

#[tokio::test]
async fn workers_cut_off_from_postgres_back_off_and_finish_every_job() {
    let (app, ids) = app_for_workers(6).await;
    let relay = DbRelay::start(&app.settings.database_url).await;
    app.sandbox.latency(100).await;
    let batch = start_ok(&app, &ids, "both").await;
    let _worker = app.worker_process_with(4, &[("DATABASE_URL", &relay.url)]);
    let done = format!(
        "SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}' AND state = 'completed'"
    );
    app.eventually("two jobs done", Duration::from_secs(60), || async {
        (count(&app, &done).await >= 2).then_some(())
    })
    .await;
    relay.cut();
    // Down for longer than a stall timeout: the worker's claims, heartbeats and finishes
    // all fail meanwhile.
    tokio::time::sleep(app.settings.queue.stall_timeout * 2).await;
    relay.restore();
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_eq!(body["failed"], 0, "{body:#}");
    let cut_off = count(
        &app,
        &format!("SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}' AND stalls >= 1"),
    )
    .await;
    assert!(
        cut_off > 0,
        "no running job was cut off: the relay did not cut"
    );
    assert_listings(&app, 6).await;
}

#[tokio::test]
async fn a_batch_completes_after_redis_loses_the_queue() {
    let (app, ids) = app_for_workers(6).await;
    let batch = start_ok(&app, &ids, "both").await;
    // No worker yet: every job id is only in Redis's wait list. Then Redis loses it all.
    app.flush_redis().await;
    let _worker = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 6).await;
}

#[tokio::test]
async fn a_batch_completes_when_redis_is_flushed_while_jobs_run() {
    let (app, _) = app_with_catalog(6).await;
    let ids = product_ids(&app, 6).await;
    app.sandbox.latency(100).await;
    let batch = start_ok(&app, &ids, "both").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&app, &batch).await["completed"].as_i64().unwrap() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.flush_redis().await;
    let body = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 6).await;
}

#[tokio::test]
async fn workers_share_each_shops_rate_limit_and_never_trip_the_platforms() {
    // The sandbox allows 10 calls per second per shop; each process alone would send
    // far more with 8 jobs at once.
    let (app, ids) = app_for_workers_with(6, Some(10)).await;
    let mut app = app;
    app.settings.shopee_qps = 8;
    app.settings.tiktok_qps = 8;
    let a = app.worker_process(4);
    let b = app.worker_process(4);
    workers_up(&app, 2).await;
    let batch = start_ok(&app, &ids, "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    for pid in [a.id().unwrap(), b.id().unwrap()] {
        assert!(
            attempts_by(&app, &batch, pid).await > 0,
            "worker {pid} made no calls: the limit was not shared"
        );
    }
    let limited = count(
        &app,
        "SELECT count(*) AS n FROM sync_logs WHERE error_code = 'RATE_LIMITED'",
    )
    .await;
    assert_eq!(limited, 0, "the queue provoked a platform rate limit");
    assert!(job_states(&body)
        .iter()
        .all(|(_, attempts, _)| *attempts == 1));
}

#[tokio::test]
async fn sigterm_lets_a_worker_finish_or_hand_back_its_jobs() {
    let (app, ids) = app_for_workers(6).await;
    app.sandbox.latency(200).await;
    let batch = start_ok(&app, &ids, "both").await;
    let mut worker = app.worker_process(2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&app, &batch).await["active"].as_i64().unwrap() == 0 {
        assert!(Instant::now() < deadline, "the worker never started a job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = worker.id().unwrap().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = tokio::time::timeout(Duration::from_secs(40), worker.wait())
        .await
        .expect("the worker stops after SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let body = status(&app, &batch).await;
    assert_eq!(
        body["active"], 0,
        "no job is left held by the stopped worker: {body:#}"
    );
    let _successor = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 6).await;
}

#[tokio::test]
async fn a_dispatch_after_redis_lost_the_queue_brings_every_pending_job_back_at_once() {
    use fred::prelude::*;
    let (app, ids) = app_for_workers(2).await;
    let batch = start_ok(&app, &ids, "both").await;
    app.flush_redis().await;
    // The next job handed to Redis (a dead letter retried, a job handed back) notices the
    // loss and puts back every pending job from Postgres, not only itself.
    let snapshot = status(&app, &batch).await;
    let one = snapshot["jobs"][0]["job_id"].as_str().unwrap().to_string();
    app.state().await.queue.dispatch(&[one]).await.unwrap();
    let redis = syncstore::redis::connect(&app.settings.redis_url)
        .await
        .unwrap();
    let waiting: i64 = redis
        .llen(format!("{}queue:wait", app.settings.redis_prefix))
        .await
        .unwrap();
    assert_eq!(waiting, 4, "each of the batch's 4 jobs once");
    let _worker = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 2).await;
}

#[tokio::test]
async fn a_worker_frozen_past_the_stall_timeout_duplicates_no_listing() {
    let (app, ids) = app_for_workers(20).await;
    // Slow answers keep creates in flight when the worker freezes.
    app.sandbox.latency(300).await;
    let batch = start_ok(&app, &ids, "both").await;
    let frozen = app.worker_process(4);
    let pid = frozen.id().unwrap();
    let held = format!(
        "SELECT count(*) AS n FROM sync_jobs WHERE state = 'active' AND worker_id LIKE '%-{pid}-%'"
    );
    app.eventually(
        "the worker to hold jobs",
        Duration::from_secs(60),
        || async { (count(&app, &held).await > 0).then_some(()) },
    )
    .await;
    let _other = app.worker_process(4);
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(signal("-STOP").success());
    // Frozen three stall timeouts: its jobs and claims go to the other worker meanwhile.
    tokio::time::sleep(app.settings.queue.stall_timeout * 3).await;
    assert!(signal("-CONT").success());
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 20).await;
}

#[tokio::test]
async fn a_job_id_left_in_a_live_workers_list_without_a_slot_is_handed_back_and_runs() {
    use fred::prelude::*;
    use sea_orm::ConnectionTrait;
    let (app, ids) = app_for_workers(1).await;
    let _worker = app.worker_process(1);
    workers_up(&app, 1).await;
    let redis = syncstore::redis::connect(&app.settings.redis_url)
        .await
        .unwrap();
    let prefix = &app.settings.redis_prefix;
    let workers: Vec<String> = redis
        .smembers(format!("{prefix}queue:workers"))
        .await
        .unwrap();
    let active = format!("{prefix}queue:active:{}", workers[0]);
    // The worker's first look at the queue marks Redis as in use and dispatches whatever
    // Postgres has pending: the job below must come after it, or that look runs it (and
    // on a busy machine it came after the job now and then).
    let epoch = format!("{prefix}queue:epoch");
    app.eventually(
        "the worker's first look at the queue",
        Duration::from_secs(30),
        || async {
            let marked: bool = redis.exists(&epoch).await.unwrap();
            marked.then_some(())
        },
    )
    .await;
    // The marker is set just before that dispatch's query: let it finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A job recorded but never dispatched, whose id Redis moved into the worker's list for
    // a reply that never reached a slot (a connection cut just then).
    let row = app
        .db
        .query_one_raw(syncstore::db::sql(
            "WITH b AS (INSERT INTO sync_batches (platform, total) VALUES ('shopee', 1) RETURNING id)
             INSERT INTO sync_jobs (batch_id, product_id, platform)
             SELECT b.id, $1, 'shopee' FROM b RETURNING id, batch_id",
            [ids[0].into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let (job, batch): (String, String) = (
        row.try_get("", "id").unwrap(),
        row.try_get("", "batch_id").unwrap(),
    );
    let _: i64 = redis.lpush(&active, job.clone()).await.unwrap();
    // Found on two looks 10 s apart, then handed back and run.
    let body = wait_finished(&app, &batch, Duration::from_secs(45)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    // The slot that ran it acknowledges it just after the end is recorded.
    app.eventually(
        "the stray id to leave the worker's list",
        Duration::from_secs(5),
        || async {
            let left: Vec<String> = redis.lrange(&active, 0, -1).await.unwrap();
            (!left.contains(&job)).then_some(())
        },
    )
    .await;
}
