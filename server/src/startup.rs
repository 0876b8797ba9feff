//! Builds the application from [`Settings`]: database, Redis, router, listener.

use std::net::SocketAddr;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::queue::events::BatchEvents;
use crate::queue::{Queue, Worker};
use crate::shops::cipher::TokenCipher;
use crate::shops::platform::{ShopeeApp, TiktokApp};
use crate::shops::{Pacing, Shops};
use crate::sync::SyncService;
use crate::{db, http, redis};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub redis: fred::prelude::Pool,
    pub settings: Settings,
    pub leptos_options: LeptosOptions,
    pub sync: SyncService,
    pub queue: Queue,
    /// The validation this process runs now: (products checked, products in all).
    pub validation_progress: ValidationProgress,
    /// The connected shops and their tokens.
    pub shops: Shops,
}

/// Shared by the run and the page that polls it: (run number, products checked, products in
/// all) of the run that holds it.
pub type ValidationProgress = std::sync::Arc<std::sync::Mutex<Option<(u64, usize, usize)>>>;

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Connects to Postgres (creating and migrating the database) and Redis.
    pub async fn connect(settings: Settings) -> anyhow::Result<AppState> {
        let db = db::connect_and_migrate_with(
            &settings.database_url,
            db::pool_size(settings.queue.concurrency),
        )
        .await?;
        let redis = redis::connect(&settings.redis_url).await?;
        let leptos_options = LeptosOptions::builder()
            .output_name("syncstore")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(settings.addr)
            .build();
        let shops = shops(&settings, db.clone(), redis.clone());
        shops
            .bootstrap(settings.shopee.as_ref(), settings.tiktok.as_ref())
            .await?;
        let sync = SyncService::new(db.clone(), shops.clone())
            .with_claim_lease(settings.queue.stall_timeout);
        let queue = Queue::new(
            db.clone(),
            redis.clone(),
            &settings.redis_prefix,
            settings.queue.clone(),
        );
        Ok(AppState {
            db,
            redis,
            settings,
            leptos_options,
            sync,
            queue,
            validation_progress: ValidationProgress::default(),
            shops,
        })
    }
}

/// The shop connections, with SyncStore's app credentials and each shop's shared rate limit.
pub fn shops(settings: &Settings, db: DatabaseConnection, redis: fred::prelude::Pool) -> Shops {
    // Whatever name they travel under, the configured credentials never reach a log.
    if let Some(c) = &settings.shopee {
        crate::redact::register_secret(&c.access_token);
        crate::redact::register_secret(&c.partner_key);
    }
    if let Some(c) = &settings.tiktok {
        crate::redact::register_secret(&c.access_token);
        crate::redact::register_secret(&c.app_secret);
    }
    let shopee_app = settings
        .shopee_app
        .clone()
        .or_else(|| settings.shopee.as_ref().map(ShopeeApp::of));
    let tiktok_app = settings
        .tiktok_app
        .clone()
        .or_else(|| settings.tiktok.as_ref().map(TiktokApp::of));
    Shops::new(
        db,
        TokenCipher::new(&settings.secret, settings.previous_secret.as_deref()),
        shopee_app,
        tiktok_app,
        Some(Pacing {
            redis,
            prefix: settings.redis_prefix.clone(),
            shopee_qps: settings.shopee_qps,
            tiktok_qps: settings.tiktok_qps,
        }),
        settings.token_refresh_ahead,
    )
}

/// Runs a queue worker until SIGTERM or Ctrl-C, then finishes or hands back its jobs.
pub async fn run_worker(state: AppState) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    tokio::spawn(keep_shops_alive(state.clone(), stopped.clone()));
    Worker::new(state.queue.clone(), std::sync::Arc::new(state.sync.clone()))
        .run(stopped)
        .await?;
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    with_worker: bool,
}

impl Application {
    /// Binds the listener (port 0 picks a free port, as tests do).
    pub async fn build(state: AppState) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(state.settings.addr).await?;
        Ok(Application {
            listener,
            state,
            with_worker: true,
        })
    }

    /// Serves without the in-process queue worker (separate `syncstore worker`
    /// processes do the work).
    pub fn without_worker(mut self) -> Self {
        self.with_worker = false;
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves (and works the queue, unless switched off) until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        tokio::spawn(keep_shops_alive(self.state.clone(), stopped.clone()));
        let worker = self.with_worker.then(|| {
            let worker = Worker::new(
                self.state.queue.clone(),
                std::sync::Arc::new(self.state.sync.clone()),
            );
            tokio::spawn(worker.run(stopped.clone()))
        });
        let events = BatchEvents::subscribe(
            &self.state.settings.redis_url,
            self.state.queue.events_channel(),
        )
        .await?;
        let app = http::router(self.state, events, stopped.clone());
        let mut until_stopped = stopped.clone();
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        // Each response goes out as it is written: with Nagle's algorithm a page's last
        // few bytes waited for the browser's delayed acknowledgement (tens of milliseconds).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = until_stopped.wait_for(|stop| *stop).await;
            })
            .await?;
        if let Some(worker) = worker {
            worker.await??;
        }
        Ok(())
    }
}

/// Every `SYNCSTORE_TOKEN_CHECK_SECS` until stopped: refreshes the tokens that end soon,
/// and runs the jobs still paused for a shop that is connected again (a job that paused
/// while the owner was reconnecting missed the resume the callback did).
async fn keep_shops_alive(state: AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    loop {
        state.shops.refresh_due().await;
        match state.shops.list().await {
            Ok(shops) => {
                for shop in shops.iter().filter(|s| s.status.usable()) {
                    if let Err(e) = state.queue.resume_paused(shop.platform).await {
                        tracing::warn!(error = %e, "paused jobs not resumed yet");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read shop connections"),
        }
        tokio::select! {
            _ = tokio::time::sleep(state.settings.token_check_every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
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
