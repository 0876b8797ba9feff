//! The HTTP surface: JSON API, auth forms, media and the Leptos dashboard.

pub mod auth;
pub mod batch;
mod dashboard;
pub mod error;
mod input;
pub mod media;
pub mod products;
mod reports;
mod rollback;
mod rollout;
mod shops;
mod site;
pub mod sync;
mod validation;

use std::sync::Arc;

use app::api::ssr::SharedDashboard;
use app::{shell, App};
use axum::http::{header, HeaderValue, Method};
use axum::routing::{get, post, MethodRouter};
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

const MEDIA_ROUTE: &str = "/media/demo/{sku}/{file}";

/// The JSON API and the form routes, with the list of what they serve kept beside the
/// router itself, so [`known_routes`] cannot miss one.
struct Api {
    router: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
}

impl Api {
    fn route(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.routes.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }
}

fn api() -> Api {
    Api {
        router: Router::new(),
        routes: Vec::new(),
    }
    .route(Method::POST, "/api/auth/login", post(auth::api_login))
    .route(Method::POST, "/api/auth/logout", post(auth::api_logout))
    .route(Method::GET, "/api/products", get(products::list))
    .route(Method::GET, "/api/products/{id}", get(products::detail))
    .route(Method::POST, "/api/sync/manual", post(sync::manual))
    .route(Method::POST, "/api/sync/batch", post(batch::start))
    .route(Method::GET, "/api/sync/batch/status", get(batch::status))
    .route(
        Method::GET,
        "/api/sync/batch/{batch_id}/events",
        get(batch::events),
    )
    .route(
        Method::POST,
        "/api/sync/batch/{batch_id}/cancel",
        post(batch::cancel),
    )
    .route(Method::POST, "/api/rollback", post(rollback::start))
    .route(
        Method::GET,
        "/api/rollback/{rollback_id}",
        get(rollback::status),
    )
    .route(
        Method::GET,
        "/api/reports/pilot/markdown",
        get(reports::pilot),
    )
    .route(
        Method::GET,
        "/api/reports/completion/markdown",
        get(reports::completion),
    )
    .route(
        Method::GET,
        "/api/reports/batch/{batch_id}/markdown",
        get(reports::batch),
    )
    .route(Method::GET, "/api/rollout", get(rollout::status))
    .route(Method::POST, "/api/rollout/approve", post(rollout::approve))
    .route(Method::GET, "/api/validation", get(validation::latest))
    .route(Method::POST, "/api/validation/run", post(validation::run))
    .route(Method::GET, "/api/shops", get(shops::list))
    .route(
        Method::POST,
        "/api/shops/{platform}/disconnect",
        post(shops::disconnect),
    )
    .route(Method::GET, "/oauth/{platform}/start", get(shops::start))
    .route(
        Method::GET,
        "/oauth/{platform}/callback",
        get(shops::callback),
    )
    .route(Method::POST, "/login", post(auth::form_login))
    .route(Method::POST, "/logout", post(auth::form_logout))
}

/// Every route SyncStore serves, with its method and its path as the router spells it
/// (`{id}` for a parameter): the JSON API, forms, media, dashboard pages and server
/// functions. The robustness test walks this list.
pub fn known_routes() -> Vec<(Method, String)> {
    let mut routes: Vec<(Method, String)> = api()
        .routes
        .into_iter()
        .map(|(method, path)| (method, path.to_string()))
        .collect();
    routes.push((Method::GET, MEDIA_ROUTE.to_string()));
    routes.push((Method::GET, site::ROUTE.to_string()));
    for page in generate_route_list(App) {
        routes.push((Method::GET, page.path().to_string()));
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.push((method, path.to_string()));
    }
    routes
}

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
    // Saved on every request, so the idle time counts from the last request, not from
    // the last change to the session.
    .with_expiry(Expiry::OnInactivity(
        time::Duration::try_from(state.settings.session_idle).unwrap_or(time::Duration::HOUR),
    ))
    .with_always_save(true);

    let leptos_options = state.leptos_options.clone();
    Router::new()
        .merge(api().router)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(dashboard.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(input::server_fn_statuses))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_user,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(auth::reject_cross_site))
        .route(MEDIA_ROUTE, get(media::demo_image))
        .route(site::ROUTE, get(site::file))
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
