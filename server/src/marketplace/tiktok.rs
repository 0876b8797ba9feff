//! TikTok Shop API 202309 client: signed requests with the access-token header and
//! `shop_cipher` where the API wants it, the image upload, product calls, and error
//! classification.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Sha256;

use super::error::MarketplaceError;
use super::{Connection, RateLimiter, TokenRefresher};

const PLATFORM: &str = "TikTok Shop";
pub const PRODUCTION_URL: &str = "https://open-api.tiktokglobalshop.com";

#[derive(Debug, Clone)]
pub struct TiktokCredentials {
    pub base_url: String,
    pub app_key: String,
    pub app_secret: String,
    pub shop_cipher: String,
    pub access_token: String,
}

impl TiktokCredentials {
    /// From `TIKTOK_*`; `None` when the shop is not configured.
    pub fn from_env() -> Option<TiktokCredentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(TiktokCredentials {
            base_url: var("TIKTOK_BASE_URL").unwrap_or_else(|| PRODUCTION_URL.to_string()),
            app_key: var("TIKTOK_APP_KEY")?,
            app_secret: var("TIKTOK_APP_SECRET")?,
            shop_cipher: var("TIKTOK_SHOP_CIPHER")?,
            access_token: var("TIKTOK_ACCESS_TOKEN")?,
        })
    }
}

/// `hex(HMAC-SHA256(secret, secret + path + sorted{key}{value} + body + secret))`, without
/// `sign` and `access_token`; multipart bodies are not signed (pass an empty body).
pub fn sign(app_secret: &str, path: &str, query: &[(String, String)], body: &str) -> String {
    let sorted: BTreeMap<&str, &str> = query
        .iter()
        .filter(|(k, _)| k != "sign" && k != "access_token")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let params: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{app_secret}{path}{params}{body}{app_secret}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
pub struct TiktokClient {
    conn: Connection,
    creds: TiktokCredentials,
}

impl TiktokClient {
    pub fn new(creds: TiktokCredentials, timeout: Duration) -> TiktokClient {
        TiktokClient {
            conn: Connection::new(creds.access_token.clone(), timeout),
            creds,
        }
    }

    /// On a shared HTTP client.
    pub fn with_http(creds: TiktokCredentials, http: reqwest::Client) -> TiktokClient {
        TiktokClient {
            conn: Connection::with_http(creds.access_token.clone(), http),
            creds,
        }
    }

    /// Get Authorized Shops: the shops this token covers, with their ciphers (the call
    /// takes no `shop_cipher`).
    pub async fn authorized_shops(&self) -> Result<Value, MarketplaceError> {
        self.conn
            .token()
            .with_refresh(|token| {
                let url = self.signed_url("/authorization/202309/shops", false, &[], "");
                let request = self.conn.http().get(url);
                async move { self.call(&token, request).await }
            })
            .await
    }

    /// Renews the access token once when TikTok Shop refuses it (105002).
    pub fn with_token_refresher(mut self, refresher: TokenRefresher) -> Self {
        self.conn = self.conn.with_token_refresher(refresher);
        self
    }

    /// Paces every call through a rate limit shared with the other workers.
    pub fn with_rate_limit(mut self, limiter: RateLimiter) -> Self {
        self.conn = self.conn.with_rate_limit(limiter);
        self
    }

    /// `shop` says whether the endpoint takes `shop_cipher` (it refuses it elsewhere).
    fn signed_url(&self, path: &str, shop: bool, extra: &[(&str, String)], body: &str) -> String {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut query: Vec<(String, String)> = vec![
            ("app_key".into(), self.creds.app_key.clone()),
            ("timestamp".into(), timestamp.to_string()),
        ];
        if shop {
            query.push(("shop_cipher".into(), self.creds.shop_cipher.clone()));
        }
        query.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let sign = sign(&self.creds.app_secret, path, &query, body);
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        format!(
            "{}{path}?{}&sign={sign}",
            self.creds.base_url.trim_end_matches('/'),
            qs.join("&")
        )
    }

    async fn call(
        &self,
        token: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, MarketplaceError> {
        let answer = self
            .conn
            .fetch(PLATFORM, request.header("x-tts-access-token", token))
            .await?;
        let (status, retry, bytes) = (answer.status, answer.retry_after, answer.body);
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) if status == StatusCode::TOO_MANY_REQUESTS => {
                serde_json::json!({"code": 36009002, "message": "Too many requests"})
            }
            Err(e) => {
                return Err(MarketplaceError::network(
                    PLATFORM,
                    format!("HTTP {status}, unreadable body: {e}"),
                ))
            }
        };
        match body["code"].as_u64() {
            Some(0) if status.is_success() => Ok(body["data"].clone()),
            Some(code) => Err(classify(
                status,
                code,
                body["message"].as_str().unwrap_or("").to_string(),
                retry,
            )
            .redacted()),
            None => Err(MarketplaceError::network(
                PLATFORM,
                format!("HTTP {status} without a code"),
            )),
        }
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, MarketplaceError> {
        // The exact bytes sent are the bytes signed.
        let text = body.map(Value::to_string).unwrap_or_default();
        self.conn
            .token()
            .with_refresh(|token| {
                let mut request = self
                    .conn
                    .http()
                    .request(method.clone(), self.signed_url(path, true, extra, &text));
                if body.is_some() {
                    request = request
                        .header("content-type", "application/json")
                        .body(text.clone());
                }
                async move { self.call(&token, request).await }
            })
            .await
    }

    /// The category tree (`categories[]` with `id`, `parent_id`, `local_name`, `is_leaf`).
    pub async fn categories(&self) -> Result<Value, MarketplaceError> {
        self.json(Method::GET, "/product/202309/categories", &[], None)
            .await
    }

    /// A category's attributes (`attributes[]` with `name`, `type`, `is_requried`, `values`).
    pub async fn category_attributes(&self, category_id: &str) -> Result<Value, MarketplaceError> {
        self.json(
            Method::GET,
            &format!(
                "/product/202309/categories/{}/attributes",
                urlencoding::encode(category_id)
            ),
            &[],
            None,
        )
        .await
    }

    pub async fn warehouses(&self) -> Result<Value, MarketplaceError> {
        self.json(Method::GET, "/logistics/202309/warehouses", &[], None)
            .await
    }

    /// Uploads a main image and returns its `uri`.
    pub async fn upload_image(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
    ) -> Result<String, MarketplaceError> {
        let data = self
            .conn
            .token()
            .with_refresh(|token| {
                let form = reqwest::multipart::Form::new()
                    .part(
                        "data",
                        reqwest::multipart::Part::bytes(bytes.clone())
                            .file_name(file_name.to_string()),
                    )
                    .text("use_case", "MAIN_IMAGE");
                let url = self.signed_url("/product/202309/images/upload", false, &[], "");
                async move {
                    self.call(&token, self.conn.http().post(url).multipart(form))
                        .await
                }
            })
            .await?;
        data["uri"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MarketplaceError::network(PLATFORM, "upload answered without a uri"))
    }

    /// Creates a product; the body's `idempotency_key` makes a retry return the same one.
    pub async fn create_product(&self, product: &Value) -> Result<Value, MarketplaceError> {
        self.json(Method::POST, "/product/202309/products", &[], Some(product))
            .await
    }

    pub async fn product(&self, product_id: &str) -> Result<Value, MarketplaceError> {
        self.json(
            Method::GET,
            &format!("/product/202309/products/{product_id}"),
            &[],
            None,
        )
        .await
    }

    /// Products carrying any of these seller SKUs.
    pub async fn search_by_seller_skus(
        &self,
        skus: &[String],
    ) -> Result<Vec<Value>, MarketplaceError> {
        let body = serde_json::json!({"seller_skus": skus});
        let data = self
            .json(
                Method::POST,
                "/product/202309/products/search",
                &[("page_size", "100".into())],
                Some(&body),
            )
            .await?;
        Ok(data["products"].as_array().cloned().unwrap_or_default())
    }

    /// `(sku_id, price)` pairs in whole rupiah.
    pub async fn update_prices(
        &self,
        product_id: &str,
        prices: &[(String, i64)],
    ) -> Result<(), MarketplaceError> {
        let skus: Vec<Value> = prices
            .iter()
            .map(|(id, price)| serde_json::json!({"id": id, "price": {"amount": price.to_string(), "currency": "IDR"}}))
            .collect();
        let path = format!("/product/202309/products/{product_id}/prices/update");
        self.json(
            Method::POST,
            &path,
            &[],
            Some(&serde_json::json!({"skus": skus})),
        )
        .await
        .map(|_| ())
    }

    /// Replaces the given top-level properties (title, description, …); sends the
    /// product back to audit.
    /// Full edit: the listing becomes exactly `body` (SKUs without an id are added, SKUs
    /// left out are removed) and goes back to audit.
    pub async fn edit_product(
        &self,
        product_id: &str,
        body: &Value,
    ) -> Result<(), MarketplaceError> {
        let path = format!("/product/202309/products/{product_id}");
        self.json(Method::PUT, &path, &[], Some(body))
            .await
            .map(|_| ())
    }

    pub async fn partial_edit(
        &self,
        product_id: &str,
        body: &Value,
    ) -> Result<(), MarketplaceError> {
        let path = format!("/product/202309/products/{product_id}/partial_edit");
        self.json(Method::POST, &path, &[], Some(body))
            .await
            .map(|_| ())
    }

    /// Takes products off sale without deleting them.
    pub async fn deactivate_products(
        &self,
        product_ids: &[String],
    ) -> Result<(), MarketplaceError> {
        self.for_products(
            Method::POST,
            "/product/202309/products/deactivate",
            product_ids,
            "not deactivated",
        )
        .await
    }

    pub async fn delete_products(&self, product_ids: &[String]) -> Result<(), MarketplaceError> {
        self.for_products(
            Method::DELETE,
            "/product/202309/products",
            product_ids,
            "delete failed",
        )
        .await
    }

    /// A call on several products at once, which answers per product in `data.errors`: the
    /// first error is the call's.
    async fn for_products(
        &self,
        method: Method,
        path: &str,
        product_ids: &[String],
        failed: &str,
    ) -> Result<(), MarketplaceError> {
        let data = self
            .json(
                method,
                path,
                &[],
                Some(&serde_json::json!({"product_ids": product_ids})),
            )
            .await?;
        match data["errors"].as_array().and_then(|e| e.first()) {
            Some(err) => Err(MarketplaceError::InvalidProduct {
                platform: PLATFORM,
                code: err["code"].to_string(),
                message: err["message"].as_str().unwrap_or(failed).to_string(),
            }),
            None => Ok(()),
        }
    }
}

/// Maps TikTok's `code` (and the HTTP status) to SyncStore's four classes.
fn classify(
    status: StatusCode,
    code: u64,
    message: String,
    retry_after: Option<Duration>,
) -> MarketplaceError {
    let text = code.to_string();
    match code {
        36_009_002 => MarketplaceError::RateLimited {
            platform: PLATFORM,
            code: text,
            message,
            retry_after,
        },
        36_009_003 | 36_009_007 => MarketplaceError::Network {
            platform: PLATFORM,
            message: format!("{code}: {message}"),
        },
        106_001 | 105_001 | 105_002 | 105_005 | 101_000 | 36_009_004 | 106_013 => {
            MarketplaceError::Unauthorized {
                platform: PLATFORM,
                code: text,
                message,
            }
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS => MarketplaceError::RateLimited {
            platform: PLATFORM,
            code: text,
            message,
            retry_after,
        },
        _ if status.is_server_error() => MarketplaceError::Network {
            platform: PLATFORM,
            message: format!("{code}: {message}"),
        },
        _ => MarketplaceError::InvalidProduct {
            platform: PLATFORM,
            code: text,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signs_the_published_examples() {
        assert_eq!(
            sign(
                "e59af819cc",
                "/authorization/202309/shops",
                &q(&[("app_key", "29a39d"), ("timestamp", "1623812664")]),
                ""
            ),
            "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
        );
        assert_eq!(
            sign("app_secret", "/test-api", &q(&[("foo", "bar")]), ""),
            "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
        );
        assert_eq!(
            sign(
                "e59af819cc",
                "/event/202309/webhooks",
                &q(&[
                    ("app_key", "68xu9ks5p4i8"),
                    ("shop_cipher", "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK"),
                    ("timestamp", "1696909648")
                ]),
                r#"{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}"#
            ),
            "cd0d6268252f4ba293bf7ea4c0a2873bf9beec600d22530638564ab301435f7a"
        );
    }

    #[test]
    fn errors_fall_into_the_four_classes() {
        let class = |status: u16, code: u64| {
            classify(
                StatusCode::from_u16(status).unwrap(),
                code,
                String::new(),
                None,
            )
            .class()
        };
        assert_eq!(class(429, 36009002), "RATE_LIMITED");
        assert_eq!(class(500, 36009003), "NETWORK_ERROR");
        assert_eq!(class(503, 1), "NETWORK_ERROR");
        assert_eq!(class(401, 106001), "UNAUTHORIZED");
        assert_eq!(class(401, 105002), "UNAUTHORIZED");
        assert_eq!(class(400, 12052024), "INVALID_PRODUCT");
    }
}
