//! The Shopee client against the sandbox over real HTTP.

use std::time::Duration;

use serde_json::{json, Value};
use syncstore::catalog::images::demo_png;
use syncstore::marketplace::shopee::ShopeeClient;

use crate::support::sandbox;

fn listing(image_ids: &[String], sku: &str) -> Value {
    json!({
        "item_name": "Kaos Polos Cotton Combed 30s Unisex Lengan Pendek Pakaian",
        "description": "Kaos polos bahan cotton combed 30s, adem dan nyaman dipakai harian.",
        "original_price": 51750,
        "weight": 0.2,
        "item_sku": sku,
        "category_id": 100011,
        "image": {"image_id_list": image_ids},
        "logistic_info": [{"logistic_id": 80014, "enabled": true}],
        "seller_stock": [{"stock": 45}],
        "attribute_list": [{"attribute_id": 100900, "attribute_value_list": [{"value_id": 1, "original_value_name": "Indonesia"}]}],
        "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
        "condition": "NEW",
    })
}

#[tokio::test]
async fn the_client_creates_reads_searches_updates_and_deletes_a_product_with_variants() {
    let sb = sandbox().await;
    let client = ShopeeClient::new(sb.shopee.clone(), Duration::from_secs(5));
    let limits = client.item_limit(100011).await.unwrap();
    assert_eq!(limits["item_name_length_limit"]["max_limit"], 120);

    let mut images = Vec::new();
    for n in 1..=3 {
        images.push(
            client
                .upload_image(demo_png("KAOS-1", n), &format!("{n}.png"))
                .await
                .unwrap(),
        );
    }
    let item_id = client.add_item(&listing(&images, "KAOS-1")).await.unwrap();
    assert_eq!(
        client.search_item_by_sku("KAOS-1").await.unwrap(),
        vec![item_id]
    );
    assert!(client
        .search_item_by_sku("KAOS-2")
        .await
        .unwrap()
        .is_empty());

    client
        .init_tier_variation(&json!({
            "item_id": item_id,
            "standardise_tier_variation": [{"variation_id": 0, "variation_name": "Ukuran", "variation_group_id": 0,
                "variation_option_list": [{"variation_option_id": 0, "variation_option_name": "M"}, {"variation_option_id": 0, "variation_option_name": "L"}]}],
            "model": [
                {"tier_index": [0], "original_price": 51750, "model_sku": "KAOS-1-M", "seller_stock": [{"stock": 5}]},
                {"tier_index": [1], "original_price": 51750, "model_sku": "KAOS-1-L", "seller_stock": [{"stock": 5}]},
            ],
        }))
        .await
        .unwrap();
    let models = client.model_list(item_id).await.unwrap();
    let large = models["model"][1]["model_id"].as_u64().unwrap();
    client
        .update_price(item_id, &[(large, 56_350)])
        .await
        .unwrap();
    let models = client.model_list(item_id).await.unwrap();
    assert_eq!(
        models["model"][1]["price_info"][0]["original_price"],
        56350.0
    );

    let info = client.item_base_info(&[item_id]).await.unwrap();
    assert_eq!(info[0]["item_sku"], "KAOS-1");
    assert_eq!(info[0]["image"]["image_id_list"], json!(images));

    client.delete_item(item_id).await.unwrap();
    assert!(client.item_base_info(&[item_id]).await.unwrap().is_empty());
    assert_eq!(
        sb.stats().await["shopee"]["rejected_signatures"],
        0,
        "every request was signed right"
    );
}

#[tokio::test]
async fn a_rejected_listing_is_invalid_product_with_shopees_code() {
    let sb = sandbox().await;
    let client = ShopeeClient::new(sb.shopee.clone(), Duration::from_secs(5));
    let err = client.add_item(&listing(&[], "KAOS-1")).await.unwrap_err();
    assert_eq!(err.class(), "INVALID_PRODUCT");
    assert!(err.to_string().contains("error_image_num_min"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let sb = sandbox().await;
    let mut creds = sb.shopee.clone();
    creds.access_token = "expired".into();
    let err = ShopeeClient::new(creds, Duration::from_secs(5))
        .item_limit(100011)
        .await
        .unwrap_err();
    assert_eq!(err.class(), "UNAUTHORIZED");
    let mut creds = sb.shopee.clone();
    creds.partner_key = "wrong".into();
    let err = ShopeeClient::new(creds, Duration::from_secs(5))
        .item_limit(100011)
        .await
        .unwrap_err();
    assert_eq!(err.class(), "UNAUTHORIZED");
}

#[tokio::test]
async fn each_fault_mode_reaches_the_client_as_the_right_class() {
    let sb = sandbox().await;
    let client = ShopeeClient::new(sb.shopee.clone(), Duration::from_millis(500));
    for (mode, class) in [
        ("rate_limit", "RATE_LIMITED"),
        ("server_error", "NETWORK_ERROR"),
        ("timeout", "NETWORK_ERROR"),
        ("disconnect", "NETWORK_ERROR"),
    ] {
        sb.fault("shopee", mode).await;
        let err = client.item_limit(100011).await.unwrap_err();
        assert_eq!(err.class(), class, "{mode}: {err}");
        assert!(err.is_retryable(), "{mode}");
    }
    sb.fault("all", "none").await;
    assert!(client.item_limit(100011).await.is_ok());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    use std::sync::atomic::Ordering;
    let sb = sandbox().await;
    let mut expired = sb.shopee.clone();
    expired.access_token = "expired".into();

    let (refresher, calls) = crate::support::counting_refresher(&sb.shopee.access_token);
    let client =
        ShopeeClient::new(expired.clone(), Duration::from_secs(5)).with_token_refresher(refresher);
    client.item_limit(100011).await.unwrap();
    client
        .item_limit(100011)
        .await
        .expect("the fresh token is kept");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (refresher, calls) = crate::support::counting_refresher("still-wrong");
    let client = ShopeeClient::new(expired, Duration::from_secs(5)).with_token_refresher(refresher);
    assert_eq!(
        client.item_limit(100011).await.unwrap_err().class(),
        "UNAUTHORIZED"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one refresh, then failed");
}
