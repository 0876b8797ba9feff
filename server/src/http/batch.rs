//! The batch API (SPEC §5): start a batch, read its status, follow it live over SSE.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use app::api::{BatchRequest, BatchSnapshot, CurrentUser};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::Stream;
use tokio::sync::{broadcast, watch};

use super::error::{ApiResult, AppError};
use crate::db::batches;
use crate::queue::events::BatchEvents;
use crate::queue::BatchRejected;
use crate::startup::AppState;

/// A stream re-reads its batch at least this often, in case a notification was lost.
const RECHECK_EVERY: Duration = Duration::from_secs(2);

impl From<BatchRejected> for AppError {
    fn from(e: BatchRejected) -> Self {
        match e {
            BatchRejected::Invalid(m) => AppError::Validation(m),
            BatchRejected::TooLarge(_) => AppError::BatchTooLarge(e.to_string()),
            BatchRejected::UnknownProducts(ids) => AppError::UnknownProducts(ids),
            BatchRejected::InProgress(ref ids) => AppError::SyncInProgress {
                message: e.to_string(),
                product_ids: ids.clone(),
            },
            BatchRejected::Gate(message) => AppError::RolloutGate {
                missing: vec![message.clone()],
                message,
            },
            BatchRejected::Queue(q) => AppError::Internal(q.into()),
        }
    }
}

/// `POST /api/sync/batch` `{"product_ids": [..], "platform": "shopee"|"tiktok"|"both"}`.
pub async fn start(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    body: Bytes,
) -> Response {
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return AppError::Validation(format!(
                "expected {{\"product_ids\": [numbers], \"platform\": \"shopee\"|\"tiktok\"|\"both\"}}: {e}"
            ))
            .into_response()
        }
    };
    let user_id = user.map(|Extension(u)| u.id);
    match state.queue.start_batch(user_id, &request).await {
        Ok(created) => (StatusCode::ACCEPTED, Json(created)).into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

async fn load(state: &AppState, batch_id: &str) -> ApiResult<BatchSnapshot> {
    batches::snapshot(&state.db, batch_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no batch with id {batch_id:?}")))
}

/// `GET /api/sync/batch/status?batch_id=…`
pub async fn status(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<BatchSnapshot>> {
    let batch_id = params
        .get("batch_id")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::Validation("batch_id is required".into()))?;
    Ok(Json(load(&state, batch_id).await?))
}

/// `POST /api/sync/batch/{batch_id}/cancel`: jobs not started yet are discarded, running
/// ones finish; answers the batch as it now stands.
pub async fn cancel(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(batch_id): Path<String>,
) -> ApiResult<Json<BatchSnapshot>> {
    let snapshot = load(&state, &batch_id).await?;
    let owner = user
        .as_ref()
        .is_some_and(|Extension(u)| u.role == app::api::Role::Owner);
    if snapshot.is_rollback() && !owner {
        return Err(AppError::Forbidden(
            "only the owner cancels a rollback".into(),
        ));
    }
    let user_id = user.map(|Extension(u)| u.id);
    let cancelled = state
        .queue
        .cancel_batch(&batch_id, user_id)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if !cancelled {
        return Err(AppError::Validation(format!(
            "batch {batch_id} has already finished ({})",
            snapshot.status.label()
        )));
    }
    Ok(Json(load(&state, &batch_id).await?))
}

/// `GET /api/sync/batch/{batch_id}/events`: the current snapshot first, then one event per
/// change, and a `finished` event last. Every event is a whole snapshot, so a client that
/// reconnects has lost nothing.
pub async fn events(
    State(state): State<AppState>,
    Extension(events): Extension<BatchEvents>,
    Extension(stopped): Extension<watch::Receiver<bool>>,
    Path(batch_id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before the first read, so no change between the two is missed.
    let changes = events.listen();
    let first = load(&state, &batch_id).await?;
    let follow = Follow {
        state,
        batch_id,
        changes,
        stopped,
        last: None,
        pending: Some(first),
        sent: 0,
        done: false,
    };
    let stream = futures::stream::unfold(follow, |mut f| async move {
        let event = f.next_event().await?;
        Some((Ok(event), f))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct Follow {
    state: AppState,
    batch_id: String,
    changes: broadcast::Receiver<String>,
    stopped: watch::Receiver<bool>,
    last: Option<BatchSnapshot>,
    pending: Option<BatchSnapshot>,
    sent: u64,
    done: bool,
}

impl Follow {
    async fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            let snapshot = match self.pending.take() {
                Some(s) => s,
                None => {
                    self.wait_for_change().await?;
                    match batches::snapshot(&self.state.db, &self.batch_id).await {
                        Ok(Some(s)) => s,
                        Ok(None) => return None,
                        Err(e) => {
                            tracing::warn!(error = %e, "reading batch progress failed");
                            continue;
                        }
                    }
                }
            };
            if self.last.as_ref() == Some(&snapshot) {
                continue;
            }
            self.done = snapshot.status.is_finished();
            self.sent += 1;
            let event = Event::default()
                .event(if self.done { "finished" } else { "snapshot" })
                .id(self.sent.to_string())
                .json_data(&snapshot)
                .ok()?;
            self.last = Some(snapshot);
            return Some(event);
        }
    }

    /// Returns when this batch may have changed; `None` when the server is stopping.
    async fn wait_for_change(&mut self) -> Option<()> {
        let recheck = tokio::time::sleep(RECHECK_EVERY);
        tokio::pin!(recheck);
        let mut stopped = self.stopped.clone();
        let stopping = async move { stopped.wait_for(|stop| *stop).await.is_ok() };
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                received = self.changes.recv() => match received {
                    Ok(id) if id != self.batch_id => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return Some(()),
                    Err(broadcast::error::RecvError::Closed) => {
                        (&mut recheck).await;
                        return Some(());
                    }
                },
                _ = &mut recheck => return Some(()),
                _ = &mut stopping => return None,
            }
        }
    }
}
