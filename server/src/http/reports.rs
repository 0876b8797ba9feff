//! The reports' Markdown as downloads: `GET /api/reports/pilot/markdown`,
//! `/api/reports/completion/markdown` and `/api/reports/batch/{batch_id}/markdown`, the
//! same text `syncstore report …` prints.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::{ApiResult, AppError};
use crate::startup::AppState;
use crate::sync::{batch_report, completion, pilot};

fn markdown(file: &str, body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn pilot(State(state): State<AppState>) -> ApiResult<Response> {
    let report = pilot::pilot_report(&state.db).await?;
    Ok(markdown("syncstore-pilot-report.md", report.markdown))
}

pub async fn completion(State(state): State<AppState>) -> ApiResult<Response> {
    let report = completion::completion_report(&state.db).await?;
    Ok(markdown("syncstore-completion-report.md", report.markdown))
}

pub async fn batch(
    State(state): State<AppState>,
    Path(batch_id): Path<String>,
) -> ApiResult<Response> {
    let report = batch_report::batch_report(&state.db, &batch_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no batch with id {batch_id:?}")))?;
    let short: String = batch_id.chars().take(8).collect();
    Ok(markdown(
        &format!("syncstore-batch-{short}-report.md"),
        report.markdown,
    ))
}
