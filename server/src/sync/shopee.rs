//! Shopee listings: item + tier variations + models, found by SKU before any create. An
//! update reads the listing back and sends exactly the calls that make it equal to what a
//! fresh create would produce from the catalog now; every write is fenced by the claim.

use app::api::{Platform, ProductDetail};
use app::domain::TitleLimits;
use serde_json::{json, Value};

use super::images::platform_images;
use super::{
    snapshot, Intended, SyncAction, SyncClaim, SyncError, SyncResult, SyncService, Target,
};
use crate::db::sync::{self as records, SyncedListing};
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

/// Mandatory attributes filled only with values that claim nothing (a brand attribute gets
/// its "no brand" value) or with the default the owner chose for the category on the
/// settings page. Anything else is a product the seller must complete.
async fn attributes(
    db: &sea_orm::DatabaseConnection,
    client: &ShopeeClient,
    category: &str,
) -> Result<Value, SyncError> {
    let defaults =
        crate::db::settings::attribute_defaults(db, app::api::Platform::Shopee, category).await?;
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
        let chosen = defaults
            .get(&attr["attribute_id"].to_string())
            .and_then(|v| v.parse::<u64>().ok());
        match (no_brand, chosen) {
            (Some(v), _) => out.push(json!({"attribute_id": attr["attribute_id"], "attribute_value_list": [{"value_id": v["value_id"]}]})),
            (None, Some(value_id)) => out.push(json!({"attribute_id": attr["attribute_id"], "attribute_value_list": [{"value_id": value_id}]})),
            (None, None) => {
                return Err(SyncError::InvalidProduct(format!(
                    "Shopee requires the attribute {:?} for this category and the master catalog has no value for it: choose a default in Settings → Category mappings",
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
    claim: &SyncClaim,
    target: Target<'_>,
    request: &mut Value,
) -> Result<SyncResult, SyncError> {
    let Target {
        product,
        category,
        intended,
        mapping,
        ..
    } = target;
    // A listing we created before (even one we never got to record) is updated, not duplicated.
    let known = mapping
        .and_then(|m| m.external_id.as_deref())
        .and_then(|id| id.parse::<u64>().ok());
    let mut existing = None;
    if let Some(id) = known {
        // A listing deleted on Shopee behind SyncStore's back is listed again.
        existing = client
            .item_base_info(&[id])
            .await?
            .into_iter()
            .find(|base| base["item_status"] != json!("DELETED"));
    }
    if existing.is_none() {
        existing = find_by_sku(client, product, intended).await?;
    }
    // Backup first: the listing this push is about to change (or that there is none).
    let listed = match &existing {
        Some(base) => {
            let item_id = base["item_id"].as_u64().unwrap_or_default();
            let models = client
                .model_list(item_id)
                .await
                .map_err(|e| SyncError::Marketplace(snapshot::before_backup(e)))?;
            Some((
                item_id.to_string(),
                json!({ "item": base, "models": models }),
            ))
        }
        None => None,
    };
    snapshot::take(service.db(), claim, &target, Platform::Shopee, listed).await?;
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
    let (item_id, action) = match existing {
        Some(base) => {
            let item_id = base["item_id"].as_u64().unwrap_or_default();
            update_item(client, claim, target, &images, &base, request).await?;
            (item_id, SyncAction::Updated)
        }
        None => {
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
                "attribute_list": attributes(service.db(), client, category).await?,
                "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
                "condition": "NEW",
                "item_status": "NORMAL",
            });
            if let Some([l, w, h]) = product.dimensions_cm {
                item["dimension"] =
                    json!({"package_length": l, "package_width": w, "package_height": h});
            }
            *request = item.clone();
            claim.confirm().await?;
            (client.add_item(&item).await?, SyncAction::Created)
        }
    };

    let variants = sync_models(client, claim, product, intended, item_id).await?;
    let external_id = item_id.to_string();
    claim.confirm().await?;
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

/// The listing Shopee's SKU search finds for this product, adopted only when its SKU is
/// exactly ours (and, for a product with variants, every model SKU is one of ours). Shopee
/// may match SKUs partially; a near match is logged and treated as not found.
async fn find_by_sku(
    client: &ShopeeClient,
    product: &ProductDetail,
    intended: &Intended,
) -> Result<Option<Value>, SyncError> {
    let found = client.search_item_by_sku(&product.sku).await?;
    if found.is_empty() {
        return Ok(None);
    }
    let mut listed = Vec::with_capacity(found.len());
    for chunk in found.chunks(50) {
        listed.extend(client.item_base_info(chunk).await?);
    }
    for base in listed {
        let sku = base["item_sku"].as_str().unwrap_or_default();
        let item_id = base["item_id"].as_u64().unwrap_or_default();
        if sku != product.sku {
            tracing::warn!(ours = %product.sku, theirs = %sku, item_id, "a Shopee listing with a similar SKU was not adopted");
            continue;
        }
        if base["has_model"] == json!(true) {
            let models = client.model_list(item_id).await?;
            let foreign = models["model"].as_array().into_iter().flatten().find(|m| {
                let model_sku = m["model_sku"].as_str().unwrap_or_default();
                !intended.variants.iter().any(|v| v.0 == model_sku)
            });
            if let Some(m) = foreign {
                tracing::warn!(ours = %product.sku, model_sku = %m["model_sku"], item_id, "a Shopee listing with our SKU has a model that is not ours; not adopted");
                continue;
            }
        }
        return Ok(Some(base));
    }
    Ok(None)
}

/// `update_item` with exactly the item fields that differ from the catalog.
pub(super) async fn update_item(
    client: &ShopeeClient,
    claim: &SyncClaim,
    target: Target<'_>,
    images: &[String],
    base: &Value,
    request: &mut Value,
) -> Result<(), SyncError> {
    let Target {
        product,
        category,
        intended,
        ..
    } = target;
    let item_id = base["item_id"].as_u64().unwrap_or_default();
    let mut update = json!({"item_id": item_id});
    if base["item_name"].as_str() != Some(intended.title.as_str()) {
        update["item_name"] = json!(intended.title);
    }
    if base["description"].as_str() != Some(product.description.as_str()) {
        update["description"] = json!(product.description);
    }
    let weight = match &base["weight"] {
        Value::String(w) => w.parse::<f64>().ok(),
        other => other.as_f64(),
    };
    if weight.is_none_or(|w| (w - product.weight_kg).abs() > 1e-9) {
        update["weight"] = json!(product.weight_kg);
    }
    let category_id = category.parse::<u64>().unwrap_or(0);
    if base["category_id"].as_u64() != Some(category_id) {
        update["category_id"] = json!(category_id);
        update["attribute_list"] = attributes(claim.db(), client, category).await?;
    }
    let listed_images: Vec<&str> = base["image"]["image_id_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if listed_images != images {
        update["image"] = json!({"image_id_list": images});
    }
    if let Some([l, w, h]) = product.dimensions_cm {
        let wanted = json!({"package_length": l, "package_width": w, "package_height": h});
        let d = &base["dimension"];
        let same = ["package_length", "package_width", "package_height"]
            .iter()
            .all(|k| d[k].as_i64() == wanted[k].as_i64());
        if !same {
            update["dimension"] = wanted;
        }
    }
    *request = update.clone();
    if update.as_object().is_some_and(|o| o.len() > 1) {
        claim.confirm().await?;
        client.post("product/update_item", &update).await?;
    }
    if intended.variants.is_empty() {
        if base["has_model"] == json!(true) {
            return Err(SyncError::InvalidProduct(
                "the product no longer has variants but its Shopee listing does; delete the listing's variations on Shopee first".into(),
            ));
        }
        let price = base["price_info"][0]["original_price"].as_f64();
        if price.is_none_or(|p| p.round() as i64 != intended.final_price.0) {
            claim.confirm().await?;
            client
                .update_price(item_id, &[(0, intended.final_price.0)])
                .await?;
        }
        let stock = base["stock_info_v2"]["seller_stock"][0]["stock"].as_i64();
        if stock != Some(i64::from(product.stock)) {
            claim.confirm().await?;
            client
                .update_stock(item_id, &[(0, i64::from(product.stock))])
                .await?;
        }
    }
    Ok(())
}

/// Each tier's options, in the order the variants first use them (as a create sends them).
fn tiers(product: &ProductDetail, intended: &Intended) -> Vec<Vec<String>> {
    (0..product.tier_names.len())
        .map(|t| {
            let mut options: Vec<String> = Vec::new();
            for v in &intended.variants {
                if !options.contains(&v.1[t]) {
                    options.push(v.1[t].clone());
                }
            }
            options
        })
        .collect()
}

fn tier_index(options: &[String], tiers: &[Vec<String>]) -> Vec<usize> {
    options
        .iter()
        .zip(tiers)
        .map(|(o, t)| t.iter().position(|x| x == o).unwrap_or(0))
        .collect()
}

fn standardised(product: &ProductDetail, tiers: &[Vec<String>]) -> Value {
    json!(product.tier_names.iter().zip(tiers).map(|(name, options)| json!({
        "variation_id": 0, "variation_name": name, "variation_group_id": 0,
        "variation_option_list": options.iter().map(|o| json!({"variation_option_id": 0, "variation_option_name": o})).collect::<Vec<_>>(),
    })).collect::<Vec<_>>())
}

fn listed_tiers(models: &Value) -> Vec<Vec<String>> {
    models["tier_variation"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            t["option_list"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["option"].as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

fn model_stock(m: &Value) -> Option<i64> {
    m["stock_info_v2"]["seller_stock"][0]["stock"].as_i64()
}

/// Makes the item's tier variations and models equal to the product's variants: models of
/// removed variants deleted, options added, removed or reordered in place (model ids kept),
/// new variants added, and each price and stock that differs updated. Returns (variant SKU,
/// model id, price) for the mapping.
pub(super) async fn sync_models(
    client: &ShopeeClient,
    claim: &SyncClaim,
    product: &ProductDetail,
    intended: &Intended,
    item_id: u64,
) -> Result<Vec<(String, String, i64)>, SyncError> {
    if intended.variants.is_empty() {
        return Ok(Vec::new());
    }
    let wanted_tiers = tiers(product, intended);
    let current = client.model_list(item_id).await?;
    let listed: Vec<Value> = current["model"].as_array().cloned().unwrap_or_default();
    let ours = |m: &Value| {
        let sku = m["model_sku"].as_str().unwrap_or_default();
        intended.variants.iter().any(|v| v.0 == sku)
    };
    let kept: Vec<&Value> = listed.iter().filter(|m| ours(m)).collect();
    let structure_changed = listed_tiers(&current).len() != wanted_tiers.len();
    let new_models =
        |variants: &mut dyn Iterator<Item = &(String, Vec<String>, app::domain::Rupiah, i32)>| {
            variants
            .map(|(sku, options, price, stock)| json!({
                "tier_index": tier_index(options, &wanted_tiers),
                "original_price": price.0, "model_sku": sku, "seller_stock": [{"stock": stock}],
            }))
            .collect::<Vec<_>>()
        };
    if listed.is_empty() || kept.is_empty() || structure_changed {
        // No models yet, none worth keeping, or another number of tiers: a new structure.
        let body = json!({
            "item_id": item_id,
            "standardise_tier_variation": standardised(product, &wanted_tiers),
            "model": new_models(&mut intended.variants.iter()),
        });
        claim.confirm().await?;
        client.init_tier_variation(&body).await?;
    } else {
        for m in listed.iter().filter(|m| !ours(m)) {
            claim.confirm().await?;
            client
                .delete_model(item_id, m["model_id"].as_u64().unwrap_or_default())
                .await?;
        }
        let moves: Vec<Value> = kept
            .iter()
            .filter_map(|m| {
                let sku = m["model_sku"].as_str()?;
                let v = intended.variants.iter().find(|v| v.0 == sku)?;
                Some(json!({"model_id": m["model_id"], "tier_index": tier_index(&v.1, &wanted_tiers)}))
            })
            .collect();
        let moved = moves.iter().any(|mv| {
            kept.iter()
                .any(|m| m["model_id"] == mv["model_id"] && m["tier_index"] != mv["tier_index"])
        });
        let listed_names: Vec<&str> = current["tier_variation"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["name"].as_str().unwrap_or_default())
            .collect();
        if listed_tiers(&current) != wanted_tiers || moved || listed_names != product.tier_names {
            let body = json!({
                "item_id": item_id,
                "standardise_tier_variation": standardised(product, &wanted_tiers),
                "model_list": moves,
            });
            claim.confirm().await?;
            client.update_tier_variation(&body).await?;
        }
        let added = new_models(&mut intended.variants.iter().filter(|v| {
            !kept
                .iter()
                .any(|m| m["model_sku"].as_str() == Some(v.0.as_str()))
        }));
        for chunk in added.chunks(50) {
            claim.confirm().await?;
            client.add_model(item_id, chunk).await?;
        }
    }
    let models = client.model_list(item_id).await?;
    let by_sku = |sku: &str| {
        models["model"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["model_sku"] == json!(sku))
    };
    let mut out = Vec::new();
    let (mut prices, mut stocks) = (Vec::new(), Vec::new());
    for (sku, _, price, stock) in &intended.variants {
        let model = by_sku(sku).ok_or_else(|| {
            SyncError::InvalidProduct(format!("Shopee has no model for variant {sku}"))
        })?;
        let model_id = model["model_id"].as_u64().unwrap_or_default();
        let listed_price = model["price_info"][0]["original_price"].as_f64();
        if listed_price.is_none_or(|p| p.round() as i64 != price.0) {
            prices.push((model_id, price.0));
        }
        if model_stock(model) != Some(i64::from(*stock)) {
            stocks.push((model_id, i64::from(*stock)));
        }
        out.push((sku.clone(), model_id.to_string(), price.0));
    }
    for chunk in prices.chunks(50) {
        claim.confirm().await?;
        client.update_price(item_id, chunk).await?;
    }
    for chunk in stocks.chunks(50) {
        claim.confirm().await?;
        client.update_stock(item_id, chunk).await?;
    }
    Ok(out)
}
