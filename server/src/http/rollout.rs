//! `GET /api/rollout` and `POST /api/rollout/approve` (SPEC §7).

use app::api::{CurrentUser, RolloutStatus};
use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;

use super::error::{ApiResult, AppError};
use crate::rollout::{self, ApproveError};
use crate::startup::AppState;

impl From<ApproveError> for AppError {
    fn from(e: ApproveError) -> Self {
        match e {
            ApproveError::NotOwner => AppError::Forbidden(e.to_string()),
            ApproveError::Invalid(m) => AppError::Validation(m),
            ApproveError::Gate { ref missing, .. } => AppError::RolloutGate {
                missing: missing.clone(),
                message: e.to_string(),
            },
            ApproveError::Db(e) => AppError::from(e),
        }
    }
}

pub async fn status(State(state): State<AppState>) -> ApiResult<Json<RolloutStatus>> {
    Ok(Json(rollout::status(&state.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveRequest {
    note: String,
}

/// `{"note": "…"}`: the owner approves the current stage once its test has passed.
pub async fn approve(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: Bytes,
) -> ApiResult<Json<RolloutStatus>> {
    if user.role != app::api::Role::Owner {
        return Err(ApproveError::NotOwner.into());
    }
    let request: ApproveRequest = serde_json::from_slice(&body)
        .map_err(|e| AppError::Validation(format!("expected {{\"note\": \"…\"}}: {e}")))?;
    Ok(Json(
        rollout::approve(&state.db, &user, &request.note).await?,
    ))
}
