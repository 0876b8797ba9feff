//! Shop connections over HTTP (SPEC §9a): `GET /api/shops`, the owner's OAuth round trip
//! (`/oauth/{platform}/start` → the platform → `/oauth/{platform}/callback`) and
//! disconnecting a shop.

use std::collections::HashMap;

use app::api::{CurrentUser, Platform, Role};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::error::{ApiResult, AppError};
use crate::db::audit;
use crate::shops::oauth::{self, CallbackError};
use crate::startup::AppState;

const SETTINGS: &str = "/dashboard/settings";

fn platform_of(text: &str) -> Result<Platform, AppError> {
    Platform::parse(text)
        .ok_or_else(|| AppError::NotFound(format!("no platform {text:?}: use shopee or tiktok")))
}

/// Every connection, never a token.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let shops = state.shops.list().await?;
    Ok(Json(json!({ "shops": shops })))
}

/// Back to the settings page with a message for the owner, signed so the page shows it.
fn to_settings(state: &AppState, key: &str, message: &str) -> Response {
    let sig = oauth::notice_signature(&state.settings.secret, key == "connected", message);
    Redirect::to(&format!(
        "{SETTINGS}?{key}={}&sig={sig}",
        urlencoding::encode(message)
    ))
    .into_response()
}

/// The signed-in owner and the platform of a connect request; anyone else is sent to sign
/// in or refused.
fn owner_connecting(
    user: Option<Extension<CurrentUser>>,
    platform: &str,
) -> Result<(CurrentUser, Platform), Box<Response>> {
    let Some(Extension(user)) = user else {
        return Err(Box::new(
            Redirect::to(&format!("/login?next={}", urlencoding::encode(SETTINGS))).into_response(),
        ));
    };
    if user.role != Role::Owner {
        return Err(Box::new(
            AppError::Forbidden("only the owner connects shops".into()).into_response(),
        ));
    }
    let platform = platform_of(platform).map_err(|e| Box::new(e.into_response()))?;
    Ok((user, platform))
}

/// The owner starts connecting a shop: off to the platform's authorization page.
pub async fn start(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(platform): Path<String>,
) -> Response {
    let (user, platform) = match owner_connecting(user, &platform) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    match oauth::start(
        &state.shops,
        &state.settings.secret,
        &state.settings.public_url,
        platform,
        user.id,
    )
    .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(CallbackError::Db(e)) => AppError::from(e).into_response(),
        Err(e) => to_settings(&state, "error", &e.to_string()),
    }
}

/// The platform sends the owner back here with a code (or an error).
pub async fn callback(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(platform): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let (user, platform) = match owner_connecting(user, &platform) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    match oauth::finish(
        &state.shops,
        &state.settings.secret,
        platform,
        user.id,
        &params,
    )
    .await
    {
        Ok(name) => {
            let _ = audit::record(
                &state.db,
                Some(user.id),
                "shop.connect",
                json!({"platform": platform.as_str(), "shop": name}),
            )
            .await;
            // Jobs that waited for this shop run now.
            let resumed = match state.queue.resume_paused(platform).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "paused jobs not resumed yet; the sweep will");
                    0
                }
            };
            let mut message = format!("{} connected: {name}", platform.label());
            if resumed > 0 {
                message.push_str(&format!("; {resumed} paused jobs resumed"));
            }
            to_settings(&state, "connected", &message)
        }
        Err(CallbackError::Db(e)) => AppError::from(e).into_response(),
        Err(e) => {
            let _ = audit::record(
                &state.db,
                Some(user.id),
                "shop.connect_failed",
                json!({"platform": platform.as_str(), "reason": e.to_string()}),
            )
            .await;
            to_settings(&state, "error", &e.to_string())
        }
    }
}

/// `POST /api/shops/{platform}/disconnect` (owner only).
pub async fn disconnect(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(platform): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let platform = platform_of(&platform)?;
    disconnect_shop(&state, &user, platform).await?;
    Ok(Json(json!({"disconnected": platform.as_str()})))
}

/// Shared by the API and the settings page.
pub(super) async fn disconnect_shop(
    state: &AppState,
    user: &CurrentUser,
    platform: Platform,
) -> Result<(), AppError> {
    if user.role != Role::Owner {
        return Err(AppError::Forbidden(
            "only the owner disconnects shops".into(),
        ));
    }
    if !state.shops.disconnect(platform, &user.email).await? {
        return Err(AppError::NotFound(format!(
            "{} is not connected",
            platform.label()
        )));
    }
    audit::record(
        &state.db,
        Some(user.id),
        "shop.disconnect",
        json!({"platform": platform.as_str()}),
    )
    .await?;
    Ok(())
}
