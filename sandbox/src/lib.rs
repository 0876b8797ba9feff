//! The marketplace sandbox: an offline stand-in for Shopee Open Platform v2 and TikTok
//! Shop 202309 on one port. It shares no code with SyncStore's clients, so the
//! two readings of the documentation check each other.

pub mod config;
pub mod faults;
pub mod shopee;
pub mod store;
pub mod tiktok;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use store::Sandbox;

pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .merge(shopee::router())
        .merge(tiktok::router())
        .route("/_sandbox/faults", post(faults::set_faults))
        .route("/_sandbox/stats", get(faults::stats))
        .route("/_sandbox/reset", post(faults::reset))
        .route("/_sandbox/tiktok/freeze", post(tiktok::products::freeze))
        .layer(DefaultBodyLimit::max(12 * 1024 * 1024))
        .with_state(sandbox)
}
