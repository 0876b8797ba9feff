//! Starting a rollback (SPEC §7): the owner's dry run shows the plan; the real run records
//! it as a rollback batch and hands its jobs to the workers like any batch.

use app::api::{
    CurrentUser, Role, RollbackAction, RollbackAnswer, RollbackPlanItem, RollbackRequest,
};
use serde_json::json;

use super::{Queue, QueueError};
use crate::db::queue::NewBatch;
use crate::db::rollback::{self as plans, PlanRow, Scope};
use crate::db::{audit, queue as jobs};

/// Why a rollback was not started; nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum RollbackRejected {
    #[error("only the owner rolls back")]
    NotOwner,
    #[error("{0}")]
    Invalid(String),
    #[error("no batch with id {0:?}")]
    UnknownBatch(String),
    #[error("no product with id {}", .0.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))]
    UnknownProducts(Vec<i64>),
    /// Something else is running; a rollback waits for the queue to be idle.
    #[error("{0}")]
    Busy(String),
    #[error("nothing to roll back: no sync of these products changed a listing on {0}")]
    NothingToDo(String),
    /// The plan is not the one the dry run showed: something synced meanwhile.
    #[error("the rollback plan changed since it was shown (a sync ran meanwhile); look at the plan again before rolling back")]
    PlanChanged,
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<sea_orm::DbErr> for RollbackRejected {
    fn from(e: sea_orm::DbErr) -> Self {
        RollbackRejected::Queue(e.into())
    }
}

fn plan_items(plan: &[PlanRow]) -> Vec<RollbackPlanItem> {
    plan.iter()
        .map(|r| RollbackPlanItem {
            product_id: r.product_id,
            platform: r.platform,
            action: r.action,
            external_id: r.external_id.clone(),
        })
        .collect()
}

impl Queue {
    /// The plan (a dry run), or the rollback started from it.
    pub async fn rollback(
        &self,
        user: &CurrentUser,
        request: &RollbackRequest,
    ) -> Result<RollbackAnswer, RollbackRejected> {
        if user.role != Role::Owner {
            return Err(RollbackRejected::NotOwner);
        }
        let (platforms, product_ids) = request.checked().map_err(RollbackRejected::Invalid)?;
        let batch_id = request
            .batch_id
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string);
        if let Some(id) = &batch_id {
            if !plans::sync_batch_exists(&self.db, id).await? {
                return Err(RollbackRejected::UnknownBatch(id.clone()));
            }
        }
        if let Some(ids) = &product_ids {
            let unknown = jobs::unknown_products(&self.db, ids).await?;
            if !unknown.is_empty() {
                return Err(RollbackRejected::UnknownProducts(unknown));
            }
        }
        let scope = Scope {
            batch_id: batch_id.clone(),
            product_ids,
            platforms,
        };
        let plan = plans::plan(&self.db, &scope).await?;
        let plan_hash = plans::plan_hash(&plan);
        if request.dry_run {
            return Ok(RollbackAnswer {
                rollback_id: None,
                total_jobs: 0,
                plan: plan_items(&plan),
                plan_hash,
            });
        }
        if request.plan_hash.as_ref().is_some_and(|h| *h != plan_hash) {
            return Err(RollbackRejected::PlanChanged);
        }
        if plan.iter().all(|r| r.action == RollbackAction::None) {
            return Err(RollbackRejected::NothingToDo(request.platform.clone()));
        }
        let (rollback_id, job_ids) = match plans::create_rollback(
            &self.db,
            Some(user.id),
            &request.platform,
            batch_id.as_deref(),
            &plan,
        )
        .await?
        {
            NewBatch::Created { batch_id, job_ids } => (batch_id, job_ids),
            NewBatch::Gated(reason) => return Err(RollbackRejected::Busy(reason)),
            NewBatch::Busy(_) => {
                return Err(RollbackRejected::Busy(
                    "another batch is running; wait for it or cancel it".into(),
                ))
            }
        };
        audit::record(
            &self.db,
            Some(user.id),
            "rollback.start",
            json!({
                "rollback_id": rollback_id, "batch_id": batch_id, "platform": request.platform,
                "plan": plan.iter().map(|r| json!({"product_id": r.product_id, "platform": r.platform.as_str(),
                    "action": r.action.as_str(), "external_id": r.external_id, "snapshot_id": r.snapshot_id})).collect::<Vec<_>>(),
            }),
        )
        .await?;
        if let Err(e) = self.dispatch(&job_ids).await {
            tracing::warn!(error = %e, %rollback_id, "rollback recorded but not yet dispatched");
        }
        self.publish(&rollback_id).await;
        Ok(RollbackAnswer {
            rollback_id: Some(rollback_id),
            total_jobs: job_ids.len() as i64,
            plan: plan_items(&plan),
            plan_hash,
        })
    }
}
