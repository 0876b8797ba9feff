//! `make bench`: the queue's own overhead; the product list under 20 signed-in clients at
//! 4,147 and 100,000 products; a 50-product batch to both platforms against the sandbox
//! with 100 ms latency and per-shop rate limits, with the server's memory; the WASM a
//! browser downloads. Prints a readable report and one JSON object per figure (SPEC §2).

#[allow(dead_code)]
#[path = "../tests/api/support.rs"]
mod support;

#[path = "support/served.rs"]
mod served;

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
/// workers of `slots` slots each (`syncstore worker` runs 4 by default). Each worker has
/// its own Postgres pool and Redis connections, as a worker process has.
async fn queue_noop(jobs: usize, workers: usize, slots: usize) -> f64 {
    let mut settings = support::test_settings();
    settings.queue.concurrency = slots;
    let state = AppState::connect(settings.clone())
        .await
        .expect("Postgres and Redis");
    let (stop, stopped) = watch::channel(false);
    let mut running = Vec::new();
    for _ in 0..workers {
        let own = AppState::connect(settings.clone())
            .await
            .expect("Postgres and Redis");
        let worker = Worker::new(own.queue.clone(), Arc::new(Noop));
        running.push(tokio::spawn(worker.run(stopped.clone())));
    }
    // Recorded as a batch is, but in one piece: the rollout's 50-product limit is not the
    // queue's overhead (and a no-op job needs no product).
    let started = Instant::now();
    let batch_id: String = state
        .db
        .query_one_raw(sql(
            "INSERT INTO sync_batches (platform, total) VALUES ('shopee', $1) RETURNING id",
            [(jobs as i32).into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    let job_ids: Vec<String> = state
        .db
        .query_all_raw(sql(
            "INSERT INTO sync_jobs (batch_id, product_id, platform)
             SELECT $1, n, 'shopee' FROM generate_series(1, $2::bigint) AS n RETURNING id",
            [batch_id.clone().into(), (jobs as i64).into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "id").unwrap())
        .collect();
    state.queue.dispatch(&job_ids).await.expect("enqueue");
    wait_for(&state.db, &batch_id, jobs as i64).await;
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for w in running {
        let _ = w.await;
    }
    jobs as f64 / elapsed
}

/// A 50-product batch to both platforms through `syncstore serve` (its own worker with
/// `concurrency` slots).
async fn batch50(sandbox_qps: u32, own_qps: u32, concurrency: usize) -> Batch50 {
    let sandbox = support::sandbox_with_qps(Some(sandbox_qps)).await;
    sandbox.latency(100).await;
    let (mut served, _) = served::Served::with_catalog(50, Some(sandbox), true).await;
    // The stages before batches of 50, as the owner's approvals leave them.
    let db = sea_orm::Database::connect(&served.settings.database_url)
        .await
        .unwrap();
    let owner: i64 = db
        .query_one_raw(sql("SELECT id FROM users", []))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    for stage in [app::api::Stage::Pilot, app::api::Stage::Batch10] {
        syncstore::rollout::record_approval(
            &db,
            stage,
            Some(owner),
            "recorded by the benchmark",
            serde_json::json!({"bench": true}),
        )
        .await
        .unwrap();
    }
    served
        .start(&[
            ("SYNCSTORE_SHOPEE_QPS", own_qps.to_string()),
            ("SYNCSTORE_TIKTOK_QPS", own_qps.to_string()),
            ("SYNCSTORE_WORKER_CONCURRENCY", concurrency.to_string()),
        ])
        .await;
    let client = served.signed_in().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = served.rss_mb();
    let ids: Vec<i64> = {
        let rows = db
            .query_all_raw(sql("SELECT id FROM products ORDER BY id", []))
            .await
            .unwrap();
        rows.iter().map(|r| r.try_get("", "id").unwrap()).collect()
    };
    let started = Instant::now();
    let res = client
        .post(format!("{}/api/sync/batch", served.base))
        .json(&serde_json::json!({"product_ids": ids, "platform": "both"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let batch = body["batch_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let mut peak = idle;
    while jobs_in(&db, &batch, "'completed', 'failed'").await < 100 {
        peak = peak.max(served.rss_mb());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let stats = served.sandbox.as_ref().unwrap().stats().await;
    let shopee = stats["shopee"]["requests"].as_i64().unwrap();
    let tiktok = stats["tiktok"]["requests"].as_i64().unwrap();
    // Both shops are worked at once, each at most at its allowed rate.
    let bound = (shopee.max(tiktok)) as f64 / f64::from(sandbox_qps);
    let failed = 100 - jobs_in(&db, &batch, "'completed'").await;
    let rate_limited: i64 = db
        .query_one_raw(sql(
            "SELECT count(*) AS n FROM sync_logs WHERE batch_id = $1 AND error_code = 'RATE_LIMITED'",
            [batch.clone().into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    Batch50 {
        wall,
        bound,
        calls: shopee + tiktok,
        failed,
        rate_limited,
        idle,
        peak,
    }
}

struct Batch50 {
    /// Seconds from the request to the last job's end.
    wall: f64,
    /// The busiest shop's calls at the shop's allowed rate, in seconds.
    bound: f64,
    calls: i64,
    failed: i64,
    /// Attempts a shop refused for rate.
    rate_limited: i64,
    /// The server's resident memory in MiB, idle and at most during the batch.
    idle: f64,
    peak: f64,
}

/// The product list, server-rendered and as JSON, for 20 signed-in clients: the first page,
/// a page in the middle and a title search.
async fn list(products: usize, figures: &mut Vec<String>) {
    let clients = 20;
    let (mut served, loaded) = served::Served::with_catalog(products, None, false).await;
    println!("\n{products} products (`catalog demo --count {products}` loaded them in {:.1} s), {clients} signed-in clients", loaded.as_secs_f64());
    served.start(&[]).await;
    let mut signed_in = Vec::new();
    for _ in 0..clients {
        signed_in.push(served.signed_in().await);
    }
    let requests = 1_000;
    let deep = products.div_ceil(50) / 2;
    served::load(&served, &signed_in, "/dashboard/products", 200).await; // warm up
    for route in ["/dashboard/products", "/api/products"] {
        for query in [
            "page=1".to_string(),
            format!("page={deep}"),
            "q=kaos".to_string(),
        ] {
            let (p50, p95, rps) =
                served::load(&served, &signed_in, &format!("{route}?{query}"), requests).await;
            println!(
                "  {route}?{query:<10} p50 {p50:>6.1} ms  p95 {p95:>6.1} ms  {rps:>6.0} req/s"
            );
            figures.push(format!(
                r#"{{"bench":"list","products":{products},"clients":{clients},"route":"{route}","query":"{query}","p50_ms":{p50:.1},"p95_ms":{p95:.1},"rps":{rps:.0}}}"#
            ));
        }
    }
}

/// The gzipped size of what `cargo leptos build --release --split` put in the site's `pkg`:
/// all of it, and what the products page loads before it is interactive.
fn wasm_sizes() -> Option<(u64, u64)> {
    use std::io::Write;
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let mut total = 0;
    let mut first = 0;
    for entry in std::fs::read_dir(&pkg).ok()? {
        let path = entry.ok()?.path();
        let name = path.file_name()?.to_string_lossy().to_string();
        if !(name.ends_with(".wasm") || name.ends_with(".js")) {
            continue;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&std::fs::read(&path).ok()?).ok()?;
        let size = gz.finish().ok()?.len() as u64;
        total += size;
        // A split build (`--split`) loads a lazy route's `split_*` file and the shared
        // `chunk_*` files it needs only when that route is first visited; the products page
        // is not lazy, so it needs only the rest (the main WASM and its JS).
        if !(name.starts_with("split_") || name.starts_with("chunk_")) {
            first += size;
        }
    }
    (total > 0).then_some((total, first))
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
    // `cargo bench -p server --bench queue -- list batch` runs only those parts.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let mut figures = Vec::new();
    if runs("queue") {
        queue_figures(jobs, &mut figures).await;
    }
    if runs("list") {
        for products in [4_147, 100_000] {
            list(products, &mut figures).await;
        }
    }
    if runs("batch") {
        batch_figures(&mut figures).await;
    }
    if runs("wasm") {
        wasm_figures(&mut figures);
    }
    println!();
    for f in figures {
        println!("{f}");
    }
}

async fn queue_figures(jobs: usize, figures: &mut Vec<String>) {
    println!("Queue overhead: {jobs} no-op jobs in one batch, enqueue → worker → ack");
    // Worker processes of the default 4 slots (SPEC §2's figures)...
    for workers in [1, 2, 4] {
        let rate = queue_noop(jobs, workers, 4).await;
        println!("  {workers} worker(s) of 4 slots: {rate:>8.0} jobs/s");
        figures.push(format!(
            r#"{{"bench":"queue_noop","jobs":{jobs},"workers":{workers},"jobs_per_s":{rate:.1}}}"#
        ));
    }
    // ...and one worker with fewer or more slots.
    for slots in [1, 16, 50] {
        let rate = queue_noop(jobs, 1, slots).await;
        println!("  1 worker of {slots} slot(s): {rate:>8.0} jobs/s");
    }
}

async fn batch_figures(figures: &mut Vec<String>) {
    // SyncStore paces itself at the shop's own limit: its turns follow the calendar
    // second the sandbox counts, as Shopee and TikTok Shop do.
    let (sandbox_qps, own_qps, concurrency) = (20, 20, 8);
    println!(
        "\n50 products to both platforms through `syncstore serve`: sandbox latency 100 ms, \
         {sandbox_qps} calls/s per shop allowed (SyncStore paces itself at {own_qps}), {concurrency} worker slots"
    );
    let Batch50 {
        wall,
        bound,
        calls,
        failed,
        rate_limited,
        idle,
        peak,
    } = batch50(sandbox_qps, own_qps, concurrency).await;
    println!(
        "  wall time {wall:.1} s; lower bound {bound:.1} s (busiest shop's calls ÷ {sandbox_qps}/s), {:.3}×; \
         {calls} API calls; {rate_limited} refused for rate; {failed} jobs failed",
        wall / bound
    );
    println!("  server memory: {idle:.0} MiB idle, {peak:.0} MiB at most during the batch");
    figures.push(format!(
        r#"{{"bench":"batch50","products":50,"platforms":2,"wall_s":{wall:.1},"bound_s":{bound:.1}}}"#
    ));
    figures.push(format!(
        r#"{{"bench":"rss","idle_mb":{idle:.1},"batch50_mb":{peak:.1}}}"#
    ));
}

fn wasm_figures(figures: &mut Vec<String>) {
    match wasm_sizes() {
        Some((total, first)) => {
            println!("\nWASM and JS of the release site, gzipped: {total} bytes in all, {first} before the products page is interactive");
            figures.push(format!(
                r#"{{"bench":"wasm","total_gz_bytes":{total},"first_load_gz_bytes":{first}}}"#
            ));
        }
        None => println!(
            "\nno release site in target/site/pkg: run `cargo leptos build --release --split` first"
        ),
    }
}
