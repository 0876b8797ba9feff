//! Worker processes against one batch: killed, stopped, doubled, rate-limited, and Redis
//! losing the queue under them.

use std::time::{Duration, Instant};

use crate::batch::{
    assert_listings, count, job_states, product_ids, start_ok, status, wait_finished,
};
use crate::support::{app_with_catalog, spawn_app_with_options, AppOptions, TestApp};

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

#[tokio::test]
async fn two_worker_processes_share_a_batch_and_run_each_job_once() {
    let (app, ids) = app_for_workers(8).await;
    let batch = start_ok(&app, &ids, "both").await;
    let _a = app.worker_process(3);
    let _b = app.worker_process(3);
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
    assert_listings(&app, 8).await;
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_no_job_and_duplicates_no_listing() {
    let (app, ids) = app_for_workers(10).await;
    // Slow answers keep jobs in flight when the worker dies.
    app.sandbox.latency(150).await;
    let batch = start_ok(&app, &ids, "both").await;
    let mut doomed = app.worker_process(4);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = status(&app, &batch).await;
        if body["completed"].as_i64().unwrap() >= 2 && body["active"].as_i64().unwrap() >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never got going: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    doomed.start_kill().unwrap(); // SIGKILL: no chance to hand anything back
    doomed.wait().await.unwrap();
    let _successor = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_listings(&app, 10).await;
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
    let batch = start_ok(&app, &ids, "both").await;
    let _a = app.worker_process(4);
    let _b = app.worker_process(4);
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
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
