//! `POST /api/sync/manual` against the sandbox marketplaces.

use serde_json::{json, Value};
use syncstore::catalog::demo::demo_catalog;

use crate::support::{app_with_catalog, assert_error, TestApp};

async fn id_of(app: &TestApp, variants: bool) -> i64 {
    let (_, list) = app.get_json("/api/products").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["has_variants"] == json!(variants))
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn sync(app: &TestApp, product_id: Value, target: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/sync/manual"))
        .json(&json!({"product_id": product_id, "target_platform": target}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn log_count(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = app
        .db
        .query_one_raw(syncstore::db::sql(
            "SELECT count(*) AS n FROM sync_logs",
            [],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn a_simple_product_syncs_to_both_platforms_with_marked_up_prices() {
    let (app, _) = app_with_catalog(12).await;
    let id = id_of(&app, false).await;
    let (_, before) = app.get_json(&format!("/api/products/{id}")).await;
    let base = before["base_price"].as_i64().unwrap();

    let (status, body) = sync(&app, json!(id), "both").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let results = body["data"]["results"].as_array().unwrap();
    assert_eq!(results[0]["platform"], "shopee");
    assert_eq!(results[0]["action"], "created");
    assert_eq!(
        results[0]["final_price"],
        json!((base * 11_500 + 5_000) / 10_000)
    );
    assert_eq!(
        results[1]["final_price"],
        json!((base * 12_000 + 5_000) / 10_000)
    );
    let stats = app.sandbox.stats().await;
    assert_eq!(
        (
            stats["shopee"]["listings"].as_u64(),
            stats["tiktok"]["listings"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let (_, after) = app.get_json(&format!("/api/products/{id}")).await;
    let shopee = &after["mappings"]["shopee"];
    assert_eq!(shopee["sync_status"], "synced");
    assert_eq!(shopee["external_id"], results[0]["external_id"]);
    assert!(shopee["last_synced_at"].is_string());
    let tiktok = &after["mappings"]["tiktok"];
    assert_eq!(tiktok["tokopedia_status"], "ACTIVATE");
    assert_eq!(
        tiktok["listing_platforms"],
        json!(["TIKTOK_SHOP", "TOKOPEDIA"])
    );
    assert_ne!(shopee["seo_title"], tiktok["seo_title"]);
    assert_eq!(log_count(&app).await, 2, "one log row per platform attempt");

    // Nothing changed: nothing is pushed again.
    let requests = app.sandbox.stats().await["shopee"]["requests"]
        .as_u64()
        .unwrap();
    let (_, again) = sync(&app, json!(id), "shopee").await;
    assert_eq!(again["data"]["results"][0]["action"], "unchanged");
    let after_requests = app.sandbox.stats().await["shopee"]["requests"]
        .as_u64()
        .unwrap();
    assert!(after_requests - requests <= 1, "only the limits are read");
}

#[tokio::test]
async fn a_product_with_variants_gets_one_model_and_sku_per_variant() {
    let (app, _) = app_with_catalog(12).await;
    let id = id_of(&app, true).await;
    let (status, body) = sync(&app, json!(id), "both").await;
    assert_eq!(status, 200, "{body}");
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    let variants = product["variants"].as_array().unwrap();
    for platform in ["shopee", "tiktok"] {
        let mapped = product["mappings"][platform]["variants"]
            .as_array()
            .unwrap();
        assert_eq!(mapped.len(), variants.len(), "{platform}");
        assert!(
            mapped.iter().all(|v| v["external_id"].is_string()),
            "{platform}: {mapped:?}"
        );
    }

    // Read back from each shop: every master variant is its own model / SKU, carrying its
    // own price (an independent half-up oracle at each platform's markup) and stock.
    let number = |v: &Value| match v {
        Value::String(s) => s.parse::<f64>().unwrap(),
        other => other.as_f64().unwrap(),
    } as i64;
    let half_up = |base: i64, bp: i64| (base * bp + 5_000).div_euclid(10_000);
    let mapped_id = |platform: &str, sku: &str| {
        product["mappings"][platform]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["sku"] == sku)
            .unwrap_or_else(|| panic!("{platform} has no mapping for {sku}"))["external_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let item: u64 = product["mappings"]["shopee"]["external_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let models = app.sandbox.shopee_client().model_list(item).await.unwrap();
    let models = models["model"].as_array().unwrap();
    let tiktok_id = product["mappings"]["tiktok"]["external_id"]
        .as_str()
        .unwrap();
    let listed = app
        .sandbox
        .tiktok_client()
        .product(tiktok_id)
        .await
        .unwrap();
    let skus = listed["skus"].as_array().unwrap();
    assert_eq!(models.len(), variants.len());
    assert_eq!(skus.len(), variants.len());
    for v in variants {
        let (sku, base, stock) = (
            v["sku"].as_str().unwrap(),
            v["base_price"].as_i64().unwrap(),
            v["stock"].as_i64().unwrap(),
        );
        let model = models
            .iter()
            .find(|m| m["model_sku"] == sku)
            .unwrap_or_else(|| panic!("no Shopee model for {sku}"));
        assert_eq!(
            model["model_id"].to_string(),
            mapped_id("shopee", sku),
            "{sku}"
        );
        assert_eq!(
            number(&model["price_info"][0]["original_price"]),
            half_up(base, 11_500),
            "{sku}"
        );
        assert_eq!(
            model["stock_info_v2"]["seller_stock"][0]["stock"], stock,
            "{sku}"
        );
        let listed_sku = skus
            .iter()
            .find(|s| s["seller_sku"] == sku)
            .unwrap_or_else(|| panic!("no TikTok SKU for {sku}"));
        assert_eq!(
            listed_sku["id"].as_str().unwrap(),
            mapped_id("tiktok", sku),
            "{sku}"
        );
        assert_eq!(
            number(&listed_sku["price"]["sale_price"]),
            half_up(base, 12_000),
            "{sku}"
        );
        assert_eq!(listed_sku["inventory"][0]["quantity"], stock, "{sku}");
    }
}

#[tokio::test]
async fn a_retry_after_a_crash_mid_create_does_not_create_a_second_listing() {
    let (app, catalog) = app_with_catalog(3).await;
    let id = id_of(&app, false).await;
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    let sku = product["sku"].as_str().unwrap();
    assert!(catalog.iter().any(|p| p.sku == sku));

    // The marketplace accepted a create, but SyncStore never recorded it.
    let client = syncstore::marketplace::shopee::ShopeeClient::new(
        app.sandbox.shopee.clone(),
        std::time::Duration::from_secs(5),
    );
    let image = client
        .upload_image(syncstore::catalog::images::demo_png(sku, 1), "1.png")
        .await
        .unwrap();
    let orphan = client
        .add_item(&json!({
            "item_name": "Listing created just before a crash", "description": "Created before SyncStore could record it.",
            "original_price": 10000, "weight": 0.2, "item_sku": sku, "category_id": 100011,
            "image": {"image_id_list": [image]}, "logistic_info": [{"logistic_id": 80014, "enabled": true}],
            "attribute_list": [{"attribute_id": 100900, "attribute_value_list": [{"value_id": 1}]}],
        }))
        .await
        .unwrap();

    let (status, body) = sync(&app, json!(id), "both").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["results"][0]["action"], "updated");
    assert_eq!(
        body["data"]["results"][0]["external_id"],
        json!(orphan.to_string())
    );
    let stats = app.sandbox.stats().await;
    assert_eq!(
        stats["shopee"]["listings"], 1,
        "the existing listing was found by SKU"
    );
    assert_eq!(stats["tiktok"]["listings"], 1);
}

#[tokio::test]
async fn bad_requests_are_validation_errors_and_unknown_products_404() {
    let (app, _) = app_with_catalog(2).await;
    let (status, body) = sync(&app, json!(1), "lazada").await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, body) = sync(&app, json!("abc"), "shopee").await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, body) = sync(&app, json!(999_999), "shopee").await;
    assert_eq!(status, 404);
    assert_error(&body, "INVALID_PRODUCT");
}

#[tokio::test]
async fn a_product_with_too_few_images_is_invalid_and_logged() {
    let (app, mut catalog) = app_with_catalog(2).await;
    catalog[0].images.truncate(2);
    app.import(&catalog[..1]).await;
    let id = app.get_json("/api/products").await.1["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = sync(&app, json!(id), "shopee").await;
    assert_eq!(status, 422);
    assert_error(&body, "INVALID_PRODUCT");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at least 3"));
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    assert_eq!(product["mappings"]["shopee"]["sync_status"], "error");
    assert_eq!(log_count(&app).await, 1);
}

#[tokio::test]
async fn an_image_that_is_not_an_image_is_invalid_product() {
    let (app, mut catalog) = app_with_catalog(1).await;
    catalog[0].images[1] = format!("{}/login", app.base);
    app.import(&catalog).await;
    let id = app.get_json("/api/products").await.1["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = sync(&app, json!(id), "tiktok").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not download as an image"));
}

#[tokio::test]
async fn marketplace_failures_answer_with_their_class() {
    let (app, _) = app_with_catalog(4).await;
    let id = id_of(&app, false).await;
    for (mode, status, code) in [
        ("rate_limit", 429, "RATE_LIMITED"),
        ("server_error", 502, "NETWORK_ERROR"),
    ] {
        app.sandbox.fault("all", mode).await;
        let (got, body) = sync(&app, json!(id), "shopee").await;
        assert_eq!(got, status, "{mode}: {body}");
        assert_error(&body, code);
    }
    app.sandbox.fault("all", "none").await;
    let (status, _) = sync(&app, json!(id), "shopee").await;
    assert_eq!(status, 200, "recovers once the fault is gone");
}

#[tokio::test]
async fn verify_reads_both_listings_back_and_catches_a_changed_price() {
    let (app, _) = app_with_catalog(12).await;
    let id = id_of(&app, true).await;
    let (status, body) = sync(&app, json!(id), "both").await;
    assert_eq!(status, 200, "{body}");

    let out = app.cli(&["verify", &id.to_string()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("all ") && stdout.contains("checks match"),
        "{stdout}"
    );
    assert!(stdout.contains("shopee") && stdout.contains("tiktok") && stdout.contains("images"));

    // Someone changes a price on Shopee by hand: verification says so.
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    let item_id: u64 = product["mappings"]["shopee"]["external_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let model_id: u64 = product["mappings"]["shopee"]["variants"][0]["external_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let client = syncstore::marketplace::shopee::ShopeeClient::new(
        app.sandbox.shopee.clone(),
        std::time::Duration::from_secs(5),
    );
    client
        .update_price(item_id, &[(model_id, 99_999)])
        .await
        .unwrap();
    let out = app.cli(&["verify", &id.to_string()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("FAIL shopee") && stdout.contains("99999"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_sync_logs_page_lists_attempts_with_filters_and_payloads() {
    let (app, _) = app_with_catalog(4).await;
    let id = id_of(&app, false).await;
    sync(&app, json!(id), "both").await;
    app.sandbox.fault("tiktok", "server_error").await;
    let other = app.get_json("/api/products").await.1["items"][1]["id"]
        .as_i64()
        .unwrap();
    sync(&app, json!(other), "tiktok").await;

    let page = |q: &str| {
        let url = app.url(&format!("/dashboard/sync-logs{q}"));
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let all = page("").await;
    assert!(all.contains("3 attempts · page 1 of 1"), "{all}");
    assert!(
        all.contains("item_name"),
        "the Shopee request payload is viewable"
    );
    let errors = page("?status=error").await;
    assert!(errors.contains("1 attempts"), "{errors}");
    assert!(errors.contains("NETWORK_ERROR"));
    let shopee = page(&format!("?platform=shopee&product={id}&hours=24")).await;
    assert!(shopee.contains("1 attempts"), "{shopee}");
    let bad = page("?platform=lazada").await;
    assert!(bad.contains("platform must be shopee or tiktok"), "{bad}");
}

#[tokio::test]
async fn the_pilot_passes_once_a_simple_and_a_variant_product_are_verified_on_both_platforms() {
    let (app, _) = app_with_catalog(12).await;
    let simple = id_of(&app, false).await;
    let variants = id_of(&app, true).await;
    assert!(pilot_report(&app).await.contains("**NOT PASSED**"));

    for id in [simple, variants] {
        let (status, body) = sync(&app, json!(id), "both").await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(app
        .cli(&["verify", &simple.to_string()])
        .await
        .status
        .success());
    assert!(
        pilot_report(&app).await.contains("**NOT PASSED**"),
        "the variant product is not verified yet"
    );
    assert!(app
        .cli(&["verify", &variants.to_string()])
        .await
        .status
        .success());
    let md = pilot_report(&app).await;
    assert!(md.contains("**PASSED**"), "{md}");
    assert!(
        md.contains(&format!("| #{simple} ")) && md.contains(&format!("| #{variants} ")),
        "{md}"
    );
    assert_eq!(
        md.matches("| pass |").count(),
        4,
        "two products × two platforms: {md}"
    );
}

async fn pilot_report(app: &TestApp) -> String {
    String::from_utf8(app.cli(&["report", "pilot"]).await.stdout).unwrap()
}

#[tokio::test]
async fn a_listing_the_platform_rejects_and_a_title_that_cannot_fit_are_invalid_product() {
    let (app, mut catalog) = app_with_catalog(2).await;
    catalog[0].description = "Terlalu pendek".into();
    catalog[1].title = "Kaos".into();
    app.import(&catalog).await;
    let items = app.get_json("/api/products").await.1["items"].clone();
    let (short_description, short_title) = (items[0]["id"].clone(), items[1]["id"].clone());

    let (status, body) = sync(&app, short_description, "shopee").await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "INVALID_PRODUCT");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("error_desc_length_min_limit"),
        "Shopee's own code is kept: {body}"
    );

    let (status, body) = sync(&app, short_title, "tiktok").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("set a title override"),
        "{body}"
    );
    assert_eq!(app.sandbox.stats().await["tiktok"]["listings"], 0);
}

#[tokio::test]
async fn a_revoked_shop_token_is_unauthorized() {
    let app = crate::support::spawn_app_with(|s| {
        if let Some(shopee) = s.shopee.as_mut() {
            shopee.access_token = "revoked".into();
        }
    })
    .await;
    app.import(&demo_catalog(1, &app.base)).await;
    app.login().await;
    let id = app.get_json("/api/products").await.1["items"][0]["id"].clone();
    let (status, body) = sync(&app, id, "shopee").await;
    assert_eq!(status, 502, "{body}");
    assert_error(&body, "UNAUTHORIZED");
}

#[tokio::test]
async fn the_pilot_report_page_says_whether_the_pilot_passed() {
    let (app, _) = app_with_catalog(1).await;
    let html = app
        .client
        .get(app.url("/dashboard/reports/pilot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Pilot not passed yet"), "{html}");
    assert!(html.contains("# Pilot test report"));
}

#[tokio::test]
async fn a_sync_killed_at_any_point_and_retried_never_lists_twice() {
    use std::time::Duration;
    use syncstore::sync::{AttemptContext, SyncService};

    let (app, _) = app_with_catalog(10).await;
    let ids: Vec<i64> = app.get_json("/api/products").await.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let service = SyncService::new(app.db.clone(), app.state().await.shops)
        .with_claim_lease(app.settings.queue.stall_timeout);
    // Slow marketplaces, and a sync killed a little later each time: before, during and
    // after each create, so some creates took effect and were never recorded.
    app.sandbox.latency(120).await;
    for (n, id) in ids.iter().copied().enumerate() {
        let service = service.clone();
        let task = tokio::spawn(async move {
            let ctx = AttemptContext::default();
            let _ = service
                .sync_product_to(id, app::api::Platform::Shopee, &ctx)
                .await;
            let _ = service
                .sync_product_to(id, app::api::Platform::Tiktok, &ctx)
                .await;
        });
        tokio::time::sleep(Duration::from_millis(200 * (n as u64 + 1))).await;
        task.abort();
        let _ = task.await;
    }
    app.sandbox.latency(0).await;
    let killed = app.sandbox.stats().await;
    let created_while_killed = killed["shopee"]["listings"].as_u64().unwrap()
        + killed["tiktok"]["listings"].as_u64().unwrap();
    assert!(
        created_while_killed > 0,
        "some killed syncs had created listings: {killed}"
    );
    for id in &ids {
        // Retried back to back, the shop's rate limit answers now and then, and a killed
        // sync's claim holds its product until its lease lapses; wait both out as the
        // queue will.
        let mut answer = sync(&app, json!(id), "both").await;
        for _ in 0..10 {
            if answer.0 != 429 && answer.0 != 409 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1100)).await;
            answer = sync(&app, json!(id), "both").await;
        }
        assert_eq!(answer.0, 200, "{}", answer.1);
    }
    let stats = app.sandbox.stats().await;
    assert_eq!(stats["shopee"]["listings"], 10, "{stats}");
    assert_eq!(stats["tiktok"]["listings"], 10, "{stats}");
}
