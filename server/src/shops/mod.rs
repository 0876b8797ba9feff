//! Shop connections (SPEC §9a): which Shopee and TikTok Shop shop SyncStore acts for, with
//! tokens sealed at rest, kept alive by refreshing them ahead of expiry and once on an
//! expired-token answer, by exactly one process at a time (a refresh token works once, so
//! a second refresh with it would strand the shop until the seller authorizes again).
//!
//! Every sync attempt asks for its platform's client here, so a connection made, renewed
//! or lost in one process is seen by all the others at their next attempt.

pub mod categories;
pub mod cipher;
pub mod oauth;
pub mod platform;

use std::sync::Arc;
use std::time::Duration;

use app::api::{Platform, ShopConnection, ShopStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};

use crate::db::sql;
use crate::marketplace::shopee::{ShopeeClient, ShopeeCredentials};
use crate::marketplace::tiktok::{TiktokClient, TiktokCredentials};
use crate::marketplace::{MarketplaceError, RateLimiter, TokenRefresher};
use cipher::TokenCipher;
use platform::{AuthFailure, Grant, ShopeeApp, TiktokApp};

/// How long one marketplace call may take before it counts as a network error.
const MARKETPLACE_TIMEOUT: Duration = Duration::from_secs(30);

/// An authorization this close to its end shows as `expiring`.
const EXPIRING_WITHIN: chrono::Duration = chrono::Duration::days(7);

/// How a shop's client is paced: Redis, the key prefix, and calls per second.
#[derive(Clone)]
pub struct Pacing {
    pub redis: fred::prelude::Pool,
    pub prefix: String,
    pub shopee_qps: u32,
    pub tiktok_qps: u32,
}

#[derive(Clone)]
pub struct Shops(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    cipher: TokenCipher,
    shopee_app: Option<ShopeeApp>,
    tiktok_app: Option<TiktokApp>,
    http: reqwest::Client,
    pacing: Option<Pacing>,
    /// Tokens closer than this to their end are refreshed by the background task.
    refresh_ahead: Duration,
}

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    platform: String,
    shop_id: String,
    shop_name: String,
    shop_cipher: Option<String>,
    source: String,
    status: String,
    status_reason: Option<String>,
    access_token: Option<Vec<u8>>,
    refresh_token: Option<Vec<u8>>,
    access_token_expires_at: Option<DateTime<Utc>>,
    refresh_token_expires_at: Option<DateTime<Utc>>,
    refreshed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "platform, shop_id, shop_name, shop_cipher, source, status, status_reason,
    access_token, refresh_token, access_token_expires_at, refresh_token_expires_at, refreshed_at";

/// The connection as one attempt uses it.
struct Live {
    shop_id: String,
    shop_cipher: Option<String>,
    access_token: String,
}

fn db_failure(platform: Platform, e: DbErr) -> MarketplaceError {
    tracing::error!(error = %e, "reading the shop connection failed");
    MarketplaceError::Network {
        platform: platform.label(),
        message: "SyncStore could not read the shop connection from its database".into(),
    }
}

fn disconnected(platform: Platform, reason: &str) -> MarketplaceError {
    MarketplaceError::Disconnected {
        platform: platform.label(),
        message: reason.to_string(),
    }
}

impl Shops {
    pub fn new(
        db: DatabaseConnection,
        cipher: TokenCipher,
        shopee_app: Option<ShopeeApp>,
        tiktok_app: Option<TiktokApp>,
        pacing: Option<Pacing>,
        refresh_ahead: Duration,
    ) -> Shops {
        if let Some(app) = &shopee_app {
            crate::redact::register_secret(&app.partner_key);
        }
        if let Some(app) = &tiktok_app {
            crate::redact::register_secret(&app.app_secret);
        }
        Shops(Arc::new(Inner {
            db,
            cipher,
            shopee_app,
            tiktok_app,
            http: crate::marketplace::http_client(MARKETPLACE_TIMEOUT),
            pacing,
            refresh_ahead,
        }))
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }

    pub fn cipher(&self) -> &TokenCipher {
        &self.0.cipher
    }

    pub fn shopee_app(&self) -> Option<&ShopeeApp> {
        self.0.shopee_app.as_ref()
    }

    pub fn tiktok_app(&self) -> Option<&TiktokApp> {
        self.0.tiktok_app.as_ref()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// Records the shops configured through `SHOPEE_*`/`TIKTOK_*` as connections with
    /// source `environment`. A shop connected through OAuth, or one the owner disconnected,
    /// is left as it is. Tokens sealed under the previous secret are sealed again under the
    /// current one.
    pub async fn bootstrap(
        &self,
        shopee: Option<&ShopeeCredentials>,
        tiktok: Option<&TiktokCredentials>,
    ) -> Result<(), DbErr> {
        if let Some(c) = shopee {
            crate::redact::register_secret(&c.access_token);
            self.bootstrap_one(
                Platform::Shopee,
                &c.shop_id.to_string(),
                None,
                &c.access_token,
            )
            .await?;
        }
        if let Some(c) = tiktok {
            crate::redact::register_secret(&c.access_token);
            self.bootstrap_one(
                Platform::Tiktok,
                &c.shop_cipher,
                Some(&c.shop_cipher),
                &c.access_token,
            )
            .await?;
        }
        self.reseal().await
    }

    async fn bootstrap_one(
        &self,
        platform: Platform,
        shop_id: &str,
        cipher: Option<&str>,
        token: &str,
    ) -> Result<(), DbErr> {
        let name = format!("{} shop {shop_id}", platform.label());
        // Unchanged (the usual case for every process after the first): nothing to write,
        // so processes never re-seal each other's rows.
        if let Some(row) = Self::row(&self.0.db, platform, false).await? {
            let stored = row.access_token.as_ref().map(|t| self.0.cipher.open(t));
            if let Some(Err(_)) = stored {
                // Sealed under a secret this process does not have: overwriting it would
                // take the shop away from every process that has the right one.
                tracing::error!(
                    platform = platform.as_str(),
                    "the stored shop token was sealed under another SYNCSTORE_SECRET; set SYNCSTORE_PREVIOUS_SECRET"
                );
                return Ok(());
            }
            let same = row.shop_id == shop_id
                && row.shop_cipher.as_deref() == cipher
                && matches!(stored, Some(Ok((ref t, _))) if t == token);
            if same || row.source != "environment" || row.status != "connected" {
                return Ok(());
            }
        }
        self.0
            .db
            .execute_raw(sql(
                "INSERT INTO shop_connections
                    (platform, shop_id, shop_name, shop_cipher, source, status, access_token)
                 VALUES ($1, $2, $3, $4, 'environment', 'connected', $5)
                 ON CONFLICT (platform) DO UPDATE SET
                    shop_id = EXCLUDED.shop_id, shop_cipher = EXCLUDED.shop_cipher,
                    access_token = EXCLUDED.access_token, updated_at = now()
                 WHERE shop_connections.source = 'environment'
                   AND shop_connections.status = 'connected'",
                [
                    platform.as_str().into(),
                    shop_id.into(),
                    name.into(),
                    cipher.map(str::to_string).into(),
                    self.0.cipher.seal(token).into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// Seals again, under the current secret, every token the previous secret sealed.
    async fn reseal(&self) -> Result<(), DbErr> {
        for row in self.rows().await? {
            let mut changed = false;
            let mut again = |sealed: &Option<Vec<u8>>| -> Option<Vec<u8>> {
                let sealed = sealed.as_ref()?;
                match self.0.cipher.open(sealed) {
                    Ok((plain, true)) => {
                        changed = true;
                        Some(self.0.cipher.seal(&plain))
                    }
                    _ => Some(sealed.clone()),
                }
            };
            let access = again(&row.access_token);
            let refresh = again(&row.refresh_token);
            if changed {
                self.0
                    .db
                    // Only if nobody refreshed, connected or disconnected meanwhile.
                    .execute_raw(sql(
                        "UPDATE shop_connections SET access_token = $2, refresh_token = $3,
                            updated_at = now()
                         WHERE platform = $1 AND access_token IS NOT DISTINCT FROM $4
                           AND refresh_token IS NOT DISTINCT FROM $5",
                        [
                            row.platform.clone().into(),
                            access.into(),
                            refresh.into(),
                            row.access_token.clone().into(),
                            row.refresh_token.clone().into(),
                        ],
                    ))
                    .await?;
                tracing::info!(platform = %row.platform, "shop tokens sealed under the new secret");
            }
        }
        Ok(())
    }

    async fn rows(&self) -> Result<Vec<Row>, DbErr> {
        Row::find_by_statement(sql(
            &format!("SELECT {COLUMNS} FROM shop_connections ORDER BY platform"),
            [],
        ))
        .all(&self.0.db)
        .await
    }

    async fn row<C: ConnectionTrait>(
        db: &C,
        platform: Platform,
        lock: bool,
    ) -> Result<Option<Row>, DbErr> {
        let lock = if lock { " FOR UPDATE" } else { "" };
        Row::find_by_statement(sql(
            &format!("SELECT {COLUMNS} FROM shop_connections WHERE platform = $1{lock}"),
            [platform.as_str().into()],
        ))
        .one(db)
        .await
    }

    /// Every connection as the settings page and `GET /api/shops` show it: never a token.
    pub async fn list(&self) -> Result<Vec<ShopConnection>, DbErr> {
        let now = Utc::now();
        Ok(self
            .rows()
            .await?
            .into_iter()
            .filter_map(|r| {
                let platform = Platform::parse(&r.platform)?;
                // Connected in the database, but this process cannot open its tokens (the
                // secret changed without SYNCSTORE_PREVIOUS_SECRET): unusable from here, and
                // said so, rather than shown connected while every job pauses.
                let unopenable = r.status == "connected"
                    && [&r.access_token, &r.refresh_token]
                        .into_iter()
                        .flatten()
                        .any(|t| self.0.cipher.open(t).is_err());
                let mut reason = r.status_reason;
                let status = match r.status.as_str() {
                    _ if unopenable => {
                        reason = Some(cipher::OpenError.to_string());
                        ShopStatus::Revoked
                    }
                    "revoked" => ShopStatus::Revoked,
                    "expired" => ShopStatus::Expired,
                    _ if r
                        .refresh_token_expires_at
                        .is_some_and(|t| t - now < EXPIRING_WITHIN) =>
                    {
                        ShopStatus::Expiring
                    }
                    _ => ShopStatus::Connected,
                };
                Some(ShopConnection {
                    platform,
                    shop_id: r.shop_id,
                    name: r.shop_name,
                    status,
                    status_reason: reason,
                    access_token_expires_at: r.access_token_expires_at.map(|t| t.to_rfc3339()),
                    refresh_token_expires_at: r.refresh_token_expires_at.map(|t| t.to_rfc3339()),
                    refreshed_at: r.refreshed_at.map(|t| t.to_rfc3339()),
                    source: r.source,
                })
            })
            .collect())
    }

    /// The connection an attempt uses now; a token near its end by our own clock is
    /// refreshed first. `Ok(None)`: the platform was never connected.
    async fn live(&self, platform: Platform) -> Result<Option<Live>, MarketplaceError> {
        let row = Self::row(&self.0.db, platform, false)
            .await
            .map_err(|e| db_failure(platform, e))?;
        let Some(row) = row else { return Ok(None) };
        if row.status != "connected" {
            return Err(disconnected(
                platform,
                row.status_reason.as_deref().unwrap_or(&row.status),
            ));
        }
        let token = self.open(platform, row.access_token.as_ref())?;
        let due = row.source == "oauth"
            && row
                .access_token_expires_at
                .is_some_and(|t| t <= Utc::now() + chrono::Duration::seconds(5));
        let access_token = if due {
            self.refresh(platform, &token).await?
        } else {
            token
        };
        Ok(Some(Live {
            shop_id: row.shop_id,
            shop_cipher: row.shop_cipher,
            access_token,
        }))
    }

    fn open(
        &self,
        platform: Platform,
        sealed: Option<&Vec<u8>>,
    ) -> Result<String, MarketplaceError> {
        let sealed = sealed.ok_or_else(|| disconnected(platform, "no token is stored"))?;
        let (plain, _) = self
            .0
            .cipher
            .open(sealed)
            .map_err(|e| disconnected(platform, &e.to_string()))?;
        crate::redact::register_secret(&plain);
        Ok(plain)
    }

    fn limiter(&self, platform: Platform, shop: String) -> Option<RateLimiter> {
        let p = self.0.pacing.as_ref()?;
        let qps = match platform {
            Platform::Shopee => p.shopee_qps,
            Platform::Tiktok => p.tiktok_qps,
        };
        Some(RateLimiter::new(
            p.redis.clone(),
            format!("{}ratelimit:{}:{shop}", p.prefix, platform.as_str()),
            qps,
        ))
    }

    fn refresher(&self, platform: Platform) -> TokenRefresher {
        let shops = self.clone();
        Arc::new(move |stale: String| {
            let shops = shops.clone();
            Box::pin(async move { shops.refresh(platform, &stale).await })
        })
    }

    /// The Shopee client for the connected shop; `Ok(None)` when Shopee is not set up.
    pub async fn shopee(&self) -> Result<Option<ShopeeClient>, MarketplaceError> {
        let Some(app) = &self.0.shopee_app else {
            return Ok(None);
        };
        let Some(live) = self.live(Platform::Shopee).await? else {
            return Ok(None);
        };
        let shop_id: u64 = live
            .shop_id
            .parse()
            .map_err(|_| disconnected(Platform::Shopee, "the stored shop id is not a number"))?;
        let mut client = ShopeeClient::with_http(
            app.credentials(shop_id, live.access_token),
            self.0.http.clone(),
        )
        .with_token_refresher(self.refresher(Platform::Shopee));
        if let Some(limiter) =
            self.limiter(Platform::Shopee, format!("{}:{shop_id}", app.partner_id))
        {
            client = client.with_rate_limit(limiter);
        }
        Ok(Some(client))
    }

    /// The TikTok Shop client for the connected shop; `Ok(None)` when it is not set up.
    pub async fn tiktok(&self) -> Result<Option<TiktokClient>, MarketplaceError> {
        let Some(app) = &self.0.tiktok_app else {
            return Ok(None);
        };
        let Some(live) = self.live(Platform::Tiktok).await? else {
            return Ok(None);
        };
        let cipher = live.shop_cipher.unwrap_or_default();
        let mut client = TiktokClient::with_http(
            app.credentials(cipher.clone(), live.access_token),
            self.0.http.clone(),
        )
        .with_token_refresher(self.refresher(Platform::Tiktok));
        if let Some(limiter) = self.limiter(Platform::Tiktok, format!("{}:{cipher}", app.app_key)) {
            client = client.with_rate_limit(limiter);
        }
        Ok(Some(client))
    }

    /// A new access token in place of `stale`, refreshed by exactly one process: the row
    /// is locked for the refresh, and whoever finds the token already replaced uses the
    /// replacement. A refresh refused for good marks the shop `revoked` or `expired`.
    pub async fn refresh(
        &self,
        platform: Platform,
        stale: &str,
    ) -> Result<String, MarketplaceError> {
        self.refresh_if(platform, |current, _| current == stale)
            .await
            .map(|t| t.unwrap_or_default())
    }

    /// Refreshes under the row lock when `needed(current token, its expiry)` still holds
    /// once the lock is held; answers the token in use afterwards.
    async fn refresh_if(
        &self,
        platform: Platform,
        needed: impl Fn(&str, Option<DateTime<Utc>>) -> bool,
    ) -> Result<Option<String>, MarketplaceError> {
        let fail = |e: DbErr| db_failure(platform, e);
        let txn = self.0.db.begin().await.map_err(fail)?;
        let Some(row) = Self::row(&txn, platform, true).await.map_err(fail)? else {
            return Err(disconnected(platform, "the shop is not connected"));
        };
        if row.status != "connected" {
            return Err(disconnected(
                platform,
                row.status_reason.as_deref().unwrap_or(&row.status),
            ));
        }
        let current = self.open(platform, row.access_token.as_ref())?;
        if !needed(&current, row.access_token_expires_at) {
            txn.commit().await.map_err(fail)?;
            return Ok(Some(current));
        }
        let Some(refresh_token) = row.refresh_token.as_ref() else {
            // A token from the environment cannot be renewed: the platform's refusal stands.
            txn.commit().await.map_err(fail)?;
            return Err(MarketplaceError::Unauthorized {
                platform: platform.label(),
                code: "NO_REFRESH_TOKEN".into(),
                message: "the access token from the environment was refused and cannot be renewed; connect the shop in Settings".into(),
            });
        };
        let refresh_token = self.open(platform, Some(refresh_token))?;
        let outcome = match platform {
            Platform::Shopee => match (&self.0.shopee_app, row.shop_id.parse::<u64>()) {
                (Some(app), Ok(shop_id)) => {
                    app.refresh(&self.0.http, &refresh_token, shop_id).await
                }
                _ => Err(AuthFailure::Final {
                    expired: false,
                    message: "Shopee is not configured".into(),
                }),
            },
            Platform::Tiktok => match &self.0.tiktok_app {
                Some(app) => app.refresh(&self.0.http, &refresh_token).await,
                None => Err(AuthFailure::Final {
                    expired: false,
                    message: "TikTok Shop is not configured".into(),
                }),
            },
        };
        match outcome {
            Ok(grant) => {
                self.store_grant(&txn, platform, &grant)
                    .await
                    .map_err(fail)?;
                txn.commit().await.map_err(fail)?;
                tracing::info!(platform = platform.as_str(), "shop token refreshed");
                Ok(Some(grant.access_token))
            }
            Err(AuthFailure::Final { expired, message }) => {
                let status = if expired { "expired" } else { "revoked" };
                let reason = format!("the authorization was refused on refresh ({message})");
                txn.execute_raw(sql(
                    "UPDATE shop_connections SET status = $2, status_reason = $3,
                        access_token = NULL, refresh_token = NULL, updated_at = now()
                     WHERE platform = $1",
                    [
                        platform.as_str().into(),
                        status.into(),
                        reason.clone().into(),
                    ],
                ))
                .await
                .map_err(fail)?;
                txn.commit().await.map_err(fail)?;
                tracing::warn!(
                    platform = platform.as_str(),
                    status,
                    "shop authorization lost"
                );
                Err(disconnected(platform, &reason))
            }
            Err(AuthFailure::Transient(e)) => {
                // Nothing changed: the refresh token is still the stored one.
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    async fn store_grant<C: ConnectionTrait>(
        &self,
        db: &C,
        platform: Platform,
        grant: &Grant,
    ) -> Result<(), DbErr> {
        db.execute_raw(sql(
            "UPDATE shop_connections SET access_token = $2, refresh_token = $3,
                access_token_expires_at = $4, refresh_token_expires_at = $5,
                refreshed_at = now(), refresh_count = refresh_count + 1, updated_at = now()
             WHERE platform = $1",
            [
                platform.as_str().into(),
                self.0.cipher.seal(&grant.access_token).into(),
                self.0.cipher.seal(&grant.refresh_token).into(),
                grant.access_expires_at.into(),
                grant.refresh_expires_at.into(),
            ],
        ))
        .await
        .map(|_| ())
    }

    /// The shop SyncStore's listings on `platform` live in, when it is another one than
    /// the one just authorized (Shopee by shop id, TikTok Shop by cipher, which a shop
    /// configured from the environment also knows): reconnecting to another shop would
    /// send its listing ids to the wrong shop.
    pub async fn other_shop_with_listings(
        &self,
        platform: Platform,
        shop_id: &str,
        shop_cipher: Option<&str>,
    ) -> Result<Option<String>, DbErr> {
        let Some(row) = Self::row(&self.0.db, platform, false).await? else {
            return Ok(None);
        };
        let same = match platform {
            Platform::Shopee => row.shop_id == shop_id,
            Platform::Tiktok => row.shop_cipher.as_deref() == shop_cipher,
        };
        if same {
            return Ok(None);
        }
        let listed = self
            .0
            .db
            .query_one_raw(sql(
                "SELECT count(*) AS n FROM platform_mappings WHERE platform = $1 AND external_id IS NOT NULL",
                [platform.as_str().into()],
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok((listed > 0).then(|| format!("{} ({listed} listings)", row.shop_name)))
    }

    /// Records a connection the owner just authorized, replacing whatever was there.
    pub async fn connect(
        &self,
        platform: Platform,
        shop_id: &str,
        name: &str,
        shop_cipher: Option<&str>,
        grant: &Grant,
        user_id: i64,
    ) -> Result<(), DbErr> {
        self.0
            .db
            .execute_raw(sql(
                "INSERT INTO shop_connections (platform, shop_id, shop_name, shop_cipher, source,
                    status, access_token, refresh_token, access_token_expires_at,
                    refresh_token_expires_at, connected_by)
                 VALUES ($1, $2, $3, $4, 'oauth', 'connected', $5, $6, $7, $8, $9)
                 ON CONFLICT (platform) DO UPDATE SET
                    shop_id = EXCLUDED.shop_id, shop_name = EXCLUDED.shop_name,
                    shop_cipher = EXCLUDED.shop_cipher, source = 'oauth', status = 'connected',
                    status_reason = NULL, access_token = EXCLUDED.access_token,
                    refresh_token = EXCLUDED.refresh_token,
                    access_token_expires_at = EXCLUDED.access_token_expires_at,
                    refresh_token_expires_at = EXCLUDED.refresh_token_expires_at,
                    refreshed_at = NULL, connected_at = now(),
                    connected_by = EXCLUDED.connected_by, updated_at = now()",
                [
                    platform.as_str().into(),
                    shop_id.into(),
                    name.into(),
                    shop_cipher.map(str::to_string).into(),
                    self.0.cipher.seal(&grant.access_token).into(),
                    self.0.cipher.seal(&grant.refresh_token).into(),
                    grant.access_expires_at.into(),
                    grant.refresh_expires_at.into(),
                    user_id.into(),
                ],
            ))
            .await
            .map(|_| ())
    }

    /// The owner disconnects a shop: its tokens are deleted, and its jobs wait until it
    /// is connected again. `false` when it was not connected.
    pub async fn disconnect(&self, platform: Platform, email: &str) -> Result<bool, DbErr> {
        let result = self
            .0
            .db
            .execute_raw(sql(
                "UPDATE shop_connections SET status = 'revoked', status_reason = $2,
                    access_token = NULL, refresh_token = NULL, updated_at = now()
                 WHERE platform = $1 AND status <> 'revoked'",
                [
                    platform.as_str().into(),
                    format!("disconnected by {email}").into(),
                ],
            ))
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Refreshes every OAuth connection whose access token ends within the refresh margin
    /// (each under its row lock, so two processes never both refresh).
    pub async fn refresh_due(&self) {
        let ahead = chrono::Duration::from_std(self.0.refresh_ahead)
            .unwrap_or(chrono::Duration::minutes(10));
        let rows = match self.rows().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not read shop connections to refresh");
                return;
            }
        };
        for row in rows {
            let Some(platform) = Platform::parse(&row.platform) else {
                continue;
            };
            let due =
                |expires: Option<DateTime<Utc>>| expires.is_some_and(|t| t - Utc::now() < ahead);
            if row.source != "oauth"
                || row.status != "connected"
                || !due(row.access_token_expires_at)
            {
                continue;
            }
            if let Err(e) = self.refresh_if(platform, |_, expires| due(expires)).await {
                tracing::warn!(platform = platform.as_str(), error = %e, "refreshing ahead of expiry failed");
            }
        }
    }
}
