//! Builds the application from [`Settings`]: database, Redis, router, listener.

use std::net::SocketAddr;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::marketplace::shopee::ShopeeClient;
use crate::marketplace::tiktok::TiktokClient;
use crate::sync::SyncService;
use crate::{db, http, redis};

/// How long one marketplace call may take before it counts as a network error.
const MARKETPLACE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub redis: fred::prelude::Pool,
    pub settings: Settings,
    pub leptos_options: LeptosOptions,
    pub sync: SyncService,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Connects to Postgres (creating and migrating the database) and Redis.
    pub async fn connect(settings: Settings) -> anyhow::Result<AppState> {
        let db = db::connect_and_migrate(&settings.database_url).await?;
        let redis = redis::connect(&settings.redis_url).await?;
        let leptos_options = LeptosOptions::builder()
            .output_name("syncstore")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(settings.addr)
            .build();
        let sync = SyncService::new(
            db.clone(),
            settings
                .shopee
                .clone()
                .map(|c| ShopeeClient::new(c, MARKETPLACE_TIMEOUT)),
            settings
                .tiktok
                .clone()
                .map(|c| TiktokClient::new(c, MARKETPLACE_TIMEOUT)),
        );
        Ok(AppState {
            db,
            redis,
            settings,
            leptos_options,
            sync,
        })
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds the listener (port 0 picks a free port, as tests do).
    pub async fn build(state: AppState) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(state.settings.addr).await?;
        Ok(Application { listener, state })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let app = http::router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
