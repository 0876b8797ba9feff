//! `POST /api/rollback` (dry run or start) and `GET /api/rollback/{rollback_id}` (SPEC §7).

use app::api::{
    CurrentUser, JobState, RollbackAction, RollbackJob, RollbackRequest, RollbackStatus,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::error::{ApiResult, AppError};
use crate::db::batches;
use crate::queue::RollbackRejected;
use crate::startup::AppState;

impl From<RollbackRejected> for AppError {
    fn from(e: RollbackRejected) -> Self {
        match e {
            RollbackRejected::NotOwner => AppError::Forbidden(e.to_string()),
            RollbackRejected::Invalid(m) => AppError::Validation(m),
            RollbackRejected::UnknownBatch(_) => AppError::NotFound(e.to_string()),
            RollbackRejected::UnknownProducts(ids) => AppError::UnknownProducts(ids),
            RollbackRejected::Busy(message) => AppError::SyncInProgress {
                message,
                product_ids: Vec::new(),
            },
            RollbackRejected::NothingToDo(_) => AppError::NothingToRollBack(e.to_string()),
            RollbackRejected::PlanChanged => AppError::PlanChanged(e.to_string()),
            RollbackRejected::Queue(q) => AppError::Internal(q.into()),
        }
    }
}

/// `{"batch_id"?, "product_ids"?, "platform", "dry_run"}`: the plan, or 202 with the
/// rollback started.
pub async fn start(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: Bytes,
) -> Response {
    if user.role != app::api::Role::Owner {
        return AppError::from(RollbackRejected::NotOwner).into_response();
    }
    let request: RollbackRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return AppError::Validation(format!(
                "expected {{\"batch_id\"?: \"…\", \"product_ids\"?: [numbers], \"platform\": \"shopee\"|\"tiktok\"|\"both\", \"dry_run\": true|false, \"plan_hash\"?: \"…\"}}: {e}"
            ))
            .into_response()
        }
    };
    match state.queue.rollback(&user, &request).await {
        Ok(answer) if request.dry_run => {
            Json(json!({"plan": answer.plan, "plan_hash": answer.plan_hash})).into_response()
        }
        Ok(answer) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "rollback_id": answer.rollback_id,
                "total_jobs": answer.total_jobs,
                "plan": answer.plan,
            })),
        )
            .into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// A rollback's progress: its jobs with what each does and where it stands.
pub async fn status(
    State(state): State<AppState>,
    Path(rollback_id): Path<String>,
) -> ApiResult<Json<RollbackStatus>> {
    let snapshot = batches::snapshot(&state.db, &rollback_id)
        .await?
        .filter(|b| b.is_rollback())
        .ok_or_else(|| AppError::NotFound(format!("no rollback with id {rollback_id:?}")))?;
    Ok(Json(RollbackStatus {
        rollback_id: snapshot.batch_id,
        status: snapshot.status,
        total: snapshot.total,
        completed: snapshot.completed,
        failed: snapshot.failed,
        rollback_of: snapshot.rollback_of,
        jobs: snapshot
            .jobs
            .into_iter()
            .map(|j| RollbackJob {
                product_id: j.product_id,
                platform: j.platform,
                action: j.plan_action.unwrap_or(RollbackAction::None),
                state: j.state,
                error_code: j.error_code,
                outcome: j.action.filter(|_| j.state == JobState::Completed),
            })
            .collect(),
    }))
}
