//! The HTTP surface: JSON API, auth forms, media and the Leptos dashboard.

pub mod auth;
pub mod batch;
mod dashboard;
pub mod error;
mod input;
pub mod media;
pub mod products;
pub mod sync;
mod validation;

use std::sync::Arc;

use app::api::ssr::SharedDashboard;
use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::redis::RedisSessionStore;
use crate::startup::AppState;

/// Development and end-to-end builds serve a multi-megabyte WASM that is compressed on every
/// request: the fastest level keeps that at tens of milliseconds (the default level took
/// seconds unoptimised, a third of a second optimised). Release builds compress harder.
const COMPRESSION: tower_http::CompressionLevel = if cfg!(debug_assertions) {
    tower_http::CompressionLevel::Fastest
} else {
    tower_http::CompressionLevel::Default
};

pub fn router(
    state: AppState,
    events: crate::queue::events::BatchEvents,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let dashboard: SharedDashboard = Arc::new(dashboard::DbDashboard(state.clone()));
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(RedisSessionStore::new(
        state.redis.clone(),
        &state.settings.redis_prefix,
    ))
    .with_name("syncstore_session")
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(state.settings.public_url.starts_with("https://"))
    .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    let api = Router::new()
        .route("/api/auth/login", post(auth::api_login))
        .route("/api/auth/logout", post(auth::api_logout))
        .route("/api/products", get(products::list))
        .route("/api/products/{id}", get(products::detail))
        .route("/api/sync/manual", post(sync::manual))
        .route("/api/sync/batch", post(batch::start))
        .route("/api/sync/batch/status", get(batch::status))
        .route("/api/sync/batch/{batch_id}/events", get(batch::events))
        .route("/api/sync/batch/{batch_id}/cancel", post(batch::cancel))
        .route("/api/validation", get(validation::latest))
        .route("/api/validation/run", post(validation::run))
        .route("/login", post(auth::form_login))
        .route("/logout", post(auth::form_logout));

    let leptos_options = state.leptos_options.clone();
    Router::new()
        .merge(api)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(dashboard.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_user,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(auth::reject_cross_site))
        .route("/media/demo/{sku}/{file}", get(media::demo_image))
        .layer(middleware::from_fn(input::refuse_unstorable_input))
        // Every response: no framing, no MIME sniffing, no referrer to other sites.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CompressionLayer::new().quality(COMPRESSION))
        .layer(axum::Extension(events))
        .layer(axum::Extension(stopped))
        .with_state(state)
}
