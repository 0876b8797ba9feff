//! The owner's side of shop authorization: a signed, single-use `state` for each
//! authorization started, and the callback that turns the platform's `code` into a
//! stored, sealed connection.

use std::collections::HashMap;

use app::api::Platform;
use hmac::{Hmac, Mac};
use sea_orm::ConnectionTrait;
use sha2::Sha256;

use super::platform::AuthFailure;
use super::Shops;
use crate::db::sql;

/// An authorization must come back within this long.
const STATE_MINUTES: i64 = 10;

/// Why a callback did not connect the shop, in words for the owner.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("this authorization link was already used, has expired, or was started by someone else; start again with Connect")]
    BadState,
    #[error("the authorization was denied on {0}; nothing changed")]
    Denied(&'static str),
    #[error("{0} sent the owner back without an authorization code")]
    NoCode(&'static str),
    #[error("{platform} refused the authorization: {message}")]
    Refused {
        platform: &'static str,
        message: String,
    },
    #[error("this authorization is for another {platform} shop than the one SyncStore's listings are in, {current}; authorize that shop, or remove its listings from SyncStore first")]
    OtherShop {
        platform: &'static str,
        current: String,
    },
    #[error("{0} is not set up on this SyncStore (its app credentials are missing)")]
    NotConfigured(&'static str),
    #[error("{0}")]
    Upstream(String),
    #[error("SyncStore could not record the connection; try again")]
    Db(#[from] sea_orm::DbErr),
}

fn signature(secret: &str, platform: Platform, nonce: &str, user_id: i64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("oauth-state:{}:{nonce}:{user_id}", platform.as_str()).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Signs the message a redirect carries back to Settings, so the page shows only ours.
pub fn notice_signature(secret: &str, ok: bool, text: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("settings-notice:{ok}:{text}").as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

pub fn callback_url(public_url: &str, platform: Platform) -> String {
    format!(
        "{}/oauth/{}/callback",
        public_url.trim_end_matches('/'),
        platform.as_str()
    )
}

/// Where to send the owner to authorize `platform`.
pub async fn start(
    shops: &Shops,
    secret: &str,
    public_url: &str,
    platform: Platform,
    user_id: i64,
) -> Result<String, CallbackError> {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let db = shops.db();
    db.execute_raw(sql(
        "DELETE FROM oauth_states WHERE created_at < now() - $1 * interval '1 minute'",
        [STATE_MINUTES.into()],
    ))
    .await?;
    db.execute_raw(sql(
        "INSERT INTO oauth_states (nonce, platform, user_id) VALUES ($1, $2, $3)",
        [
            nonce.clone().into(),
            platform.as_str().into(),
            user_id.into(),
        ],
    ))
    .await?;
    let state = format!("{nonce}.{}", signature(secret, platform, &nonce, user_id));
    let callback = callback_url(public_url, platform);
    match platform {
        Platform::Shopee => {
            let app = shops
                .shopee_app()
                .ok_or(CallbackError::NotConfigured("Shopee"))?;
            // Shopee keeps the redirect's own query and adds `code` and `shop_id`.
            let redirect = format!("{callback}?state={state}");
            Ok(app.authorize_url(&redirect))
        }
        Platform::Tiktok => {
            let app = shops
                .tiktok_app()
                .ok_or(CallbackError::NotConfigured("TikTok Shop"))?;
            Ok(app.authorize_url(&state, &callback))
        }
    }
}

/// Uses up the `state` (whatever happens next), checking its signature, its user and its age.
async fn redeem_state(
    shops: &Shops,
    secret: &str,
    platform: Platform,
    user_id: i64,
    state: Option<&String>,
) -> Result<(), CallbackError> {
    let (nonce, sig) = state
        .and_then(|s| s.split_once('.'))
        .ok_or(CallbackError::BadState)?;
    let expected = signature(secret, platform, nonce, user_id);
    if !subtle_eq(sig.as_bytes(), expected.as_bytes()) {
        return Err(CallbackError::BadState);
    }
    let used = shops
        .db()
        .execute_raw(sql(
            "DELETE FROM oauth_states WHERE nonce = $1 AND platform = $2 AND user_id = $3
               AND created_at > now() - $4 * interval '1 minute'",
            [
                nonce.into(),
                platform.as_str().into(),
                user_id.into(),
                STATE_MINUTES.into(),
            ],
        ))
        .await?;
    if used.rows_affected() == 1 {
        Ok(())
    } else {
        Err(CallbackError::BadState)
    }
}

/// Compares without stopping at the first difference.
pub fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refused(platform: Platform, failure: AuthFailure) -> CallbackError {
    match failure {
        AuthFailure::Final { message, .. } => CallbackError::Refused {
            platform: platform.label(),
            message,
        },
        AuthFailure::Transient(e) => CallbackError::Upstream(e.to_string()),
    }
}

async fn refuse_other_shop(
    shops: &Shops,
    platform: Platform,
    shop_id: &str,
    cipher: Option<&str>,
) -> Result<(), CallbackError> {
    match shops
        .other_shop_with_listings(platform, shop_id, cipher)
        .await?
    {
        Some(current) => Err(CallbackError::OtherShop {
            platform: platform.label(),
            current,
        }),
        None => Ok(()),
    }
}

/// The platform sent the owner back: checks the state, exchanges the code, finds the
/// shop and stores the connection. Answers the shop's name.
pub async fn finish(
    shops: &Shops,
    secret: &str,
    platform: Platform,
    user_id: i64,
    params: &HashMap<String, String>,
) -> Result<String, CallbackError> {
    redeem_state(shops, secret, platform, user_id, params.get("state")).await?;
    let code = params
        .get("code")
        .filter(|c| !c.is_empty() && c.as_str() != "null");
    if params.contains_key("error") {
        return Err(CallbackError::Denied(platform.label()));
    }
    let code = code.ok_or(CallbackError::NoCode(platform.label()))?;
    crate::redact::register_secret(code);
    match platform {
        Platform::Shopee => {
            let app = shops
                .shopee_app()
                .ok_or(CallbackError::NotConfigured("Shopee"))?;
            let shop_id: u64 = params
                .get("shop_id")
                .and_then(|s| s.parse().ok())
                .ok_or(CallbackError::NoCode("Shopee"))?;
            let grant = app
                .exchange_code(shops.http(), code, shop_id)
                .await
                .map_err(|f| refused(platform, f))?;
            let client = crate::marketplace::shopee::ShopeeClient::with_http(
                app.credentials(shop_id, grant.access_token.clone()),
                shops.http().clone(),
            );
            let name = app.shop_name(&client, shop_id).await;
            refuse_other_shop(shops, platform, &shop_id.to_string(), None).await?;
            shops
                .connect(platform, &shop_id.to_string(), &name, None, &grant, user_id)
                .await?;
            Ok(name)
        }
        Platform::Tiktok => {
            let app = shops
                .tiktok_app()
                .ok_or(CallbackError::NotConfigured("TikTok Shop"))?;
            let (grant, seller) = app
                .exchange_code(shops.http(), code)
                .await
                .map_err(|f| refused(platform, f))?;
            let client = crate::marketplace::tiktok::TiktokClient::with_http(
                app.credentials(String::new(), grant.access_token.clone()),
                shops.http().clone(),
            );
            let (id, name, cipher) = super::platform::tiktok_shop(&client)
                .await
                .map_err(|e| CallbackError::Upstream(e.to_string()))?;
            let name = if name.is_empty() { seller } else { name };
            refuse_other_shop(shops, platform, &id, Some(&cipher)).await?;
            shops
                .connect(platform, &id, &name, Some(&cipher), &grant, user_id)
                .await?;
            Ok(name)
        }
    }
}
