//! Shop authorization for both platforms, with the real rules: a consent page that sends
//! the seller back with a `code` (or an error), codes that work once and briefly, access
//! tokens that expire, refresh tokens that work once, and revocation. Lifetimes come from
//! flags or the environment and can be changed at run time through `/_sandbox/oauth`, so
//! tests can expire tokens in seconds.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::shopee::{self, now, Params};
use crate::store::Sandbox;

/// Index into per-platform arrays: Shopee, TikTok Shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Shopee = 0,
    Tiktok = 1,
}

impl Platform {
    fn parse(text: &str) -> Option<Platform> {
        match text {
            "shopee" => Some(Platform::Shopee),
            "tiktok" => Some(Platform::Tiktok),
            _ => None,
        }
    }
}

/// Shopee's `code` lives 10 minutes, TikTok's `auth_code` 30.
const CODE_SECS: [u64; 2] = [600, 1800];

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub token_gets: u64,
    pub refreshes: u64,
    pub refused_refreshes: u64,
}

#[derive(Debug, Default)]
pub struct OAuth {
    /// code → (platform, expires at)
    codes: HashMap<String, (Platform, u64)>,
    access: HashMap<String, (Platform, u64)>,
    refresh: HashMap<String, (Platform, u64)>,
    /// The environment's fixed access token stops working once its platform is revoked.
    static_revoked: [bool; 2],
    pub counts: [Counts; 2],
    /// The next this many refreshes (per platform) fail as a busy server would.
    failing_refreshes: [u32; 2],
    /// Run-time overrides of the configured lifetimes.
    access_secs: Option<u64>,
    refresh_secs: Option<u64>,
}

/// Whether a presented access token is good, and if not, why.
pub enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

impl OAuth {
    /// `static_token` is the one configured through the environment.
    pub fn check(&self, platform: Platform, token: &str, static_token: &str) -> TokenCheck {
        if token == static_token {
            return match self.static_revoked[platform as usize] {
                true => TokenCheck::Unknown,
                false => TokenCheck::Valid,
            };
        }
        match self.access.get(token) {
            Some((p, expires)) if *p == platform && *expires > now() => TokenCheck::Valid,
            Some((p, _)) if *p == platform => TokenCheck::Expired,
            _ => TokenCheck::Unknown,
        }
    }

    fn issue(&mut self, sb: &Sandbox, platform: Platform) -> Grant {
        let access_secs = self.access_secs.unwrap_or(sb.config.access_token_secs);
        let refresh_secs = self.refresh_secs.unwrap_or(sb.config.refresh_token_secs);
        let grant = Grant {
            access_token: token("at"),
            refresh_token: token("rt"),
            access_expires: now() + access_secs,
            refresh_expires: now() + refresh_secs,
            access_secs,
        };
        self.access
            .insert(grant.access_token.clone(), (platform, grant.access_expires));
        self.refresh.insert(
            grant.refresh_token.clone(),
            (platform, grant.refresh_expires),
        );
        grant
    }

    /// Uses `code` up, whatever the outcome.
    fn redeem(&mut self, platform: Platform, code: &str) -> bool {
        matches!(self.codes.remove(code), Some((p, expires)) if p == platform && expires > now())
    }

    /// Uses `refresh_token` up; `Err` says whether it was expired (else unknown or used).
    fn use_refresh(&mut self, platform: Platform, refresh_token: &str) -> Result<(), bool> {
        match self.refresh.remove(refresh_token) {
            Some((p, expires)) if p == platform && expires > now() => Ok(()),
            Some((p, _)) if p == platform => Err(true),
            _ => Err(false),
        }
    }
}

struct Grant {
    access_token: String,
    refresh_token: String,
    access_expires: u64,
    refresh_expires: u64,
    access_secs: u64,
}

fn token(kind: &str) -> String {
    format!("{kind}-{}", hex::encode(rand::random::<[u8; 16]>()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn consent_page(platform: &str, title: &str, redirect: &str, state: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem">
<h1>{title}</h1>
<p>SyncStore asks to manage the products of <strong>Toko Sandbox</strong>.</p>
<form method="post" action="/_sandbox/consent">
<input type="hidden" name="platform" value="{platform}">
<input type="hidden" name="redirect" value="{}">
<input type="hidden" name="state" value="{}">
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>"#,
        escape(redirect),
        escape(state),
    ))
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!("<p>{}</p>", escape(message))),
    )
        .into_response()
}

/// `GET /api/v2/shop/auth_partner`: Public-signed, with `redirect`; the link dies five
/// minutes after its timestamp.
pub async fn shopee_auth_partner(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    if let Err(message) = shopee::check_public_sign(&sb, "/api/v2/shop/auth_partner", &p) {
        return bad_request(&message);
    }
    let Some(redirect) = shopee::param(&p, "redirect") else {
        return bad_request("redirect is required");
    };
    consent_page(
        "shopee",
        "Shopee (sandbox): authorize SyncStore",
        redirect,
        "",
    )
    .into_response()
}

/// `GET /oauth/authorize?app_key&state&redirect_uri`: TikTok Shop's authorization page
/// (the real one sends the seller to the redirect registered in Partner Center; the
/// sandbox takes it as a parameter).
pub async fn tiktok_authorize(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    if shopee::param(&p, "app_key") != Some(sb.config.tiktok.app_key.as_str()) {
        return bad_request("unknown app_key");
    }
    let Some(redirect) = shopee::param(&p, "redirect_uri") else {
        return bad_request("redirect_uri is required");
    };
    let state = shopee::param(&p, "state").unwrap_or("");
    consent_page(
        "tiktok",
        "TikTok Shop (sandbox): authorize SyncStore",
        redirect,
        state,
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct Consent {
    platform: String,
    redirect: String,
    #[serde(default)]
    state: String,
    decision: String,
}

/// The seller's answer on the consent page: back to the redirect with a code, or denied.
pub async fn consent(State(sb): State<Sandbox>, Form(c): Form<Consent>) -> Response {
    let Some(platform) = Platform::parse(&c.platform) else {
        return bad_request("unknown platform");
    };
    let join = if c.redirect.contains('?') { '&' } else { '?' };
    let enc = |v: &str| urlencode(v);
    let query = match (platform, c.decision.as_str()) {
        (Platform::Shopee, "authorize") => {
            let code = token("code");
            sb.lock()
                .oauth
                .codes
                .insert(code.clone(), (platform, now() + CODE_SECS[0]));
            format!("code={code}&shop_id={}", sb.config.shopee.shop_id)
        }
        (Platform::Tiktok, "authorize") => {
            let code = token("code");
            sb.lock()
                .oauth
                .codes
                .insert(code.clone(), (platform, now() + CODE_SECS[1]));
            format!("code={code}&state={}", enc(&c.state))
        }
        (Platform::Shopee, _) => "error=access_denied".to_string(),
        (Platform::Tiktok, _) => format!("code=null&error=auth_denied&state={}", enc(&c.state)),
    };
    Redirect::to(&format!("{}{join}{query}", c.redirect)).into_response()
}

fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Shopee's auth answers are flat: no `response` wrapper.
fn shopee_flat(status: StatusCode, error: &str, message: &str, fields: Value) -> Response {
    let mut body = json!({
        "request_id": hex::encode(rand::random::<[u8; 16]>()),
        "error": error,
        "message": message,
    });
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    (status, Json(body)).into_response()
}

fn shopee_refused(code: &str, message: &str) -> Response {
    let status = match code {
        "error_auth" | "error_sign" => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    shopee_flat(status, code, message, json!({}))
}

#[derive(Deserialize)]
pub struct ShopeeTokenBody {
    code: Option<String>,
    refresh_token: Option<String>,
    partner_id: Option<u64>,
    shop_id: Option<u64>,
}

/// `POST /api/v2/auth/token/get` and `POST /api/v2/auth/access_token/get`.
async fn shopee_token(sb: Sandbox, path: &str, p: Params, body: axum::body::Bytes) -> Response {
    if let Err(message) = shopee::check_public_sign(&sb, path, &p) {
        let code = if message == "Wrong sign." {
            "error_sign"
        } else {
            "error_param"
        };
        return shopee_refused(code, &message);
    }
    let Ok(body) = serde_json::from_slice::<ShopeeTokenBody>(&body) else {
        return shopee_refused("error_param", "Invalid request body.");
    };
    if body.partner_id != Some(sb.config.shopee.partner_id) {
        return shopee_refused("error_param", "partner_id in the body does not match.");
    }
    if body.shop_id != Some(sb.config.shopee.shop_id) {
        return shopee_refused("error_auth", "The shop is not authorized to this partner.");
    }
    let mut state = sb.lock();
    let oauth = &mut state.oauth;
    if let Some(code) = body.code.as_deref() {
        oauth.counts[0].token_gets += 1;
        if !oauth.redeem(Platform::Shopee, code) {
            return shopee_refused("invalid_code", "Invalid code.");
        }
    } else if let Some(refresh) = body.refresh_token.as_deref() {
        oauth.counts[0].refreshes += 1;
        if oauth.failing_refreshes[0] > 0 {
            oauth.failing_refreshes[0] -= 1;
            return shopee_flat(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_server",
                "System error, please try again later.",
                json!({}),
            );
        }
        if let Err(expired) = oauth.use_refresh(Platform::Shopee, refresh) {
            oauth.counts[0].refused_refreshes += 1;
            return match expired {
                true => shopee_refused("refresh_token_expired", "Refresh token is expired."),
                false => shopee_refused("error_auth", "Invalid refresh_token."),
            };
        }
    } else {
        return shopee_refused("error_param", "code or refresh_token is required.");
    }
    let grant = oauth.issue(&sb, Platform::Shopee);
    shopee_flat(
        StatusCode::OK,
        "",
        "",
        json!({
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "expire_in": grant.access_secs,
            "partner_id": sb.config.shopee.partner_id,
            "shop_id": sb.config.shopee.shop_id,
        }),
    )
}

pub async fn shopee_token_get(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: axum::body::Bytes,
) -> Response {
    shopee_token(sb, "/api/v2/auth/token/get", p, body).await
}

pub async fn shopee_access_token_get(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: axum::body::Bytes,
) -> Response {
    shopee_token(sb, "/api/v2/auth/access_token/get", p, body).await
}

fn tiktok_answer(code: u64, message: &str, data: Value) -> Response {
    let status = if code == 0 {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let request_id = hex::encode(rand::random::<[u8; 16]>());
    (
        status,
        Json(json!({"code": code, "message": message, "request_id": request_id, "data": data})),
    )
        .into_response()
}

/// `GET /api/v2/token/get` and `GET /api/v2/token/refresh` on the auth host: plain
/// query parameters, `app_secret` among them, no signature.
async fn tiktok_token(sb: Sandbox, p: Params, refresh: bool) -> Response {
    let creds = &sb.config.tiktok;
    if shopee::param(&p, "app_key") != Some(creds.app_key.as_str())
        || shopee::param(&p, "app_secret") != Some(creds.app_secret.as_str())
    {
        return tiktok_answer(36_004_003, "invalid app_key or app_secret", Value::Null);
    }
    let expected_grant = if refresh {
        "refresh_token"
    } else {
        "authorized_code"
    };
    if shopee::param(&p, "grant_type") != Some(expected_grant) {
        return tiktok_answer(36_004_002, "grant_type is invalid", Value::Null);
    }
    let mut state = sb.lock();
    let oauth = &mut state.oauth;
    if refresh {
        oauth.counts[1].refreshes += 1;
        if oauth.failing_refreshes[1] > 0 {
            oauth.failing_refreshes[1] -= 1;
            let request_id = hex::encode(rand::random::<[u8; 16]>());
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"code": 36_009_003, "message": "Internal error, please retry", "request_id": request_id})),
            )
                .into_response();
        }
        let given = shopee::param(&p, "refresh_token").unwrap_or("");
        if let Err(expired) = oauth.use_refresh(Platform::Tiktok, given) {
            oauth.counts[1].refused_refreshes += 1;
            return match expired {
                true => tiktok_answer(36_004_001, "rt has expired", Value::Null),
                false => tiktok_answer(36_004_005, "can not find related auth record", Value::Null),
            };
        }
    } else {
        oauth.counts[1].token_gets += 1;
        let code = shopee::param(&p, "auth_code").unwrap_or("");
        if !oauth.redeem(Platform::Tiktok, code) {
            return tiktok_answer(36_004_004, "auth_code is invalid or expired", Value::Null);
        }
    }
    let grant = oauth.issue(&sb, Platform::Tiktok);
    tiktok_answer(
        0,
        "success",
        json!({
            "access_token": grant.access_token,
            "access_token_expire_in": grant.access_expires,
            "refresh_token": grant.refresh_token,
            "refresh_token_expire_in": grant.refresh_expires,
            "open_id": "sandbox-open-id",
            "seller_name": "Toko Sandbox",
            "seller_base_region": "ID",
            "user_type": 0,
            "granted_scopes": ["seller.authorization.info", "seller.product.basic"],
        }),
    )
}

pub async fn tiktok_token_get(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    tiktok_token(sb, p, false).await
}

pub async fn tiktok_token_refresh(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    tiktok_token(sb, p, true).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OAuthControl {
    access_token_secs: Option<u64>,
    refresh_token_secs: Option<u64>,
    /// "shopee", "tiktok" or "all": every access token issued so far expires now.
    expire_access_tokens: Option<String>,
    /// "shopee", "tiktok" or "all": the seller withdraws the authorization; every token
    /// of the platform, the environment's too, stops working.
    revoke: Option<String>,
    /// The fixed tokens from the environment stop working (granted ones keep working).
    #[serde(default)]
    revoke_environment: bool,
    /// `{"platform": "shopee"|"tiktok"|"all", "count": N}`: the next N refreshes fail with a
    /// server error (the refresh token is not used up).
    fail_refreshes: Option<FailRefreshes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailRefreshes {
    platform: String,
    count: u32,
}

fn platforms(which: &str) -> Vec<Platform> {
    match which {
        "all" => vec![Platform::Shopee, Platform::Tiktok],
        other => Platform::parse(other).into_iter().collect(),
    }
}

/// `POST /_sandbox/oauth`: lifetimes, expiry and revocation.
pub async fn control(State(sb): State<Sandbox>, body: axum::body::Bytes) -> Response {
    let control: OAuthControl = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.to_string()})),
            )
                .into_response()
        }
    };
    let mut state = sb.lock();
    let oauth = &mut state.oauth;
    if let Some(secs) = control.access_token_secs {
        oauth.access_secs = Some(secs);
    }
    if let Some(secs) = control.refresh_token_secs {
        oauth.refresh_secs = Some(secs);
    }
    if let Some(which) = control.expire_access_tokens.as_deref() {
        for p in platforms(which) {
            for (platform, expires) in oauth.access.values_mut() {
                if *platform == p {
                    *expires = 0;
                }
            }
        }
    }
    if let Some(f) = &control.fail_refreshes {
        for p in platforms(&f.platform) {
            oauth.failing_refreshes[p as usize] = f.count;
        }
    }
    if control.revoke_environment {
        oauth.static_revoked = [true, true];
    }
    if let Some(which) = control.revoke.as_deref() {
        for p in platforms(which) {
            oauth.access.retain(|_, (platform, _)| *platform != p);
            oauth.refresh.retain(|_, (platform, _)| *platform != p);
            oauth.static_revoked[p as usize] = true;
        }
    }
    Json(json!({"ok": true})).into_response()
}

/// `GET /_sandbox/oauth`: how many token calls each platform answered.
pub async fn counts(State(sb): State<Sandbox>) -> Json<Value> {
    let state = sb.lock();
    let c = |p: Platform| {
        let n = state.oauth.counts[p as usize];
        let live = state
            .oauth
            .access
            .values()
            .filter(|(platform, expires)| *platform == p && *expires > now())
            .count();
        json!({"token_gets": n.token_gets, "refreshes": n.refreshes,
               "refused_refreshes": n.refused_refreshes, "live_access_tokens": live})
    };
    Json(json!({"shopee": c(Platform::Shopee), "tiktok": c(Platform::Tiktok)}))
}
