//! Sign-in, sign-out, the session check in front of `/api` and `/dashboard`, and the
//! cross-site request check for every state-changing request.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use fred::prelude::*;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use app::api::CurrentUser;

use super::error::{ApiResult, AppError};
use crate::db::users;
use crate::startup::AppState;

const USER_ID_KEY: &str = "user_id";
/// Failed sign-ins allowed per email and client address within [`LOGIN_WINDOW_SECS`].
const MAX_FAILED_LOGINS: i64 = 10;
/// Failed sign-ins allowed per client address, whatever the emails, in the same window.
const MAX_FAILED_LOGINS_PER_ADDRESS: i64 = 50;
const LOGIN_WINDOW_SECS: i64 = 15 * 60;

/// Reserves one attempt against both limits before the password is checked, in one step,
/// so a burst of parallel attempts cannot all pass a count read before any was written.
/// KEYS: per (email, address), per address. Returns 1 when the attempt may go ahead.
const RESERVE_LOGIN: &str = r#"
local account = tonumber(redis.call('GET', KEYS[1]) or '0')
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
if account >= tonumber(ARGV[1]) or address >= tonumber(ARGV[2]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('INCR', KEYS[2])
if account == 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if address == 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 1
"#;

/// An IPv4 address as is; an IPv6 address by its /64, which one subscriber usually holds
/// whole, so rotating through it does not buy more guesses.
fn network_of(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(address.into(), |v4| v4.to_string()),
        Ok(ip) => ip.to_string(),
        Err(_) => address.to_string(),
    }
}

/// Gives back a successful sign-in's reservation on the per-address count, if it is
/// still there (a key that expired meanwhile is not brought back below zero).
const RETURN_RESERVATION: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"#;

/// Where a request came from: the peer address, or with `SYNCSTORE_TRUSTED_PROXY=1` the
/// address the proxy in front of SyncStore reports as the last `X-Forwarded-For` hop.
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings
            .trusted_proxy
            .then(|| parts.headers.get("x-forwarded-for")?.to_str().ok())
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string());
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let address = forwarded.or(peer).unwrap_or_else(|| "unknown".into());
        Ok(ClientAddress(network_of(&address)))
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

enum LoginOutcome {
    SignedIn(CurrentUser),
    Rejected,
    RateLimited,
}

async fn sign_in(
    state: &AppState,
    session: &Session,
    address: &ClientAddress,
    creds: &Credentials,
) -> ApiResult<LoginOutcome> {
    let email = creds.email.trim().to_lowercase();
    if email.is_empty()
        || creds.password.is_empty()
        || email.len() > 254
        || creds.password.len() > 1024
    {
        return Err(AppError::Validation(
            "email and password are required".into(),
        ));
    }
    if email.chars().any(char::is_control) {
        return Err(AppError::Validation(
            "the email contains a control character".into(),
        ));
    }
    let prefix = &state.settings.redis_prefix;
    let key = format!("{prefix}login-failures:{email}:{}", address.0);
    let address_key = format!("{prefix}login-failures-from:{}", address.0);
    let allowed: i64 = state
        .redis
        .eval(
            RESERVE_LOGIN,
            vec![key.clone(), address_key.clone()],
            vec![
                MAX_FAILED_LOGINS,
                MAX_FAILED_LOGINS_PER_ADDRESS,
                LOGIN_WINDOW_SECS,
            ],
        )
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if allowed != 1 {
        return Ok(LoginOutcome::RateLimited);
    }
    match users::authenticate(&state.db, &email, &creds.password).await? {
        Some(user) => {
            session
                .cycle_id()
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            session
                .insert(USER_ID_KEY, user.id)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            // A sign-in that succeeded was not a failure: its reservation is given back.
            let _: i64 = state
                .redis
                .del(&key)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            let _: i64 = state
                .redis
                .eval(RETURN_RESERVATION, vec![address_key], Vec::<String>::new())
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(LoginOutcome::SignedIn(user))
        }
        // The attempt was counted when it was reserved.
        None => Ok(LoginOutcome::Rejected),
    }
}

/// `POST /api/auth/login` with `{"email","password"}`.
pub async fn api_login(
    State(state): State<AppState>,
    session: Session,
    address: ClientAddress,
    body: Bytes,
) -> ApiResult<Response> {
    let creds: Credentials = serde_json::from_slice(&body)
        .map_err(|e| AppError::Validation(format!("expected {{\"email\", \"password\"}}: {e}")))?;
    match sign_in(&state, &session, &address, &creds).await? {
        LoginOutcome::SignedIn(user) => Ok(Json(json!({ "success": true, "user": user })).into_response()),
        LoginOutcome::Rejected => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "error": {"code": "UNAUTHENTICATED", "message": "email or password is wrong"}})),
        )
            .into_response()),
        LoginOutcome::RateLimited => Err(AppError::RateLimited(
            "too many failed sign-ins from this address; wait 15 minutes".into(),
        )),
    }
}

/// Only paths on this site are followed after sign-in, never another site. The target is
/// read as a browser reads it (which drops tabs and newlines and treats `\\` as `/`): any
/// control character or backslash refuses it outright, it must start with one `/`, and it
/// must resolve to this origin. What is followed is the resolved path and query, so a
/// space in a search becomes `%20`.
fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/dashboard/products";
    let Some(n) = next else { return HOME.into() };
    let plain = n.chars().all(|c| !c.is_control() && c != '\\');
    if !plain || !n.starts_with('/') || n.starts_with("//") {
        return HOME.into();
    }
    let base = url::Url::parse("http://syncstore.invalid/").expect("a valid base URL");
    let resolved = match base.join(n) {
        Ok(u) if u.origin() == base.origin() => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        _ => return HOME.into(),
    };
    // Dot segments resolve away (`/.//evil.example` is `//evil.example`): what is followed
    // must itself be a plain local path.
    if resolved.starts_with("//") || resolved.contains('\\') {
        return HOME.into();
    }
    resolved
}

/// `POST /login` from the HTML form: redirects to where the user was going, or back to
/// the form with an error code.
pub async fn form_login(
    State(state): State<AppState>,
    session: Session,
    address: ClientAddress,
    Form(creds): Form<Credentials>,
) -> Response {
    let next = safe_next(creds.next.as_deref());
    let back = |code: &str| {
        Redirect::to(&format!(
            "/login?error={code}&next={}",
            urlencoding::encode(&next)
        ))
        .into_response()
    };
    match sign_in(&state, &session, &address, &creds).await {
        Ok(LoginOutcome::SignedIn(_)) => Redirect::to(&next).into_response(),
        Ok(LoginOutcome::Rejected) => back("invalid"),
        Ok(LoginOutcome::RateLimited) => back("rate_limited"),
        Err(AppError::Validation(_)) => back("invalid_input"),
        Err(e) => e.into_response(),
    }
}

pub async fn form_logout(session: Session) -> Response {
    let _ = session.flush().await;
    Redirect::to("/login").into_response()
}

pub async fn api_logout(session: Session) -> ApiResult<Json<serde_json::Value>> {
    session
        .flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(json!({ "success": true })))
}

/// Loads the signed-in user into the request; `/api` answers 401 without one and
/// `/dashboard` pages redirect to the login form.
pub async fn require_user(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let guarded =
        path.starts_with("/dashboard") || (path.starts_with("/api/") && path != "/api/auth/login");
    let user_id: Option<i64> = session.get(USER_ID_KEY).await.ok().flatten();
    let user = match user_id {
        Some(id) => match users::find_user(&state.db, id).await {
            Ok(user) => user,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => None,
    };
    match user {
        Some(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        None if !guarded => next.run(req).await,
        None if path.starts_with("/api/") => AppError::Unauthenticated.into_response(),
        None => {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/dashboard/products");
            Redirect::to(&format!("/login?next={}", urlencoding::encode(target))).into_response()
        }
    }
}

/// Refuses state-changing requests whose `Origin` names another site. Requests without
/// `Origin` (scripts, CLI tools) pass; browsers always send it on cross-site posts.
pub async fn reject_cross_site(req: Request<Body>, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest.trim_end_matches('/'));
            if host.is_none() || origin_host != host {
                return AppError::Forbidden("cross-site request refused".into()).into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/dashboard/products/7")),
            "/dashboard/products/7"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/dashboard/products");
        assert_eq!(
            safe_next(Some("https://evil.example")),
            "/dashboard/products"
        );
        assert_eq!(safe_next(None), "/dashboard/products");
    }

    #[test]
    fn paths_a_browser_reads_as_another_site_are_refused() {
        for evil in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "javascript:alert(1)",
            "/.//evil.example",
            "/a/..//evil.example",
            "/%2e//evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/dashboard/products", "{evil:?}");
        }
        assert_eq!(
            safe_next(Some("/dashboard/products?page=2&q=kemeja")),
            "/dashboard/products?page=2&q=kemeja"
        );
        assert_eq!(
            safe_next(Some("/dashboard/products?q=Hoodie Jumper")),
            "/dashboard/products?q=Hoodie%20Jumper"
        );
    }
}
