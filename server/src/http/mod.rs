//! The HTTP surface: JSON API, auth forms, media and the Leptos dashboard.

pub mod auth;
pub mod batch;
pub mod error;
pub mod media;
pub mod products;
pub mod sync;

use std::sync::Arc;

use app::api::ssr::{Dashboard, SharedDashboard};
use app::api::{
    CheckDto, LogFilter, PilotReportDto, Platform, ProductDetail, ProductList, SyncLogPage,
    SyncOutcome,
};
use app::{shell, App};
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::db::catalog;
use crate::redis::RedisSessionStore;
use crate::startup::AppState;

/// The dashboard's server functions, answered from Postgres.
struct DbDashboard(AppState);

#[async_trait::async_trait]
impl Dashboard for DbDashboard {
    async fn list_products(&self, page: u32, q: &str) -> Result<ProductList, String> {
        catalog::list_products(&self.0.db, page, q)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing products failed");
                "the catalog could not be loaded; try again".to_string()
            })
    }

    async fn verify_product(&self, id: i64) -> Result<Vec<CheckDto>, String> {
        let checks = self.0.sync.verify(id).await.map_err(|e| e.to_string())?;
        Ok(checks
            .into_iter()
            .map(|c| CheckDto {
                platform: c.platform,
                name: c.name,
                ok: c.ok,
                expected: c.expected,
                actual: c.actual,
            })
            .collect())
    }

    async fn pilot_report(&self) -> Result<PilotReportDto, String> {
        let report = crate::sync::pilot::pilot_report(&self.0.db)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "building the pilot report failed");
                "the pilot report could not be built; try again".to_string()
            })?;
        Ok(PilotReportDto {
            passed: report.passed,
            markdown: report.markdown,
        })
    }

    async fn sync_logs(&self, page: u32, filter: LogFilter) -> Result<SyncLogPage, String> {
        crate::db::sync::list_logs(&self.0.db, page, &filter)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing sync logs failed");
                "the sync logs could not be loaded; try again".to_string()
            })
    }

    async fn sync_product(&self, id: i64, platform: Platform) -> SyncOutcome {
        let ctx = crate::sync::AttemptContext {
            attempt: 1,
            ..Default::default()
        };
        match self.0.sync.sync_product_to(id, platform, &ctx).await {
            Ok(r) => SyncOutcome {
                platform,
                ok: true,
                action: serde_json::to_value(r.action)
                    .ok()
                    .and_then(|a| a.as_str().map(str::to_string)),
                external_id: Some(r.external_id),
                error_code: None,
                error_message: None,
            },
            Err(e) => SyncOutcome {
                platform,
                ok: false,
                action: None,
                external_id: None,
                error_code: Some(e.code().to_string()),
                error_message: Some(e.to_string()),
            },
        }
    }

    async fn product(&self, id: i64) -> Result<Option<ProductDetail>, String> {
        catalog::product_detail(&self.0.db, id).await.map_err(|e| {
            tracing::error!(error = %e, "loading product failed");
            "the product could not be loaded; try again".to_string()
        })
    }
}

pub fn router(
    state: AppState,
    events: crate::queue::events::BatchEvents,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let dashboard: SharedDashboard = Arc::new(DbDashboard(state.clone()));
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
        .layer(CompressionLayer::new())
        .layer(axum::Extension(events))
        .layer(axum::Extension(stopped))
        .with_state(state)
}
