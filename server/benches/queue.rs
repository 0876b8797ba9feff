//! `make bench`: the queue's own overhead, and a 50-product batch to both platforms
//! against the sandbox with 100 ms latency and per-shop rate limits. Prints a readable
//! report and one JSON object per figure (SPEC §2).

#[allow(dead_code)]
#[path = "../tests/api/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use syncstore::db::queue::ClaimedJob;
use syncstore::db::sql;
use syncstore::queue::{JobFailure, JobHandler, Worker};
use syncstore::startup::AppState;
use syncstore::sync::AttemptContext;
use tokio::sync::watch;

/// A job that does nothing, so only the queue's path is measured.
struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _: &ClaimedJob, _: &AttemptContext) -> Result<Option<String>, JobFailure> {
        Ok(None)
    }
}

/// Jobs of the batch in one of `states` (an SQL list such as `'completed'`).
async fn jobs_in(db: &DatabaseConnection, batch_id: &str, states: &str) -> i64 {
    db.query_one_raw(sql(
        &format!("SELECT count(*) AS n FROM sync_jobs WHERE batch_id = $1 AND state IN ({states})"),
        [batch_id.into()],
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

async fn wait_for(db: &DatabaseConnection, batch_id: &str, total: i64) {
    while jobs_in(db, batch_id, "'completed', 'failed'").await < total {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// No-op jobs per second through enqueue → Redis → worker claim → ack, with `workers`
/// worker instances of 4 slots each (as `syncstore worker` runs).
async fn queue_noop(jobs: usize, workers: usize) -> f64 {
    let state = AppState::connect(support::test_settings())
        .await
        .expect("Postgres and Redis");
    let (stop, stopped) = watch::channel(false);
    let mut running = Vec::new();
    for _ in 0..workers {
        let worker = Worker::new(state.queue.clone(), Arc::new(Noop));
        running.push(tokio::spawn(worker.run(stopped.clone())));
    }
    let ids: Vec<i64> = (1..=jobs as i64).collect();
    let started = Instant::now();
    let batch = state
        .queue
        .submit_batch(None, "shopee", &ids, &[app::api::Platform::Shopee])
        .await
        .expect("enqueue");
    wait_for(&state.db, &batch.batch_id, jobs as i64).await;
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for w in running {
        let _ = w.await;
    }
    jobs as f64 / elapsed
}

/// A 50-product batch to both platforms; (wall seconds, lower bound seconds, API calls).
async fn batch50(sandbox_qps: u32, own_qps: u32, concurrency: usize) -> (f64, f64, i64, i64) {
    let mut app = support::spawn_app_with_options(support::AppOptions {
        worker: false,
        sandbox_qps: Some(sandbox_qps),
        ..Default::default()
    })
    .await;
    app.settings.shopee_qps = own_qps;
    app.settings.tiktok_qps = own_qps;
    app.settings.queue.concurrency = concurrency;
    app.import(&syncstore::catalog::demo::demo_catalog(50, &app.base))
        .await;
    app.sandbox.latency(100).await;
    let state = app.state().await;
    let ids: Vec<i64> = {
        let rows = state
            .db
            .query_all_raw(sql("SELECT id FROM products ORDER BY id", []))
            .await
            .unwrap();
        rows.iter().map(|r| r.try_get("", "id").unwrap()).collect()
    };
    let (stop, stopped) = watch::channel(false);
    let worker = Worker::new(state.queue.clone(), Arc::new(state.sync.clone()));
    let running = tokio::spawn(worker.run(stopped));
    let started = Instant::now();
    let request = app::api::BatchRequest {
        product_ids: ids,
        platform: "both".into(),
    };
    let batch = state
        .queue
        .start_batch(None, &request)
        .await
        .expect("start");
    wait_for(&state.db, &batch.batch_id, 100).await;
    let wall = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = running.await;
    let stats = app.sandbox.stats().await;
    let shopee = stats["shopee"]["requests"].as_i64().unwrap();
    let tiktok = stats["tiktok"]["requests"].as_i64().unwrap();
    // Both shops are worked at once, each at most at its allowed rate.
    let bound = (shopee.max(tiktok)) as f64 / f64::from(sandbox_qps);
    let failed = 100 - jobs_in(&state.db, &batch.batch_id, "'completed'").await;
    (wall, bound, shopee + tiktok, failed)
}

#[tokio::main]
async fn main() {
    let jobs = 2_000;
    println!(
        "SyncStore benchmarks on this machine ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "Queue overhead: {jobs} no-op jobs, enqueue → worker → ack (each worker runs 4 at once)"
    );
    let mut figures = Vec::new();
    for workers in [1, 2, 4] {
        let rate = queue_noop(jobs, workers).await;
        println!("  {workers} worker(s): {rate:>8.0} jobs/s");
        figures.push(format!(
            r#"{{"bench":"queue_noop","jobs":{jobs},"workers":{workers},"jobs_per_s":{rate:.1}}}"#
        ));
    }
    let (sandbox_qps, own_qps, concurrency) = (20, 18, 8);
    println!(
        "\n50 products to both platforms: sandbox latency 100 ms, {sandbox_qps} calls/s per shop allowed \
         (SyncStore paces itself at {own_qps}), one worker with {concurrency} slots"
    );
    let (wall, bound, calls, failed) = batch50(sandbox_qps, own_qps, concurrency).await;
    println!("  wall time {wall:.1} s; lower bound {bound:.1} s (busiest shop's calls ÷ {sandbox_qps}/s); {calls} API calls; {failed} jobs failed");
    figures.push(format!(
        r#"{{"bench":"batch50","products":50,"platforms":2,"wall_s":{wall:.1},"bound_s":{bound:.1}}}"#
    ));
    println!();
    for f in figures {
        println!("{f}");
    }
}
