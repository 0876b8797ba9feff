//! Shopee Open Platform v2: common parameters, signatures, the envelope and errors, and
//! the product, media and logistics endpoints SyncStore uses.

pub mod catalog;
pub mod items;
pub mod media;
pub mod model;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::faults::{self, FaultEffect};
use crate::store::{Sandbox, ShopeeState};

/// Requests must arrive within five minutes of their timestamp.
const TIMESTAMP_WINDOW_SECS: i64 = 300;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/api/v2/product/get_category", get(items::get_category))
        .route(
            "/api/v2/product/get_attribute_tree",
            get(items::get_attribute_tree),
        )
        .route("/api/v2/product/get_brand_list", get(items::get_brand_list))
        .route("/api/v2/product/get_item_limit", get(items::get_item_limit))
        .route(
            "/api/v2/logistics/get_channel_list",
            get(items::get_channel_list),
        )
        .route(
            "/api/v2/media_space/upload_image",
            post(media::upload_image),
        )
        .route("/api/v2/product/add_item", post(items::add_item))
        .route("/api/v2/product/update_item", post(items::update_item))
        .route("/api/v2/product/update_price", post(items::update_price))
        .route("/api/v2/product/update_stock", post(items::update_stock))
        .route("/api/v2/product/unlist_item", post(items::unlist_item))
        .route("/api/v2/product/add_model", post(items::add_model))
        .route("/api/v2/product/update_model", post(items::update_model))
        .route("/api/v2/product/delete_model", post(items::delete_model))
        .route(
            "/api/v2/product/update_tier_variation",
            post(items::update_tier_variation),
        )
        .route("/api/v2/product/delete_item", post(items::delete_item))
        .route("/api/v2/product/get_item_list", get(items::get_item_list))
        .route(
            "/api/v2/product/get_item_base_info",
            get(items::get_item_base_info),
        )
        .route("/api/v2/product/search_item", get(items::search_item))
        .route(
            "/api/v2/product/init_tier_variation",
            post(items::init_tier_variation),
        )
        .route("/api/v2/product/get_model_list", get(items::get_model_list))
        .route("/api/v2/shop/get_shop_info", get(items::get_shop_info))
        .route("/shopee-media/{image_id}", get(media::serve_image))
}

/// A Shopee error: the `error` code, its message and the HTTP status it travels with.
#[derive(Debug)]
pub struct ShopeeError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ShopeeError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        let status = match code {
            "error_sign" | "error_auth" | "invalid_acceess_token" | "invalid_partner_id" => {
                StatusCode::FORBIDDEN
            }
            "error_rate_limit" => StatusCode::TOO_MANY_REQUESTS,
            "error_server" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ShopeeError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn param(message: impl Into<String>) -> Self {
        Self::new("error_param", message)
    }
}

fn request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

fn envelope(error: &str, message: &str, response: Option<Value>) -> Value {
    let mut body =
        json!({"request_id": request_id(), "error": error, "message": message, "warning": ""});
    if let Some(r) = response {
        body["response"] = r;
    }
    body
}

impl IntoResponse for ShopeeError {
    fn into_response(self) -> Response {
        (self.status, Json(envelope(self.code, &self.message, None))).into_response()
    }
}

pub type Params = Vec<(String, String)>;

pub fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn sign(partner_key: &str, base: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(partner_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(base.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a Public-signed call (`partner_id + path + timestamp`): the partner, the
/// five-minute window and the signature; `Err` is the message Shopee gives.
pub fn check_public_sign(sandbox: &Sandbox, path: &str, params: &Params) -> Result<(), String> {
    let creds = &sandbox.config.shopee;
    let (Some(partner_id), Some(timestamp), Some(given)) = (
        param(params, "partner_id"),
        param(params, "timestamp"),
        param(params, "sign"),
    ) else {
        return Err("partner_id, timestamp and sign are required".into());
    };
    if partner_id.parse::<u64>().ok() != Some(creds.partner_id) {
        return Err("Invalid partner_id.".into());
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| "Invalid timestamp".to_string())?;
    if (now() as i64 - ts).abs() > TIMESTAMP_WINDOW_SECS {
        return Err("Timestamp is expired".into());
    }
    if given
        != sign(
            &creds.partner_key,
            &format!("{partner_id}{path}{timestamp}"),
        )
    {
        return Err("Wrong sign.".into());
    }
    Ok(())
}

/// Which signature an endpoint takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// `partner_id + path + timestamp + access_token + shop_id`
    Shop,
    /// Media upload: the reference says Public, SDKs send the shop form; both are accepted.
    ShopOrPublic,
}

/// Checks the common parameters and the signature; returns the calling shop.
fn authenticate(
    sandbox: &Sandbox,
    state: &mut ShopeeState,
    oauth: &crate::oauth::OAuth,
    path: &str,
    params: &Params,
    signing: Signing,
) -> Result<u64, ShopeeError> {
    let creds = &sandbox.config.shopee;
    let partner_id = param(params, "partner_id")
        .ok_or_else(|| ShopeeError::param("Missing partner_id in query"))?;
    let timestamp = param(params, "timestamp")
        .ok_or_else(|| ShopeeError::param("Missing timestamp in query"))?;
    let given_sign =
        param(params, "sign").ok_or_else(|| ShopeeError::param("Missing sign in query"))?;
    let partner: u64 = partner_id
        .parse()
        .map_err(|_| ShopeeError::param("partner_id should be between 0 and 4294967295"))?;
    if partner != creds.partner_id {
        return Err(ShopeeError::new("error_auth", "Invalid partner_id."));
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| ShopeeError::param("Invalid timestamp"))?;
    if (now() as i64 - ts).abs() > TIMESTAMP_WINDOW_SECS {
        return Err(ShopeeError::param("Timestamp is expired"));
    }
    let token = param(params, "access_token");
    let shop = param(params, "shop_id");
    let public_base = format!("{partner_id}{path}{timestamp}");
    let valid = match (token, shop) {
        (Some(token), Some(shop)) => {
            given_sign == sign(&creds.partner_key, &format!("{public_base}{token}{shop}"))
        }
        _ if signing == Signing::ShopOrPublic => {
            given_sign == sign(&creds.partner_key, &public_base)
        }
        (None, _) => return Err(ShopeeError::param("Missing access_token in query")),
        (_, None) => return Err(ShopeeError::param("Missing shop_id in query")),
    };
    if !valid {
        state.stats.rejected_signatures += 1;
        return Err(ShopeeError::new("error_sign", "Wrong sign."));
    }
    if let Some(token) = token {
        use crate::oauth::{Platform, TokenCheck};
        match oauth.check(Platform::Shopee, token, &creds.access_token) {
            TokenCheck::Valid => {}
            TokenCheck::Expired => {
                return Err(ShopeeError::new(
                    "invalid_acceess_token",
                    "The access_token has expired.",
                ))
            }
            TokenCheck::Unknown => {
                return Err(ShopeeError::new(
                    "invalid_acceess_token",
                    "Invalid access_token.",
                ))
            }
        }
    }
    match shop.map(str::parse::<u64>) {
        Some(Ok(id)) if id == creds.shop_id => Ok(id),
        Some(_) => Err(ShopeeError::new(
            "error_auth",
            "The shop is not authorized to this partner.",
        )),
        None => Ok(creds.shop_id),
    }
}

fn check_rate(state: &mut ShopeeState, shop_id: u64, qps: u32) -> Result<(), ShopeeError> {
    let second = now();
    let entry = state.rate.entry(shop_id).or_insert((second, 0));
    if entry.0 != second {
        *entry = (second, 0);
    }
    entry.1 += 1;
    if entry.1 > qps {
        return Err(ShopeeError::new(
            "error_rate_limit",
            "Too many requests. Please try again later.",
        ));
    }
    Ok(())
}

/// Runs one Shopee call: counters, faults, authentication, rate limit, then `op` on the
/// shop's state, wrapped in the envelope.
pub async fn handle(
    sandbox: &Sandbox,
    path: &str,
    params: &Params,
    signing: Signing,
    op: impl FnOnce(&mut ShopeeState, u64) -> Result<Value, ShopeeError>,
) -> Response {
    let (fault, roll) = {
        let mut state = sandbox.lock();
        state.shopee.stats.requests += 1;
        (
            state.fault_for(0, path, state.shopee.fault),
            state.fault_roll(),
        )
    };
    match faults::apply(fault, roll).await {
        FaultEffect::Proceed => {}
        // A refusal arrives as late as any other answer of a slow marketplace.
        FaultEffect::RateLimited => {
            let refused = ShopeeError::new(
                "error_rate_limit",
                "Too many requests. Please try again later.",
            )
            .into_response();
            return faults::respond_late(fault, faults::rate_limited(fault, refused)).await;
        }
        FaultEffect::ServerError => {
            let failed = ShopeeError::new("error_server", "System error, please try again later.")
                .into_response();
            return faults::respond_late(fault, failed).await;
        }
        FaultEffect::Hang => return faults::hang().await,
        FaultEffect::Disconnect => return faults::disconnect(),
    }
    // The lock is released before the response waits out any injected latency.
    let result = {
        let mut state = sandbox.lock();
        let crate::store::State { shopee, oauth, .. } = &mut *state;
        authenticate(sandbox, shopee, oauth, path, params, signing)
            .and_then(|shop_id| {
                check_rate(shopee, shop_id, sandbox.config.shopee_qps).map(|_| shop_id)
            })
            .and_then(|shop_id| op(shopee, shop_id))
    };
    let response = match result {
        Ok(response) => Json(envelope("", "", Some(response))).into_response(),
        Err(e) => e.into_response(),
    };
    faults::respond_late(fault, response).await
}
