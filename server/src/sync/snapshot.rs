//! Backup first (SPEC §7): before a sync touches a listing, SyncStore stores the mapping as
//! it held it and the listing as the marketplace shows it then. No snapshot, no sync: a
//! read that fails ends the attempt before anything is sent, with the read's error class
//! (so the queue retries a network failure as usual).

use app::api::Platform;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{json, Value};

use super::{records, AttemptContext, Shop, SyncError};
use crate::db::sql;
use crate::marketplace::error::MarketplaceError;

/// The same error, saying that it was the backup that failed and that nothing was sent.
fn before_backup(e: MarketplaceError) -> MarketplaceError {
    let note = |message: String| {
        format!("backing up the listing before the sync failed, so nothing was sent: {message}")
    };
    match e {
        MarketplaceError::InvalidProduct {
            platform,
            code,
            message,
        } => MarketplaceError::InvalidProduct {
            platform,
            code,
            message: note(message),
        },
        MarketplaceError::RateLimited {
            platform,
            code,
            message,
            retry_after,
        } => MarketplaceError::RateLimited {
            platform,
            code,
            message: note(message),
            retry_after,
        },
        MarketplaceError::Network { platform, message } => MarketplaceError::Network {
            platform,
            message: note(message),
        },
        MarketplaceError::Unauthorized {
            platform,
            code,
            message,
        } => MarketplaceError::Unauthorized {
            platform,
            code,
            message: note(message),
        },
    }
}

/// A Shopee item with its models, as `get_item_base_info` and `get_model_list` answer.
async fn shopee_listing(
    client: &crate::marketplace::shopee::ShopeeClient,
    item_id: u64,
) -> Result<Option<Value>, MarketplaceError> {
    let Some(item) = client.item_base_info(&[item_id]).await?.into_iter().next() else {
        return Ok(None);
    };
    let models = client.model_list(item_id).await?;
    Ok(Some(json!({ "item": item, "models": models })))
}

/// The listing this sync is about to change, as the marketplace shows it: the mapped one,
/// or on Shopee one carrying exactly this SKU (which the sync would adopt). `None` when
/// there is none, and the sync creates one.
async fn read_listing(
    shop: &Shop<'_>,
    sku: &str,
    external_id: Option<&str>,
) -> Result<(Option<String>, Option<Value>), MarketplaceError> {
    match (shop, external_id) {
        (Shop::Shopee(client), Some(id)) => match id.parse::<u64>() {
            Ok(item_id) => Ok((Some(id.to_string()), shopee_listing(client, item_id).await?)),
            Err(_) => Ok((Some(id.to_string()), None)),
        },
        (Shop::Shopee(client), None) => {
            let found = client.search_item_by_sku(sku).await?;
            for chunk in found.chunks(50) {
                for item in client.item_base_info(chunk).await? {
                    if item["item_sku"].as_str() == Some(sku) {
                        let item_id = item["item_id"].as_u64().unwrap_or_default();
                        let listing = shopee_listing(client, item_id).await?;
                        return Ok((Some(item_id.to_string()), listing));
                    }
                }
            }
            Ok((None, None))
        }
        (Shop::Tiktok(client), Some(id)) => match client.product(id).await {
            Ok(product) => Ok((Some(id.to_string()), Some(product))),
            // Gone from the shop (deleted by hand): there is nothing to restore.
            Err(MarketplaceError::InvalidProduct { .. }) => Ok((Some(id.to_string()), None)),
            Err(e) => Err(e),
        },
        (Shop::Tiktok(_), None) => Ok((None, None)),
    }
}

/// Stores the snapshot; any failure ends the attempt before the first write.
pub(super) async fn take(
    db: &impl ConnectionTrait,
    shop: &Shop<'_>,
    product_id: i64,
    sku: &str,
    platform: Platform,
    mapping: Option<&records::StoredMapping>,
    ctx: &AttemptContext,
) -> Result<(), SyncError> {
    let external_id = mapping.and_then(|m| m.external_id.as_deref());
    let (listed_as, listing) = read_listing(shop, sku, external_id)
        .await
        .map_err(|e| SyncError::Marketplace(before_backup(e)))?;
    store(db, product_id, platform, ctx, listed_as, listing).await?;
    Ok(())
}

async fn store(
    db: &impl ConnectionTrait,
    product_id: i64,
    platform: Platform,
    ctx: &AttemptContext,
    external_id: Option<String>,
    listing: Option<Value>,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO sync_snapshots (product_id, platform, job_id, batch_id, external_id, mapping, listing)
         VALUES ($1, $2, $3, $4, $5,
                 (SELECT jsonb_build_object(
                      'mapping', to_jsonb(m),
                      'variants', COALESCE((SELECT jsonb_agg(to_jsonb(v) ORDER BY v.variant_id)
                                            FROM variant_mappings v WHERE v.mapping_id = m.id), '[]'::jsonb))
                  FROM platform_mappings m WHERE m.product_id = $1 AND m.platform = $2),
                 $6)",
        [
            product_id.into(),
            platform.as_str().into(),
            ctx.job_id.clone().into(),
            ctx.batch_id.clone().into(),
            external_id.into(),
            listing.into(),
        ],
    ))
    .await?;
    Ok(())
}
