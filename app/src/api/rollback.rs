//! Rollback (SPEC §7) as the JSON API and the dashboard show it: the plan per product and
//! platform, and the rollback's progress (it runs through the queue like a batch).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::batch::parse_id_list;
use super::batch::{parse_batch_platform, MAX_BATCH_PRODUCTS};
use super::{BatchStatus, JobState, Platform};

/// What a rollback does to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackAction {
    /// The sync being undone created the listing: it is deleted (deactivated when the
    /// marketplace refuses the delete).
    Delete,
    /// The sync updated the listing: it goes back to its snapshot, field by field.
    Restore,
    /// Nothing to undo: no sync of ours changed it.
    None,
}

impl RollbackAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackAction::Delete => "delete",
            RollbackAction::Restore => "restore",
            RollbackAction::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<RollbackAction> {
        [
            RollbackAction::Delete,
            RollbackAction::Restore,
            RollbackAction::None,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RollbackAction::Delete => "Delete the listing (the sync created it)",
            RollbackAction::Restore => "Restore the listing to its snapshot",
            RollbackAction::None => "Nothing to undo",
        }
    }
}

/// `POST /api/rollback` as the JSON API and the dashboard send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    #[serde(default)]
    pub batch_id: Option<String>,
    #[serde(default)]
    pub product_ids: Option<Vec<i64>>,
    pub platform: String,
    pub dry_run: bool,
    /// The dry run's `plan_hash`: the rollback starts only if its plan is still that one.
    #[serde(default)]
    pub plan_hash: Option<String>,
}

impl RollbackRequest {
    /// The platforms it covers, and the product ids without repeats; refuses a request
    /// naming neither a batch nor products.
    pub fn checked(&self) -> Result<(Vec<Platform>, Option<Vec<i64>>), String> {
        let platforms = parse_batch_platform(&self.platform)?;
        let ids = self.product_ids.as_deref().map(super::dedupe_ids);
        let batch = self
            .batch_id
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty());
        match (&batch, &ids) {
            (None, None) => return Err("name a batch_id, product_ids or both".into()),
            (None, Some(ids)) if ids.is_empty() => {
                return Err("choose at least one product to roll back".into())
            }
            _ => {}
        }
        if ids
            .as_ref()
            .is_some_and(|ids| ids.len() > MAX_BATCH_PRODUCTS)
        {
            return Err(format!(
                "a rollback covers at most {MAX_BATCH_PRODUCTS} products at a time, like a batch"
            ));
        }
        Ok((platforms, ids))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlanItem {
    pub product_id: i64,
    pub platform: Platform,
    pub action: RollbackAction,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlan {
    pub plan: Vec<RollbackPlanItem>,
    pub plan_hash: String,
}

/// `POST /api/rollback` without `dry_run`: 202 with the rollback's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackCreated {
    pub rollback_id: String,
    pub total_jobs: i64,
    pub plan: Vec<RollbackPlanItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackJob {
    pub product_id: i64,
    pub platform: Platform,
    pub action: RollbackAction,
    pub state: JobState,
    pub error_code: Option<String>,
    /// What the job did: `deleted`, `deactivated` (the marketplace refused the delete),
    /// `restored` or `unchanged`.
    pub outcome: Option<String>,
}

/// `GET /api/rollback/{rollback_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackStatus {
    pub rollback_id: String,
    pub status: BatchStatus,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub rollback_of: Option<String>,
    pub jobs: Vec<RollbackJob>,
}

/// The dry run: what a rollback of `batch_id` (or of the products `ids` = "1,2,3") on
/// `platform` would do.
#[server(prefix = "/api/fn", endpoint = "plan_rollback")]
pub async fn plan_rollback(
    batch_id: Option<String>,
    ids: Option<String>,
    platform: String,
) -> Result<RollbackPlan, ServerFnError> {
    let request = form_request(batch_id, ids, platform, true, None)?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .rollback(user, request)
        .await
        .map(|r| RollbackPlan {
            plan: r.plan,
            plan_hash: r.plan_hash,
        })
        .map_err(ServerFnError::from)
}

/// Starts the rollback the dry run showed (refused if its plan changed meanwhile); the
/// page follows it like a batch.
#[server(prefix = "/api/fn", endpoint = "start_rollback")]
pub async fn start_rollback(
    batch_id: Option<String>,
    ids: Option<String>,
    platform: String,
    plan_hash: Option<String>,
) -> Result<RollbackCreated, ServerFnError> {
    let request = form_request(batch_id, ids, platform, false, plan_hash)?;
    let user = super::ssr::signed_in()?;
    let created = match super::ssr::dashboard()?.rollback(user, request).await {
        Ok(created) => created,
        Err(failure) => return Err(failure.into()),
    };
    Ok(RollbackCreated {
        rollback_id: created.rollback_id.unwrap_or_default(),
        total_jobs: created.total_jobs,
        plan: created.plan,
    })
}

/// A dashboard form's fields as a rollback request.
#[cfg(feature = "ssr")]
fn form_request(
    batch_id: Option<String>,
    ids: Option<String>,
    platform: String,
    dry_run: bool,
    plan_hash: Option<String>,
) -> Result<RollbackRequest, ServerFnError> {
    let product_ids = match ids.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(parse_id_list(raw).map_err(super::invalid)?),
        None => None,
    };
    let request = RollbackRequest {
        batch_id: batch_id.filter(|b| !b.trim().is_empty()),
        product_ids,
        platform,
        dry_run,
        plan_hash: plan_hash.filter(|h| !h.trim().is_empty()),
    };
    request.checked().map_err(super::invalid)?;
    Ok(request)
}

/// A dry run's plan or a started rollback, as the server answers both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackAnswer {
    pub rollback_id: Option<String>,
    pub total_jobs: i64,
    pub plan: Vec<RollbackPlanItem>,
    pub plan_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(batch: Option<&str>, ids: Option<Vec<i64>>, platform: &str) -> RollbackRequest {
        RollbackRequest {
            batch_id: batch.map(str::to_string),
            product_ids: ids,
            platform: platform.into(),
            dry_run: true,
            plan_hash: None,
        }
    }

    #[test]
    fn a_rollback_names_a_batch_or_products_and_a_platform() {
        assert!(request(None, None, "both").checked().is_err());
        assert!(request(Some("  "), None, "both").checked().is_err());
        assert!(request(None, Some(vec![]), "both").checked().is_err());
        assert!(request(None, Some(vec![1]), "lazada").checked().is_err());
        assert!(request(None, Some((1..=51).collect()), "both")
            .checked()
            .is_err());
        let (platforms, ids) = request(None, Some(vec![3, 3, 1]), "tiktok")
            .checked()
            .unwrap();
        assert_eq!((platforms, ids), (vec![Platform::Tiktok], Some(vec![3, 1])));
        assert!(request(Some("b"), None, "both").checked().is_ok());
    }
}
