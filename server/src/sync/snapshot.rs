//! Backup first (SPEC §7): before a sync touches a listing, SyncStore stores the mapping as
//! it held it and the listing as the marketplace shows it then. Each push reads the listing
//! it is about to change and hands it here before its first write. No snapshot, no sync: a
//! read that fails ends the attempt before anything is sent, with the read's error class
//! (so the queue retries a network failure as usual).

use app::api::Platform;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::Value;

use super::{AttemptContext, SyncClaim, SyncError, Target};
use crate::db::sql;
use crate::marketplace::error::MarketplaceError;

/// The same error, saying that it was the backup that failed and that nothing was sent.
pub(super) fn before_backup(e: MarketplaceError) -> MarketplaceError {
    e.map_text(
        |code| code,
        |message| {
            format!("backing up the listing before the sync failed, so nothing was sent: {message}")
        },
    )
}

/// Stores the snapshot of what this push is about to change: `listed` is the listing's id
/// and how the marketplace showed it, as the push itself resolved it (the mapped listing,
/// or on Shopee one adopted by SKU), or `None` when the push creates one. The claim is
/// confirmed first, so a sync that lost its claim stores nothing.
pub(super) async fn take(
    db: &DatabaseConnection,
    claim: &SyncClaim,
    target: &Target<'_>,
    platform: Platform,
    listed: Option<(String, Value)>,
) -> Result<(), SyncError> {
    claim.confirm().await?;
    let (external_id, listing) = match listed {
        Some((id, listing)) => (Some(id), Some(listing)),
        None => (None, None),
    };
    store(
        db,
        Backup {
            product_id: target.product.id,
            platform,
            ctx: target.ctx,
            held: target.held,
            external_id,
            listing,
            kind: "sync",
        },
    )
    .await?;
    Ok(())
}

/// A rollback's own backup of the listing it is about to restore or delete, so even a
/// rollback leaves a record of what it changed. Never a state later rollbacks go back to.
pub(super) async fn take_before_rollback(
    db: &DatabaseConnection,
    claim: &SyncClaim,
    product_id: i64,
    platform: Platform,
    ctx: &AttemptContext,
    external_id: &str,
    listing: Value,
) -> Result<(), SyncError> {
    claim.confirm().await?;
    let held = mapping_as_held(db, product_id, platform).await?;
    store(
        db,
        Backup {
            product_id,
            platform,
            ctx,
            held: held.as_ref(),
            external_id: Some(external_id.to_string()),
            listing: Some(listing),
            kind: "rollback",
        },
    )
    .await?;
    Ok(())
}

/// The product's mapping on this platform as SyncStore holds it now (the
/// `platform_mappings` row and its `variant_mappings`); read before the sync marks it
/// `syncing`.
pub(super) async fn mapping_as_held(
    db: &DatabaseConnection,
    product_id: i64,
    platform: Platform,
) -> Result<Option<Value>, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT jsonb_build_object(
                 'mapping', to_jsonb(m),
                 'variants', COALESCE((SELECT jsonb_agg(to_jsonb(v) ORDER BY v.variant_id)
                                       FROM variant_mappings v WHERE v.mapping_id = m.id), '[]'::jsonb)) AS held
             FROM platform_mappings m WHERE m.product_id = $1 AND m.platform = $2",
            [product_id.into(), platform.as_str().into()],
        ))
        .await?;
    row.map(|r| r.try_get::<Value>("", "held")).transpose()
}

struct Backup<'a> {
    product_id: i64,
    platform: Platform,
    ctx: &'a AttemptContext,
    held: Option<&'a Value>,
    external_id: Option<String>,
    listing: Option<Value>,
    kind: &'static str,
}

async fn store(db: &DatabaseConnection, backup: Backup<'_>) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO sync_snapshots (product_id, platform, job_id, batch_id, external_id, mapping, listing, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            backup.product_id.into(),
            backup.platform.as_str().into(),
            backup.ctx.job_id.clone().into(),
            backup.ctx.batch_id.clone().into(),
            backup.external_id.into(),
            backup.held.cloned().into(),
            backup.listing.into(),
            backup.kind.into(),
        ],
    ))
    .await?;
    Ok(())
}
