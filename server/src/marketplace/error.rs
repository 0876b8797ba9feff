//! Every marketplace failure, classified once into the four classes of SPEC §4. The
//! platform's own code and message are kept for the sync logs.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketplaceError {
    /// Our data, or the platform rejected the listing: never retried.
    #[error("{platform} rejected the listing ({code}): {message}")]
    InvalidProduct {
        platform: &'static str,
        code: String,
        message: String,
    },
    /// Retried after backoff, or after `retry_after` when the platform says.
    #[error("{platform} rate limit ({code}): {message}")]
    RateLimited {
        platform: &'static str,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Timeouts, resets, 5xx and malformed responses: retried.
    #[error("{platform} could not be reached: {message}")]
    Network {
        platform: &'static str,
        message: String,
    },
    /// Bad or expired credentials: one token refresh, then failed.
    #[error("{platform} refused our credentials ({code}): {message}")]
    Unauthorized {
        platform: &'static str,
        code: String,
        message: String,
    },
    /// The shop's authorization is gone (revoked, expired, or disconnected by the owner):
    /// nothing is tried, and the job waits, paused, until the owner reconnects the shop.
    #[error("{platform} is disconnected: {message}; reconnect it in Settings")]
    Disconnected {
        platform: &'static str,
        message: String,
    },
}

impl MarketplaceError {
    /// The SPEC's error class, as the API and the logs show it.
    pub fn class(&self) -> &'static str {
        match self {
            MarketplaceError::InvalidProduct { .. } => "INVALID_PRODUCT",
            MarketplaceError::RateLimited { .. } => "RATE_LIMITED",
            MarketplaceError::Network { .. } => "NETWORK_ERROR",
            MarketplaceError::Unauthorized { .. } => "UNAUTHORIZED",
            MarketplaceError::Disconnected { .. } => "SHOP_DISCONNECTED",
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            MarketplaceError::RateLimited { .. } | MarketplaceError::Network { .. }
        )
    }

    pub fn network(platform: &'static str, err: impl std::fmt::Display) -> Self {
        MarketplaceError::Network {
            platform,
            message: crate::redact::redact(&err.to_string()),
        }
    }

    /// The same error with any credential the platform echoed removed from its text.
    pub fn redacted(self) -> Self {
        use crate::redact::redact;
        self.map_text(|code| redact(&code), |message| redact(&message))
    }

    /// The same error, class and `Retry-After` kept, with its code and message rewritten.
    pub fn map_text(
        self,
        code_of: impl Fn(String) -> String,
        message_of: impl Fn(String) -> String,
    ) -> Self {
        match self {
            MarketplaceError::InvalidProduct {
                platform,
                code,
                message,
            } => MarketplaceError::InvalidProduct {
                platform,
                code: code_of(code),
                message: message_of(message),
            },
            MarketplaceError::RateLimited {
                platform,
                code,
                message,
                retry_after,
            } => MarketplaceError::RateLimited {
                platform,
                code: code_of(code),
                message: message_of(message),
                retry_after,
            },
            MarketplaceError::Network { platform, message } => MarketplaceError::Network {
                platform,
                message: message_of(message),
            },
            MarketplaceError::Unauthorized {
                platform,
                code,
                message,
            } => MarketplaceError::Unauthorized {
                platform,
                code: code_of(code),
                message: message_of(message),
            },
            MarketplaceError::Disconnected { platform, message } => {
                MarketplaceError::Disconnected {
                    platform,
                    message: message_of(message),
                }
            }
        }
    }
}

/// `Retry-After` in seconds, as both platforms send it.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
