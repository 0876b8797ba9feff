//! Backup first (SPEC §7): every sync — manual or queued — stores the mapping and the
//! listing as the marketplace showed it before it writes; when the listing cannot be read,
//! nothing is sent.

use std::time::Duration;

use serde_json::{json, Value};

use crate::batch::{start, wait_finished};
use crate::support::{app_with_catalog, assert_error, TestApp};

/// The snapshots of a product, oldest first.
async fn snapshots(app: &TestApp, product_id: i64) -> Vec<Value> {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT jsonb_build_object('platform', platform, 'job_id', job_id, 'batch_id', batch_id,
                    'external_id', external_id, 'mapping', mapping, 'listing', listing) AS s
             FROM sync_snapshots WHERE product_id = $1 ORDER BY id",
            [product_id.into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<Value>("", "s").unwrap())
        .collect()
}

async fn mapped_id(app: &TestApp, product_id: i64, platform: &str) -> String {
    let (_, body) = app.get_json(&format!("/api/products/{product_id}")).await;
    body["mappings"][platform]["external_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {platform} listing: {body}"))
        .to_string()
}

/// A simple product of the catalog, synced to both platforms; its catalog entry.
async fn synced_simple(
    app: &TestApp,
    catalog: &[syncstore::catalog::NewProduct],
) -> (i64, syncstore::catalog::NewProduct) {
    let product = catalog
        .iter()
        .find(|p| p.variants.is_empty())
        .unwrap()
        .clone();
    let id = app.product_id(&product.sku).await;
    let (status, body) = app.manual_sync(id, "both").await;
    assert_eq!(status, 200, "{body}");
    (id, product)
}

#[tokio::test]
async fn every_sync_stores_the_mapping_and_the_listing_as_they_were_before_it_writes() {
    let (app, catalog) = app_with_catalog(3).await;
    let (id, mut product) = synced_simple(&app, &catalog).await;
    // The first sync created both listings: nothing was listed, nothing mapped.
    let first = snapshots(&app, id).await;
    assert_eq!(first.len(), 2, "{first:#?}");
    for s in &first {
        assert_eq!(s["listing"], Value::Null, "{s}");
        assert_eq!(s["mapping"], Value::Null, "{s}");
        assert_eq!(s["external_id"], Value::Null, "{s}");
        assert_eq!(s["job_id"], Value::Null, "a manual sync has no job");
    }

    // What the marketplaces show now, read by their own clients.
    let item_id = mapped_id(&app, id, "shopee").await;
    let tiktok_id = mapped_id(&app, id, "tiktok").await;
    let shopee = app.sandbox.shopee_client();
    let tiktok = app.sandbox.tiktok_client();
    let item_before = shopee
        .item_base_info(&[item_id.parse().unwrap()])
        .await
        .unwrap();
    let tiktok_before = tiktok.product(&tiktok_id).await.unwrap();

    // The seller raises the price; the next sync backs up the listings first.
    product.base_price = app::domain::Rupiah(product.base_price.0 + 10_000);
    app.import(std::slice::from_ref(&product)).await;
    let (status, body) = app.manual_sync(id, "both").await;
    assert_eq!(status, 200, "{body}");
    let all = snapshots(&app, id).await;
    assert_eq!(all.len(), 4);
    let newest = |platform: &str| {
        all.iter()
            .rev()
            .find(|s| s["platform"] == platform)
            .unwrap()
            .clone()
    };
    let s = newest("shopee");
    assert_eq!(s["external_id"], item_id);
    assert_eq!(
        s["listing"]["item"], item_before[0],
        "the Shopee item as it was"
    );
    assert_eq!(s["mapping"]["mapping"]["external_id"], item_id);
    // Shopee shows prices as decimals; the mapping holds whole rupiah.
    assert_eq!(
        s["mapping"]["mapping"]["final_price"].as_f64(),
        item_before[0]["price_info"][0]["original_price"].as_f64(),
        "the mapping held the price the listing showed"
    );
    let s = newest("tiktok");
    assert_eq!(s["external_id"], tiktok_id);
    assert_eq!(s["listing"], tiktok_before, "the TikTok product as it was");
    assert_eq!(s["mapping"]["mapping"]["status"], "synced");

    // A queued sync records its job and batch with the snapshot.
    product.base_price = app::domain::Rupiah(product.base_price.0 + 10_000);
    app.import(std::slice::from_ref(&product)).await;
    let (status, body) = start(&app, json!({"product_ids": [id], "platform": "shopee"})).await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_string();
    let done = wait_finished(&app, &batch, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let all = snapshots(&app, id).await;
    let queued = all.last().unwrap();
    assert_eq!(queued["batch_id"], batch);
    assert_eq!(queued["job_id"], done["jobs"][0]["job_id"]);
    assert_eq!(queued["external_id"], item_id);
}

#[tokio::test]
async fn a_sync_that_cannot_back_up_the_listing_sends_nothing() {
    let (app, catalog) = app_with_catalog(3).await;
    let (id, mut product) = synced_simple(&app, &catalog).await;
    let item_id: u64 = mapped_id(&app, id, "shopee").await.parse().unwrap();
    let shopee = app.sandbox.shopee_client();
    let price = |item: &Value| item["price_info"][0]["original_price"].clone();
    let before = price(&shopee.item_base_info(&[item_id]).await.unwrap()[0]);
    let taken = snapshots(&app, id).await.len();

    // Only the read the backup needs fails; every other call would go through.
    product.base_price = app::domain::Rupiah(product.base_price.0 + 10_000);
    app.import(std::slice::from_ref(&product)).await;
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "server_error", "path": "get_model_list"}))
        .await;
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 502, "{body}");
    assert_error(&body, "NETWORK_ERROR");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("backing up the listing"), "{message}");
    assert!(message.contains("nothing was sent"), "{message}");
    assert_eq!(snapshots(&app, id).await.len(), taken, "no snapshot stored");

    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "none"}))
        .await;
    let after = price(&shopee.item_base_info(&[item_id]).await.unwrap()[0]);
    assert_eq!(after, before, "the listing was not touched");
    // Once the backup can be taken, the sync goes through.
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    let now = price(&shopee.item_base_info(&[item_id]).await.unwrap()[0]);
    assert_ne!(now, before);
    assert_eq!(snapshots(&app, id).await.len(), taken + 1);
}

#[tokio::test]
async fn a_listing_adopted_by_sku_is_backed_up_as_it_was() {
    use crate::exclusive_sync::{listing_image, shopee_item};
    let (app, catalog) = app_with_catalog(3).await;
    let mut product = catalog
        .iter()
        .find(|p| p.variants.is_empty())
        .unwrap()
        .clone();
    let id = app.product_id(&product.sku).await;
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    let old: u64 = mapped_id(&app, id, "shopee").await.parse().unwrap();
    // The seller deletes the listing on Shopee and lists the product again by hand.
    let client = app.sandbox.shopee_client();
    client.delete_item(old).await.unwrap();
    let image = listing_image(&client, &product.sku).await;
    let by_hand = client
        .add_item(&shopee_item("Listed again by hand", &product.sku, &image))
        .await
        .unwrap();
    let as_listed = client.item_base_info(&[by_hand]).await.unwrap();

    // The next change to the product finds the listing by its SKU and adopts it.
    product.base_price = app::domain::Rupiah(product.base_price.0 + 10_000);
    app.import(std::slice::from_ref(&product)).await;
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        mapped_id(&app, id, "shopee").await,
        by_hand.to_string(),
        "adopted"
    );
    let newest = snapshots(&app, id).await.pop().unwrap();
    assert_eq!(newest["external_id"], by_hand.to_string(), "{newest}");
    assert_eq!(
        newest["listing"]["item"], as_listed[0],
        "the hand-made listing as it was"
    );
    assert_eq!(newest["mapping"]["mapping"]["external_id"], old.to_string());
}

/// Runs `scripts/rollback/restore_mappings.sql` with psql against the app's database.
fn restore_with_psql(app: &TestApp, batch_id: &str, product_ids: &str, platform: &str) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/rollback/restore_mappings.sql"
    );
    let out = std::process::Command::new("psql")
        .arg(&app.settings.database_url)
        .args(["-q", "-v", &format!("batch_id={batch_id}")])
        .args(["-v", &format!("product_ids={product_ids}")])
        .args(["-v", &format!("platform={platform}"), "-f", script])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The mapping columns a rollback restores, per platform.
async fn mappings(app: &TestApp, product_id: i64) -> Value {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT COALESCE(jsonb_object_agg(platform, jsonb_build_object(
                        'external_id', external_id, 'final_price', final_price, 'status', status,
                        'content_hash', content_hash, 'seo_title', seo_title)), '{}'::jsonb) AS m
             FROM platform_mappings WHERE product_id = $1",
            [product_id.into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<Value>("", "m")
        .unwrap()
}

#[tokio::test]
async fn the_sql_script_restores_the_mappings_of_a_batch_or_of_chosen_products() {
    let (app, catalog) = app_with_catalog(4).await;
    let mut simple = catalog.iter().filter(|p| p.variants.is_empty());
    let (updated, mut product) = {
        let p = simple.next().unwrap().clone();
        (app.product_id(&p.sku).await, p)
    };
    let created = app.product_id(&simple.next().unwrap().sku).await;
    let (status, body) = app.manual_sync(updated, "both").await;
    assert_eq!(status, 200, "{body}");
    let before = mappings(&app, updated).await;
    // A first try at listing `created` on Shopee fails: it has a mapping in error, no listing.
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "server_error", "path": "add_item"}))
        .await;
    let (status, _) = app.manual_sync(created, "shopee").await;
    assert_eq!(status, 502);
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "none"}))
        .await;
    assert_eq!(mappings(&app, created).await["shopee"]["status"], "error");

    // A batch updates one product (a new price) and lists another for the first time.
    product.base_price = app::domain::Rupiah(product.base_price.0 + 10_000);
    app.import(std::slice::from_ref(&product)).await;
    let (status, body) = start(
        &app,
        json!({"product_ids": [updated, created], "platform": "both"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_string();
    let done = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let after = mappings(&app, updated).await;
    assert_ne!(after, before);
    assert_eq!(mappings(&app, created).await.as_object().unwrap().len(), 2);

    let out = restore_with_psql(&app, &batch, "", "both");
    assert!(
        out.contains("mapping restored") && out.contains("mapping removed"),
        "{out}"
    );
    assert_eq!(mappings(&app, updated).await, before, "as before the batch");
    assert_eq!(
        mappings(&app, created).await,
        json!({}),
        "made by the batch: gone"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'rollback.sql'")
            .await,
        1
    );

    // Chosen products, one platform: only that mapping goes back, the other stays.
    let (status, body) = app.manual_sync(updated, "both").await;
    assert_eq!(status, 200, "{body}");
    let synced = mappings(&app, updated).await;
    restore_with_psql(&app, "", &format!("{{{updated}}}"), "tiktok");
    let now = mappings(&app, updated).await;
    assert_eq!(now["tiktok"], before["tiktok"]);
    assert_eq!(now["shopee"], synced["shopee"]);

    // Nothing chosen, nothing done.
    let out = std::process::Command::new("psql")
        .arg(&app.settings.database_url)
        .args([
            "-q",
            "-v",
            "batch_id=",
            "-v",
            "product_ids=",
            "-v",
            "platform=both",
            "-f",
        ])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/rollback/restore_mappings.sql"
        ))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no snapshot matches"));
    assert_eq!(mappings(&app, updated).await, now);
}
