//! Batches end to end through the API and the in-process worker: validation, retries by
//! error class, the dead-letter queue, cancelling, the batch test report. Shared helpers
//! for `batch_events` and `batch_workers` live here too.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use syncstore::db::users;

use crate::support::{
    app_with_catalog, assert_error, spawn_app_with, spawn_app_with_options, AppOptions, TestApp,
    OWNER_EMAIL,
};

pub(crate) async fn start(app: &TestApp, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

pub(crate) async fn product_ids(app: &TestApp, n: usize) -> Vec<i64> {
    let (_, list) = app.get_json("/api/products").await;
    list["items"].as_array().unwrap()[..n]
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

pub(crate) async fn start_ok(app: &TestApp, ids: &[i64], platform: &str) -> String {
    let (status, body) = start(app, json!({"product_ids": ids, "platform": platform})).await;
    assert_eq!(status, 202, "{body}");
    body["batch_id"].as_str().unwrap().to_string()
}

pub(crate) async fn status(app: &TestApp, batch_id: &str) -> Value {
    let (code, body) = app
        .get_json(&format!("/api/sync/batch/status?batch_id={batch_id}"))
        .await;
    assert_eq!(code, 200, "{body}");
    body
}

/// Polls until every job is finished; panics with the last status after `limit`.
pub(crate) async fn wait_finished(app: &TestApp, batch_id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let body = status(app, batch_id).await;
        if body["percent"] == json!(100) && body["finished_at"].is_string() {
            return body;
        }
        assert!(Instant::now() < deadline, "batch did not finish: {body:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn count(app: &TestApp, query: &str) -> i64 {
    app.count(query).await
}

/// Exactly one listing per product on each platform: nothing lost, nothing duplicated.
pub(crate) async fn assert_listings(app: &TestApp, products: i64) {
    let stats = app.sandbox.stats().await;
    assert_eq!(
        stats["shopee"]["listings"], products,
        "Shopee listings: {stats}"
    );
    assert_eq!(
        stats["tiktok"]["listings"], products,
        "TikTok listings: {stats}"
    );
}

/// Discards a dead-lettered job through the dashboard's server function, as an operator does.
pub(crate) async fn discard_dead_letter(app: &TestApp, job_id: &str, reason: &str) {
    let res = app
        .client
        .post(app.url("/api/fn/discard_dead_letter"))
        .form(&[("job_id", job_id), ("reason", reason)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

pub(crate) fn job_states(body: &Value) -> Vec<(String, i64, String)> {
    body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["state"].as_str().unwrap().to_string(),
                j["attempts"].as_i64().unwrap(),
                j["error_code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_to_both_platforms_completes_and_logs_every_attempt() {
    let (app, _) = app_with_catalog(6).await;
    let ids = product_ids(&app, 5).await;
    let batch = start_ok(&app, &ids, "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    assert_eq!(
        (body["total"].clone(), body["completed"].clone()),
        (json!(10), json!(10))
    );
    assert!(body["started_at"].is_string() && body["finished_at"].is_string());
    assert_listings(&app, 5).await;
    let logged = count(
        &app,
        &format!("SELECT count(*) AS n FROM sync_logs WHERE batch_id = '{batch}' AND job_id IS NOT NULL AND attempt = 1"),
    )
    .await;
    assert_eq!(logged, 10);
    let (_, product) = app.get_json(&format!("/api/products/{}", ids[0])).await;
    assert_eq!(product["mappings"]["shopee"]["sync_status"], "synced");
    assert_eq!(product["mappings"]["tiktok"]["sync_status"], "synced");
}

#[tokio::test]
async fn rejects_a_batch_of_51_products_and_records_nothing() {
    let (app, _) = app_with_catalog(51).await;
    let mut ids = Vec::new();
    for page in 1..=2 {
        let (_, list) = app.get_json(&format!("/api/products?page={page}")).await;
        ids.extend(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
    }
    assert_eq!(ids.len(), 51);
    let (status, body) = start(&app, json!({"product_ids": ids, "platform": "shopee"})).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "BATCH_TOO_LARGE");
    // Repeats count once: 50 distinct products and a repeat are fine.
    let mut fifty = ids[..50].to_vec();
    fifty.push(ids[0]);
    let (status, body) = start(&app, json!({"product_ids": fifty, "platform": "shopee"})).await;
    assert_eq!(
        (status, body["total_jobs"].clone()),
        (202, json!(50)),
        "{body}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM sync_batches").await,
        1
    );
}

#[tokio::test]
async fn unknown_ids_reject_the_whole_batch_and_repeats_count_once() {
    let (app, _) = app_with_catalog(3).await;
    let ids = product_ids(&app, 2).await;
    let (status, body) = start(
        &app,
        json!({"product_ids": [ids[0], 999_999, ids[1], 888_888], "platform": "both"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "INVALID_PRODUCT");
    assert_eq!(body["error"]["product_ids"], json!([999_999, 888_888]));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM sync_jobs").await, 0);

    let (status, body) = start(
        &app,
        json!({"product_ids": [ids[0], ids[1], ids[0], ids[0]], "platform": "both"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["total_jobs"], 4);
}

#[tokio::test]
async fn bad_batch_requests_are_validation_errors() {
    let (app, _) = app_with_catalog(1).await;
    let ids = product_ids(&app, 1).await;
    for body in [
        json!({"product_ids": ids, "platform": "lazada"}),
        json!({"product_ids": [], "platform": "both"}),
        json!({"product_ids": "1,2", "platform": "both"}),
        json!({"platform": "both"}),
    ] {
        let (status, answer) = start(&app, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_error(&answer, "VALIDATION_ERROR");
    }
    let (status, body) = app.get_json("/api/sync/batch/status").await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    // A NUL cannot name anything: refused as input before any lookup.
    let (status, body) = app.get_json("/api/sync/batch/status?batch_id=%00").await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    for unknown in ["nope", "x%27%3B--"] {
        let (status, body) = app
            .get_json(&format!("/api/sync/batch/status?batch_id={unknown}"))
            .await;
        assert_eq!(status, 404, "{unknown}");
        assert_error(&body, "NOT_FOUND");
        let events = app
            .client
            .get(app.url(&format!("/api/sync/batch/{unknown}/events")))
            .send()
            .await
            .unwrap();
        assert_eq!(events.status(), 404, "{unknown}");
    }
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": ids, "platform": "both"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn retryable_failures_are_retried_three_times_then_dead_lettered() {
    let (app, _) = app_with_catalog(3).await;
    let ids = product_ids(&app, 2).await;
    for (mode, code) in [
        ("rate_limit", "RATE_LIMITED"),
        ("server_error", "NETWORK_ERROR"),
    ] {
        app.sandbox.fault("shopee", mode).await;
        let batch = start_ok(&app, &ids[..1], "shopee").await;
        let body = wait_finished(&app, &batch, Duration::from_secs(30)).await;
        assert_eq!(body["status"], "completed_with_errors");
        assert_eq!(
            job_states(&body),
            vec![("failed".into(), 3, code.into())],
            "{mode}"
        );
        let attempts = count(
            &app,
            &format!("SELECT count(DISTINCT attempt) AS n FROM sync_logs WHERE batch_id = '{batch}' AND error_code = '{code}'"),
        )
        .await;
        assert_eq!(attempts, 3, "{mode}: attempts 1, 2 and 3 are logged");
        // Failures are resolved before the next batch (SPEC §7).
        let job = body["jobs"][0]["job_id"].as_str().unwrap().to_string();
        discard_dead_letter(&app, &job, "seen in the test").await;
    }
    app.sandbox.fault("shopee", "none").await;
}

#[tokio::test]
async fn a_retry_succeeds_once_the_platform_recovers() {
    // A backoff of 1–2 s leaves time to heal the platform while the job waits.
    let app = spawn_app_with(|s| s.queue.retry_base = Duration::from_secs(2)).await;
    app.import(&syncstore::catalog::demo::demo_catalog(2, &app.base))
        .await;
    app.login().await;
    let ids = product_ids(&app, 1).await;
    app.sandbox.fault("tiktok", "server_error").await;
    let batch = start_ok(&app, &ids, "tiktok").await;
    // Let the first attempt fail, then heal the platform before the backoff ends.
    let deadline = Instant::now() + Duration::from_secs(20);
    while job_states(&status(&app, &batch).await)[0].0 != "retrying" {
        assert!(Instant::now() < deadline, "the job never went into retry");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.sandbox.fault("tiktok", "none").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    let (state, attempts, _) = job_states(&body).remove(0);
    assert_eq!(state, "completed");
    assert!(attempts >= 2, "{body:#}");
    assert_eq!(app.sandbox.stats().await["tiktok"]["listings"], 1);
}

#[tokio::test]
async fn an_invalid_product_fails_at_once_and_can_be_retried_or_discarded_from_the_dead_letter_queue(
) {
    let (app, mut catalog) = app_with_catalog(2).await;
    catalog[0].images.truncate(2);
    app.import(&catalog[..1]).await;
    let id = app.get_json("/api/products").await.1["items"][0]["id"]
        .as_i64()
        .unwrap();
    let batch = start_ok(&app, &[id], "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    for (state, attempts, code) in job_states(&body) {
        assert_eq!(
            (state.as_str(), attempts, code.as_str()),
            ("failed", 1, "INVALID_PRODUCT")
        );
    }
    let dead = syncstore::db::batches::dead_letters(&app.db).await.unwrap();
    assert_eq!(dead.len(), 2);

    // Fixed in the catalog, retried from the dead-letter page's server function: it syncs.
    app.import(&syncstore::catalog::demo::demo_catalog(1, &app.base))
        .await;
    let retry = |job: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/api/fn/retry_dead_letter"))
                .form(&[("job_id", job.as_str())])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (code, body) = retry(dead[0].job_id.clone()).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = retry(dead[0].job_id.clone()).await;
    assert_eq!(code, 409, "only dead jobs are retried: {body}");
    assert!(
        body.contains("no longer in the dead-letter queue"),
        "{body}"
    );
    discard_dead_letter(&app, &dead[1].job_id, "listed by hand on this platform").await;
    let owner = users::find_by_email(&app.db, OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    let audited = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE user_id = {owner}
               AND ((action = 'dead_letter.retry' AND detail->>'job_id' = '{}')
                 OR (action = 'dead_letter.discard' AND detail->>'job_id' = '{}'
                     AND detail->>'reason' = 'listed by hand on this platform'))",
            dead[0].job_id, dead[1].job_id
        ),
    )
    .await;
    assert_eq!(
        audited, 2,
        "both decisions are in the audit log with the owner"
    );
    let body = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    let mut states: Vec<String> = job_states(&body).into_iter().map(|j| j.0).collect();
    states.sort();
    assert_eq!(states, vec!["completed", "discarded"]);
    assert!(syncstore::db::batches::dead_letters(&app.db)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_revoked_token_fails_at_once_as_unauthorized() {
    let app = spawn_app_with(|s| {
        if let Some(shopee) = s.shopee.as_mut() {
            shopee.access_token = "revoked".into();
        }
    })
    .await;
    app.import(&syncstore::catalog::demo::demo_catalog(2, &app.base))
        .await;
    app.login().await;
    let ids = product_ids(&app, 1).await;
    let batch = start_ok(&app, &ids, "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    let mut jobs = body["jobs"].as_array().unwrap().clone();
    jobs.sort_by_key(|j| j["platform"].as_str().unwrap().to_string());
    assert_eq!(
        (jobs[0]["platform"].clone(), jobs[0]["state"].clone()),
        (json!("shopee"), json!("failed"))
    );
    assert_eq!(
        (jobs[0]["error_code"].clone(), jobs[0]["attempts"].clone()),
        (json!("UNAUTHORIZED"), json!(1))
    );
    assert_eq!(
        jobs[1]["state"], "completed",
        "the other platform is unaffected"
    );
}

#[tokio::test]
async fn with_30_percent_faults_every_job_ends_synced_or_dead_lettered_with_its_class() {
    let (app, _) = app_with_catalog(10).await;
    let ids = product_ids(&app, 10).await;
    // Seeded, so which calls fail is the same from run to run (for the same order).
    for (platform, mode) in [("shopee", "server_error"), ("tiktok", "rate_limit")] {
        app.sandbox
            .set_faults(
                json!({"platform": platform, "mode": mode, "probability": 0.3, "seed": 20261129}),
            )
            .await;
    }
    let batch = start_ok(&app, &ids, "both").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    for job in body["jobs"].as_array().unwrap() {
        match job["state"].as_str().unwrap() {
            "completed" => {}
            "failed" => {
                let expected = if job["platform"] == "shopee" {
                    "NETWORK_ERROR"
                } else {
                    "RATE_LIMITED"
                };
                assert_eq!(job["error_code"], expected, "{job}");
                assert_eq!(job["attempts"], 3, "{job}");
            }
            other => panic!("job left in state {other}: {job}"),
        }
    }
    let stats = app.sandbox.stats().await;
    let jobs = body["jobs"].as_array().unwrap();
    let count = |p: &str, state: &str| {
        jobs.iter()
            .filter(|j| j["platform"] == p && j["state"] == state)
            .count() as i64
    };
    assert!(
        count("shopee", "failed") + count("tiktok", "failed") > 0,
        "some jobs exhausted their attempts: {body:#}"
    );
    for platform in ["shopee", "tiktok"] {
        let listings = stats[platform]["listings"].as_i64().unwrap();
        assert!(listings <= 10, "{platform}: {stats}");
        assert!(
            listings >= count(platform, "completed"),
            "{platform}: {stats}"
        );
    }
    // What completed is on the marketplace as the catalog says (read back, faults off).
    app.sandbox
        .set_faults(json!({"platform": "all", "mode": "none"}))
        .await;
    for id in &ids {
        let done = jobs
            .iter()
            .any(|j| j["product_id"] == json!(id) && j["state"] == "completed");
        if done {
            let out = app.cli(&["verify", &id.to_string()]).await;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

#[tokio::test]
async fn the_batch_report_is_generated_from_data_with_read_back_spot_checks() {
    let (app, _) = app_with_catalog(4).await;
    let ids = product_ids(&app, 4).await;
    let batch = start_ok(&app, &ids, "both").await;
    wait_finished(&app, &batch, Duration::from_secs(60)).await;

    let before = app.cli(&["report", "batch", &batch]).await;
    let text = String::from_utf8_lossy(&before.stdout).to_string();
    assert!(before.status.success(), "{before:?}");
    assert!(
        text.contains("Result: **NOT PASSED**"),
        "no spot check yet:\n{text}"
    );
    assert!(
        text.contains("| Success rate | 100.0% (8 of 8) |"),
        "{text}"
    );
    assert!(text.contains("| Time per product p50 / p95 |"), "{text}");
    assert!(text.contains("No attempt failed."), "{text}");

    let after = app.cli(&["report", "batch", &batch, "--spot-check"]).await;
    let text = String::from_utf8_lossy(&after.stdout).to_string();
    assert!(after.status.success(), "{after:?}");
    assert!(text.contains("Result: **PASSED**"), "{text}");
    assert_eq!(
        text.matches("| pass |").count(),
        6,
        "3 products × 2 platforms:\n{text}"
    );

    let unknown = app.cli(&["report", "batch", "no-such-batch"]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no batch with id"));
}

#[tokio::test]
async fn a_cancelled_batch_runs_no_more_jobs_and_says_cancelled() {
    let app = spawn_app_with(|s| s.queue.concurrency = 1).await;
    app.import(&syncstore::catalog::demo::demo_catalog(6, &app.base))
        .await;
    app.login().await;
    let ids = product_ids(&app, 6).await;
    app.sandbox.latency(100).await;
    let batch = start_ok(&app, &ids, "both").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&app, &batch).await["completed"].as_i64().unwrap() < 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancel = |id: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(&format!("/api/sync/batch/{id}/cancel")))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (code, body) = cancel(batch.clone()).await;
    assert_eq!(code, 200, "{body}");
    let body = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(body["status"], "cancelled", "{body:#}");
    let discarded: Vec<&Value> = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["state"] == "discarded")
        .collect();
    assert!(
        discarded.len() >= 6,
        "jobs not started were discarded: {body:#}"
    );
    assert!(discarded
        .iter()
        .all(|j| j["error_code"] == "CANCELLED" && j["attempts"] == 0));
    let runs = count(
        &app,
        &format!("SELECT count(*) AS n FROM sync_logs WHERE batch_id = '{batch}'"),
    )
    .await;
    assert_eq!(
        runs,
        body["completed"].as_i64().unwrap(),
        "only the jobs that ran are logged"
    );

    let audited = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE user_id IS NOT NULL
             AND action IN ('batch.start', 'batch.cancel') AND detail->>'batch_id' = '{batch}'"
        ),
    )
    .await;
    assert_eq!(audited, 2, "who started and who cancelled are recorded");

    let (code, body) = cancel(batch.clone()).await;
    assert_eq!(code, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (code, body) = cancel("no-such-batch".into()).await;
    assert_eq!(code, 404);
    assert_error(&body, "NOT_FOUND");
}

/// (remaining as kept by the triggers, unfinished jobs counted, batch closed).
async fn remaining(app: &TestApp, batch_id: &str) -> (i32, i64, bool) {
    let row = app
        .db
        .query_one_raw(syncstore::db::sql(
            "SELECT b.remaining, b.finished_at IS NOT NULL AS closed,
                (SELECT count(*) FROM sync_jobs j WHERE j.batch_id = b.id
                   AND j.state IN ('waiting', 'active', 'retrying')) AS unfinished
             FROM sync_batches b WHERE b.id = $1",
            [batch_id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "remaining").unwrap(),
        row.try_get("", "unfinished").unwrap(),
        row.try_get("", "closed").unwrap(),
    )
}

#[tokio::test]
async fn a_batch_knows_its_remaining_jobs_through_every_move_and_closes_at_none() {
    use syncstore::db::queue::{self as jobs, Finish};
    // No worker: the test moves the jobs itself, through the statements the queue uses.
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        ..AppOptions::default()
    })
    .await;
    let batch_id: String = app
        .db
        .query_one_raw(syncstore::db::sql(
            "INSERT INTO sync_batches (platform, total) VALUES ('shopee', 4) RETURNING id",
            [],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    let ids: Vec<String> = app
        .db
        .query_all_raw(syncstore::db::sql(
            "INSERT INTO sync_jobs (batch_id, product_id, platform)
             SELECT $1, n, 'shopee' FROM generate_series(1, 4) AS n RETURNING id",
            [batch_id.clone().into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "id").unwrap())
        .collect();
    let expect = |left: i32| (left, i64::from(left), false);
    assert_eq!(remaining(&app, &batch_id).await, expect(4), "inserted");

    let claim = |id: String| {
        let db = app.db.clone();
        async move { jobs::claim(&db, &id, "w").await.unwrap().unwrap() }
    };
    claim(ids[0].clone()).await;
    assert_eq!(remaining(&app, &batch_id).await, expect(4), "a claim");
    let done = Finish::Completed { action: None };
    assert!(jobs::finish(&app.db, &ids[0], "w", 5, &done).await.unwrap());
    assert_eq!(remaining(&app, &batch_id).await, expect(3), "completed");

    claim(ids[1].clone()).await;
    let again = Finish::Retry {
        delay_ms: 0,
        code: "NETWORK_ERROR".into(),
        message: "reset".into(),
    };
    assert!(jobs::finish(&app.db, &ids[1], "w", 5, &again)
        .await
        .unwrap());
    assert_eq!(remaining(&app, &batch_id).await, expect(3), "to be retried");
    claim(ids[1].clone()).await;
    let failed = Finish::Failed {
        code: "INVALID_PRODUCT".into(),
        message: "no".into(),
    };
    assert!(jobs::finish(&app.db, &ids[1], "w", 5, &failed)
        .await
        .unwrap());
    assert_eq!(remaining(&app, &batch_id).await, expect(2), "dead-lettered");
    assert!(jobs::retry_dead(&app.db, &ids[1]).await.unwrap().is_some());
    assert_eq!(
        remaining(&app, &batch_id).await,
        expect(3),
        "a dead letter retried"
    );

    claim(ids[2].clone()).await;
    assert!(jobs::hand_back(&app.db, &ids[2], "w").await.unwrap());
    assert_eq!(remaining(&app, &batch_id).await, expect(3), "handed back");
    claim(ids[2].clone()).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let recovered = jobs::recover_stalled(&app.db, 1).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(
        remaining(&app, &batch_id).await,
        expect(3),
        "a stalled job recovered"
    );

    // A job running when the batch is cancelled finishes its attempt; the rest are
    // discarded, and the batch closes when the running one ends.
    claim(ids[3].clone()).await;
    assert!(jobs::cancel_batch(&app.db, &batch_id, None).await.unwrap());
    assert_eq!(
        remaining(&app, &batch_id).await,
        expect(1),
        "cancelled, one running"
    );
    assert!(jobs::finish(&app.db, &ids[3], "w", 5, &done).await.unwrap());
    assert_eq!(
        remaining(&app, &batch_id).await,
        (0, 0, true),
        "closed at none"
    );

    // Deleting a batch's jobs (the batch going with them) leaves no count behind.
    app.db
        .execute_raw(syncstore::db::sql(
            "DELETE FROM sync_batches WHERE id = $1",
            [batch_id.clone().into()],
        ))
        .await
        .unwrap();
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_jobs").await, 0);
}

/// A batch of one product with only two images, too few to list, finished with its one job
/// in the dead-letter queue: the app, the batch and the job.
async fn one_dead_letter() -> (TestApp, String, String) {
    let (app, mut catalog) = app_with_catalog(1).await;
    catalog[0].images.truncate(2);
    app.import(&catalog).await;
    let id = app.get_json("/api/products").await.1["items"][0]["id"]
        .as_i64()
        .unwrap();
    let batch = start_ok(&app, &[id], "shopee").await;
    wait_finished(&app, &batch, Duration::from_secs(30)).await;
    let dead = syncstore::db::batches::dead_letters(&app.db).await.unwrap();
    assert_eq!(dead.len(), 1);
    let job_id = dead[0].job_id.clone();
    (app, batch, job_id)
}

async fn assert_still_dead(app: &TestApp, job_id: &str) {
    let still = app
        .count(&format!(
            "SELECT count(*) AS n FROM sync_jobs WHERE id = '{job_id}' AND state = 'failed'"
        ))
        .await;
    assert_eq!(still, 1, "the dead letter is left as it was");
}

#[tokio::test]
async fn a_retry_waiting_on_a_cancel_that_commits_is_refused() {
    use sea_orm::TransactionTrait;
    let (app, batch, job_id) = one_dead_letter().await;
    // A cancel holds the batch's row, not yet committed, as the retry starts.
    let cancel = app.db.begin().await.unwrap();
    cancel
        .execute_raw(syncstore::db::sql(
            "UPDATE sync_batches SET cancelled = true WHERE id = $1",
            [batch.clone().into()],
        ))
        .await
        .unwrap();
    let (db, id) = (app.db.clone(), job_id.clone());
    let retry = tokio::spawn(async move { syncstore::db::queue::retry_dead(&db, &id).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!retry.is_finished(), "the retry waits for the batch's row");
    cancel.commit().await.unwrap();
    let retried = retry.await.unwrap().unwrap();
    assert_eq!(retried, None, "the retry sees the cancel it waited for");
    assert_still_dead(&app, &job_id).await;
}

#[tokio::test]
async fn a_dead_letter_of_a_cancelled_batch_is_not_retried_into_a_job_that_never_runs() {
    let (app, batch, job_id) = one_dead_letter().await;
    // As a cancel while another job of the batch still ran leaves it.
    app.db
        .execute_raw(syncstore::db::sql(
            "UPDATE sync_batches SET cancelled = true WHERE id = $1",
            [batch.clone().into()],
        ))
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/api/fn/retry_dead_letter"))
        .form(&[("job_id", job_id.as_str())])
        .send()
        .await
        .unwrap();
    let (code, body) = (res.status().as_u16(), res.text().await.unwrap());
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("batch was cancelled"), "{body}");
    // A cancel that commits between the page's check and the retry itself: the retry's own
    // statement refuses it.
    let retried = syncstore::db::queue::retry_dead(&app.db, &job_id)
        .await
        .unwrap();
    assert_eq!(
        retried, None,
        "a cancelled batch's dead letter is not put back in line"
    );
    assert_still_dead(&app, &job_id).await;
}
