//! Every sync is exclusive and complete: one listing per product whatever runs at once,
//! and every field the seller changed reaches both shops.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use syncstore::catalog::NewProduct;

use crate::support::{
    app_with_catalog, assert_error, spawn_app, spawn_app_with, spawn_app_with_options, AppOptions,
    TestApp,
};

const LONG: Duration = Duration::from_secs(90);

async fn start_batch(app: &TestApp, ids: &[i64], platform: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": ids, "platform": platform}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn finished_batch(app: &TestApp, batch_id: &str) -> Value {
    app.eventually("the batch to finish", LONG, || async {
        let (_, status) = app
            .get_json(&format!("/api/sync/batch/status?batch_id={batch_id}"))
            .await;
        status["finished_at"].is_string().then_some(status)
    })
    .await
}

async fn claimed(app: &TestApp, product_id: i64) {
    app.eventually("a sync to claim the product", LONG, || async {
        let n = app
            .count(&format!(
                "SELECT count(*) AS n FROM sync_claims WHERE product_id = {product_id} AND expires_at > now()"
            ))
            .await;
        (n > 0).then_some(())
    })
    .await
}

fn simple(catalog: &[NewProduct]) -> &NewProduct {
    catalog.iter().find(|p| p.variants.is_empty()).unwrap()
}

#[tokio::test]
async fn two_simultaneous_manual_syncs_list_a_never_synced_product_once() {
    let (app, catalog) = app_with_catalog(3).await;
    let id = app.product_id(&simple(&catalog).sku).await;
    // Slow enough that both would search by SKU before either created.
    app.sandbox.latency(500).await;
    let (a, b) = tokio::join!(app.manual_sync(id, "shopee"), app.manual_sync(id, "shopee"));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_error(refused, "SYNC_IN_PROGRESS");
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], 1);
}

#[tokio::test]
async fn a_batch_and_a_manual_sync_of_one_product_list_it_once() {
    let (app, catalog) = app_with_catalog(3).await;
    let id = app.product_id(&simple(&catalog).sku).await;
    app.sandbox.latency(300).await;
    let (status, batch) = start_batch(&app, &[id], "shopee").await;
    assert_eq!(status, 202, "{batch}");
    claimed(&app, id).await;
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "SYNC_IN_PROGRESS");
    let done = finished_batch(&app, batch["batch_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], 1);
}

#[tokio::test]
async fn a_batch_started_during_a_manual_sync_waits_for_it_and_lists_once() {
    let (app, catalog) = app_with_catalog(3).await;
    let id = app.product_id(&simple(&catalog).sku).await;
    app.sandbox.latency(300).await;
    let manual = {
        let client = app.client.clone();
        let url = app.url("/api/sync/manual");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"product_id": id, "target_platform": "shopee"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    claimed(&app, id).await;
    let (status, batch) = start_batch(&app, &[id], "shopee").await;
    assert_eq!(status, 202, "{batch}");
    assert_eq!(manual.await.unwrap(), 200);
    let done = finished_batch(&app, batch["batch_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    // Waiting for the manual sync cost the job no attempt.
    assert_eq!(done["jobs"][0]["attempts"], 1, "{done}");
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], 1);
}

#[tokio::test]
async fn a_second_batch_is_refused_while_one_is_unfinished() {
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        ..AppOptions::default()
    })
    .await;
    let catalog = syncstore::catalog::demo::demo_catalog(4, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for p in &catalog {
            ids.push(app.product_id(&p.sku).await);
        }
        ids
    };
    let (status, first) = start_batch(&app, &ids[..2], "shopee").await;
    assert_eq!(status, 202);
    let first = first["batch_id"].as_str().unwrap().to_string();
    // Neither the same products nor others: one batch runs at a time (SPEC §7).
    for (products, platform) in [(&ids[1..3], "both"), (&ids[2..], "tiktok")] {
        let (status, body) = start_batch(&app, products, platform).await;
        assert_eq!(status, 409, "{body}");
        assert_error(&body, "ROLLOUT_GATE");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&first), "{message}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_batches").await, 1);
    let cancelled = app
        .client
        .post(app.url(&format!("/api/sync/batch/{first}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);
    let (status, body) = start_batch(&app, &ids[1..3], "both").await;
    assert_eq!(status, 202, "{body}");
}

/// An image on the Shopee sandbox for listings made behind SyncStore's back.
pub(crate) async fn listing_image(
    client: &syncstore::marketplace::shopee::ShopeeClient,
    sku: &str,
) -> String {
    client
        .upload_image(syncstore::catalog::images::demo_png(sku, 1), "1.png")
        .await
        .unwrap()
}

/// A valid Shopee item with this name and SKU, as another tool or the seller made it.
pub(crate) fn shopee_item(name: &str, sku: &str, image: &str) -> Value {
    json!({
        "item_name": name, "description": "Another product of the same shop, not ours.",
        "original_price": 10000, "weight": 0.2, "item_sku": sku, "category_id": 100011,
        "image": {"image_id_list": [image]}, "logistic_info": [{"logistic_id": 80014, "enabled": true}],
        "attribute_list": [{"attribute_id": 100900, "attribute_value_list": [{"value_id": 1}]}],
    })
}

#[tokio::test]
async fn a_listing_whose_sku_merely_starts_with_ours_is_not_adopted() {
    let (app, catalog) = app_with_catalog(3).await;
    let product = simple(&catalog);
    let id = app.product_id(&product.sku).await;
    let client = app.sandbox.shopee_client();
    let image = listing_image(&client, &product.sku).await;
    let neighbour = client
        .add_item(&shopee_item(
            "Another product whose SKU starts like ours",
            &format!("{}-OLD", product.sku),
            &image,
        ))
        .await
        .unwrap();
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["results"][0]["action"], "created", "{body}");
    assert_ne!(
        body["data"]["results"][0]["external_id"],
        json!(neighbour.to_string())
    );
    let left = client.item_base_info(&[neighbour]).await.unwrap();
    assert_eq!(
        left[0]["item_name"],
        "Another product whose SKU starts like ours"
    );
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], 2);
}

async fn sha256_of(url: &str) -> String {
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    hex::encode(Sha256::digest(&bytes))
}

/// What a buyer sees on Shopee, independent of ids: fields, images by content, and per
/// model SKU its options, price and stock.
async fn shopee_view(app: &TestApp, item_id: &str) -> Value {
    let client = app.sandbox.shopee_client();
    let item_id: u64 = item_id.parse().unwrap();
    let base = client.item_base_info(&[item_id]).await.unwrap().remove(0);
    let mut images = Vec::new();
    for url in base["image"]["image_url_list"].as_array().unwrap() {
        images.push(sha256_of(url.as_str().unwrap()).await);
    }
    let models = client.model_list(item_id).await.unwrap();
    let tiers: Vec<Vec<String>> = models["tier_variation"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            t["option_list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["option"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let by_sku: BTreeMap<String, Value> = models["model"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let options: Vec<&String> = m["tier_index"]
                .as_array()
                .unwrap()
                .iter()
                .zip(&tiers)
                .map(|(i, t)| &t[i.as_u64().unwrap() as usize])
                .collect();
            (
                m["model_sku"].as_str().unwrap().to_string(),
                json!({"options": options, "price": m["price_info"][0]["original_price"],
                       "stock": m["stock_info_v2"]["seller_stock"][0]["stock"]}),
            )
        })
        .collect();
    json!({
        "name": base["item_name"], "description": base["description"], "category": base["category_id"],
        "weight": base["weight"], "dimension": base["dimension"], "images": images,
        "price": base["price_info"][0]["original_price"], "stock": base["stock_info_v2"]["seller_stock"][0]["stock"],
        "tiers": tiers, "models": by_sku,
    })
}

async fn tiktok_view(app: &TestApp, product_id: &str) -> Value {
    let listed = app
        .sandbox
        .tiktok_client()
        .product(product_id)
        .await
        .unwrap();
    let mut images = Vec::new();
    for image in listed["main_images"].as_array().unwrap() {
        images.push(sha256_of(image["urls"][0].as_str().unwrap()).await);
    }
    let skus: BTreeMap<String, Value> = listed["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seller_sku"].as_str().unwrap().to_string(),
                json!({"attributes": s["sales_attributes"].as_array().unwrap().iter()
                        .map(|a| json!([a["name"], a["value_name"]])).collect::<Vec<_>>(),
                       "price": s["price"], "inventory": s["inventory"][0]["quantity"]}),
            )
        })
        .collect();
    json!({
        "title": listed["title"], "description": listed["description"], "category": listed["category_chains"],
        "weight": listed["package_weight"], "dimensions": listed["package_dimensions"], "images": images,
        "skus": skus,
    })
}

async fn views(app: &TestApp, id: i64) -> (Value, Value) {
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    let shopee = product["mappings"]["shopee"]["external_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tiktok = product["mappings"]["tiktok"]["external_id"]
        .as_str()
        .unwrap()
        .to_string();
    (
        shopee_view(app, &shopee).await,
        tiktok_view(app, &tiktok).await,
    )
}

async fn sync_both(app: &TestApp, id: i64) -> Value {
    let (status, body) = app.manual_sync(id, "both").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn verify_passes(app: &TestApp, id: i64) {
    let out = app.cli(&["verify", &id.to_string()]).await;
    assert!(
        out.status.success(),
        "verify failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn every_changed_field_reaches_both_platforms_as_a_fresh_create_would() {
    let (app, catalog) = app_with_catalog(12).await;
    let mut product = catalog
        .iter()
        .find(|p| p.variants.len() >= 2 && p.tier_names.len() == 1)
        .or_else(|| catalog.iter().find(|p| p.variants.len() >= 2))
        .unwrap()
        .clone();
    let id = app.product_id(&product.sku).await;
    sync_both(&app, id).await;

    // The seller changes stock, a price, an image and the weight, and adds a variant.
    product.variants[0].stock += 5;
    product.variants[1].base_price = app::domain::Rupiah(product.variants[1].base_price.0 + 1_000);
    let other = catalog.iter().find(|p| p.sku != product.sku).unwrap();
    product.images[0] = other.images[0].clone();
    product.weight_g += 150;
    let mut added = product.variants.last().unwrap().clone();
    added.sku = format!("{}-NEW", product.sku);
    added.options[0] = "Edisi Baru".into();
    added.stock = 11;
    product.variants.push(added);
    app.import(std::slice::from_ref(&product)).await;

    let body = sync_both(&app, id).await;
    for result in body["data"]["results"].as_array().unwrap() {
        assert_eq!(result["action"], "updated", "{body}");
    }
    verify_passes(&app, id).await;
    let updated = views(&app, id).await;

    // The same catalog, created from scratch in other shops.
    let fresh = spawn_app().await;
    fresh.import(std::slice::from_ref(&product)).await;
    fresh.login().await;
    let fresh_id = fresh.product_id(&product.sku).await;
    let body = sync_both(&fresh, fresh_id).await;
    assert_eq!(body["data"]["results"][0]["action"], "created");
    assert_eq!(updated, views(&fresh, fresh_id).await);

    // A variant removed from the catalog is removed from both shops.
    let removed = product.variants.remove(0);
    app.import(std::slice::from_ref(&product)).await;
    sync_both(&app, id).await;
    verify_passes(&app, id).await;
    let (shopee, tiktok) = views(&app, id).await;
    assert!(shopee["models"].get(&removed.sku).is_none(), "{shopee}");
    assert!(tiktok["skus"].get(&removed.sku).is_none(), "{tiktok}");
    assert_eq!(
        shopee["models"].as_object().unwrap().len(),
        product.variants.len()
    );
    assert_eq!(
        tiktok["skus"].as_object().unwrap().len(),
        product.variants.len()
    );
}

#[tokio::test]
async fn a_stock_change_of_a_simple_product_reaches_both_platforms() {
    let (app, catalog) = app_with_catalog(3).await;
    let mut product = simple(&catalog).clone();
    let id = app.product_id(&product.sku).await;
    sync_both(&app, id).await;
    product.stock += 9;
    app.import(std::slice::from_ref(&product)).await;
    sync_both(&app, id).await;
    verify_passes(&app, id).await;
    let (shopee, tiktok) = views(&app, id).await;
    assert_eq!(shopee["stock"], json!(product.stock));
    assert_eq!(
        tiktok["skus"][&product.sku]["inventory"],
        json!(product.stock)
    );
}

#[tokio::test]
async fn twenty_concurrent_recordings_of_one_pair_all_succeed() {
    let (app, catalog) = app_with_catalog(12).await;
    let product = catalog.iter().find(|p| p.variants.len() >= 2).unwrap();
    let id = app.product_id(&product.sku).await;
    let variants: Vec<(String, String, i64)> = product
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.sku.clone(), format!("model-{i}"), 10_000 + i as i64))
        .collect();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let db = app.db.clone();
        let variants = variants.clone();
        tasks.push(tokio::spawn(async move {
            let hash = format!("hash-{n}");
            syncstore::db::sync::record_synced(
                &db,
                id,
                app::api::Platform::Shopee,
                &syncstore::db::sync::SyncedListing {
                    external_id: "424242",
                    final_price: 10_000,
                    seo_title: "Judul",
                    category_id: "100011",
                    content_hash: &hash,
                    tokopedia_status: None,
                    listing_platforms: &[],
                    variants: &variants,
                },
            )
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("recording never conflicts");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM variant_mappings")
            .await,
        variants.len() as i64
    );
}

#[tokio::test]
async fn a_job_running_when_its_batch_is_cancelled_is_not_tried_again() {
    // Retries wait 1–2 s, so an attempt that ends before the cancel is not followed at once.
    let app = spawn_app_with(|s| s.queue.retry_base = Duration::from_secs(2)).await;
    let catalog = syncstore::catalog::demo::demo_catalog(3, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let id = app.product_id(&simple(&catalog).sku).await;
    // Every Shopee call fails, a second late: an attempt is in flight when we cancel.
    app.sandbox
        .fault_with_latency("shopee", "server_error", 1_000)
        .await;
    let (status, batch) = start_batch(&app, &[id], "shopee").await;
    assert_eq!(status, 202);
    let batch_id = batch["batch_id"].as_str().unwrap().to_string();
    claimed(&app, id).await;
    // Attempts log when they end: those ended before the cancel, plus the one in flight.
    let ended_before = app.count("SELECT count(*) AS n FROM sync_logs").await;
    let res = app
        .client
        .post(app.url(&format!("/api/sync/batch/{batch_id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let done = finished_batch(&app, &batch_id).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["jobs"][0]["state"], "discarded", "{done}");
    let ended = app.count("SELECT count(*) AS n FROM sync_logs").await;
    assert!(
        ended <= ended_before + 1,
        "{ended} attempts: at most the one in flight may end after the cancel ({ended_before} before)"
    );
}

#[tokio::test]
async fn our_unrecorded_listing_is_found_behind_a_hundred_near_matches() {
    let (app, catalog) = app_with_catalog(3).await;
    let product = simple(&catalog);
    let id = app.product_id(&product.sku).await;
    let client = app.sandbox.shopee_client();
    let image = listing_image(&client, &product.sku).await;
    let item =
        |sku: String| shopee_item("A listing that shares the start of our SKU", &sku, &image);
    for n in 0..105 {
        client
            .add_item(&item(format!("{}-{n:03}", product.sku)))
            .await
            .unwrap();
        if n % 40 == 39 {
            // The sandbox counts calls per calendar second.
            tokio::time::sleep(Duration::from_millis(1_100)).await;
        }
    }
    // Created just before a crash, never recorded: the last of 106 matches.
    let ours = client.add_item(&item(product.sku.clone())).await.unwrap();
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["results"][0]["action"], "updated", "{body}");
    assert_eq!(
        body["data"]["results"][0]["external_id"],
        json!(ours.to_string())
    );
    assert_eq!(app.sandbox.stats().await["shopee"]["listings"], 106);
}
