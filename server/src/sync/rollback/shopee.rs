//! Shopee's side of a rollback: an updated item goes back to its snapshot through the
//! same update the sync uses (item fields, tier variations, models, prices and stock),
//! with the snapshot standing in for the catalog; a created item is deleted, or unlisted
//! when Shopee refuses the delete.

use app::api::{Mappings, Platform, ProductDetail};
use app::domain::Rupiah;
use serde_json::{json, Value};

use super::super::shopee::{sync_models, update_item};
use super::super::{snapshot, AttemptContext, Intended, SyncClaim, SyncError, SyncService, Target};
use super::{listing_of, Outcome, Restored};
use crate::db::rollback::StoredSnapshot;
use crate::marketplace::shopee::ShopeeClient;
use crate::marketplace::MarketplaceError;

/// Statuses of an item that is gone: the seller's or Shopee's delete (and the sandbox's).
const DELETED: [&str; 3] = ["SELLER_DELETE", "SHOPEE_DELETE", "DELETED"];

fn item_id(id: &str) -> Result<u64, SyncError> {
    id.parse()
        .map_err(|_| SyncError::InvalidProduct(format!("{id:?} is not a Shopee item id")))
}

/// The item as Shopee shows it now (base info and models), or `None` once it is deleted.
async fn listed(client: &ShopeeClient, item_id: u64) -> Result<Option<Value>, SyncError> {
    let base = client
        .item_base_info(&[item_id])
        .await
        .map_err(|e| SyncError::Marketplace(snapshot::before_backup(e)))?
        .into_iter()
        .find(|b| !DELETED.contains(&b["item_status"].as_str().unwrap_or_default()));
    let Some(base) = base else {
        return Ok(None);
    };
    let models = if base["has_model"] == json!(true) {
        client
            .model_list(item_id)
            .await
            .map_err(|e| SyncError::Marketplace(snapshot::before_backup(e)))?
    } else {
        Value::Null
    };
    Ok(Some(json!({"item": base, "models": models})))
}

pub(super) async fn delete(
    service: &SyncService,
    client: &ShopeeClient,
    claim: &SyncClaim,
    ctx: &AttemptContext,
    product_id: i64,
    external_id: &str,
    request: &mut Value,
) -> Result<Outcome, SyncError> {
    let id = item_id(external_id)?;
    let Some(now) = listed(client, id).await? else {
        return Ok(Outcome::AlreadyGone);
    };
    snapshot::take_before_rollback(
        service.db(),
        claim,
        product_id,
        Platform::Shopee,
        ctx,
        external_id,
        now,
    )
    .await?;
    *request = json!({"delete_item": {"item_id": id}});
    claim.confirm().await?;
    match client.delete_item(id).await {
        Ok(()) => Ok(Outcome::Deleted),
        Err(MarketplaceError::InvalidProduct { code, .. }) if code == "error_item_not_found" => {
            Ok(Outcome::AlreadyGone)
        }
        Err(MarketplaceError::InvalidProduct { code, message, .. }) => {
            // A listing Shopee will not delete (one with orders) is taken off sale instead.
            tracing::warn!(item_id = id, %code, %message, "Shopee refused the delete; unlisting the item instead");
            *request = json!({"unlist_item": {"item_id": id}, "delete_refused": format!("{code}: {message}")});
            claim.confirm().await?;
            client.unlist_item(id).await?;
            Ok(Outcome::Deactivated)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn restore(
    service: &SyncService,
    client: &ShopeeClient,
    claim: &SyncClaim,
    ctx: &AttemptContext,
    snap: &StoredSnapshot,
    request: &mut Value,
) -> Result<Restored, SyncError> {
    let (external_id, listing) = listing_of(snap)?;
    let id = item_id(external_id)?;
    let now = listed(client, id).await?.ok_or_else(|| {
        SyncError::InvalidProduct(format!(
            "Shopee item {id} was deleted since the sync, so it cannot be restored in place; sync the product to list it again, or discard this job with a reason"
        ))
    })?;
    snapshot::take_before_rollback(
        service.db(),
        claim,
        snap.product_id,
        Platform::Shopee,
        ctx,
        external_id,
        now.clone(),
    )
    .await?;
    let was = Was::read(snap.product_id, listing);
    let target = Target {
        product: &was.product,
        category: &was.category,
        intended: &was.intended,
        mapping: None,
        ctx,
        held: None,
    };
    update_item(client, claim, target, &was.images, &now["item"], request).await?;
    let models = if was.intended.variants.is_empty() {
        Vec::new()
    } else {
        sync_models(client, claim, &was.product, &was.intended, id)
            .await?
            .into_iter()
            .map(|(sku, model_id, _)| (sku, model_id))
            .collect()
    };
    let after = listed(client, id).await?;
    let outcome = if after.as_ref().map(comparable) == Some(comparable(&now)) {
        Outcome::Unchanged
    } else {
        Outcome::Restored
    };
    Ok((outcome, models))
}

/// What a listing shows a buyer, to tell whether the restore changed anything.
fn comparable(listing: &Value) -> Value {
    let item = &listing["item"];
    let mut models: Vec<Value> = listing["models"]["model"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            json!([
                m["model_sku"],
                m["tier_index"],
                m["price_info"][0]["original_price"],
                m["stock_info_v2"]["seller_stock"][0]["stock"]
            ])
        })
        .collect();
    models.sort_by_key(|m| m.to_string());
    json!({
        "name": item["item_name"], "description": item["description"], "weight": item["weight"],
        "images": item["image"]["image_id_list"], "price": item["price_info"][0]["original_price"],
        "stock": item["stock_info_v2"]["seller_stock"][0]["stock"], "dimension": item["dimension"],
        "category": item["category_id"], "tiers": listing["models"]["tier_variation"], "models": models,
    })
}

/// The item as the snapshot shows it, in the shape the sync's update works from: the
/// snapshot stands in for the catalog.
struct Was {
    product: ProductDetail,
    intended: Intended,
    images: Vec<String>,
    category: String,
}

fn price_of(v: &Value) -> i64 {
    v["price_info"][0]["original_price"]
        .as_f64()
        .map(|p| p.round() as i64)
        .unwrap_or_default()
}

fn stock_of(v: &Value) -> i32 {
    v["stock_info_v2"]["seller_stock"][0]["stock"]
        .as_i64()
        .unwrap_or_default() as i32
}

impl Was {
    fn read(product_id: i64, listing: &Value) -> Was {
        let item = &listing["item"];
        let models = &listing["models"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let tiers: Vec<(String, Vec<String>)> = models["tier_variation"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let options = t["option_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| text(&o["option"]))
                    .collect();
                (text(&t["name"]), options)
            })
            .collect();
        let mut listed: Vec<&Value> = models["model"].as_array().into_iter().flatten().collect();
        // In tier order, so each tier's options come out in the order the snapshot lists them.
        listed.sort_by_key(|m| {
            m["tier_index"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        let variants: Vec<(String, Vec<String>, Rupiah, i32)> = listed
            .iter()
            .map(|m| {
                let options = m["tier_index"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(t, i)| {
                        tiers
                            .get(t)
                            .and_then(|(_, o)| o.get(i.as_u64().unwrap_or(0) as usize))
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect();
                (
                    text(&m["model_sku"]),
                    options,
                    Rupiah(price_of(m)),
                    stock_of(m),
                )
            })
            .collect();
        let final_price = variants
            .iter()
            .map(|v| v.2)
            .min()
            .unwrap_or(Rupiah(price_of(item)));
        let weight_kg = match &item["weight"] {
            Value::String(w) => w.parse().unwrap_or_default(),
            other => other.as_f64().unwrap_or_default(),
        };
        let d = &item["dimension"];
        let dimensions_cm = match (
            d["package_length"].as_i64(),
            d["package_width"].as_i64(),
            d["package_height"].as_i64(),
        ) {
            (Some(l), Some(w), Some(h)) => Some([l as i32, w as i32, h as i32]),
            _ => None,
        };
        let title = text(&item["item_name"]);
        Was {
            product: ProductDetail {
                id: product_id,
                sku: text(&item["item_sku"]),
                title: title.clone(),
                description: text(&item["description"]),
                category: String::new(),
                base_price: final_price,
                weight_kg,
                dimensions_cm,
                stock: stock_of(item),
                images: Vec::new(),
                tier_names: tiers.iter().map(|(name, _)| name.clone()).collect(),
                variants: Vec::new(),
                mappings: Mappings {
                    shopee: None,
                    tiktok: None,
                },
            },
            intended: Intended {
                title,
                final_price,
                variants,
                content_hash: String::new(),
            },
            images: item["image"]["image_id_list"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            category: item["category_id"]
                .as_u64()
                .map(|c| c.to_string())
                .unwrap_or_else(|| text(&item["category_id"])),
        }
    }
}
