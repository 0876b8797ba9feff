//! The marketplace sandbox: an offline stand-in for Shopee Open Platform v2 and TikTok
//! Shop 202309 on one port. It shares no code with SyncStore's clients, so the
//! two readings of the documentation check each other.

pub mod config;
pub mod faults;
pub mod oauth;
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
        .route("/_sandbox/oauth", post(oauth::control).get(oauth::counts))
        .route("/_sandbox/consent", post(oauth::consent))
        .route("/api/v2/shop/auth_partner", get(oauth::shopee_auth_partner))
        .route("/api/v2/auth/token/get", post(oauth::shopee_token_get))
        .route(
            "/api/v2/auth/access_token/get",
            post(oauth::shopee_access_token_get),
        )
        .route("/oauth/authorize", get(oauth::tiktok_authorize))
        .route("/api/v2/token/get", get(oauth::tiktok_token_get))
        .route("/api/v2/token/refresh", get(oauth::tiktok_token_refresh))
        .layer(DefaultBodyLimit::max(12 * 1024 * 1024))
        .with_state(sandbox)
}
