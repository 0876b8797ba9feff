//! The TikTok Shop client against the sandbox over real HTTP.

use std::time::Duration;

use serde_json::{json, Value};
use syncstore::catalog::images::demo_png;
use syncstore::marketplace::tiktok::TiktokClient;

use crate::support::sandbox;

fn product(uris: &[String], warehouse: &str, key: &str) -> Value {
    let sku = |size: &str, price: &str| {
        json!({
            "seller_sku": format!("KAOS-1-{size}"),
            "sales_attributes": [{"name": "Ukuran", "value_name": size}],
            "price": {"amount": price, "currency": "IDR"},
            "inventory": [{"warehouse_id": warehouse, "quantity": 5}],
        })
    };
    json!({
        "title": "Outfit Kaos Polos Cotton Combed 30s Unisex Lengan Pendek",
        "description": "<p>Kaos polos bahan cotton combed 30s.</p>",
        "category_id": "600011",
        "main_images": uris.iter().map(|u| json!({"uri": u})).collect::<Vec<_>>(),
        "skus": [sku("M", "54000"), sku("L", "58800")],
        "package_weight": {"value": "0.2", "unit": "KILOGRAM"},
        "listing_platforms": ["TIKTOK_SHOP", "TOKOPEDIA"],
        "idempotency_key": key,
    })
}

#[tokio::test]
async fn the_client_creates_reads_searches_updates_and_deletes_a_product_with_variants() {
    let sb = sandbox().await;
    let client = TiktokClient::new(sb.tiktok.clone(), Duration::from_secs(5));
    let warehouse = client.warehouses().await.unwrap()["warehouses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut uris = Vec::new();
    for n in 1..=3 {
        uris.push(
            client
                .upload_image(demo_png("KAOS-1", n), &format!("{n}.png"))
                .await
                .unwrap(),
        );
    }
    let created = client
        .create_product(&product(&uris, &warehouse, "sync-1"))
        .await
        .unwrap();
    let id = created["product_id"].as_str().unwrap().to_string();
    // A retry with the same idempotency key finds the first product.
    let retried = client
        .create_product(&product(&uris, &warehouse, "sync-1"))
        .await
        .unwrap();
    assert_eq!(retried["product_id"], json!(id));
    assert_eq!(sb.stats().await["tiktok"]["listings"], 1);

    let found = client
        .search_by_seller_skus(&["KAOS-1-L".to_string()])
        .await
        .unwrap();
    assert_eq!(found[0]["id"], json!(id));

    let detail = client.product(&id).await.unwrap();
    assert_eq!(
        detail["integrated_platform_statuses"][0]["platform"],
        "TOKOPEDIA"
    );
    let large = detail["skus"][1]["id"].as_str().unwrap().to_string();
    client.update_prices(&id, &[(large, 60_000)]).await.unwrap();
    assert_eq!(
        client.product(&id).await.unwrap()["skus"][1]["price"]["sale_price"],
        "60000"
    );

    client
        .delete_products(std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(
        client.product(&id).await.unwrap_err().class(),
        "INVALID_PRODUCT"
    );
    assert_eq!(
        sb.stats().await["tiktok"]["rejected_signatures"],
        0,
        "every request was signed right"
    );
}

#[tokio::test]
async fn a_rejected_listing_and_bad_credentials_are_classified() {
    let sb = sandbox().await;
    let client = TiktokClient::new(sb.tiktok.clone(), Duration::from_secs(5));
    let err = client
        .create_product(&product(&[], "7000000000000000001", "k"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), "INVALID_PRODUCT");
    assert!(err.to_string().contains("12052028"), "{err}");

    let mut creds = sb.tiktok.clone();
    creds.access_token = "expired".into();
    let err = TiktokClient::new(creds, Duration::from_secs(5))
        .warehouses()
        .await
        .unwrap_err();
    assert_eq!(err.class(), "UNAUTHORIZED");
    assert!(err.to_string().contains("105002"));
}

#[tokio::test]
async fn each_fault_mode_reaches_the_client_as_the_right_class() {
    let sb = sandbox().await;
    let client = TiktokClient::new(sb.tiktok.clone(), Duration::from_millis(500));
    for (mode, class) in [
        ("rate_limit", "RATE_LIMITED"),
        ("server_error", "NETWORK_ERROR"),
        ("timeout", "NETWORK_ERROR"),
        ("disconnect", "NETWORK_ERROR"),
    ] {
        sb.fault("tiktok", mode).await;
        let err = client.warehouses().await.unwrap_err();
        assert_eq!(err.class(), class, "{mode}: {err}");
    }
    sb.fault("all", "none").await;
    assert!(client.warehouses().await.is_ok());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    use std::sync::atomic::Ordering;
    let sb = sandbox().await;
    let mut expired = sb.tiktok.clone();
    expired.access_token = "expired".into();

    let (refresher, calls) = crate::support::counting_refresher(&sb.tiktok.access_token);
    let client =
        TiktokClient::new(expired.clone(), Duration::from_secs(5)).with_token_refresher(refresher);
    assert!(client.warehouses().await.is_ok());
    assert!(client.upload_image(demo_png("X", 1), "1.png").await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (refresher, calls) = crate::support::counting_refresher("still-wrong");
    let client = TiktokClient::new(expired, Duration::from_secs(5)).with_token_refresher(refresher);
    assert_eq!(
        client.warehouses().await.unwrap_err().class(),
        "UNAUTHORIZED"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one refresh, then failed");
}
