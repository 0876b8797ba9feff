//! Clients for the marketplaces SyncStore lists on. Each speaks its platform's real wire
//! protocol and reports failures as one [`MarketplaceError`].

pub mod error;
pub mod rate_limit;
pub mod shopee;
pub mod tiktok;

pub use error::MarketplaceError;
pub use rate_limit::RateLimiter;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// Gets a fresh access token when a platform refuses the current one (Shopee tokens
/// live 4 hours and their refresh tokens are single-use, so whoever implements this must
/// persist the new refresh token before returning).
pub type TokenRefresher = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, MarketplaceError>> + Send>>
        + Send
        + Sync,
>;

/// The HTTP client both marketplace clients use: `timeout` bounds a whole call.
pub fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("a TLS client with default settings builds")
}

/// The current access token, shared by clones of a client, plus how to renew it.
#[derive(Clone)]
pub struct AccessToken {
    current: Arc<RwLock<String>>,
    refresher: Option<TokenRefresher>,
}

impl AccessToken {
    pub fn new(token: String) -> Self {
        AccessToken {
            current: Arc::new(RwLock::new(token)),
            refresher: None,
        }
    }

    pub fn with_refresher(self, refresher: TokenRefresher) -> Self {
        AccessToken {
            refresher: Some(refresher),
            ..self
        }
    }

    pub fn get(&self) -> String {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `attempt` with the current token; on `UNAUTHORIZED` refreshes once and tries
    /// again, and a second refusal is final.
    pub async fn with_refresh<T, F, Fut>(&self, attempt: F) -> Result<T, MarketplaceError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, MarketplaceError>>,
    {
        match attempt(self.get()).await {
            Err(MarketplaceError::Unauthorized { .. }) if self.refresher.is_some() => {
                let refresh = self.refresher.as_ref().expect("checked above");
                let fresh = refresh().await?;
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                attempt(fresh).await
            }
            other => other,
        }
    }
}
