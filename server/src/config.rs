//! Turns the environment (and `.env`, if present) into typed [`Settings`].

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::marketplace::shopee::ShopeeCredentials;
use crate::marketplace::tiktok::TiktokCredentials;
use crate::queue::QueueSettings;
use crate::shops::platform::{ShopeeApp, TiktokApp};

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub redis_url: String,
    pub addr: SocketAddr,
    /// Key for sessions and for encrypting marketplace tokens at rest.
    pub secret: String,
    /// `SYNCSTORE_PREVIOUS_SECRET`: the secret before a rotation; tokens it sealed still
    /// open, and are sealed again under the current one.
    pub previous_secret: Option<String>,
    /// Namespace for every Redis key, so tests and several installs can share one Redis.
    pub redis_prefix: String,
    /// Where the browser reaches SyncStore; demo image URLs are built from it.
    pub public_url: String,
    /// The directory cargo-leptos built the site into (`/pkg`, favicon).
    pub site_root: String,
    /// Shops configured through the environment (`SHOPEE_SHOP_ID` + `SHOPEE_ACCESS_TOKEN`,
    /// `TIKTOK_SHOP_CIPHER` + `TIKTOK_ACCESS_TOKEN`): recorded as connections with source
    /// `environment` unless the owner connected the shop through OAuth.
    pub shopee: Option<ShopeeCredentials>,
    pub tiktok: Option<TiktokCredentials>,
    /// SyncStore's own app on each platform (partner id and key, app key and secret),
    /// which OAuth connections need; `None` falls back to the bootstrap credentials.
    pub shopee_app: Option<ShopeeApp>,
    pub tiktok_app: Option<TiktokApp>,
    /// `SYNCSTORE_TOKEN_REFRESH_AHEAD_SECS` (default 900): access tokens this close to
    /// their end are refreshed by the background task, checked every
    /// `SYNCSTORE_TOKEN_CHECK_SECS` (default 60).
    pub token_refresh_ahead: Duration,
    pub token_check_every: Duration,
    /// Calls per second SyncStore allows itself per shop, across all its processes
    /// (`SYNCSTORE_SHOPEE_QPS`, `SYNCSTORE_TIKTOK_QPS`).
    pub shopee_qps: u32,
    pub tiktok_qps: u32,
    pub queue: QueueSettings,
    /// `SYNCSTORE_TRUSTED_PROXY=1`: SyncStore runs behind a reverse proxy, and the last
    /// `X-Forwarded-For` hop is the client's address (for the sign-in limit).
    pub trusted_proxy: bool,
    /// `SYNCSTORE_SESSION_IDLE_MINUTES` (default 480, a working day): a session unused
    /// this long is gone and its user signs in again.
    pub session_idle: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{name} is not valid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

const DEV_SECRET: &str = "syncstore-development-secret-do-not-use-in-production";

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let _ = dotenvy::dotenv();
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        let addr_text = var("SYNCSTORE_ADDR", "127.0.0.1:3000");
        let addr: SocketAddr = addr_text.parse().map_err(|e| ConfigError {
            name: "SYNCSTORE_ADDR",
            reason: format!("{e} (expected HOST:PORT such as 127.0.0.1:3000)"),
        })?;
        let secret = match std::env::var("SYNCSTORE_SECRET") {
            Ok(s) if s.len() >= 32 => s,
            Ok(_) => {
                return Err(ConfigError {
                    name: "SYNCSTORE_SECRET",
                    reason: "must be at least 32 characters".into(),
                })
            }
            Err(_) => {
                tracing::warn!("SYNCSTORE_SECRET is not set; using the development secret");
                DEV_SECRET.to_string()
            }
        };
        Ok(Settings {
            database_url: var(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/syncstore",
            ),
            redis_url: var("REDIS_URL", "redis://127.0.0.1:6379"),
            public_url: var("SYNCSTORE_PUBLIC_URL", &format!("http://{addr}"))
                .trim_end_matches('/')
                .to_string(),
            addr,
            secret,
            redis_prefix: var("SYNCSTORE_REDIS_PREFIX", "syncstore:"),
            site_root: var("LEPTOS_SITE_ROOT", "target/site"),
            previous_secret: std::env::var("SYNCSTORE_PREVIOUS_SECRET")
                .ok()
                .filter(|s| !s.is_empty()),
            shopee: ShopeeCredentials::from_env(),
            tiktok: TiktokCredentials::from_env(),
            shopee_app: ShopeeApp::from_env(),
            tiktok_app: TiktokApp::from_env(),
            token_refresh_ahead: Duration::from_secs(number(
                "SYNCSTORE_TOKEN_REFRESH_AHEAD_SECS",
                900,
                // Below Shopee's 4-hour token: a margin as long as the token would refresh
                // it on every check.
                0..=3600,
            )?),
            token_check_every: Duration::from_secs(number(
                "SYNCSTORE_TOKEN_CHECK_SECS",
                60,
                1..=3600,
            )?),
            trusted_proxy: var("SYNCSTORE_TRUSTED_PROXY", "0") == "1",
            session_idle: Duration::from_secs(
                60 * number("SYNCSTORE_SESSION_IDLE_MINUTES", 480, 1..=60 * 24 * 30)?,
            ),
            shopee_qps: number("SYNCSTORE_SHOPEE_QPS", 10, 1..=10_000)? as u32,
            tiktok_qps: number("SYNCSTORE_TIKTOK_QPS", 20, 1..=10_000)? as u32,
            queue: QueueSettings {
                concurrency: number("SYNCSTORE_WORKER_CONCURRENCY", 4, 1..=256)? as usize,
                retry_base: Duration::from_millis(number(
                    "SYNCSTORE_RETRY_BASE_MS",
                    2_000,
                    1..=600_000,
                )?),
                stall_timeout: Duration::from_millis(number(
                    "SYNCSTORE_STALL_TIMEOUT_MS",
                    15_000,
                    3_000..=3_600_000,
                )?),
            },
        })
    }
}

/// A whole number from the environment within `range`, or `default` when unset.
fn number(
    name: &'static str,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError {
            name,
            reason: format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}
