//! Rolling back a sync (SPEC §7). A rollback job is a sync toward a snapshot: it restores
//! the listing a sync updated to the snapshot taken before that sync, field by field, or
//! deletes the listing that sync created, then puts the mapping back as the snapshot held
//! it. Like a sync it takes the pair's claim, backs up what it is about to change, fences
//! every write with the claim and logs every attempt; run twice, it finds nothing left to
//! change.

mod shopee;
mod tiktok;

use std::time::Instant;

use app::api::{Platform, RollbackAction};
use serde_json::{json, Value};

use super::{AttemptContext, SyncClaim, SyncError, SyncService};
use crate::db::rollback::{self as plans, StoredSnapshot};
use crate::db::sync as records;

/// What a rollback job did to its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    /// The marketplace refused the delete (a listing with orders, say): it was taken off
    /// sale instead.
    Deactivated,
    /// The listing was already gone.
    AlreadyGone,
    Restored,
    /// The listing already matched its snapshot.
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::Deactivated => "deactivated",
            Outcome::AlreadyGone => "already_gone",
            Outcome::Restored => "restored",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// One rollback job's plan.
struct Planned<'a> {
    product_id: i64,
    platform: Platform,
    snapshot_id: i64,
    action: RollbackAction,
    /// The listing restored, or the one the undone sync created.
    listing: Option<&'a str>,
}

/// A listing the rollback restores toward, and what it learned: the variant ids the
/// listing has afterwards, by variant SKU.
pub(super) type Restored = (Outcome, Vec<(String, String)>);

impl SyncService {
    /// Runs one attempt of a rollback job and logs it, whatever its outcome.
    pub async fn roll_back(
        &self,
        product_id: i64,
        platform: Platform,
        snapshot_id: i64,
        action: RollbackAction,
        listing: Option<&str>,
        ctx: &AttemptContext,
    ) -> Result<Outcome, SyncError> {
        let started = Instant::now();
        let mut request = Value::Null;
        let wait = self.lease + std::time::Duration::from_secs(1);
        let outcome = match SyncClaim::acquire(
            &self.db,
            product_id,
            platform,
            ctx.job_id.as_deref(),
            self.lease,
            wait,
        )
        .await
        {
            Ok(claim) => {
                let outcome = self
                    .roll_back_attempt(
                        Planned {
                            product_id,
                            platform,
                            snapshot_id,
                            action,
                            listing,
                        },
                        &claim,
                        ctx,
                        &mut request,
                    )
                    .await;
                claim.release().await;
                outcome
            }
            Err(e) => Err(e),
        };
        if let Err(SyncError::Db(e)) = &outcome {
            tracing::error!(error = %e, product_id, platform = platform.as_str(), "rollback failed in the database");
        }
        let answer = match &outcome {
            Ok(done) => Ok(
                json!({"rollback": action.as_str(), "outcome": done.as_str(), "snapshot_id": snapshot_id}),
            ),
            Err(e) => Err((
                json!({"rollback": action.as_str(), "error": e.to_string(), "snapshot_id": snapshot_id}),
                e,
            )),
        };
        let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        self.log_attempt(product_id, platform, ctx, request, answer, duration_ms)
            .await?;
        outcome
    }

    async fn roll_back_attempt(
        &self,
        planned: Planned<'_>,
        claim: &SyncClaim,
        ctx: &AttemptContext,
        request: &mut Value,
    ) -> Result<Outcome, SyncError> {
        let Planned {
            product_id,
            platform,
            snapshot_id,
            action,
            listing,
        } = planned;
        let snapshot = plans::snapshot(&self.db, snapshot_id)
            .await?
            .filter(|s| s.product_id == product_id && s.platform == platform.as_str())
            .ok_or_else(|| {
                SyncError::InvalidProduct(format!(
                    "snapshot {snapshot_id} of product {product_id} on {} is gone",
                    platform.label()
                ))
            })?;
        let mapped = records::mapping(&self.db, product_id, platform)
            .await?
            .and_then(|m| m.external_id);
        let (outcome, models) = match action {
            RollbackAction::Delete => {
                // The listing the undone sync created, as the plan named it.
                let id = listing.ok_or_else(|| {
                    SyncError::InvalidProduct("this rollback job names no listing to delete".into())
                })?;
                let outcome = match platform {
                    Platform::Shopee => {
                        let client = &self.shopee_client().await?;
                        shopee::delete(self, client, claim, ctx, product_id, id, request).await?
                    }
                    Platform::Tiktok => {
                        let client = &self.tiktok_client().await?;
                        tiktok::delete(self, client, claim, ctx, product_id, id, request).await?
                    }
                };
                (outcome, Vec::new())
            }
            RollbackAction::Restore => match platform {
                Platform::Shopee => {
                    let client = &self.shopee_client().await?;
                    shopee::restore(self, client, claim, ctx, &snapshot, request).await?
                }
                Platform::Tiktok => {
                    let client = &self.tiktok_client().await?;
                    tiktok::restore(self, client, claim, ctx, &snapshot, request).await?
                }
            },
            RollbackAction::None => return Ok(Outcome::Unchanged),
        };
        claim.confirm().await?;
        let later_listing =
            action == RollbackAction::Delete && mapped.is_some() && mapped.as_deref() != listing;
        if later_listing {
            // A later sync maps another listing now: that mapping is not this rollback's.
        } else if outcome == Outcome::Deactivated {
            // The listing still exists: the mapping keeps pointing at it, so a later sync
            // updates it rather than listing the product a second time.
            if mapped.as_deref() != listing {
                return Ok(outcome);
            }
            records::set_status(
                &self.db,
                product_id,
                platform,
                "error",
                Some((
                    "DEACTIVATED",
                    &format!(
                        "rolled back: {} refused to delete this listing (a listing with orders or on hold cannot be deleted), so it was taken off sale instead; delete it in the seller centre once it can be, or sync to list it again",
                        platform.label()
                    ),
                )),
            )
            .await?;
        } else {
            plans::restore_mapping(&self.db, &snapshot, &models).await?;
        }
        Ok(outcome)
    }
}

/// The listing a restore goes back to, as the snapshot stored it.
fn listing_of(snapshot: &StoredSnapshot) -> Result<(&str, &Value), SyncError> {
    match (&snapshot.external_id, &snapshot.listing) {
        (Some(id), Some(listing)) => Ok((id.as_str(), listing)),
        _ => Err(SyncError::InvalidProduct(format!(
            "snapshot {} holds no listing to restore",
            snapshot.id
        ))),
    }
}
