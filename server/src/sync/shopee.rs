//! Shopee listings: item + tier variations + models, found by SKU before any create.

use app::api::{Platform, ProductDetail};
use app::domain::TitleLimits;
use serde_json::{json, Value};

use super::images::platform_images;
use super::{Intended, SyncAction, SyncError, SyncResult, SyncService};
use crate::db::sync::{self as records, StoredMapping, SyncedListing};
use crate::marketplace::shopee::ShopeeClient;

/// The shop's item-name bounds for this category (`get_item_limit`).
pub async fn title_limits(client: &ShopeeClient, category: &str) -> Result<TitleLimits, SyncError> {
    let limits = client.item_limit(category.parse().unwrap_or(0)).await?;
    let name = &limits["item_name_length_limit"];
    let default = TitleLimits::SHOPEE_DEFAULT;
    Ok(TitleLimits {
        min_chars: name["min_limit"]
            .as_u64()
            .map(|v| v as usize)
            .unwrap_or(default.min_chars),
        max_chars: name["max_limit"]
            .as_u64()
            .map(|v| v as usize)
            .unwrap_or(default.max_chars),
    })
}

/// Mandatory attributes filled only with values that claim nothing: a brand attribute
/// gets its "no brand" value. Anything else is a product the seller must complete.
async fn attributes(client: &ShopeeClient, category: &str) -> Result<Value, SyncError> {
    let tree = client
        .get(
            "product/get_attribute_tree",
            &[
                ("category_id_list", category.to_string()),
                ("language", "id".into()),
            ],
        )
        .await?;
    let mut out = Vec::new();
    for attr in tree["list"][0]["attribute_tree"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if attr["mandatory"] != json!(true) {
            continue;
        }
        let no_brand = attr["attribute_value_list"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| {
                let name = v["name"].as_str().unwrap_or_default().to_lowercase();
                name == "tidak ada merek" || name == "no brand" || name == "nobrand"
            });
        match no_brand {
            Some(v) => out.push(json!({"attribute_id": attr["attribute_id"], "attribute_value_list": [{"value_id": v["value_id"]}]})),
            None => {
                return Err(SyncError::InvalidProduct(format!(
                    "Shopee requires the attribute {:?} for this category and the master catalog has no value for it",
                    attr["name"].as_str().unwrap_or("?")
                )))
            }
        }
    }
    Ok(json!(out))
}

async fn logistics(client: &ShopeeClient) -> Result<Value, SyncError> {
    let channels = client.get("logistics/get_channel_list", &[]).await?;
    let usable: Vec<Value> = channels["logistics_channel_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["enabled"] == json!(true) && c["mask_channel_id"].as_u64().unwrap_or(0) == 0)
        .map(|c| json!({"logistic_id": c["logistics_channel_id"], "enabled": true}))
        .collect();
    if usable.is_empty() {
        return Err(SyncError::InvalidProduct(
            "the Shopee shop has no enabled logistics channel".into(),
        ));
    }
    Ok(json!(usable))
}

pub async fn push(
    service: &SyncService,
    client: &ShopeeClient,
    product: &ProductDetail,
    category: &str,
    intended: &Intended,
    mapping: Option<&StoredMapping>,
    request: &mut Value,
) -> Result<SyncResult, SyncError> {
    // A listing we created before (even one we never got to record) is updated, not duplicated.
    let known = mapping
        .and_then(|m| m.external_id.as_deref())
        .and_then(|id| id.parse::<u64>().ok());
    let existing = match known {
        Some(id) => Some(id),
        None => client
            .search_item_by_sku(&product.sku)
            .await?
            .first()
            .copied(),
    };
    let (item_id, action) = match existing {
        Some(item_id) => {
            let update = json!({"item_id": item_id, "item_name": intended.title, "description": product.description});
            *request = update.clone();
            client.post("product/update_item", &update).await?;
            (item_id, SyncAction::Updated)
        }
        None => {
            let images = platform_images(
                service,
                Platform::Shopee,
                &product.images,
                |bytes, name| async move {
                    client
                        .upload_image(bytes, &name)
                        .await
                        .map_err(SyncError::from)
                },
            )
            .await?;
            let mut item = json!({
                "item_name": intended.title,
                "description": product.description,
                "original_price": intended.final_price.0,
                "weight": product.weight_kg,
                "item_sku": product.sku,
                "category_id": category.parse::<u64>().unwrap_or(0),
                "image": {"image_id_list": images},
                "logistic_info": logistics(client).await?,
                "seller_stock": [{"stock": product.stock}],
                "attribute_list": attributes(client, category).await?,
                "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
                "condition": "NEW",
                "item_status": "NORMAL",
            });
            if let Some([l, w, h]) = product.dimensions_cm {
                item["dimension"] =
                    json!({"package_length": l, "package_width": w, "package_height": h});
            }
            *request = item.clone();
            (client.add_item(&item).await?, SyncAction::Created)
        }
    };

    let variants = sync_models(client, product, intended, item_id, action).await?;
    if variants.is_empty() {
        client
            .update_price(item_id, &[(0, intended.final_price.0)])
            .await?;
    }
    let external_id = item_id.to_string();
    records::record_synced(
        &service.db,
        product.id,
        Platform::Shopee,
        &SyncedListing {
            external_id: &external_id,
            final_price: intended.final_price.0,
            seo_title: &intended.title,
            category_id: category,
            content_hash: &intended.content_hash,
            tokopedia_status: None,
            listing_platforms: &[],
            variants: &variants,
        },
    )
    .await?;
    Ok(SyncResult {
        platform: Platform::Shopee,
        status: "synced",
        action,
        external_id,
        final_price: intended.final_price,
        seo_title: intended.title.clone(),
    })
}

/// Tier variations and one model per variant, each with its own final price. Returns
/// (variant SKU, model id, price) for the mapping.
async fn sync_models(
    client: &ShopeeClient,
    product: &ProductDetail,
    intended: &Intended,
    item_id: u64,
    action: SyncAction,
) -> Result<Vec<(String, String, i64)>, SyncError> {
    if intended.variants.is_empty() {
        return Ok(Vec::new());
    }
    let current = client.model_list(item_id).await?;
    let has_models = current["model"].as_array().is_some_and(|m| !m.is_empty());
    if action == SyncAction::Created || !has_models {
        let tiers: Vec<Vec<String>> = (0..product.tier_names.len())
            .map(|t| {
                let mut options: Vec<String> = Vec::new();
                for v in &intended.variants {
                    if !options.contains(&v.1[t]) {
                        options.push(v.1[t].clone());
                    }
                }
                options
            })
            .collect();
        let body = json!({
            "item_id": item_id,
            "standardise_tier_variation": product.tier_names.iter().zip(&tiers).map(|(name, options)| json!({
                "variation_id": 0, "variation_name": name, "variation_group_id": 0,
                "variation_option_list": options.iter().map(|o| json!({"variation_option_id": 0, "variation_option_name": o})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "model": intended.variants.iter().map(|(sku, options, price, stock)| json!({
                "tier_index": options.iter().zip(&tiers).map(|(o, t)| t.iter().position(|x| x == o).unwrap_or(0)).collect::<Vec<_>>(),
                "original_price": price.0, "model_sku": sku, "seller_stock": [{"stock": stock}],
            })).collect::<Vec<_>>(),
        });
        client.init_tier_variation(&body).await?;
    }
    let models = client.model_list(item_id).await?;
    let by_sku = |sku: &str| {
        models["model"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["model_sku"] == json!(sku))
            .and_then(|m| m["model_id"].as_u64())
    };
    let mut out = Vec::new();
    let mut prices = Vec::new();
    for (sku, _, price, _) in &intended.variants {
        let model_id = by_sku(sku).ok_or_else(|| {
            SyncError::InvalidProduct(format!("Shopee has no model for variant {sku}"))
        })?;
        prices.push((model_id, price.0));
        out.push((sku.clone(), model_id.to_string(), price.0));
    }
    if action == SyncAction::Updated {
        for chunk in prices.chunks(50) {
            client.update_price(item_id, chunk).await?;
        }
    }
    Ok(out)
}
