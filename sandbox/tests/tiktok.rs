//! The TikTok Shop side of the sandbox over real HTTP, signed as the documentation says.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sandbox::config::SandboxConfig;
use sandbox::store::Sandbox;
use serde_json::{json, Value};
use sha2::Sha256;

const KEY: &str = "testappkey";
const SECRET: &str = "test-app-secret";
const CIPHER: &str = "ROW_testcipher";
const TOKEN: &str = "test-access-token";

struct Shop {
    base: String,
    http: reqwest::Client,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An independent reading of the signing rules, for the tests' own requests.
fn signature(secret: &str, path: &str, query: &[(&str, String)], body: &str) -> String {
    let mut sorted: Vec<&(&str, String)> = query.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let inner: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{secret}{path}{inner}{body}{secret}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn spawn(qps: u32, audit_ms: u64) -> Shop {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = SandboxConfig::from_env(base.clone());
    config.tiktok.app_key = KEY.into();
    config.tiktok.app_secret = SECRET.into();
    config.tiktok.shop_cipher = CIPHER.into();
    config.tiktok.access_token = TOKEN.into();
    config.tiktok_qps = qps;
    config.tiktok_audit_ms = audit_ms;
    tokio::spawn(async move { axum::serve(listener, sandbox::router(Sandbox::new(config))).await });
    Shop {
        base,
        http: reqwest::Client::new(),
    }
}

impl Shop {
    fn url(
        &self,
        path: &str,
        cipher: bool,
        extra: &[(&str, String)],
        body: &str,
        secret: &str,
        ts: u64,
    ) -> String {
        let mut query: Vec<(&str, String)> =
            vec![("app_key", KEY.into()), ("timestamp", ts.to_string())];
        if cipher {
            query.push(("shop_cipher", CIPHER.into()));
        }
        query.extend(extra.iter().cloned());
        let sign = signature(secret, path, &query, body);
        let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}{path}?{}&sign={sign}", self.base, qs.join("&"))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        cipher: bool,
        extra: &[(&str, String)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = self
            .http
            .request(method, self.url(path, cipher, extra, &text, SECRET, now()))
            .header("x-tts-access-token", TOKEN);
        if !text.is_empty() {
            req = req.header("content-type", "application/json").body(text);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn upload(&self) -> String {
        let png = b"\x89PNG\r\n\x1a\n-sandbox-test-image".to_vec();
        let form = reqwest::multipart::Form::new()
            .part(
                "data",
                reqwest::multipart::Part::bytes(png).file_name("a.png"),
            )
            .text("use_case", "MAIN_IMAGE");
        let url = self.url(
            "/product/202309/images/upload",
            false,
            &[],
            "",
            SECRET,
            now(),
        );
        let body: Value = self
            .http
            .post(url)
            .header("x-tts-access-token", TOKEN)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["code"], 0, "{body}");
        body["data"]["uri"].as_str().unwrap().to_string()
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

fn product(uris: &[String], sku: &str) -> Value {
    json!({
        "title": "Outfit Kaos Polos Cotton Combed 30s Unisex Lengan Pendek",
        "description": "<p>Kaos polos bahan cotton combed 30s.</p>",
        "category_id": "600011",
        "main_images": uris.iter().map(|u| json!({"uri": u})).collect::<Vec<_>>(),
        "skus": [
            {"seller_sku": format!("{sku}-M"), "sales_attributes": [{"name": "Ukuran", "value_name": "M"}],
             "price": {"amount": "54000", "currency": "IDR"}, "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 5}]},
            {"seller_sku": format!("{sku}-L"), "sales_attributes": [{"name": "Ukuran", "value_name": "L"}],
             "price": {"amount": "58800", "currency": "IDR"}, "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 7}]},
        ],
        "package_weight": {"value": "0.2", "unit": "KILOGRAM"},
        "listing_platforms": ["TIKTOK_SHOP", "TOKOPEDIA"],
        "idempotency_key": format!("sync-{sku}"),
    })
}

#[test]
fn the_signer_matches_the_published_examples() {
    let p = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sandbox::tiktok::sign(
            "e59af819cc",
            "/authorization/202309/shops",
            &p(&[("app_key", "29a39d"), ("timestamp", "1623812664")]),
            b""
        ),
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    );
    assert_eq!(
        sandbox::tiktok::sign("app_secret", "/test-api", &p(&[("foo", "bar")]), b""),
        "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
    );
    assert_eq!(
        sandbox::tiktok::sign(
            "e59af819cc",
            "/event/202309/webhooks",
            &p(&[
                ("shop_cipher", "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK"),
                ("timestamp", "1696909648"),
                ("app_key", "68xu9ks5p4i8"),
                ("sign", "ignored")
            ]),
            br#"{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}"#
        ),
        "cd0d6268252f4ba293bf7ea4c0a2873bf9beec600d22530638564ab301435f7a"
    );
}

#[tokio::test]
async fn bad_signatures_tokens_timestamps_and_ciphers_get_the_real_codes() {
    let shop = spawn(100, 0).await;
    let path = "/product/202309/categories";
    let wrong = shop.url(path, true, &[], "", "wrong-secret", now());
    let res = shop
        .http
        .get(wrong)
        .header("x-tts-access-token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 106001);
    assert_eq!(shop.stats().await["tiktok"]["rejected_signatures"], 1);

    let stale = shop.url(path, true, &[], "", SECRET, now() - 301);
    let body: Value = shop
        .http
        .get(stale)
        .header("x-tts-access-token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["code"], 36009004);

    let expired: Value = shop
        .http
        .get(shop.url(path, true, &[], "", SECRET, now()))
        .header("x-tts-access-token", "old")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(expired["code"], 105002);

    let (_, missing) = shop
        .send(reqwest::Method::GET, path, false, &[], None)
        .await;
    assert_eq!(missing["code"], 106013);
    let (_, unexpected) = shop
        .send(
            reqwest::Method::GET,
            "/authorization/202309/shops",
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(unexpected["code"], 36009004);
    let (_, shops) = shop
        .send(
            reqwest::Method::GET,
            "/authorization/202309/shops",
            false,
            &[],
            None,
        )
        .await;
    assert_eq!(shops["data"]["shops"][0]["cipher"], CIPHER);
}

#[tokio::test]
async fn a_product_is_created_once_per_idempotency_key_read_searched_repriced_and_deleted() {
    let shop = spawn(100, 0).await;
    let uris = vec![
        shop.upload().await,
        shop.upload().await,
        shop.upload().await,
    ];
    let (status, created) = shop
        .send(
            reqwest::Method::POST,
            "/product/202309/products",
            true,
            &[],
            Some(product(&uris, "KAOS")),
        )
        .await;
    assert_eq!(
        (status, created["code"].as_u64()),
        (200, Some(0)),
        "{created}"
    );
    let id = created["data"]["product_id"].as_str().unwrap().to_string();
    let (_, again) = shop
        .send(
            reqwest::Method::POST,
            "/product/202309/products",
            true,
            &[],
            Some(product(&uris, "KAOS")),
        )
        .await;
    assert_eq!(
        again["data"]["product_id"],
        json!(id),
        "the retry finds the first product"
    );
    assert_eq!(shop.stats().await["tiktok"]["listings"], 1);

    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    let data = &got["data"];
    assert_eq!(data["status"], "ACTIVATE");
    assert_eq!(
        data["integrated_platform_statuses"],
        json!([{"platform": "TOKOPEDIA", "status": "ACTIVATE"}])
    );
    assert_eq!(data["skus"][1]["price"]["sale_price"], "58800");
    let image_url = data["main_images"][0]["urls"][0].as_str().unwrap();
    assert!(shop
        .http
        .get(image_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .starts_with(b"\x89PNG"));

    for version in ["202309", "202312", "202502"] {
        let (_, found) = shop
            .send(
                reqwest::Method::POST,
                &format!("/product/{version}/products/search"),
                true,
                &[("page_size", "10".into())],
                Some(json!({"seller_skus": ["KAOS-L"]})),
            )
            .await;
        assert_eq!(
            found["data"]["products"][0]["id"],
            json!(id),
            "{version}: {found}"
        );
    }

    let sku_id = data["skus"][1]["id"].as_str().unwrap();
    let (_, priced) = shop
        .send(
            reqwest::Method::POST,
            &format!("/product/202309/products/{id}/prices/update"),
            true,
            &[],
            Some(
                json!({"skus": [{"id": sku_id, "price": {"amount": "60000", "currency": "IDR"}}]}),
            ),
        )
        .await;
    assert_eq!(priced["code"], 0, "{priced}");

    let (_, deleted) = shop
        .send(
            reqwest::Method::DELETE,
            "/product/202309/products",
            true,
            &[],
            Some(json!({"product_ids": [id]})),
        )
        .await;
    assert_eq!(deleted["data"]["errors"], json!([]));
    let (status, gone) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert_eq!((status, gone["code"].as_u64()), (400, Some(12052700)));
}

#[tokio::test]
async fn new_listings_wait_in_audit_and_a_failed_audit_gives_reasons() {
    let shop = spawn(100, 60_000).await;
    let uris = vec![shop.upload().await];
    let (_, created) = shop
        .send(
            reqwest::Method::POST,
            "/product/202309/products",
            true,
            &[],
            Some(product(&uris, "A")),
        )
        .await;
    let id = created["data"]["product_id"].as_str().unwrap();
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(got["data"]["status"], "PENDING");
    assert_eq!(got["data"]["audit"]["status"], "AUDITING");

    let shop = spawn(100, 0).await;
    let uris = vec![shop.upload().await];
    let mut failing = product(&uris, "B");
    failing["description"] = json!("<p>Kaos</p><!-- sandbox:audit-fail -->");
    failing["listing_platforms"] = json!(["TOKOPEDIA"]);
    let (_, created) = shop
        .send(
            reqwest::Method::POST,
            "/product/202309/products",
            true,
            &[],
            Some(failing),
        )
        .await;
    let id = created["data"]["product_id"].as_str().unwrap();
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert!(
        got["data"].get("status").is_none(),
        "not listed on TikTok Shop, so no status"
    );
    assert_eq!(
        got["data"]["integrated_platform_statuses"][0]["status"],
        "FAILED"
    );
    assert_eq!(
        got["data"]["audit_failed_reasons"][0]["listing_platform"],
        "TOKOPEDIA"
    );
}

#[tokio::test]
async fn invalid_listings_are_rejected_with_product_codes() {
    let shop = spawn(100, 0).await;
    let uris = vec![shop.upload().await];
    type Mutation = fn(&mut Value);
    let cases: Vec<(u64, Mutation)> = vec![
        (12052051, |p| p["title"] = json!("Kaos pendek")),
        (12052024, |p| p["category_id"] = json!("600001")),
        (12052028, |p| p["main_images"] = json!([])),
        (12052300, |p| {
            p["main_images"] = json!([{"uri": "tos-unknown"}])
        }),
        (12052073, |p| {
            p["skus"][0]["price"]["amount"] = json!("12.5")
        }),
        (12052084, |p| {
            p["skus"][0]["price"]["currency"] = json!("USD")
        }),
        (12019022, |p| {
            p["skus"][0]["inventory"][0]["warehouse_id"] = json!("1")
        }),
        (12052181, |p| p["package_weight"]["value"] = json!("0")),
        (12019061, |p| p["package_weight"]["unit"] = json!("POUND")),
        (12052330, |p| p["listing_platforms"] = json!(["LAZADA"])),
        (12052050, |p| p["skus"][1]["sales_attributes"] = json!([])),
    ];
    for (code, mutate) in cases {
        let mut body = product(&uris, "X");
        body["idempotency_key"] = json!(format!("k-{code}"));
        mutate(&mut body);
        let (_, answer) = shop
            .send(
                reqwest::Method::POST,
                "/product/202309/products",
                true,
                &[],
                Some(body),
            )
            .await;
        assert_eq!(answer["code"], code, "{answer}");
    }
    assert_eq!(shop.stats().await["tiktok"]["listings"], 0);
}

#[tokio::test]
async fn over_the_rate_limit_is_http_429_with_36009002() {
    let shop = spawn(3, 0).await;
    let mut limited = 0;
    for _ in 0..20 {
        let (status, body) = shop
            .send(
                reqwest::Method::GET,
                "/logistics/202309/warehouses",
                true,
                &[],
                None,
            )
            .await;
        if status == 429 {
            assert_eq!(body["code"], 36009002);
            limited += 1;
        }
    }
    assert!(
        limited > 0,
        "20 quick requests at 3 per second: none was limited"
    );
}

#[tokio::test]
async fn products_are_edited_in_full_and_in_part_and_restocked() {
    let shop = spawn(100, 0).await;
    let uris = vec![shop.upload().await];
    let (_, created) = shop
        .send(
            reqwest::Method::POST,
            "/product/202309/products",
            true,
            &[],
            Some(product(&uris, "E")),
        )
        .await;
    let id = created["data"]["product_id"].as_str().unwrap().to_string();
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    let sku_m = got["data"]["skus"][0]["id"].as_str().unwrap().to_string();

    let (_, partial) = shop
        .send(
            reqwest::Method::POST,
            &format!("/product/202509/products/{id}/partial_edit"),
            true,
            &[],
            Some(json!({"title": "Kaos Polos Cotton Combed 30s Lengan Pendek Terbaru"})),
        )
        .await;
    assert_eq!(partial["code"], 0, "{partial}");
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(
        got["data"]["title"],
        "Kaos Polos Cotton Combed 30s Lengan Pendek Terbaru"
    );
    assert_eq!(
        got["data"]["skus"][0]["id"],
        json!(sku_m),
        "SKUs are kept by a partial edit"
    );

    // A full edit overwrites everything; the SKU named by id keeps its id and, without a
    // price, its price.
    let mut full = product(&uris, "E");
    full["skus"] = json!([{"id": sku_m, "seller_sku": "E-M", "sales_attributes": [{"name": "Ukuran", "value_name": "M"}]}]);
    for version in ["202309", "202509"] {
        let (_, edited) = shop
            .send(
                reqwest::Method::PUT,
                &format!("/product/{version}/products/{id}"),
                true,
                &[],
                Some(full.clone()),
            )
            .await;
        assert_eq!(edited["code"], 0, "{version}: {edited}");
    }
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(got["data"]["skus"].as_array().unwrap().len(), 1);
    assert_eq!(got["data"]["skus"][0]["price"]["sale_price"], "54000");
    let mut bad = full.clone();
    bad["title"] = json!("pendek");
    let (_, refused) = shop
        .send(
            reqwest::Method::PUT,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            Some(bad),
        )
        .await;
    assert_eq!(refused["code"], 12052051);

    let path = format!("/product/202309/products/{id}/inventory/update");
    let (_, stocked) = shop.send(reqwest::Method::POST, &path, true, &[], Some(json!({"skus": [{"id": sku_m, "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 33}]}]}))).await;
    assert_eq!(stocked["data"]["errors"], json!([]));
    let (_, too_many) = shop.send(reqwest::Method::POST, &path, true, &[], Some(json!({"skus": [{"id": sku_m, "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 100000}]}]}))).await;
    assert_eq!(too_many["data"]["errors"][0]["code"], 12019028);
    let (_, got) = shop
        .send(
            reqwest::Method::GET,
            &format!("/product/202309/products/{id}"),
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(got["data"]["skus"][0]["inventory"][0]["quantity"], 33);

    let (_, brands) = shop
        .send(
            reqwest::Method::GET,
            "/product/202309/brands",
            true,
            &[("page_size", "20".into())],
            None,
        )
        .await;
    assert_eq!(
        brands["data"]["brands"][0]["authorized_status"],
        "AUTHORIZED"
    );
    let (_, rules) = shop
        .send(
            reqwest::Method::GET,
            "/product/202309/categories/600011/rules",
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(rules["data"]["package_dimension"]["is_required"], false);
    let (_, not_leaf) = shop
        .send(
            reqwest::Method::GET,
            "/product/202309/categories/600001/rules",
            true,
            &[],
            None,
        )
        .await;
    assert_eq!(not_leaf["code"], 12052024);
}
