//! Shopee Open Platform v2 client: shop-signed requests, the image upload, the product
//! endpoints SyncStore uses, and error classification.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Sha256;

use super::error::MarketplaceError;
use super::{Connection, RateLimiter, TokenRefresher};

const PLATFORM: &str = "Shopee";
pub const PRODUCTION_URL: &str = "https://partner.shopeemobile.com";

#[derive(Debug, Clone)]
pub struct ShopeeCredentials {
    pub base_url: String,
    pub partner_id: u64,
    pub partner_key: String,
    pub shop_id: u64,
    pub access_token: String,
}

impl ShopeeCredentials {
    /// From `SHOPEE_*`; `None` when the shop is not configured.
    pub fn from_env() -> Option<ShopeeCredentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(ShopeeCredentials {
            base_url: var("SHOPEE_BASE_URL").unwrap_or_else(|| PRODUCTION_URL.to_string()),
            partner_id: var("SHOPEE_PARTNER_ID")?.parse().ok()?,
            partner_key: var("SHOPEE_PARTNER_KEY")?,
            shop_id: var("SHOPEE_SHOP_ID")?.parse().ok()?,
            access_token: var("SHOPEE_ACCESS_TOKEN")?,
        })
    }
}

/// `hex(HMAC-SHA256(partner_key, base))` with the key used as text, as Shopee documents.
pub fn sign(partner_key: &str, base: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(partner_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(base.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
pub struct ShopeeClient {
    conn: Connection,
    creds: ShopeeCredentials,
}

impl ShopeeClient {
    pub fn new(creds: ShopeeCredentials, timeout: Duration) -> ShopeeClient {
        ShopeeClient {
            conn: Connection::new(creds.access_token.clone(), timeout),
            creds,
        }
    }

    /// On a shared HTTP client.
    pub fn with_http(creds: ShopeeCredentials, http: reqwest::Client) -> ShopeeClient {
        ShopeeClient {
            conn: Connection::with_http(creds.access_token.clone(), http),
            creds,
        }
    }

    pub fn shop_id(&self) -> u64 {
        self.creds.shop_id
    }

    /// Renews the access token once when Shopee refuses it.
    pub fn with_token_refresher(mut self, refresher: TokenRefresher) -> Self {
        self.conn = self.conn.with_token_refresher(refresher);
        self
    }

    /// Paces every call through a rate limit shared with the other workers.
    pub fn with_rate_limit(mut self, limiter: RateLimiter) -> Self {
        self.conn = self.conn.with_rate_limit(limiter);
        self
    }

    /// The full URL with the common parameters and the shop signature
    /// (`partner_id + path + timestamp + access_token + shop_id`).
    fn signed_url(&self, token: &str, path: &str, query: &[(&str, String)]) -> String {
        let api_path = format!("/api/v2/{path}");
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let c = &self.creds;
        let sign = sign(
            &c.partner_key,
            &format!("{}{api_path}{timestamp}{token}{}", c.partner_id, c.shop_id),
        );
        let mut url = format!(
            "{}{api_path}?partner_id={}&timestamp={timestamp}&access_token={}&shop_id={}&sign={sign}",
            c.base_url.trim_end_matches('/'),
            c.partner_id,
            urlencoding::encode(token),
            c.shop_id
        );
        for (k, v) in query {
            url.push_str(&format!("&{k}={}", urlencoding::encode(v)));
        }
        url
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, MarketplaceError> {
        let answer = self.conn.fetch(PLATFORM, request).await?;
        let (status, retry, bytes) = (answer.status, answer.retry_after, answer.body);
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) if status == StatusCode::TOO_MANY_REQUESTS => Value::Null,
            Err(e) => {
                return Err(MarketplaceError::network(
                    PLATFORM,
                    format!("HTTP {status}, unreadable body: {e}"),
                ))
            }
        };
        let code = body["error"].as_str().unwrap_or("").to_string();
        let message = body["message"].as_str().unwrap_or("").to_string();
        if code.is_empty() && status.is_success() {
            return Ok(body.get("response").cloned().unwrap_or(Value::Null));
        }
        Err(classify(status, code, message, retry).redacted())
    }

    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, MarketplaceError> {
        self.conn
            .token()
            .with_refresh(|token| {
                self.call(
                    self.conn
                        .http()
                        .request(Method::GET, self.signed_url(&token, path, query)),
                )
            })
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, MarketplaceError> {
        self.conn
            .token()
            .with_refresh(|token| {
                self.call(
                    self.conn
                        .http()
                        .post(self.signed_url(&token, path, &[]))
                        .json(body),
                )
            })
            .await
    }

    /// Uploads one image (multipart part `image`) and returns its `image_id`.
    pub async fn upload_image(
        &self,
        bytes: Vec<u8>,
        file_name: &str,
    ) -> Result<String, MarketplaceError> {
        let response = self
            .conn
            .token()
            .with_refresh(|token| {
                let part =
                    reqwest::multipart::Part::bytes(bytes.clone()).file_name(file_name.to_string());
                let form = reqwest::multipart::Form::new()
                    .part("image", part)
                    .text("scene", "normal");
                let url = self.signed_url(&token, "media_space/upload_image", &[]);
                self.call(self.conn.http().post(url).multipart(form))
            })
            .await?;
        response["image_info"]["image_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                MarketplaceError::network(PLATFORM, "upload_image answered without an image_id")
            })
    }

    pub async fn item_limit(&self, category_id: u64) -> Result<Value, MarketplaceError> {
        self.get(
            "product/get_item_limit",
            &[("category_id", category_id.to_string())],
        )
        .await
    }

    /// Creates the item and returns its `item_id`.
    pub async fn add_item(&self, item: &Value) -> Result<u64, MarketplaceError> {
        let response = self.post("product/add_item", item).await?;
        response["item_id"].as_u64().ok_or_else(|| {
            MarketplaceError::network(PLATFORM, "add_item answered without an item_id")
        })
    }

    /// Items Shopee finds for `sku`. Whether Shopee matches the SKU exactly is not
    /// documented, so callers check each item's SKU themselves before adopting it.
    /// Every page is read (up to 2,000 items), so an exact match is not lost among
    /// partial ones.
    pub async fn search_item_by_sku(&self, sku: &str) -> Result<Vec<u64>, MarketplaceError> {
        let mut ids = Vec::new();
        let mut offset = String::new();
        for _ in 0..20 {
            let response = self
                .get(
                    "product/search_item",
                    &[
                        ("page_size", "100".into()),
                        ("offset", offset.clone()),
                        ("item_sku", sku.to_string()),
                    ],
                )
                .await?;
            ids.extend(
                response["item_id_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64),
            );
            match response["next_offset"].as_str().filter(|o| !o.is_empty()) {
                Some(next) => offset = next.to_string(),
                None => break,
            }
        }
        Ok(ids)
    }

    pub async fn item_base_info(&self, item_ids: &[u64]) -> Result<Vec<Value>, MarketplaceError> {
        let ids = item_ids
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let response = self
            .get("product/get_item_base_info", &[("item_id_list", ids)])
            .await?;
        Ok(response["item_list"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    pub async fn init_tier_variation(&self, body: &Value) -> Result<Value, MarketplaceError> {
        self.post("product/init_tier_variation", body).await
    }

    pub async fn model_list(&self, item_id: u64) -> Result<Value, MarketplaceError> {
        self.get(
            "product/get_model_list",
            &[("item_id", item_id.to_string())],
        )
        .await
    }

    /// `(model_id, price)` pairs; model 0 is the item itself when it has no variants.
    pub async fn update_price(
        &self,
        item_id: u64,
        prices: &[(u64, i64)],
    ) -> Result<Value, MarketplaceError> {
        let price_list: Vec<Value> = prices
            .iter()
            .map(|(model_id, price)| serde_json::json!({"model_id": model_id, "original_price": price}))
            .collect();
        let response = self
            .post(
                "product/update_price",
                &serde_json::json!({"item_id": item_id, "price_list": price_list}),
            )
            .await?;
        if let Some(failure) = response["failure_list"].as_array().and_then(|f| f.first()) {
            return Err(MarketplaceError::InvalidProduct {
                platform: PLATFORM,
                code: "update_price_failed".into(),
                message: failure["failed_reason"]
                    .as_str()
                    .unwrap_or("price update failed")
                    .to_string(),
            });
        }
        Ok(response)
    }

    /// `(model_id, stock)` pairs; model 0 is the item itself when it has no variants.
    pub async fn update_stock(
        &self,
        item_id: u64,
        stocks: &[(u64, i64)],
    ) -> Result<Value, MarketplaceError> {
        let stock_list: Vec<Value> = stocks
            .iter()
            .map(|(model_id, stock)| serde_json::json!({"model_id": model_id, "seller_stock": [{"stock": stock}]}))
            .collect();
        let response = self
            .post(
                "product/update_stock",
                &serde_json::json!({"item_id": item_id, "stock_list": stock_list}),
            )
            .await?;
        if let Some(failure) = response["failure_list"].as_array().and_then(|f| f.first()) {
            return Err(MarketplaceError::InvalidProduct {
                platform: PLATFORM,
                code: "update_stock_failed".into(),
                message: failure["failed_reason"]
                    .as_str()
                    .unwrap_or("stock update failed")
                    .to_string(),
            });
        }
        Ok(response)
    }

    /// Adds models to an item that already has tier variations.
    pub async fn add_model(
        &self,
        item_id: u64,
        models: &[Value],
    ) -> Result<Value, MarketplaceError> {
        self.post(
            "product/add_model",
            &serde_json::json!({"item_id": item_id, "model_list": models}),
        )
        .await
    }

    pub async fn delete_model(&self, item_id: u64, model_id: u64) -> Result<(), MarketplaceError> {
        self.post(
            "product/delete_model",
            &serde_json::json!({"item_id": item_id, "model_id": model_id}),
        )
        .await
        .map(|_| ())
    }

    /// New option lists for the same tier structure, with every kept model's new place.
    pub async fn update_tier_variation(&self, body: &Value) -> Result<Value, MarketplaceError> {
        self.post("product/update_tier_variation", body).await
    }

    pub async fn delete_item(&self, item_id: u64) -> Result<(), MarketplaceError> {
        self.post(
            "product/delete_item",
            &serde_json::json!({"item_id": item_id}),
        )
        .await
        .map(|_| ())
    }

    /// Takes an item off sale without deleting it.
    pub async fn unlist_item(&self, item_id: u64) -> Result<(), MarketplaceError> {
        let answer = self
            .post(
                "product/unlist_item",
                &serde_json::json!({"item_list": [{"item_id": item_id, "unlist": true}]}),
            )
            .await?;
        match answer["failure_list"].as_array().and_then(|f| f.first()) {
            Some(failure) => Err(MarketplaceError::InvalidProduct {
                platform: PLATFORM,
                code: failure["failed_reason"]
                    .as_str()
                    .unwrap_or("unlist_failed")
                    .to_string(),
                message: format!("Shopee did not unlist item {item_id}"),
            }),
            None => Ok(()),
        }
    }
}

/// Maps Shopee's `error` code (and the HTTP status) to SyncStore's four classes.
fn classify(
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<Duration>,
) -> MarketplaceError {
    match code.as_str() {
        "error_rate_limit" | "error_limit" => MarketplaceError::RateLimited {
            platform: PLATFORM,
            code,
            message,
            retry_after,
        },
        "error_server" | "error_inner" | "error_system_busy" => MarketplaceError::Network {
            platform: PLATFORM,
            message: format!("{code}: {message}"),
        },
        "error_auth"
        | "error_sign"
        | "invalid_acceess_token"
        | "invalid_access_token"
        | "invalid_partner_id"
        | "error_partner_key_expired"
        | "partner_shop_no_link"
        | "shop_no_linked"
        | "error_api_permission" => MarketplaceError::Unauthorized {
            platform: PLATFORM,
            code,
            message,
        },
        "error_param" if message.contains("Timestamp is expired") => {
            MarketplaceError::Unauthorized {
                platform: PLATFORM,
                code,
                message,
            }
        }
        "" if status == StatusCode::TOO_MANY_REQUESTS => MarketplaceError::RateLimited {
            platform: PLATFORM,
            code: "HTTP 429".into(),
            message,
            retry_after,
        },
        "" => MarketplaceError::Network {
            platform: PLATFORM,
            message: format!("HTTP {status} without an error code"),
        },
        _ if status.is_server_error() => MarketplaceError::Network {
            platform: PLATFORM,
            message: format!("{code}: {message}"),
        },
        _ => MarketplaceError::InvalidProduct {
            platform: PLATFORM,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_published_examples() {
        assert_eq!(
            sign(
                "test_partner_key",
                "123456/api/v2/order/get_order_list1710000000token_value654321"
            ),
            "174af5342b881750dad12a896dffa27da126f1e58a9eb99b12e59a06c288735c"
        );
        assert_eq!(
            sign(
                "test_partner_key",
                "123456/api/v2/shop/auth_partner1710000000"
            ),
            "aa06d2243ba99639c22fba4ef5ac791d22b672cb66f8ec1d26972d91f810855b"
        );
    }

    #[test]
    fn errors_fall_into_the_four_classes() {
        let class = |status: u16, code: &str, message: &str| {
            classify(
                StatusCode::from_u16(status).unwrap(),
                code.into(),
                message.into(),
                None,
            )
            .class()
        };
        assert_eq!(class(429, "error_rate_limit", ""), "RATE_LIMITED");
        assert_eq!(class(500, "error_server", ""), "NETWORK_ERROR");
        assert_eq!(class(502, "", ""), "NETWORK_ERROR");
        assert_eq!(class(403, "invalid_acceess_token", ""), "UNAUTHORIZED");
        assert_eq!(class(403, "error_sign", "Wrong sign."), "UNAUTHORIZED");
        assert_eq!(
            class(400, "error_param", "Timestamp is expired"),
            "UNAUTHORIZED"
        );
        assert_eq!(class(400, "error_invalid_category", ""), "INVALID_PRODUCT");
        assert_eq!(class(200, "error_item_not_found", ""), "INVALID_PRODUCT");
    }
}
