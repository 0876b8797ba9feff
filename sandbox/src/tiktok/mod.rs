//! TikTok Shop API 202309 (with the later versions integrators use): the signature, the
//! access-token header, `shop_cipher` rules, the `{code, message, data, request_id}`
//! envelope, per-API rate limits and the product endpoints.

pub mod model;
pub mod products;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::faults::{self, FaultEffect};
use crate::store::{Sandbox, TiktokState};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/authorization/202309/shops",
            get(products::authorized_shops),
        )
        .route("/product/202309/categories", get(products::categories))
        .route(
            "/product/202309/categories/{id}/attributes",
            get(products::attributes),
        )
        .route("/logistics/202309/warehouses", get(products::warehouses))
        .route(
            "/product/202309/images/upload",
            post(products::upload_image),
        )
        .route(
            "/product/202309/products",
            post(products::create).delete(products::delete_products),
        )
        .route(
            "/product/202309/products/{id}",
            get(products::get_product).put(products::edit_product),
        )
        .route(
            "/product/202509/products/{id}",
            axum::routing::put(products::edit_product),
        )
        .route(
            "/product/202309/products/{id}/partial_edit",
            post(products::edit_product),
        )
        .route(
            "/product/202509/products/{id}/partial_edit",
            post(products::edit_product),
        )
        .route(
            "/product/202309/products/{id}/inventory/update",
            post(products::update_inventory),
        )
        .route("/product/202309/brands", get(products::brands))
        .route(
            "/product/202309/categories/{id}/rules",
            get(products::category_rules),
        )
        // Integrators call search in several versions; each is served.
        .route(
            "/product/202309/products/search",
            post(products::search_202309),
        )
        .route(
            "/product/202312/products/search",
            post(products::search_202312),
        )
        .route(
            "/product/202502/products/search",
            post(products::search_202502),
        )
        .route(
            "/product/202309/products/{id}/prices/update",
            post(products::update_prices),
        )
        .route(
            "/product/202309/products/activate",
            post(products::activate),
        )
        .route(
            "/product/202309/products/deactivate",
            post(products::deactivate),
        )
        .route("/tiktok-media/{uri}", get(products::serve_image))
}

#[derive(Debug)]
pub struct TiktokError {
    pub status: StatusCode,
    pub code: u64,
    pub message: String,
}

impl TiktokError {
    pub fn new(status: StatusCode, code: u64, message: impl Into<String>) -> Self {
        TiktokError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A listing problem: HTTP 400 with the product error code.
    pub fn product(code: u64, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

fn request_id() -> String {
    format!(
        "{}{}",
        now_secs(),
        hex::encode(rand::random::<[u8; 8]>()).to_uppercase()
    )
}

impl IntoResponse for TiktokError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message, "data": {}, "request_id": request_id()}))).into_response()
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The documented signature: sorted query params (without `sign` and `access_token`) as
/// `{key}{value}`, the path in front, the exact body behind unless multipart, wrapped in
/// the app secret, HMAC-SHA256 keyed with the secret, lowercase hex.
pub fn sign(app_secret: &str, path: &str, params: &[(String, String)], body: &[u8]) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .iter()
        .filter(|(k, _)| k != "sign" && k != "access_token")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut base = path.to_string();
    for (k, v) in sorted {
        base.push_str(k);
        base.push_str(v);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(app_secret.as_bytes());
    mac.update(base.as_bytes());
    mac.update(body);
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Required,
    /// The endpoint rejects `shop_cipher` ("Unexpected identifier").
    Rejected,
}

pub struct Call<'a> {
    pub path: &'a str,
    pub params: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    /// The raw body, or `None` for multipart (never signed).
    pub body: Option<&'a [u8]>,
    pub cipher: Cipher,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn authenticate(
    sb: &Sandbox,
    state: &mut TiktokState,
    oauth: &crate::oauth::OAuth,
    call: &Call<'_>,
) -> Result<(), TiktokError> {
    let creds = &sb.config.tiktok;
    let unauthorized =
        |message: &str| TiktokError::new(StatusCode::UNAUTHORIZED, 36_009_004, message);
    let app_key = param(call.params, "app_key")
        .ok_or_else(|| unauthorized("Invalid credentials: app_key is missing"))?;
    if app_key != creds.app_key {
        return Err(unauthorized("Invalid credentials: invalid app_key"));
    }
    let timestamp: i64 = param(call.params, "timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| unauthorized("Invalid credentials: timestamp is missing"))?;
    let now = now_secs() as i64;
    if timestamp < now - 300 || timestamp > now + 30 {
        return Err(unauthorized(
            "Invalid credentials: timestamp is out of the valid window",
        ));
    }
    let given = param(call.params, "sign")
        .ok_or_else(|| unauthorized("Invalid credentials: sign is missing"))?;
    let expected = sign(
        &creds.app_secret,
        call.path,
        call.params,
        call.body.unwrap_or_default(),
    );
    if given != expected {
        state.stats.rejected_signatures += 1;
        return Err(TiktokError::new(
            StatusCode::UNAUTHORIZED,
            106_001,
            "Invalid sign",
        ));
    }
    let token = call
        .headers
        .get("x-tts-access-token")
        .and_then(|v| v.to_str().ok());
    match token {
        None => {
            return Err(unauthorized(
                "Invalid credentials: x-tts-access-token header is missing",
            ))
        }
        Some(t) => {
            use crate::oauth::{Platform, TokenCheck};
            match oauth.check(Platform::Tiktok, t, &creds.access_token) {
                TokenCheck::Valid => {}
                // TikTok answers an unknown token as an expired one.
                TokenCheck::Expired | TokenCheck::Unknown => {
                    return Err(TiktokError::new(
                        StatusCode::UNAUTHORIZED,
                        105_002,
                        "Expired credentials: the access token has expired",
                    ))
                }
            }
        }
    }
    match (call.cipher, param(call.params, "shop_cipher")) {
        (Cipher::Required, None) => Err(TiktokError::new(
            StatusCode::BAD_REQUEST,
            106_013,
            "shop_cipher is required",
        )),
        (Cipher::Required, Some(c)) if c != creds.shop_cipher => Err(TiktokError::new(
            StatusCode::BAD_REQUEST,
            101_000,
            "shop_cipher does not match the access token",
        )),
        (Cipher::Rejected, Some(_)) => Err(unauthorized("Unexpected identifier: shop_cipher")),
        _ => Ok(()),
    }
}

fn check_rate(state: &mut TiktokState, api: &str, qps: u32) -> Result<(), TiktokError> {
    let second = now_secs();
    let entry = state.rate.entry(api.to_string()).or_insert((second, 0));
    if entry.0 != second {
        *entry = (second, 0);
    }
    entry.1 += 1;
    if entry.1 > qps {
        return Err(TiktokError::new(
            StatusCode::TOO_MANY_REQUESTS,
            36_009_002,
            "Too many requests",
        ));
    }
    Ok(())
}

/// Runs one TikTok call: counters, faults, authentication, rate limit, then `op`.
pub async fn handle(
    sb: &Sandbox,
    call: Call<'_>,
    op: impl FnOnce(&mut TiktokState, &Sandbox) -> Result<Value, TiktokError>,
) -> Response {
    let (fault, roll) = {
        let mut state = sb.lock();
        state.tiktok.stats.requests += 1;
        (
            state.fault_for(1, call.path, state.tiktok_fault),
            state.fault_roll(),
        )
    };
    match faults::apply(fault, roll).await {
        FaultEffect::Proceed => {}
        // A refusal arrives as late as any other answer of a slow marketplace.
        FaultEffect::RateLimited => {
            let refused = TiktokError::new(
                StatusCode::TOO_MANY_REQUESTS,
                36_009_002,
                "Too many requests",
            )
            .into_response();
            return faults::respond_late(fault, faults::rate_limited(fault, refused)).await;
        }
        FaultEffect::ServerError => {
            let failed = TiktokError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                36_009_003,
                "Internal error, please retry",
            )
            .into_response();
            return faults::respond_late(fault, failed).await;
        }
        FaultEffect::Hang => return faults::hang().await,
        FaultEffect::Disconnect => return faults::disconnect(),
    }
    // The lock is released before the response waits out any injected latency.
    let result = {
        let mut guard = sb.lock();
        let crate::store::State {
            tiktok: state,
            oauth,
            ..
        } = &mut *guard;
        authenticate(sb, state, oauth, &call)
            .and_then(|_| check_rate(state, call.path, sb.config.tiktok_qps))
            .and_then(|_| op(state, sb))
    };
    let response = match result {
        Ok(data) => {
            Json(json!({"code": 0, "message": "Success", "data": data, "request_id": request_id()}))
                .into_response()
        }
        Err(e) => e.into_response(),
    };
    faults::respond_late(fault, response).await
}
