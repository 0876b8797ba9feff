//! Injected faults and the admin endpoints: `/_sandbox/faults`, `/_sandbox/stats`,
//! `/_sandbox/reset`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::store::Sandbox;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    #[default]
    None,
    RateLimit,
    ServerError,
    Timeout,
    Disconnect,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Fault {
    pub mode: FaultMode,
    pub probability: f64,
    pub latency_ms: u64,
    /// Sent as `Retry-After` (seconds) with injected rate-limit answers. Neither platform
    /// documents the header, so it is off unless a test asks for it.
    pub retry_after_s: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    Shopee,
    Tiktok,
    All,
}

#[derive(Deserialize)]
pub struct FaultRequest {
    platform: FaultTarget,
    mode: FaultMode,
    #[serde(default = "one")]
    probability: f64,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    retry_after_s: Option<u64>,
    /// Makes the choice of faulted calls repeatable from here on.
    #[serde(default)]
    seed: Option<u64>,
    /// Fault only calls whose path contains this (e.g. `get_item_base_info`).
    #[serde(default)]
    path: Option<String>,
}

fn one() -> f64 {
    1.0
}

pub async fn set_faults(State(sandbox): State<Sandbox>, body: axum::body::Bytes) -> Response {
    let request: FaultRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.to_string()})),
            )
                .into_response()
        }
    };
    if !(0.0..=1.0).contains(&request.probability) || request.latency_ms > 120_000 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "probability must be 0.0-1.0 and latency_ms at most 120000"})),
        )
            .into_response();
    }
    let fault = Fault {
        mode: request.mode,
        probability: request.probability,
        latency_ms: request.latency_ms,
        retry_after_s: request.retry_after_s,
    };
    let mut state = sandbox.lock();
    if let Some(seed) = request.seed {
        use rand::SeedableRng;
        state.fault_rng = Some(rand::rngs::StdRng::seed_from_u64(seed));
    }
    if matches!(request.platform, FaultTarget::Shopee | FaultTarget::All) {
        state.shopee.fault = fault;
        state.fault_paths[0] = request.path.clone();
    }
    if matches!(request.platform, FaultTarget::Tiktok | FaultTarget::All) {
        state.tiktok_fault = fault;
        state.fault_paths[1] = request.path.clone();
    }
    Json(json!({"ok": true})).into_response()
}

pub async fn stats(State(sandbox): State<Sandbox>) -> Json<serde_json::Value> {
    let state = sandbox.lock();
    Json(json!({
        "shopee": {
            "requests": state.shopee.stats.requests,
            "listings": state.shopee.live_listings(),
            "rejected_signatures": state.shopee.stats.rejected_signatures,
        },
        "tiktok": {
            "requests": state.tiktok.stats.requests,
            "listings": state.tiktok.products.len(),
            "rejected_signatures": state.tiktok.stats.rejected_signatures,
        },
    }))
}

pub async fn reset(State(sandbox): State<Sandbox>) -> Json<serde_json::Value> {
    sandbox.reset();
    Json(json!({"ok": true}))
}

/// What an injected fault does to one request, decided before the handler runs.
pub enum FaultEffect {
    Proceed,
    RateLimited,
    ServerError,
    Hang,
    Disconnect,
}

/// What an injected fault does to a request, given its `roll` ([`State::fault_roll`]);
/// latency is added separately, by [`respond_late`].
///
/// [`State::fault_roll`]: crate::store::State::fault_roll
pub async fn apply(fault: Fault, roll: f64) -> FaultEffect {
    if fault.mode == FaultMode::None || roll >= fault.probability {
        return FaultEffect::Proceed;
    }
    match fault.mode {
        FaultMode::None => FaultEffect::Proceed,
        FaultMode::RateLimit => FaultEffect::RateLimited,
        FaultMode::ServerError => FaultEffect::ServerError,
        FaultMode::Timeout => FaultEffect::Hang,
        FaultMode::Disconnect => FaultEffect::Disconnect,
    }
}

/// An injected rate-limit answer, with the fault's `Retry-After` when it has one.
pub fn rate_limited(fault: Fault, mut response: Response) -> Response {
    if let Some(seconds) = fault.retry_after_s {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(seconds),
        );
    }
    response
}

/// A response whose body fails after the headers: the client sees the connection drop.
pub fn disconnect() -> Response {
    let stream = futures::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox disconnect",
        ))
    });
    Response::new(Body::from_stream(stream))
}

/// Long enough that any client gives up first.
pub async fn hang() -> Response {
    tokio::time::sleep(Duration::from_secs(300)).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

/// Holds a response back for the fault's latency. The request has already taken effect, as
/// with a slow marketplace: a client that gives up meanwhile has still created what it asked.
pub async fn respond_late(fault: Fault, response: Response) -> Response {
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    response
}
