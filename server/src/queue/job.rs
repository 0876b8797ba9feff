//! What a worker runs for a job: the [`JobHandler`] trait and its one production
//! implementation, the sync service.

use std::time::Duration;

use app::api::RollbackAction;
use async_trait::async_trait;

use crate::db::queue::ClaimedJob;
use crate::marketplace::MarketplaceError;
use crate::sync::{AttemptContext, SyncError, SyncService};

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug, Clone)]
pub struct JobFailure {
    pub code: String,
    pub message: String,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
    /// Another sync of the same product and platform was running: nothing was tried, so
    /// the job waits its turn without spending an attempt.
    pub busy: bool,
    /// The shop is disconnected: the job waits, paused and without spending an attempt,
    /// until the owner connects the shop again.
    pub paused: bool,
}

#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt; `Ok` carries what was done (`created`, `updated`, …).
    async fn run(
        &self,
        job: &ClaimedJob,
        ctx: &AttemptContext,
    ) -> Result<Option<String>, JobFailure>;
}

impl From<&SyncError> for JobFailure {
    fn from(e: &SyncError) -> Self {
        let (retryable, retry_after) = match e {
            SyncError::Marketplace(MarketplaceError::RateLimited { retry_after, .. }) => {
                (true, *retry_after)
            }
            SyncError::Marketplace(m) => (m.is_retryable(), None),
            // Our own database hiccuped; the product itself may be fine.
            SyncError::Db(_) => (true, None),
            // Another sync of the pair is running (or took over): try again after it.
            SyncError::InProgress { .. } | SyncError::ClaimLost(_) => (true, None),
            SyncError::InvalidProduct(_) | SyncError::NotConnected(_) => (false, None),
        };
        JobFailure {
            code: e.code().to_string(),
            message: e.to_string(),
            retryable,
            retry_after,
            // Only a sync that never started is free; one that lost its claim midway may
            // have written, so its attempt counts.
            busy: matches!(e, SyncError::InProgress { .. }),
            paused: matches!(
                e,
                SyncError::Marketplace(MarketplaceError::Disconnected { .. })
            ),
        }
    }
}

#[async_trait]
impl JobHandler for SyncService {
    async fn run(
        &self,
        job: &ClaimedJob,
        ctx: &AttemptContext,
    ) -> Result<Option<String>, JobFailure> {
        // A rollback job restores toward its snapshot instead of syncing the catalog.
        if let (Some(snapshot_id), Some(action)) = (
            job.snapshot_id,
            job.plan_action.as_deref().and_then(RollbackAction::parse),
        ) {
            return match self
                .roll_back(
                    job.product_id,
                    job.platform(),
                    snapshot_id,
                    action,
                    job.plan_external_id.as_deref(),
                    ctx,
                )
                .await
            {
                Ok(outcome) => Ok(Some(outcome.as_str().to_string())),
                Err(e) => Err(JobFailure::from(&e)),
            };
        }
        match self
            .sync_product_to(job.product_id, job.platform(), ctx)
            .await
        {
            Ok(result) => Ok(Some(
                serde_json::to_value(result.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            )),
            Err(e) => Err(JobFailure::from(&e)),
        }
    }
}
