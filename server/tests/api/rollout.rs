//! The rollout (SPEC §7): batches refused in the pilot, above the stage's size, while
//! another is unfinished and while failures are unresolved; approvals refused until the
//! stage's test passed and for operators; the owner's path pilot → batch_10 → batch_50
//! through the API, its evidence made by real syncs, read-backs and a real batch.

use std::time::Duration;

use app::api::{Role, Stage};
use serde_json::{json, Value};

use crate::batch::{discard_dead_letter, start, wait_finished};
use crate::support::{assert_error, spawn_app_with_options, AppOptions, TestApp, OWNER_EMAIL};

const OPERATOR_EMAIL: &str = "operator@syncstore.test";
const OPERATOR_PASSWORD: &str = "operator password here";

/// An app in `stage` with `count` demo products, the owner signed in; answers the
/// products' ids in catalog order and whether each has variants.
async fn app_in(stage: Stage, count: usize) -> (TestApp, Vec<(i64, bool)>) {
    let app = spawn_app_with_options(AppOptions {
        stage,
        ..AppOptions::default()
    })
    .await;
    let catalog = syncstore::catalog::demo::demo_catalog(count, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let mut products = Vec::new();
    for p in &catalog {
        products.push((app.product_id(&p.sku).await, !p.variants.is_empty()));
    }
    (app, products)
}

async fn rollout(app: &TestApp) -> Value {
    let (status, body) = app.get_json("/api/rollout").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn approve(client: &reqwest::Client, app: &TestApp, note: &str) -> (u16, Value) {
    let res = client
        .post(app.url("/api/rollout/approve"))
        .json(&json!({ "note": note }))
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// A client signed in as an operator.
pub(crate) async fn operator(app: &TestApp) -> reqwest::Client {
    syncstore::db::users::create_user(&app.db, OPERATOR_EMAIL, Role::Operator, OPERATOR_PASSWORD)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    client
}

/// Reads a product back from both platforms through the dashboard, as the owner does
/// after a manual sync; the verification is recorded.
async fn verify(app: &TestApp, id: i64) {
    let res = app
        .client
        .post(app.url("/api/fn/verify_product"))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// Reads back the batch's default number of random products through the dashboard's
/// server function; its status and answer.
async fn spot_check(app: &TestApp, batch: &str) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/api/fn/spot_check_batch"))
        .form(&[("id", batch)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_owner_walks_from_the_pilot_to_batches_of_50_through_the_api() {
    let (app, products) = app_in(Stage::Pilot, 12).await;
    let ids: Vec<i64> = products.iter().map(|(id, _)| *id).collect();

    // Pilot: no batch at all, any size; more than 50 is too large in every stage.
    let body = rollout(&app).await;
    assert_eq!(body["stage"], "pilot");
    assert_eq!(body["max_batch_products"], 0);
    assert_eq!(body["ready"], false);
    assert_eq!(body["missing"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["approvals"], json!([]));
    let (status, body) = start(&app, json!({"product_ids": [ids[0]], "platform": "both"})).await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "ROLLOUT_GATE");
    assert!(body["error"]["message"].as_str().unwrap().contains("pilot"));
    let too_many: Vec<i64> = (1..=51).collect();
    let (status, body) = start(&app, json!({"product_ids": too_many, "platform": "both"})).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "BATCH_TOO_LARGE");

    // The pilot's test has not passed: the approval is refused and says what is missing.
    let (status, body) = approve(&app.client, &app, "looks fine").await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "ROLLOUT_GATE");
    assert_eq!(body["error"]["missing"].as_array().unwrap().len(), 2);

    // The pilot: one product without and one with variants, synced and read back.
    let simple = products.iter().find(|(_, v)| !v).unwrap().0;
    let varied = products.iter().find(|(_, v)| *v).unwrap().0;
    for id in [simple, varied] {
        let (status, body) = app.manual_sync(id, "both").await;
        assert_eq!(status, 200, "{body}");
        verify(&app, id).await;
    }
    let body = rollout(&app).await;
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["missing"], json!([]));

    // Operators may not approve; the note is required; then the owner approves.
    let operator = operator(&app).await;
    let (status, body) = approve(&operator, &app, "I checked").await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "FORBIDDEN");
    let (status, body) = approve(&app.client, &app, "  ").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = approve(&app.client, &app, "Both pilot listings checked by hand").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stage"], "batch_10");
    assert_eq!(body["max_batch_products"], 10);
    assert_eq!(body["approvals"][0]["stage"], "pilot");
    assert_eq!(body["approvals"][0]["by"], OWNER_EMAIL);
    assert_eq!(
        body["approvals"][0]["note"],
        "Both pilot listings checked by hand"
    );
    // The audit log shows it, filtered, with who and what.
    let res = app
        .client
        .post(app.url("/api/fn/audit_log"))
        .form(&[("action", "rollout.approve"), ("user", "OWNER@")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let audit: Value = res.json().await.unwrap();
    assert_eq!(audit["total"], 1, "{audit}");
    assert_eq!(audit["entries"][0]["by"], OWNER_EMAIL);
    assert!(audit["entries"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("Both pilot listings checked by hand"));
    let res = app
        .client
        .post(app.url("/api/fn/audit_log"))
        .form(&[("action", "drop table")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Batches of 10: 11 is refused, 10 goes (an operator may run it), and nothing else
    // starts while it runs.
    let (status, body) = start(&app, json!({"product_ids": &ids[..11], "platform": "both"})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 10"));
    let res = operator
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": &ids[..10], "platform": "both"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let batch = res.json::<Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = start(
        &app,
        json!({"product_ids": [ids[11]], "platform": "shopee"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "ROLLOUT_GATE");
    let done = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(done["status"], "completed", "{done:#}");

    // Finished at 100%, but its spot check has not run: not ready yet, and it says which.
    let body = rollout(&app).await;
    assert_eq!(body["ready"], false, "{body}");
    assert!(body["missing"].to_string().contains(&batch), "{body}");
    let (status, _) = approve(&app.client, &app, "batch went well").await;
    assert_eq!(status, 409);
    let (status, text) = spot_check(&app, &batch).await;
    assert_eq!(status, 200, "{text}");
    let (status, body) = approve(&app.client, &app, "10 of 10, 3 read back").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stage"], "batch_50");
    assert_eq!(body["max_batch_products"], 50);
    assert_eq!(body["approvals"].as_array().unwrap().len(), 2);
    // The sign-off needs a 50-product batch and a passing validation.
    assert_eq!(body["ready"], false);
    assert!(body["missing"].to_string().contains("validation"), "{body}");
    let (status, body) = start(
        &app,
        json!({"product_ids": &ids[..12], "platform": "tiktok"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn an_unresolved_dead_letter_blocks_the_next_batch_until_it_is_discarded() {
    let app = spawn_app_with_options(AppOptions::default()).await;
    let mut catalog = syncstore::catalog::demo::demo_catalog(2, &app.base);
    catalog[0].images.truncate(2);
    app.import(&catalog).await;
    app.login().await;
    let broken = app.product_id(&catalog[0].sku).await;
    let fine = app.product_id(&catalog[1].sku).await;
    let (status, body) = start(&app, json!({"product_ids": [broken], "platform": "shopee"})).await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_string();
    let done = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed_with_errors");
    let job = done["jobs"][0]["job_id"].as_str().unwrap().to_string();

    let (status, body) = start(&app, json!({"product_ids": [fine], "platform": "shopee"})).await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "ROLLOUT_GATE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 failed job is not resolved"),
        "{body}"
    );
    discard_dead_letter(&app, &job, "listed by hand with the right photos").await;
    let (status, body) = start(&app, json!({"product_ids": [fine], "platform": "shopee"})).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn operators_see_the_rollout_but_cannot_approve_by_any_path() {
    let (app, _) = app_in(Stage::Pilot, 1).await;
    let operator = operator(&app).await;
    let res = operator.get(app.url("/api/rollout")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = operator
        .post(app.url("/api/fn/approve_rollout"))
        .form(&[("note", "let me")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let out = app
        .cli(&[
            "rollout",
            "approve",
            "--by",
            OPERATOR_EMAIL,
            "--note",
            "let me",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the owner"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM rollout_approvals")
            .await,
        0
    );
}

#[tokio::test]
async fn the_command_line_shows_the_stage_and_refuses_an_approval_whose_test_has_not_passed() {
    let (app, _) = app_in(Stage::Pilot, 1).await;
    let out = app.cli(&["rollout", "status", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["stage"], "pilot");
    assert_eq!(body["ready"], false);
    let out = app
        .cli(&["rollout", "approve", "--by", OWNER_EMAIL, "--note", "early"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has not passed"), "{stderr}");
    let out = app.cli(&["rollout", "status"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Stage: pilot"), "{stdout}");
    assert!(stdout.contains("missing:"), "{stdout}");
}

#[tokio::test]
async fn only_a_batch_run_after_the_last_approval_tests_the_stage() {
    let (app, products) = app_in(Stage::Batch10, 10).await;
    let ids: Vec<i64> = products.iter().map(|(id, _)| *id).collect();
    let (status, body) = start(&app, json!({"product_ids": ids, "platform": "both"})).await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_string();
    let done = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let (status, _) = spot_check(&app, &batch).await;
    assert_eq!(status, 200);
    assert_eq!(rollout(&app).await["ready"], true);
    // Had the pilot been approved after this batch ran, the batch tested nothing of this
    // stage (an old batch on a database from before the rollout, say).
    app.count(
        "WITH moved AS (UPDATE rollout_approvals SET approved_at = now() WHERE stage = 'pilot' RETURNING 1)
         SELECT count(*) AS n FROM moved",
    )
    .await;
    let body = rollout(&app).await;
    assert_eq!(body["ready"], false, "{body}");
    let (status, _) = approve(&app.client, &app, "old batch").await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_dead_letter_retry_waits_while_a_batch_is_being_created() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let (app, _) = app_in(Stage::Batch50, 1).await;
    let state = app.state().await;
    // What `create_batch` holds while its gate looks at the jobs.
    let creating = state.db.begin().await.unwrap();
    creating
        .execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('syncstore.create_batch'))")
        .await
        .unwrap();
    let db = state.db.clone();
    let retry = tokio::spawn(async move {
        syncstore::db::queue::retry_dead(&db, "00000000-0000-0000-0000-000000000000").await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!retry.is_finished(), "the retry did not wait for the lock");
    creating.commit().await.unwrap();
    assert_eq!(retry.await.unwrap().unwrap(), None);
}

/// `syncstore report completion`, as the owner reads it.
async fn completion(app: &TestApp) -> String {
    let out = app.cli(&["report", "completion"]).await;
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

async fn validate(app: &TestApp, live: bool) -> Value {
    let res = app
        .client
        .post(app.url("/api/validation/run"))
        .json(&json!({ "live": live }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_50_product_batch_passes_validation_and_the_owner_signs_off_the_completion_report() {
    let (app, products) = app_in(Stage::Batch50, 50).await;
    let ids: Vec<i64> = products.iter().map(|(id, _)| *id).collect();
    let report = completion(&app).await;
    assert!(report.contains("Status: **NOT READY**"), "{report}");
    assert!(
        report.contains("| 50-product batch | not run yet |"),
        "{report}"
    );

    // The 50-product batch to both platforms: 100%, then 5 products read back.
    let (status, body) = start(&app, json!({"product_ids": ids, "platform": "both"})).await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_string();
    let done = wait_finished(&app, &batch, Duration::from_secs(240)).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["completed"], 100);
    let (_, text) = spot_check(&app, &batch).await;
    assert_eq!(text, "5");

    // A validation that finds a planted fault refuses the sign-off.
    app.count(
        "WITH planted AS (UPDATE platform_mappings SET final_price = final_price + 1
                          WHERE id = (SELECT min(id) FROM platform_mappings) RETURNING 1)
         SELECT count(*) AS n FROM planted",
    )
    .await;
    assert_eq!(validate(&app, false).await["passed"], false);
    let (status, body) = approve(&app.client, &app, "Phase 2 done").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["missing"].to_string().contains("validation"),
        "{body}"
    );
    assert!(completion(&app).await.contains("FAILED"));

    // Fixed and validated live: the report is ready and the owner signs it off.
    app.count(
        "WITH fixed AS (UPDATE platform_mappings SET final_price = final_price - 1
                        WHERE id = (SELECT min(id) FROM platform_mappings) RETURNING 1)
         SELECT count(*) AS n FROM fixed",
    )
    .await;
    let run = validate(&app, true).await;
    assert_eq!(run["passed"], true, "{run:#}");
    let report = completion(&app).await;
    assert!(
        report.contains("READY FOR THE OWNER'S SIGN-OFF"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "100.0% (100 of 100 jobs), spot checks passed — batch {batch}"
        )),
        "{report}"
    );
    assert!(
        report.contains("50 of 50 products are synced to both platforms; 0 remain."),
        "{report}"
    );
    let (status, body) = approve(&app.client, &app, "Phase 2 signed off").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stage"], "complete");
    let report = completion(&app).await;
    assert!(report.contains("Status: **SIGNED OFF**"), "{report}");
    assert!(report.contains("Phase 2 signed off"), "{report}");
}
