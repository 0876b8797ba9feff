//! The Shopee side of the sandbox over real HTTP, signed the way the documentation says.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sandbox::config::{
    SandboxConfig, DEV_SHOPEE_ACCESS_TOKEN, DEV_SHOPEE_PARTNER_ID, DEV_SHOPEE_SHOP_ID,
};
use sandbox::store::Sandbox;
use serde_json::{json, Value};
use sha2::Sha256;

struct Shop {
    base: String,
    http: reqwest::Client,
}

fn hmac_hex(key: &str, msg: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn spawn(qps: u32) -> Shop {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = SandboxConfig::from_env(base.clone());
    config.shopee_qps = qps;
    config.shopee.partner_id = DEV_SHOPEE_PARTNER_ID;
    config.shopee.partner_key = "test-partner-key".into();
    config.shopee.shop_id = DEV_SHOPEE_SHOP_ID;
    config.shopee.access_token = DEV_SHOPEE_ACCESS_TOKEN.into();
    tokio::spawn(async move { axum::serve(listener, sandbox::router(Sandbox::new(config))).await });
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    Shop { base, http }
}

impl Shop {
    fn url_with(
        &self,
        path: &str,
        timestamp: u64,
        token: &str,
        sign_key: &str,
        extra: &str,
    ) -> String {
        let full = format!("/api/v2/{path}");
        let sign = hmac_hex(
            sign_key,
            &format!("{DEV_SHOPEE_PARTNER_ID}{full}{timestamp}{token}{DEV_SHOPEE_SHOP_ID}"),
        );
        format!(
            "{}{full}?partner_id={DEV_SHOPEE_PARTNER_ID}&timestamp={timestamp}&access_token={token}&shop_id={DEV_SHOPEE_SHOP_ID}&sign={sign}{extra}",
            self.base
        )
    }

    fn url(&self, path: &str, extra: &str) -> String {
        self.url_with(
            path,
            now(),
            DEV_SHOPEE_ACCESS_TOKEN,
            "test-partner-key",
            extra,
        )
    }

    async fn get(&self, path: &str, extra: &str) -> (u16, Value) {
        let res = self.http.get(self.url(path, extra)).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(path, ""))
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn upload_png(&self) -> String {
        let png = b"\x89PNG\r\n\x1a\n-sandbox-test-image".to_vec();
        let form = reqwest::multipart::Form::new().part(
            "image",
            reqwest::multipart::Part::bytes(png)
                .file_name("a.png")
                .mime_str("image/png")
                .unwrap(),
        );
        let res = self
            .http
            .post(self.url("media_space/upload_image", ""))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "", "{body}");
        body["response"]["image_info"]["image_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn item(image_ids: &[String]) -> Value {
    json!({
        "item_name": "Kaos Polos Cotton Combed 30s Unisex Lengan Pendek Pakaian",
        "description": "Kaos polos bahan cotton combed 30s, adem dan nyaman.",
        "original_price": 51750,
        "weight": 0.2,
        "item_sku": "KAOS-POLOS-30S",
        "category_id": 100011,
        "image": {"image_id_list": image_ids},
        "logistic_info": [{"logistic_id": 80014, "enabled": true}],
        "seller_stock": [{"stock": 45}],
        "attribute_list": [{"attribute_id": 100900, "attribute_value_list": [{"value_id": 1}]}],
        "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
    })
}

#[test]
fn the_signer_matches_the_published_examples() {
    assert_eq!(
        sandbox::shopee::sign(
            "test_partner_key",
            "123456/api/v2/order/get_order_list1710000000token_value654321"
        ),
        "174af5342b881750dad12a896dffa27da126f1e58a9eb99b12e59a06c288735c"
    );
    assert_eq!(
        sandbox::shopee::sign(
            "test_partner_key",
            "123456/api/v2/shop/auth_partner1710000000"
        ),
        "aa06d2243ba99639c22fba4ef5ac791d22b672cb66f8ec1d26972d91f810855b"
    );
}

#[tokio::test]
async fn a_wrong_signature_is_error_sign_and_counted() {
    let shop = spawn(100).await;
    let res = shop
        .http
        .get(shop.url_with(
            "product/get_item_limit",
            now(),
            DEV_SHOPEE_ACCESS_TOKEN,
            "wrong-key",
            "",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "error_sign");
    assert!(body["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(shop.stats().await["shopee"]["rejected_signatures"], 1);
}

#[tokio::test]
async fn a_stale_timestamp_an_unknown_token_and_missing_parameters_are_refused() {
    let shop = spawn(100).await;
    let stale = shop
        .http
        .get(shop.url_with(
            "product/get_item_limit",
            now() - 301,
            DEV_SHOPEE_ACCESS_TOKEN,
            "test-partner-key",
            "",
        ))
        .send()
        .await
        .unwrap();
    let body: Value = stale.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["message"].as_str()),
        (Some("error_param"), Some("Timestamp is expired"))
    );

    let bad_token = shop
        .http
        .get(shop.url_with(
            "product/get_item_limit",
            now(),
            "expired-token",
            "test-partner-key",
            "",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad_token.json::<Value>().await.unwrap()["error"],
        "invalid_acceess_token"
    );

    let bare = shop
        .http
        .get(format!(
            "{}/api/v2/product/get_item_limit?partner_id={DEV_SHOPEE_PARTNER_ID}",
            shop.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.json::<Value>().await.unwrap()["error"], "error_param");
}

#[tokio::test]
async fn an_item_with_variants_is_created_read_searched_repriced_and_deleted() {
    let shop = spawn(100).await;
    let images = vec![
        shop.upload_png().await,
        shop.upload_png().await,
        shop.upload_png().await,
    ];
    let (_, created) = shop.post("product/add_item", item(&images)).await;
    assert_eq!(created["error"], "", "{created}");
    let item_id = created["response"]["item_id"].as_u64().unwrap();

    let (_, found) = shop
        .get(
            "product/search_item",
            "&page_size=10&item_sku=KAOS-POLOS-30S",
        )
        .await;
    assert_eq!(found["response"]["item_id_list"], json!([item_id]));

    let (_, tiers) = shop.post("product/init_tier_variation", json!({
        "item_id": item_id,
        "standardise_tier_variation": [{"variation_id": 0, "variation_name": "Warna", "variation_group_id": 0,
            "variation_option_list": [{"variation_option_id": 0, "variation_option_name": "Hitam"}, {"variation_option_id": 0, "variation_option_name": "Putih"}]}],
        "model": [
            {"tier_index": [0], "original_price": 51750, "model_sku": "KAOS-HTM", "seller_stock": [{"stock": 5}]},
            {"tier_index": [1], "original_price": 56350, "model_sku": "KAOS-PTH", "seller_stock": [{"stock": 7}]},
        ],
    })).await;
    assert_eq!(tiers["error"], "", "{tiers}");
    let (_, models) = shop
        .get("product/get_model_list", &format!("&item_id={item_id}"))
        .await;
    let model = &models["response"]["model"];
    assert_eq!(model.as_array().unwrap().len(), 2);
    let white = model[1]["model_id"].as_u64().unwrap();

    let (_, priced) = shop.post("product/update_price", json!({"item_id": item_id, "price_list": [{"model_id": white, "original_price": 57000}]})).await;
    assert_eq!(
        priced["response"]["success_list"][0]["original_price"],
        57000.0
    );

    let (_, info) = shop
        .get(
            "product/get_item_base_info",
            &format!("&item_id_list={item_id}"),
        )
        .await;
    let listed = &info["response"]["item_list"][0];
    assert_eq!(
        listed["item_name"],
        "Kaos Polos Cotton Combed 30s Unisex Lengan Pendek Pakaian"
    );
    assert_eq!(listed["has_model"], true);
    assert_eq!(listed["image"]["image_id_list"], json!(images));
    let url = listed["image"]["image_url_list"][0].as_str().unwrap();
    let served = shop
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        served.starts_with(b"\x89PNG"),
        "uploaded bytes are served back"
    );
    assert_eq!(shop.stats().await["shopee"]["listings"], 1);

    let (_, deleted) = shop
        .post("product/delete_item", json!({"item_id": item_id}))
        .await;
    assert_eq!(deleted["error"], "");
    let (_, gone) = shop
        .get(
            "product/get_item_base_info",
            &format!("&item_id_list={item_id}"),
        )
        .await;
    assert_eq!(gone["response"]["item_list"], json!([]));
    let (_, again) = shop
        .post("product/delete_item", json!({"item_id": item_id}))
        .await;
    assert_eq!(again["error"], "error_item_not_found");
}

#[tokio::test]
async fn invalid_listings_are_rejected_with_shopees_codes() {
    let shop = spawn(100).await;
    let images = vec![shop.upload_png().await];
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation)> = vec![
        ("error_item_name_is_too_short", |v| {
            v["item_name"] = json!("Kaos")
        }),
        ("error_title_exceeds_max_length", |v| {
            v["item_name"] = json!("K".repeat(121))
        }),
        ("error_desc_length_min_limit", |v| {
            v["description"] = json!("pendek")
        }),
        ("error_price_exceed_min_limitt", |v| {
            v["original_price"] = json!(1)
        }),
        ("error_image_num_min", |v| {
            v["image"]["image_id_list"] = json!([])
        }),
        ("error_param", |v| {
            v["image"]["image_id_list"] = json!(["no-such-image"])
        }),
        ("error_invalid_category", |v| {
            v["category_id"] = json!(100001)
        }),
        ("error_less_required_attribute", |v| {
            v["attribute_list"] = json!([])
        }),
        ("error_invalid_logistic_info", |v| {
            v["logistic_info"] = json!([{"logistic_id": 80099, "enabled": true}])
        }),
        ("error_invalid_brand", |v| {
            v["brand"] = json!({"brand_id": 42})
        }),
        ("error_param", |v| v["weight"] = json!(0)),
    ];
    for (code, mutate) in cases {
        let mut body = item(&images);
        mutate(&mut body);
        let (status, answer) = shop.post("product/add_item", body).await;
        assert_eq!(answer["error"], code, "{answer}");
        assert_eq!(status, 400);
    }
    assert_eq!(shop.stats().await["shopee"]["listings"], 0);
}

#[tokio::test]
async fn a_shop_over_its_rate_limit_gets_error_rate_limit() {
    let shop = spawn(3).await;
    let mut limited = 0;
    for _ in 0..20 {
        let (status, body) = shop.get("product/get_item_limit", "").await;
        if body["error"] == "error_rate_limit" {
            assert_eq!(status, 429);
            limited += 1;
        }
    }
    assert!(
        limited > 0,
        "20 quick requests at 3 per second: none was limited"
    );
}

#[tokio::test]
async fn injected_faults_reach_the_client_and_reset_clears_them() {
    let shop = spawn(100).await;
    let admin = |path: &str| format!("{}/_sandbox/{path}", shop.base);
    shop.http
        .post(admin("faults"))
        .json(&json!({"platform": "shopee", "mode": "server_error", "probability": 1.0}))
        .send()
        .await
        .unwrap();
    let (status, body) = shop.get("product/get_item_limit", "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (500, Some("error_server"))
    );

    shop.http
        .post(admin("faults"))
        .json(&json!({"platform": "all", "mode": "disconnect", "probability": 1.0}))
        .send()
        .await
        .unwrap();
    let broken = async {
        shop.http
            .get(shop.url("product/get_item_limit", ""))
            .send()
            .await?
            .bytes()
            .await
    };
    assert!(broken.await.is_err(), "the connection drops");

    shop.http
        .post(admin("faults"))
        .json(&json!({"platform": "shopee", "mode": "timeout", "probability": 1.0}))
        .send()
        .await
        .unwrap();
    let quick = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(quick
        .get(shop.url("product/get_item_limit", ""))
        .send()
        .await
        .unwrap_err()
        .is_timeout());

    let bad = shop
        .http
        .post(admin("faults"))
        .json(&json!({"platform": "shopee", "mode": "explode"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    shop.http.post(admin("reset")).send().await.unwrap();
    let (status, body) = shop.get("product/get_item_limit", "").await;
    assert_eq!((status, body["error"].as_str()), (200, Some("")));
    assert_eq!(
        body["response"]["item_name_length_limit"],
        json!({"min_limit": 20, "max_limit": 120})
    );
}

#[tokio::test]
async fn an_item_is_edited_restocked_unlisted_and_given_more_models() {
    let shop = spawn(100).await;
    let images = vec![shop.upload_png().await];
    let (_, created) = shop.post("product/add_item", item(&images)).await;
    let item_id = created["response"]["item_id"].as_u64().unwrap();

    let (_, edited) = shop.post("product/update_item", json!({"item_id": item_id, "item_name": "Kaos Polos Cotton Combed 30s Lengan Pendek Fashion"})).await;
    assert_eq!(edited["error"], "", "{edited}");
    let (_, too_short) = shop
        .post(
            "product/update_item",
            json!({"item_id": item_id, "item_name": "Kaos"}),
        )
        .await;
    assert_eq!(too_short["error"], "error_item_name_is_too_short");
    let (_, priced) = shop
        .post(
            "product/update_item",
            json!({"item_id": item_id, "original_price": 1000}),
        )
        .await;
    assert_eq!(
        priced["error"], "error_param",
        "price changes go through update_price"
    );

    let (_, stocked) = shop.post("product/update_stock", json!({"item_id": item_id, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 12}]}]})).await;
    assert_eq!(stocked["response"]["success_list"][0]["stock"], 12);

    let (_, unlisted) = shop.post("product/unlist_item", json!({"item_list": [{"item_id": item_id, "unlist": true}, {"item_id": 1, "unlist": true}]})).await;
    assert_eq!(
        unlisted["response"]["success_list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(unlisted["response"]["failure_list"][0]["item_id"], 1);
    let (_, listed) = shop
        .get("product/get_item_list", "&page_size=10&item_status=UNLIST")
        .await;
    assert_eq!(listed["response"]["item"][0]["item_id"], item_id);

    let (_, info) = shop
        .get(
            "product/get_item_base_info",
            &format!("&item_id_list={item_id}"),
        )
        .await;
    assert_eq!(
        info["response"]["item_list"][0]["item_name"],
        "Kaos Polos Cotton Combed 30s Lengan Pendek Fashion"
    );
    assert_eq!(
        info["response"]["item_list"][0]["stock_info_v2"]["summary_info"]["total_available_stock"],
        12
    );

    let (_, no_tiers) = shop.post("product/add_model", json!({"item_id": item_id, "model_list": [{"tier_index": [0], "original_price": 50000, "seller_stock": [{"stock": 1}]}]})).await;
    assert_eq!(no_tiers["error"], "error_param");
    shop.post("product/init_tier_variation", json!({
        "item_id": item_id,
        "standardise_tier_variation": [{"variation_name": "Warna", "variation_option_list": [{"variation_option_name": "Hitam"}, {"variation_option_name": "Putih"}]}],
        "model": [{"tier_index": [0], "original_price": 50000, "model_sku": "A", "seller_stock": [{"stock": 1}]}],
    })).await;
    let (_, added) = shop.post("product/add_model", json!({"item_id": item_id, "model_list": [{"tier_index": [1], "original_price": 52000, "model_sku": "B", "seller_stock": [{"stock": 2}]}]})).await;
    let model_id = added["response"]["model"][0]["model_id"].as_u64().unwrap();
    let (_, renamed) = shop
        .post(
            "product/update_model",
            json!({"item_id": item_id, "model": [{"model_id": model_id, "model_sku": "B-2"}]}),
        )
        .await;
    assert_eq!(renamed["error"], "");
    let (_, models) = shop
        .get("product/get_model_list", &format!("&item_id={item_id}"))
        .await;
    assert_eq!(models["response"]["model"][1]["model_sku"], "B-2");
}

#[tokio::test]
async fn variant_limits_are_enforced() {
    let shop = spawn(100).await;
    let images = vec![shop.upload_png().await];
    let (_, created) = shop.post("product/add_item", item(&images)).await;
    let item_id = created["response"]["item_id"].as_u64().unwrap();
    let tier = |name: &str, n: usize| json!({"variation_name": name, "variation_option_list": (0..n).map(|i| json!({"variation_option_name": format!("{name}{i}")})).collect::<Vec<_>>()});
    let model = |idx: Vec<usize>| json!({"tier_index": idx, "original_price": 50000, "seller_stock": [{"stock": 1}]});

    let (_, three_tiers) = shop.post("product/init_tier_variation", json!({
        "item_id": item_id, "standardise_tier_variation": [tier("A", 1), tier("B", 1), tier("C", 1)], "model": [model(vec![0, 0, 0])],
    })).await;
    assert_eq!(three_tiers["error"], "error_param", "{three_tiers}");

    let models: Vec<Value> = (0..51).map(|i| model(vec![i / 10, i % 10])).collect();
    let (_, too_many) = shop.post("product/init_tier_variation", json!({
        "item_id": item_id, "standardise_tier_variation": [tier("A", 6), tier("B", 10)], "model": models,
    })).await;
    assert_eq!(too_many["error"], "error_model_count_over_limit");

    let (_, spread) = shop.post("product/init_tier_variation", json!({
        "item_id": item_id, "standardise_tier_variation": [tier("A", 2)],
        "model": [model(vec![0]), {"tier_index": [1], "original_price": 400000, "seller_stock": [{"stock": 1}]}],
    })).await;
    assert_eq!(spread["error"], "error_invalid_price");
}
