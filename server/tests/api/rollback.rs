//! Rollback (SPEC §7): the owner's dry run shows the plan; the rollback runs through the
//! queue, deletes the listings a batch created, puts the listings it updated back field by
//! field as the marketplaces showed them before, restores the mappings, and finds nothing
//! left to change when run again. Everything is checked on the sandbox through the
//! marketplace clients, against what they showed before the batch.

use std::time::Duration;

use serde_json::{json, Value};

use crate::batch::{start, start_ok, wait_finished};
use crate::rollout::operator;
use crate::support::{app_with_catalog, assert_error, TestApp};

async fn rollback(app: &TestApp, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/rollback"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// Waits for a rollback to finish; its `GET /api/rollback/{id}` body.
async fn rollback_finished(app: &TestApp, id: &str) -> Value {
    app.eventually(
        "the rollback to finish",
        Duration::from_secs(60),
        || async {
            let (status, body) = app.get_json(&format!("/api/rollback/{id}")).await;
            assert_eq!(status, 200, "{body}");
            let done = ["completed", "completed_with_errors", "cancelled"]
                .contains(&body["status"].as_str().unwrap_or_default());
            done.then_some(body)
        },
    )
    .await
}

fn mapped(product: &Value, platform: &str) -> Option<String> {
    product["mappings"][platform]["external_id"]
        .as_str()
        .map(str::to_string)
}

/// What a buyer sees of a Shopee item, read through the client: name, description,
/// images, and each model's SKU, price and stock (or the item's, without models).
async fn shopee_view(app: &TestApp, item_id: &str) -> Option<Value> {
    let client = app.sandbox.shopee_client();
    let id: u64 = item_id.parse().unwrap();
    let base = client
        .item_base_info(&[id])
        .await
        .unwrap()
        .into_iter()
        .find(|b| b["item_status"] != json!("DELETED"))?;
    let mut models: Vec<Value> = if base["has_model"] == json!(true) {
        let list = client.model_list(id).await.unwrap();
        list["model"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                json!([
                    m["model_sku"],
                    m["price_info"][0]["original_price"],
                    m["stock_info_v2"]["seller_stock"][0]["stock"]
                ])
            })
            .collect()
    } else {
        vec![json!([
            "",
            base["price_info"][0]["original_price"],
            base["stock_info_v2"]["seller_stock"][0]["stock"]
        ])]
    };
    models.sort_by_key(|m| m[0].to_string());
    Some(json!({
        "name": base["item_name"], "description": base["description"],
        "images": base["image"]["image_id_list"], "models": models,
    }))
}

/// What a buyer sees of a TikTok product: title, description, images, each SKU's price
/// and stock.
async fn tiktok_view(app: &TestApp, product_id: &str) -> Option<Value> {
    let product = app.sandbox.tiktok_client().product(product_id).await.ok()?;
    let mut skus: Vec<Value> = product["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!([s["seller_sku"], s["price"], s["inventory"][0]["quantity"]]))
        .collect();
    skus.sort_by_key(|s| s[0].to_string());
    Some(json!({
        "title": product["title"], "description": product["description"],
        "images": product["main_images"], "skus": skus,
    }))
}

/// Changes every field a listing shows: title, description, prices and stock.
fn edited(mut p: syncstore::catalog::NewProduct) -> syncstore::catalog::NewProduct {
    p.title = format!("{} Edisi Baru", p.title);
    p.description = format!("{}\nStok baru datang.", p.description);
    p.base_price = app::domain::Rupiah(p.base_price.0 + 12_500);
    p.stock += 7;
    for v in &mut p.variants {
        v.base_price = app::domain::Rupiah(v.base_price.0 + 12_500);
        v.stock += 3;
    }
    p
}

#[tokio::test]
async fn rolling_back_a_batch_deletes_what_it_created_and_restores_what_it_updated() {
    let (app, catalog) = app_with_catalog(4).await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let variants = catalog.iter().find(|p| !p.variants.is_empty()).unwrap();
    let (s_id, v_id) = (
        app.product_id(&simple.sku).await,
        app.product_id(&variants.sku).await,
    );
    // Two products are listed before the batch; the other two are new to the marketplaces.
    for id in [s_id, v_id] {
        let (status, body) = app.manual_sync(id, "both").await;
        assert_eq!(status, 200, "{body}");
    }
    let mut before = Vec::new();
    for id in [s_id, v_id] {
        let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
        let (shopee, tiktok) = (mapped(&p, "shopee").unwrap(), mapped(&p, "tiktok").unwrap());
        before.push((
            id,
            shopee.clone(),
            tiktok.clone(),
            shopee_view(&app, &shopee).await.unwrap(),
            tiktok_view(&app, &tiktok).await.unwrap(),
            p["mappings"].clone(),
        ));
    }
    app.import(&[edited(simple.clone()), edited(variants.clone())])
        .await;
    let mut ids = Vec::new();
    for p in &catalog {
        ids.push(app.product_id(&p.sku).await);
    }
    let batch = start_ok(&app, &ids, "both").await;
    let done = wait_finished(&app, &batch, Duration::from_secs(90)).await;
    assert_eq!(done["completed"], json!(8), "{done:#}");
    // The batch really changed the two listed products.
    for (_, shopee, tiktok, shopee_before, tiktok_before, _) in &before {
        assert_ne!(&shopee_view(&app, shopee).await.unwrap(), shopee_before);
        assert_ne!(&tiktok_view(&app, tiktok).await.unwrap(), tiktok_before);
    }
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], json!(4));

    // The dry run: a plan per product and platform, and nothing changes.
    let (status, dry) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "both", "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    let plan = dry["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 8, "{dry:#}");
    for row in plan {
        let id = row["product_id"].as_i64().unwrap();
        let expected = if id == s_id || id == v_id {
            "restore"
        } else {
            "delete"
        };
        assert_eq!(row["action"], json!(expected), "{row}");
        assert!(row["external_id"].is_string(), "{row}");
    }
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], json!(4));
    assert_eq!(app.sandbox.stats().await["tiktok"]["listings"], json!(4));

    // The rollback itself, through the queue.
    let (status, started) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "both", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["total_jobs"], json!(8), "{started}");
    let id = started["rollback_id"].as_str().unwrap().to_string();
    let finished = rollback_finished(&app, &id).await;
    assert_eq!(finished["status"], json!("completed"), "{finished:#}");
    assert_eq!(finished["completed"], json!(8), "{finished:#}");

    // Created listings are gone, with their mappings.
    let stats = app.sandbox.stats().await;
    assert_eq!(stats["shopee"]["listings"], json!(2), "{stats}");
    assert_eq!(stats["tiktok"]["listings"], json!(2), "{stats}");
    for id in ids.iter().filter(|id| **id != s_id && **id != v_id) {
        let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
        assert_eq!(
            p["mappings"],
            json!({"shopee": null, "tiktok": null}),
            "{p}"
        );
    }
    // Updated listings show exactly what they showed before the batch, and the mappings
    // are as they were.
    for (id, shopee, tiktok, shopee_before, tiktok_before, mappings) in &before {
        assert_eq!(&shopee_view(&app, shopee).await.unwrap(), shopee_before);
        assert_eq!(&tiktok_view(&app, tiktok).await.unwrap(), tiktok_before);
        let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
        assert_eq!(&p["mappings"], mappings, "product {id}");
    }
    let outcomes: Vec<&str> = finished["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "deleted").count(),
        4,
        "{finished:#}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "restored").count(),
        4,
        "{finished:#}"
    );
    // Each attempt is in the sync logs and the start is in the audit log.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM sync_logs WHERE batch_id = '{id}' AND status = 'success'"
        ))
        .await,
        8
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'rollback.start'")
            .await,
        1
    );

    // Again: the deletes are done, the restores find nothing to change.
    let (status, again) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "both", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["total_jobs"], json!(8), "{again:#}");
    let second = rollback_finished(&app, again["rollback_id"].as_str().unwrap()).await;
    assert_eq!(second["status"], json!("completed"), "{second:#}");
    for job in second["jobs"].as_array().unwrap() {
        let expected = if job["action"] == json!("delete") {
            "already_gone"
        } else {
            "unchanged"
        };
        assert_eq!(job["outcome"], json!(expected), "{second:#}");
    }
    let stats = app.sandbox.stats().await;
    assert_eq!(stats["shopee"]["listings"], json!(2), "{stats}");
    assert_eq!(stats["tiktok"]["listings"], json!(2), "{stats}");
    for (_, shopee, tiktok, shopee_before, tiktok_before, _) in &before {
        assert_eq!(&shopee_view(&app, shopee).await.unwrap(), shopee_before);
        assert_eq!(&tiktok_view(&app, tiktok).await.unwrap(), tiktok_before);
    }
    // The rollout's evidence and the batches it counts are untouched by rollbacks.
    let (_, batches) = app
        .get_json(&format!("/api/sync/batch/status?batch_id={id}"))
        .await;
    assert_eq!(batches["kind"], json!("rollback"), "{batches}");
    assert_eq!(batches["rollback_of"], json!(batch), "{batches}");
}

#[tokio::test]
async fn a_manual_sync_is_rolled_back_by_product_on_one_platform() {
    let (app, catalog) = app_with_catalog(2).await;
    let product = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&product.sku).await;
    assert_eq!(app.manual_sync(id, "both").await.0, 200);
    let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
    let (shopee, tiktok) = (mapped(&p, "shopee").unwrap(), mapped(&p, "tiktok").unwrap());
    let shopee_before = shopee_view(&app, &shopee).await.unwrap();
    app.import(&[edited(product.clone())]).await;
    assert_eq!(app.manual_sync(id, "both").await.0, 200);
    let tiktok_after_sync = tiktok_view(&app, &tiktok).await.unwrap();

    let (status, dry) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "shopee", "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        dry["plan"],
        json!([{"product_id": id, "platform": "shopee", "action": "restore", "external_id": shopee}])
    );
    let (status, started) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "shopee", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = rollback_finished(&app, started["rollback_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], json!("completed"), "{done:#}");
    assert_eq!(shopee_view(&app, &shopee).await.unwrap(), shopee_before);
    // TikTok was not part of it.
    assert_eq!(tiktok_view(&app, &tiktok).await.unwrap(), tiktok_after_sync);
    // The mapping says what Shopee shows again: the old price, so the next sync pushes
    // the catalog's price once more.
    let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
    let price_before = shopee_before["models"][0][1].as_f64().unwrap() as i64;
    assert_eq!(
        p["mappings"]["shopee"]["final_price"],
        json!(price_before),
        "{p}"
    );
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["results"][0]["action"],
        json!("updated"),
        "{body}"
    );
}

#[tokio::test]
async fn only_the_owner_rolls_back_and_refusals_change_nothing() {
    let (app, catalog) = app_with_catalog(3).await;
    let id = app.product_id(&catalog[0].sku).await;
    let other = app.product_id(&catalog[1].sku).await;
    assert_eq!(app.manual_sync(id, "both").await.0, 200);
    let batch = start_ok(&app, &[other], "shopee").await;
    wait_finished(&app, &batch, Duration::from_secs(60)).await;

    let operator = operator(&app).await;
    let res = operator
        .post(app.url("/api/rollback"))
        .json(&json!({"product_ids": [id], "platform": "both", "dry_run": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(&res.json().await.unwrap(), "FORBIDDEN");
    let res = operator
        .post(app.url("/api/fn/start_rollback"))
        .form(&[("ids", id.to_string()), ("platform", "both".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "the server function refuses operators too"
    );

    for (body, status, code) in [
        (
            json!({"platform": "both", "dry_run": true}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"product_ids": [], "platform": "both", "dry_run": true}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"product_ids": [id], "platform": "lazada", "dry_run": true}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"product_ids": [id], "platform": "both"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"product_ids": [id], "platform": "both", "dry_run": false, "extra": 1}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"batch_id": "00000000-0000-0000-0000-000000000000", "platform": "both", "dry_run": true}),
            404,
            "NOT_FOUND",
        ),
        (
            json!({"batch_id": "'; DROP TABLE sync_jobs; --", "platform": "both", "dry_run": true}),
            404,
            "NOT_FOUND",
        ),
        (
            json!({"product_ids": [id, 987_654_321], "platform": "both", "dry_run": false}),
            422,
            "INVALID_PRODUCT",
        ),
        // Never synced: nothing to undo.
        (
            json!({"product_ids": [app.product_id(&catalog[2].sku).await], "platform": "both", "dry_run": false}),
            409,
            "NOTHING_TO_ROLL_BACK",
        ),
    ] {
        let (got, answer) = rollback(&app, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_error(&answer, code);
    }
    // A rollback of a rollback's id is not a thing; nor is a sync batch's id a rollback.
    let (status, _) = app.get_json(&format!("/api/rollback/{batch}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/rollback/not-an-id").await;
    assert_eq!(status, 404);

    // While a batch runs, a rollback waits for it.
    app.sandbox.latency(1_500).await;
    let (status, running) =
        start(&app, json!({"product_ids": [other], "platform": "tiktok"})).await;
    assert_eq!(status, 202, "{running}");
    let (status, body) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "both", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "SYNC_IN_PROGRESS");
    app.sandbox.latency(0).await;
    wait_finished(
        &app,
        running["batch_id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;

    assert_eq!(
        app.count("SELECT count(*) AS n FROM sync_batches WHERE kind = 'rollback'")
            .await,
        0,
        "no refused request recorded a rollback"
    );
    // Both listings of the synced product are still there.
    let stats = app.sandbox.stats().await;
    assert_eq!(stats["shopee"]["listings"], json!(2), "{stats}");
}

#[tokio::test]
async fn a_listing_the_marketplace_will_not_delete_is_deactivated_instead() {
    let (app, catalog) = app_with_catalog(1).await;
    let id = app.product_id(&catalog[0].sku).await;
    assert_eq!(app.manual_sync(id, "tiktok").await.0, 200);
    let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
    let listing = mapped(&p, "tiktok").unwrap();
    // TikTok freezes the product: in Indonesia a frozen product cannot be deleted.
    let res = reqwest::Client::new()
        .post(format!("{}/_sandbox/tiktok/freeze", app.sandbox.base))
        .json(&json!({"product_id": listing}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let (status, started) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "tiktok", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["plan"][0]["action"], json!("delete"), "{started}");
    let done = rollback_finished(&app, started["rollback_id"].as_str().unwrap()).await;
    assert_eq!(done["jobs"][0]["outcome"], json!("deactivated"), "{done:#}");
    let product = app.sandbox.tiktok_client().product(&listing).await.unwrap();
    assert_eq!(product["status"], json!("SELLER_DEACTIVATED"), "{product}");
    // The mapping still names the listing, and says what happened.
    let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
    assert_eq!(mapped(&p, "tiktok"), Some(listing), "{p}");
    let error = p["mappings"]["tiktok"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("taken off sale"), "{p}");
}

#[tokio::test]
async fn a_rollback_never_deletes_a_listing_the_undone_batch_did_not_create() {
    let (app, catalog) = app_with_catalog(2).await;
    let (p, q) = (
        app.product_id(&catalog[0].sku).await,
        app.product_id(&catalog[1].sku).await,
    );
    // P's creates fail every time, after their backups: P's job ends in the dead letters.
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "server_error", "path": "add_item"}))
        .await;
    let batch = start_ok(&app, &[p], "shopee").await;
    let done = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(done["failed"], json!(1), "{done:#}");
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "none"}))
        .await;
    // Later, a manual sync lists P and a second one lists Q.
    assert_eq!(app.manual_sync(p, "shopee").await.0, 200);
    let (_, listed) = app.get_json(&format!("/api/products/{p}")).await;
    let listing = mapped(&listed, "shopee").unwrap();

    let (status, dry) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "shopee", "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["plan"][0]["action"], json!("none"), "{dry}");
    let (status, body) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "shopee", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "NOTHING_TO_ROLL_BACK");
    assert!(
        shopee_view(&app, &listing).await.is_some(),
        "P's listing is still there"
    );

    // Undoing Q's manual sync deletes Q's listing, and only that.
    assert_eq!(app.manual_sync(q, "shopee").await.0, 200);
    let (status, started) = rollback(
        &app,
        json!({"product_ids": [q], "platform": "shopee", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    rollback_finished(&app, started["rollback_id"].as_str().unwrap()).await;
    assert!(
        shopee_view(&app, &listing).await.is_some(),
        "P's listing is still there"
    );
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], json!(1));
}

#[tokio::test]
async fn a_rollback_whose_plan_changed_since_the_dry_run_is_refused() {
    let (app, catalog) = app_with_catalog(1).await;
    let id = app.product_id(&catalog[0].sku).await;
    assert_eq!(app.manual_sync(id, "tiktok").await.0, 200);
    let (_, dry) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "tiktok", "dry_run": true}),
    )
    .await;
    assert_eq!(dry["plan"][0]["action"], json!("delete"), "{dry}");
    let hash = dry["plan_hash"].as_str().unwrap().to_string();
    // An operator syncs a change meanwhile: the most recent sync is now an update.
    app.import(&[edited(catalog[0].clone())]).await;
    assert_eq!(app.manual_sync(id, "tiktok").await.0, 200);
    let (status, body) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "tiktok", "dry_run": false, "plan_hash": hash}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "PLAN_CHANGED");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sync_batches WHERE kind = 'rollback'")
            .await,
        0
    );
    // With the new plan's hash it goes.
    let (_, dry) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "tiktok", "dry_run": true}),
    )
    .await;
    assert_eq!(dry["plan"][0]["action"], json!("restore"), "{dry}");
    let (status, body) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "tiktok", "dry_run": false, "plan_hash": dry["plan_hash"]}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn operators_cannot_cancel_a_rollback_nor_is_a_rolled_back_batch_retried() {
    let (app, catalog) = app_with_catalog(2).await;
    // P has only two images, so its job fails for good before it sends anything.
    let mut short = catalog[0].clone();
    short.images.truncate(2);
    app.import(&[short]).await;
    let (p, q) = (
        app.product_id(&catalog[0].sku).await,
        app.product_id(&catalog[1].sku).await,
    );
    let batch = start_ok(&app, &[p, q], "tiktok").await;
    let done = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(
        (done["completed"].clone(), done["failed"].clone()),
        (json!(1), json!(1)),
        "{done:#}"
    );
    let dead_job = done["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["state"] == json!("failed"))
        .unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();

    // A slow rollback of the batch, which an operator cannot cancel by any path.
    app.sandbox.latency(1_000).await;
    let (status, started) = rollback(
        &app,
        json!({"batch_id": batch, "platform": "tiktok", "dry_run": false}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["total_jobs"], json!(1), "{started}");
    let rollback_id = started["rollback_id"].as_str().unwrap().to_string();
    let operator = operator(&app).await;
    let res = operator
        .post(app.url(&format!("/api/sync/batch/{rollback_id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = operator
        .post(app.url("/api/fn/cancel_batch"))
        .form(&[("id", rollback_id.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    app.sandbox.latency(0).await;
    let finished = rollback_finished(&app, &rollback_id).await;
    assert_eq!(finished["status"], json!("completed"), "{finished:#}");
    assert_eq!(app.sandbox.stats().await["tiktok"]["listings"], json!(0));

    // The rolled-back batch's dead letter is not retried: that would list P again.
    let res = app
        .client
        .post(app.url("/api/fn/retry_dead_letter"))
        .form(&[("job_id", dead_job.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM sync_jobs WHERE id = '{dead_job}' AND state = 'failed'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_sync_refused_while_another_ran_does_not_change_what_a_product_rollback_undoes() {
    let (app, catalog) = app_with_catalog(1).await;
    let id = app.product_id(&catalog[0].sku).await;
    assert_eq!(app.manual_sync(id, "shopee").await.0, 200);
    let (_, p) = app.get_json(&format!("/api/products/{id}")).await;
    let listing = mapped(&p, "shopee").unwrap();
    app.import(&[edited(catalog[0].clone())]).await;
    // A slow update; a second click meanwhile is refused (and logged as such).
    app.sandbox.latency(800).await;
    let first = {
        let (client, url) = (app.client.clone(), app.url("/api/sync/manual"));
        tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&json!({"product_id": id, "target_platform": "shopee"}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        })
    };
    app.eventually("the update's backup", Duration::from_secs(30), || async {
        let n = app
            .count(&format!(
                "SELECT count(*) AS n FROM sync_snapshots WHERE product_id = {id}"
            ))
            .await;
        (n == 2).then_some(())
    })
    .await;
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(first.await.unwrap(), 200);
    app.sandbox.latency(0).await;

    let (status, dry) = rollback(
        &app,
        json!({"product_ids": [id], "platform": "shopee", "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        dry["plan"],
        json!([{"product_id": id, "platform": "shopee", "action": "restore", "external_id": listing}]),
        "the update is undone, not the create"
    );
}
