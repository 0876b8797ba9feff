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

/// Gets a fresh access token when a platform refuses the one given (Shopee tokens live 4
/// hours and their refresh tokens are single-use, so whoever implements this must persist
/// the new refresh token before returning, and must not refresh again when another
/// process already replaced the refused token).
pub type TokenRefresher = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<String, MarketplaceError>> + Send>>
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
        let token = self.get();
        match attempt(token.clone()).await {
            Err(MarketplaceError::Unauthorized { .. }) if self.refresher.is_some() => {
                let refresh = self.refresher.as_ref().expect("checked above");
                let fresh = refresh(token).await?;
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                attempt(fresh).await
            }
            other => other,
        }
    }
}

/// What both clients share: the HTTP client, the shop's access token and its rate limit.
#[derive(Clone)]
pub struct Connection {
    http: reqwest::Client,
    token: AccessToken,
    limiter: Option<RateLimiter>,
}

/// A platform's raw answer: status, `Retry-After`, body.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub retry_after: Option<std::time::Duration>,
    pub body: axum::body::Bytes,
}

impl Connection {
    pub fn new(access_token: String, timeout: std::time::Duration) -> Connection {
        Connection::with_http(access_token, http_client(timeout))
    }

    /// On an HTTP client made once and shared (it pools connections).
    pub fn with_http(access_token: String, http: reqwest::Client) -> Connection {
        Connection {
            http,
            token: AccessToken::new(access_token),
            limiter: None,
        }
    }

    pub fn with_token_refresher(mut self, refresher: TokenRefresher) -> Self {
        self.token = self.token.with_refresher(refresher);
        self
    }

    pub fn with_rate_limit(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// Sends `request` once the shop's rate limit allows and reads the whole answer;
    /// failing to reach the platform or to read it is a network error.
    pub async fn fetch(
        &self,
        platform: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, MarketplaceError> {
        if let Some(limiter) = &self.limiter {
            limiter.wait_turn().await;
        }
        let response = request
            .send()
            .await
            // The URL carries the access token and signature (Shopee): never in the text.
            .map_err(|e| MarketplaceError::network(platform, e.without_url()))?;
        let status = response.status();
        let retry_after = error::retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| MarketplaceError::network(platform, e.without_url()))?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}
