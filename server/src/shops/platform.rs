//! The platforms' own authorization calls: the link the owner is sent to, the code
//! exchange, the refresh, and what the shop is called. Token answers never reach a log:
//! their values are registered as secrets the moment they arrive.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::marketplace::shopee::{self, ShopeeClient, ShopeeCredentials};
use crate::marketplace::tiktok::{TiktokClient, TiktokCredentials};
use crate::marketplace::MarketplaceError;

/// SyncStore's own Shopee app (from `SHOPEE_PARTNER_ID`, `SHOPEE_PARTNER_KEY`,
/// `SHOPEE_BASE_URL`).
#[derive(Debug, Clone)]
pub struct ShopeeApp {
    pub base_url: String,
    pub partner_id: u64,
    pub partner_key: String,
}

/// SyncStore's own TikTok Shop app (`TIKTOK_APP_KEY`, `TIKTOK_APP_SECRET`,
/// `TIKTOK_BASE_URL`, `TIKTOK_AUTH_BASE_URL`, and `TIKTOK_SERVICE_ID` for the production
/// authorization page).
#[derive(Debug, Clone)]
pub struct TiktokApp {
    pub base_url: String,
    pub auth_base_url: String,
    pub app_key: String,
    pub app_secret: String,
    pub service_id: Option<String>,
}

pub const TIKTOK_AUTH_URL: &str = "https://auth.tiktok-shops.com";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ShopeeApp {
    pub fn from_env() -> Option<ShopeeApp> {
        Some(ShopeeApp {
            base_url: var("SHOPEE_BASE_URL").unwrap_or_else(|| shopee::PRODUCTION_URL.into()),
            partner_id: var("SHOPEE_PARTNER_ID")?.parse().ok()?,
            partner_key: var("SHOPEE_PARTNER_KEY")?,
        })
    }

    pub fn of(creds: &ShopeeCredentials) -> ShopeeApp {
        ShopeeApp {
            base_url: creds.base_url.clone(),
            partner_id: creds.partner_id,
            partner_key: creds.partner_key.clone(),
        }
    }

    pub fn credentials(&self, shop_id: u64, access_token: String) -> ShopeeCredentials {
        ShopeeCredentials {
            base_url: self.base_url.clone(),
            partner_id: self.partner_id,
            partner_key: self.partner_key.clone(),
            shop_id,
            access_token,
        }
    }
}

impl TiktokApp {
    pub fn from_env() -> Option<TiktokApp> {
        Some(TiktokApp {
            base_url: var("TIKTOK_BASE_URL")
                .unwrap_or_else(|| crate::marketplace::tiktok::PRODUCTION_URL.into()),
            auth_base_url: var("TIKTOK_AUTH_BASE_URL").unwrap_or_else(|| TIKTOK_AUTH_URL.into()),
            app_key: var("TIKTOK_APP_KEY")?,
            app_secret: var("TIKTOK_APP_SECRET")?,
            service_id: var("TIKTOK_SERVICE_ID"),
        })
    }

    /// For a connection bootstrapped from credentials alone: the auth host is assumed to
    /// sit beside the API (as the sandbox serves both).
    pub fn of(creds: &TiktokCredentials) -> TiktokApp {
        TiktokApp {
            base_url: creds.base_url.clone(),
            auth_base_url: var("TIKTOK_AUTH_BASE_URL").unwrap_or_else(|| creds.base_url.clone()),
            app_key: creds.app_key.clone(),
            app_secret: creds.app_secret.clone(),
            service_id: var("TIKTOK_SERVICE_ID"),
        }
    }

    pub fn credentials(&self, shop_cipher: String, access_token: String) -> TiktokCredentials {
        TiktokCredentials {
            base_url: self.base_url.clone(),
            app_key: self.app_key.clone(),
            app_secret: self.app_secret.clone(),
            shop_cipher,
            access_token,
        }
    }
}

/// Tokens a platform granted, with their ends.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Why a token call failed: for good (the authorization is gone) or for now.
#[derive(Debug)]
pub enum AuthFailure {
    /// `expired` tells an authorization that ran out from one withdrawn or refused.
    Final {
        expired: bool,
        message: String,
    },
    Transient(MarketplaceError),
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_else(Utc::now)
}

fn secret(text: &str) -> String {
    crate::redact::register_secret(text);
    text.to_string()
}

/// Reads a token answer's body, or says why it could not be read.
async fn read_answer(
    platform: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, Value), AuthFailure> {
    let response = request.send().await.map_err(|e| {
        AuthFailure::Transient(MarketplaceError::network(platform, e.without_url()))
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| {
        AuthFailure::Transient(MarketplaceError::network(platform, e.without_url()))
    })?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Ok((status, v)),
        Err(_) => Err(AuthFailure::Transient(MarketplaceError::network(
            platform,
            format!("HTTP {status}, unreadable token answer"),
        ))),
    }
}

impl ShopeeApp {
    fn public_url(&self, path: &str) -> String {
        let timestamp = unix_now();
        let sign = shopee::sign(
            &self.partner_key,
            &format!("{}{path}{timestamp}", self.partner_id),
        );
        format!(
            "{}{path}?partner_id={}&timestamp={timestamp}&sign={sign}",
            self.base_url.trim_end_matches('/'),
            self.partner_id
        )
    }

    /// The `shop/auth_partner` link; Shopee sends the seller back to `redirect` with
    /// `code` and `shop_id` added.
    pub fn authorize_url(&self, redirect: &str) -> String {
        format!(
            "{}&redirect={}",
            self.public_url("/api/v2/shop/auth_partner"),
            urlencoding::encode(redirect)
        )
    }

    async fn token_call(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: Value,
    ) -> Result<Grant, AuthFailure> {
        let (status, answer) =
            read_answer("Shopee", http.post(self.public_url(path)).json(&body)).await?;
        let error = answer["error"].as_str().unwrap_or("");
        if error.is_empty() && status.is_success() {
            let (Some(access), Some(refresh)) = (
                answer["access_token"].as_str(),
                answer["refresh_token"].as_str(),
            ) else {
                return Err(AuthFailure::Transient(MarketplaceError::network(
                    "Shopee",
                    "token answer without tokens",
                )));
            };
            let expire_in = answer["expire_in"].as_i64().unwrap_or(14_400);
            let now = Utc::now();
            return Ok(Grant {
                access_token: secret(access),
                refresh_token: secret(refresh),
                access_expires_at: now + chrono::Duration::seconds(expire_in),
                // Shopee does not say; its documentation gives 30 days.
                refresh_expires_at: now + chrono::Duration::days(30),
            });
        }
        let message = format!(
            "{error}: {}",
            answer["message"].as_str().unwrap_or("no message")
        );
        // Only answers that mean the authorization is gone are final; anything else (a
        // busy platform, a proxy, a clock off by minutes) leaves the stored tokens alone.
        match error {
            "refresh_token_expired" | "shop_access_expired" => Err(AuthFailure::Final {
                expired: true,
                message,
            }),
            "error_auth"
            | "invalid_code"
            | "shop_no_linked"
            | "shop_banned"
            | "partner_shop_no_link" => Err(AuthFailure::Final {
                expired: false,
                message,
            }),
            _ => Err(AuthFailure::Transient(MarketplaceError::network(
                "Shopee", message,
            ))),
        }
    }

    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        shop_id: u64,
    ) -> Result<Grant, AuthFailure> {
        self.token_call(
            http,
            "/api/v2/auth/token/get",
            json!({"code": code, "partner_id": self.partner_id, "shop_id": shop_id}),
        )
        .await
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
        shop_id: u64,
    ) -> Result<Grant, AuthFailure> {
        self.token_call(
            http,
            "/api/v2/auth/access_token/get",
            json!({"refresh_token": refresh_token, "partner_id": self.partner_id, "shop_id": shop_id}),
        )
        .await
    }

    /// The shop's name from `shop/get_shop_info`, or a plain label when Shopee does not
    /// give one.
    pub async fn shop_name(&self, client: &ShopeeClient, shop_id: u64) -> String {
        match client.get("shop/get_shop_info", &[]).await {
            Ok(info) => info["shop_name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("Shopee shop {shop_id}")),
            Err(e) => {
                tracing::warn!(error = %e, "Shopee did not name the shop");
                format!("Shopee shop {shop_id}")
            }
        }
    }
}

impl TiktokApp {
    /// The seller authorization page; `redirect` is also registered in Partner Center.
    pub fn authorize_url(&self, state: &str, redirect: &str) -> String {
        match &self.service_id {
            Some(service) => format!(
                "https://services.tiktokshop.com/open/authorize?service_id={}&state={}",
                urlencoding::encode(service),
                urlencoding::encode(state)
            ),
            None => format!(
                "{}/oauth/authorize?app_key={}&state={}&redirect_uri={}",
                self.auth_base_url.trim_end_matches('/'),
                urlencoding::encode(&self.app_key),
                urlencoding::encode(state),
                urlencoding::encode(redirect)
            ),
        }
    }

    async fn token_call(
        &self,
        http: &reqwest::Client,
        path: &str,
        grant: (&str, &str, &str),
    ) -> Result<(Grant, Value), AuthFailure> {
        let (grant_type, key, value) = grant;
        let url = format!(
            "{}{path}?app_key={}&app_secret={}&{key}={}&grant_type={grant_type}",
            self.auth_base_url.trim_end_matches('/'),
            urlencoding::encode(&self.app_key),
            urlencoding::encode(&self.app_secret),
            urlencoding::encode(value),
        );
        let (status, answer) = read_answer("TikTok Shop", http.get(url)).await?;
        let code = answer["code"].as_i64().unwrap_or(-1);
        let data = &answer["data"];
        if code == 0 && status.is_success() {
            let (Some(access), Some(refresh)) = (
                data["access_token"].as_str(),
                data["refresh_token"].as_str(),
            ) else {
                return Err(AuthFailure::Transient(MarketplaceError::network(
                    "TikTok Shop",
                    "token answer without tokens",
                )));
            };
            return Ok((
                Grant {
                    access_token: secret(access),
                    refresh_token: secret(refresh),
                    access_expires_at: at(data["access_token_expire_in"].as_i64().unwrap_or(0)),
                    refresh_expires_at: at(data["refresh_token_expire_in"].as_i64().unwrap_or(0)),
                },
                data.clone(),
            ));
        }
        let message = format!(
            "{code}: {}",
            answer["message"].as_str().unwrap_or("no message")
        );
        // Only answers that mean the authorization is gone are final (see the Shopee side).
        match code {
            36_004_001 => Err(AuthFailure::Final {
                expired: true,
                message,
            }),
            36_004_004 | 36_004_005 => Err(AuthFailure::Final {
                expired: false,
                message,
            }),
            _ => Err(AuthFailure::Transient(MarketplaceError::network(
                "TikTok Shop",
                message,
            ))),
        }
    }

    /// The code exchange; also gives the seller's name.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
    ) -> Result<(Grant, String), AuthFailure> {
        let (grant, data) = self
            .token_call(
                http,
                "/api/v2/token/get",
                ("authorized_code", "auth_code", code),
            )
            .await?;
        let seller = data["seller_name"].as_str().unwrap_or("").to_string();
        Ok((grant, seller))
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<Grant, AuthFailure> {
        self.token_call(
            http,
            "/api/v2/token/refresh",
            ("refresh_token", "refresh_token", refresh_token),
        )
        .await
        .map(|(grant, _)| grant)
    }
}

/// The first shop the authorization covers: (id, name, cipher).
pub async fn tiktok_shop(
    client: &TiktokClient,
) -> Result<(String, String, String), MarketplaceError> {
    let data = client.authorized_shops().await?;
    let shop = data["shops"]
        .as_array()
        .and_then(|s| s.first())
        .cloned()
        .ok_or_else(|| MarketplaceError::InvalidProduct {
            platform: "TikTok Shop",
            code: "NO_SHOP".into(),
            message: "the authorization covers no shop".into(),
        })?;
    let text = |k: &str| shop[k].as_str().unwrap_or("").to_string();
    Ok((text("id"), text("name"), text("cipher")))
}
