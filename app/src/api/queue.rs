//! Server functions for batches and the dead-letter queue; the server crate answers them
//! through [`super::ssr::Dashboard`].

use leptos::prelude::*;

use super::batch::*;

#[cfg(feature = "ssr")]
fn signed_in_user() -> Option<i64> {
    super::ssr::current_user().map(|u| u.id)
}

/// Starts a batch for the selected products (`ids` = "1,2,3") on `platform`.
#[server(prefix = "/api/fn", endpoint = "start_batch")]
pub async fn start_batch(ids: String, platform: String) -> Result<BatchCreated, ServerFnError> {
    let ids = parse_id_list(&ids).map_err(super::invalid)?;
    super::ssr::dashboard()?
        .start_batch(signed_in_user(), ids, platform)
        .await
        .map_err(ServerFnError::from)
}

/// `None` when there is no such batch.
#[server(prefix = "/api/fn", endpoint = "get_batch")]
pub async fn get_batch(id: String) -> Result<Option<BatchSnapshot>, ServerFnError> {
    super::ssr::dashboard()?
        .batch(id.trim().to_string())
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "list_batches")]
pub async fn list_batches() -> Result<Vec<BatchSummary>, ServerFnError> {
    super::ssr::dashboard()?
        .batches()
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "list_dead_letters")]
pub async fn list_dead_letters() -> Result<Vec<DeadLetter>, ServerFnError> {
    super::ssr::dashboard()?
        .dead_letters()
        .await
        .map_err(ServerFnError::from)
}

/// Puts a dead-lettered job back in line with fresh attempts.
#[server(prefix = "/api/fn", endpoint = "retry_dead_letter")]
pub async fn retry_dead_letter(job_id: String) -> Result<(), ServerFnError> {
    super::ssr::dashboard()?
        .retry_dead_letter(signed_in_user(), job_id)
        .await
        .map_err(ServerFnError::from)
}

/// Takes a job out of the dead-letter queue for good; a reason is required.
#[server(prefix = "/api/fn", endpoint = "discard_dead_letter")]
pub async fn discard_dead_letter(job_id: String, reason: String) -> Result<(), ServerFnError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(super::invalid("say why this job is discarded"));
    }
    if reason.chars().any(char::is_control) {
        return Err(super::invalid("the reason must be plain text on one line"));
    }
    if reason.chars().count() > 500 {
        return Err(super::invalid(
            "the reason is too long (at most 500 characters)",
        ));
    }
    super::ssr::dashboard()?
        .discard_dead_letter(signed_in_user(), job_id, reason.to_string())
        .await
        .map_err(ServerFnError::from)
}

/// `None` when there is no such batch.
#[server(prefix = "/api/fn", endpoint = "batch_report")]
pub async fn batch_report(id: String) -> Result<Option<BatchReportDto>, ServerFnError> {
    super::ssr::dashboard()?
        .batch_report(id.trim().to_string())
        .await
        .map_err(ServerFnError::from)
}

/// Reads back the default number of random synced products of the batch.
#[server(prefix = "/api/fn", endpoint = "spot_check_batch")]
pub async fn spot_check_batch(id: String) -> Result<usize, ServerFnError> {
    super::ssr::dashboard()?
        .spot_check(id.trim().to_string())
        .await
        .map_err(ServerFnError::from)
}

/// Stops a batch: jobs not started yet are discarded, running ones finish.
#[server(prefix = "/api/fn", endpoint = "cancel_batch")]
pub async fn cancel_batch(id: String) -> Result<(), ServerFnError> {
    super::ssr::dashboard()?
        .cancel_batch(signed_in_user(), id.trim().to_string())
        .await
        .map_err(ServerFnError::from)
}
