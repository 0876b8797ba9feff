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
/// Failed sign-ins allowed per email within [`LOGIN_WINDOW_SECS`].
const MAX_FAILED_LOGINS: i64 = 10;
const LOGIN_WINDOW_SECS: i64 = 15 * 60;

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
    let key = format!("{}login-failures:{email}", state.settings.redis_prefix);
    let failures: Option<i64> = state
        .redis
        .get(&key)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if failures.unwrap_or(0) >= MAX_FAILED_LOGINS {
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
            let _: i64 = state
                .redis
                .del(&key)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(LoginOutcome::SignedIn(user))
        }
        None => {
            let count: i64 = state
                .redis
                .incr(&key)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            if count == 1 {
                let _: bool = state
                    .redis
                    .expire(&key, LOGIN_WINDOW_SECS, None)
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
            }
            Ok(LoginOutcome::Rejected)
        }
    }
}

/// `POST /api/auth/login` with `{"email","password"}`.
pub async fn api_login(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> ApiResult<Response> {
    let creds: Credentials = serde_json::from_slice(&body)
        .map_err(|e| AppError::Validation(format!("expected {{\"email\", \"password\"}}: {e}")))?;
    match sign_in(&state, &session, &creds).await? {
        LoginOutcome::SignedIn(user) => Ok(Json(json!({ "success": true, "user": user })).into_response()),
        LoginOutcome::Rejected => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "error": {"code": "UNAUTHENTICATED", "message": "email or password is wrong"}})),
        )
            .into_response()),
        LoginOutcome::RateLimited => Err(AppError::RateLimited(
            "too many failed sign-ins for this email; wait 15 minutes".into(),
        )),
    }
}

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/dashboard/products",
    }
}

/// `POST /login` from the HTML form: redirects to where the user was going, or back to
/// the form with an error code.
pub async fn form_login(
    State(state): State<AppState>,
    session: Session,
    Form(creds): Form<Credentials>,
) -> Response {
    let next = safe_next(creds.next.as_deref()).to_string();
    let back = |code: &str| {
        Redirect::to(&format!(
            "/login?error={code}&next={}",
            urlencoding::encode(&next)
        ))
        .into_response()
    };
    match sign_in(&state, &session, &creds).await {
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
}
