//! `POST /api/validation/run` and `GET /api/validation` (SPEC §8).

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::error::{ApiResult, AppError};
use crate::startup::AppState;
use crate::sync::SyncError;
use crate::validation::{self, ValidationReport};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    #[serde(default)]
    live: bool,
}

/// Runs every check now (with `live`, also against the marketplaces) and answers the run.
pub async fn run(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<ValidationReport>> {
    let request: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest { live: false }
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::Validation(format!("expected {{\"live\": true|false}}: {e}")))?
    };
    match validation::run_tracked(&state.sync, request.live, &state.validation_progress).await {
        Ok(report) => Ok(Json(report)),
        Err(SyncError::NotConnected(shop)) => Err(AppError::Validation(format!(
            "{shop} is not connected, so a live validation cannot read its listings"
        ))),
        Err(SyncError::Marketplace(e)) => Err(AppError::Upstream {
            code: e.class(),
            message: e.to_string(),
        }),
        Err(e) => Err(AppError::Internal(anyhow::anyhow!(
            "validation failed: {e}"
        ))),
    }
}

/// The latest run.
pub async fn latest(State(state): State<AppState>) -> ApiResult<Json<ValidationReport>> {
    validation::latest(&state.db)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound("no validation has run yet".into()))
}
