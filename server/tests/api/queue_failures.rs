//! Queue failures `docs/queue.md` promises to handle: a worker presumed dead three times,
//! and a platform's `Retry-After`.

use std::time::Duration;

use serde_json::json;

use crate::support::{app_with_catalog, spawn_app_with_options, AppOptions, TestApp};

async fn start(app: &TestApp, id: i64, platform: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": [id], "platform": platform}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    res.json::<serde_json::Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn finished(app: &TestApp, batch: &str) -> serde_json::Value {
    app.eventually("the batch to finish", Duration::from_secs(120), || async {
        let (_, status) = app
            .get_json(&format!("/api/sync/batch/status?batch_id={batch}"))
            .await;
        status["finished_at"].is_string().then_some(status)
    })
    .await
}

fn signal(sig: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test]
async fn a_job_whose_worker_stops_three_times_is_dead_lettered_as_worker_lost() {
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        sandbox_qps: None,
        ..AppOptions::default()
    })
    .await;
    let catalog = syncstore::catalog::demo::demo_catalog(3, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&simple.sku).await;
    // Every call takes a second: the job is still running when its worker freezes.
    app.sandbox.latency(1_000).await;
    let batch = start(&app, id, "shopee").await;
    let mut frozen = Vec::new();
    for round in 1..=3 {
        let worker = app.worker_process(1);
        let pid = worker.id().unwrap();
        let held = format!(
            "SELECT count(*) AS n FROM sync_jobs WHERE state = 'active' AND worker_id LIKE '%-{pid}-%'"
        );
        app.eventually(
            &format!("worker {round} to hold the job"),
            Duration::from_secs(60),
            || async { (app.count(&held).await > 0).then_some(()) },
        )
        .await;
        // Frozen inside a marketplace call (each takes a second), not half-way through a
        // database round trip: a pool wait that spans the freeze times out on waking and
        // ends the attempt before it is logged.
        let calls = || async {
            app.sandbox.stats().await["shopee"]["requests"]
                .as_u64()
                .unwrap()
        };
        let before = calls().await;
        app.eventually(
            &format!("worker {round} to call Shopee"),
            Duration::from_secs(60),
            || async { (calls().await > before).then_some(()) },
        )
        .await;
        signal("-STOP", pid);
        frozen.push(worker);
    }
    // A live worker finds the third stall and gives up on the job.
    let _survivor = app.worker_process(1);
    let body = finished(&app, &batch).await;
    assert_eq!(body["jobs"][0]["state"], "failed", "{body:#}");
    assert_eq!(body["jobs"][0]["error_code"], "WORKER_LOST", "{body:#}");
    assert_eq!(body["failed"], 1);
    // The frozen workers wake up to claims they no longer hold: nothing more is listed.
    app.sandbox.latency(0).await;
    for worker in &frozen {
        signal("-CONT", worker.id().unwrap());
    }
    // Each woken worker ends its cut attempt (and logs it) without writing anything more.
    app.eventually(
        "the woken workers to end their attempts",
        Duration::from_secs(60),
        || async { (app.count("SELECT count(*) AS n FROM sync_logs").await >= 3).then_some(()) },
    )
    .await;
    let listings = app.sandbox.stats().await["shopee"]["listings"]
        .as_u64()
        .unwrap();
    assert!(listings <= 1, "{listings} Shopee listings of one product");
    let (_, after) = app
        .get_json(&format!("/api/sync/batch/status?batch_id={batch}"))
        .await;
    assert_eq!(
        after["jobs"][0]["state"], "failed",
        "a woken worker changed it: {after:#}"
    );
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_waited_out_before_the_next_attempt() {
    let (app, catalog) = app_with_catalog(3).await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&simple.sku).await;
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "rate_limit", "probability": 1.0, "retry_after_s": 2}))
        .await;
    let batch = start(&app, id, "shopee").await;
    app.eventually("the first attempt", Duration::from_secs(30), || async {
        (app.count("SELECT count(*) AS n FROM sync_logs").await > 0).then_some(())
    })
    .await;
    app.sandbox.fault("shopee", "none").await;
    let body = finished(&app, &batch).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    // From the end of attempt 1 to the start of attempt 2 (the retry base is 200 ms).
    let gap_ms = app
        .count(
            "SELECT (EXTRACT(EPOCH FROM (b.created_at - a.created_at)) * 1000 - b.duration_ms)::bigint AS n
             FROM sync_logs a JOIN sync_logs b ON b.attempt = 2 WHERE a.attempt = 1",
        )
        .await;
    assert!(
        gap_ms >= 1_900,
        "attempt 2 started {gap_ms} ms after attempt 1"
    );
}
