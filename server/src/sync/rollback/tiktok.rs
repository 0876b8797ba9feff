//! TikTok Shop's side of a rollback: an updated product goes back to its snapshot with one
//! full edit (every field and SKU, SKU ids kept by seller SKU), sent only when the product
//! differs from the snapshot; a created product is deleted, or deactivated when TikTok
//! refuses the delete.

use app::api::Platform;
use serde_json::{json, Value};

use super::super::tiktok::{comparable, sku_id_of, text};
use super::super::{snapshot, AttemptContext, SyncClaim, SyncError, SyncService};
use super::{listing_of, Outcome, Restored};
use crate::db::rollback::StoredSnapshot;
use crate::marketplace::tiktok::TiktokClient;
use crate::marketplace::MarketplaceError;

/// TikTok's code for an id it has no product for.
const NO_SUCH_PRODUCT: &str = "12052700";

/// The product as TikTok shows it now, or `None` once it is deleted.
async fn listed(client: &TiktokClient, id: &str) -> Result<Option<Value>, SyncError> {
    match client.product(id).await {
        Ok(product) => Ok(Some(product)),
        Err(MarketplaceError::InvalidProduct { code, .. }) if code == NO_SUCH_PRODUCT => Ok(None),
        Err(e) => Err(SyncError::Marketplace(snapshot::before_backup(e))),
    }
}

pub(super) async fn delete(
    service: &SyncService,
    client: &TiktokClient,
    claim: &SyncClaim,
    ctx: &AttemptContext,
    product_id: i64,
    external_id: &str,
    request: &mut Value,
) -> Result<Outcome, SyncError> {
    let Some(now) = listed(client, external_id).await? else {
        return Ok(Outcome::AlreadyGone);
    };
    snapshot::take_before_rollback(
        service.db(),
        claim,
        product_id,
        Platform::Tiktok,
        ctx,
        external_id,
        now,
    )
    .await?;
    let ids = [external_id.to_string()];
    *request = json!({"delete_products": {"product_ids": ids}});
    claim.confirm().await?;
    match client.delete_products(&ids).await {
        Ok(()) => Ok(Outcome::Deleted),
        Err(MarketplaceError::InvalidProduct { code, .. }) if code == NO_SUCH_PRODUCT => {
            Ok(Outcome::AlreadyGone)
        }
        Err(MarketplaceError::InvalidProduct { code, message, .. }) => {
            // A product TikTok will not delete (one with orders) is deactivated instead.
            tracing::warn!(product = %external_id, %code, %message, "TikTok refused the delete; deactivating the product instead");
            *request = json!({"deactivate_products": {"product_ids": ids}, "delete_refused": format!("{code}: {message}")});
            claim.confirm().await?;
            client.deactivate_products(&ids).await?;
            Ok(Outcome::Deactivated)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn restore(
    service: &SyncService,
    client: &TiktokClient,
    claim: &SyncClaim,
    ctx: &AttemptContext,
    snap: &StoredSnapshot,
    request: &mut Value,
) -> Result<Restored, SyncError> {
    let (id, was) = listing_of(snap)?;
    let now = listed(client, id).await?.ok_or_else(|| {
        SyncError::InvalidProduct(format!(
            "TikTok Shop product {id} was deleted since the sync, so it cannot be restored in place; sync the product to list it again, or discard this job with a reason"
        ))
    })?;
    snapshot::take_before_rollback(
        service.db(),
        claim,
        snap.product_id,
        Platform::Tiktok,
        ctx,
        id,
        now.clone(),
    )
    .await?;
    let body = edit_body(was, &now);
    // Both sides in the request's shape: a read-back states prices differently.
    let outcome = if comparable(&edit_body(&now, &now)) == comparable(&body) {
        Outcome::Unchanged
    } else {
        *request = body.clone();
        claim.confirm().await?;
        client.edit_product(id, &body).await?;
        Outcome::Restored
    };
    let after = client.product(id).await?;
    let skus = after["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((text(&s["seller_sku"]), s["id"].as_str()?.to_string())))
        .collect();
    Ok((outcome, skus))
}

/// A SKU's price as a request states it, from a read-back SKU of either shape.
fn amount(price: &Value) -> String {
    ["amount", "sale_price", "tax_exclusive_price"]
        .iter()
        .map(|k| text(&price[*k]))
        .find(|a| !a.is_empty())
        .unwrap_or_default()
}

/// The full edit that makes the product what the snapshot shows: every field and SKU,
/// with the ids TikTok gives the SKUs now.
fn edit_body(was: &Value, now: &Value) -> Value {
    let skus: Vec<Value> = was["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let seller_sku = text(&s["seller_sku"]);
            let mut sku = json!({
                "seller_sku": seller_sku,
                "sales_attributes": s["sales_attributes"].as_array().into_iter().flatten()
                    .map(|a| json!({"name": a["name"], "value_name": a["value_name"]})).collect::<Vec<_>>(),
                "price": {"amount": amount(&s["price"]), "currency": "IDR"},
                "inventory": s["inventory"].as_array().into_iter().flatten()
                    .map(|i| json!({"warehouse_id": i["warehouse_id"], "quantity": i["quantity"]})).collect::<Vec<_>>(),
            });
            if let Some(id) = sku_id_of(now, &seller_sku) {
                sku["id"] = json!(id);
            }
            sku
        })
        .collect();
    let category = was["category_chains"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["is_leaf"] == json!(true)).or(c.last()))
        .map(|c| text(&c["id"]))
        .unwrap_or_else(|| text(&was["category_id"]));
    let mut body = json!({
        "title": was["title"],
        "description": was["description"],
        "category_id": category,
        "main_images": was["main_images"].as_array().into_iter().flatten()
            .map(|i| json!({"uri": i["uri"]})).collect::<Vec<_>>(),
        "skus": skus,
        "package_weight": was["package_weight"],
        "listing_platforms": was["listing_platforms"],
    });
    if !was["package_dimensions"].is_null() {
        body["package_dimensions"] = was["package_dimensions"].clone();
    }
    body
}
