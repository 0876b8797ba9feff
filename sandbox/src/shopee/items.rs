//! Product endpoints: reference data, add/read/search/delete items, prices and variants.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::catalog::{self, MAX_MODELS, MAX_TIERS};
use super::model::{model_json, ShopeeItem, ShopeeModel, ShopeeTier};
use super::{handle, now, param, Params, ShopeeError, Signing};
use crate::store::{Sandbox, ShopeeState};

fn body_json(body: &Bytes) -> Result<Value, ShopeeError> {
    serde_json::from_slice(body)
        .map_err(|e| ShopeeError::param(format!("Invalid request body: {e}")))
}

fn item_id_of(body: &Value) -> Result<u64, ShopeeError> {
    body["item_id"]
        .as_u64()
        .ok_or_else(|| ShopeeError::param("item_id is required"))
}

fn own_item(
    state: &mut ShopeeState,
    shop: u64,
    item_id: u64,
) -> Result<&mut ShopeeItem, ShopeeError> {
    match state.items.get_mut(&item_id) {
        Some(item) if item.shop_id == shop => Ok(item),
        Some(_) => Err(ShopeeError::new(
            "error_item_not_belong_shop",
            "Item does not belong to this shop.",
        )),
        None => Err(ShopeeError::new(
            "error_item_not_found",
            format!("Item {item_id} not found."),
        )),
    }
}

/// Shopee Indonesia prices are whole rupiah; decimals are rounded, as documented.
fn checked_price(value: &Value, field: &str) -> Result<f64, ShopeeError> {
    let price = value
        .as_f64()
        .ok_or_else(|| ShopeeError::param(format!("{field} is required")))?
        .round();
    if price < catalog::PRICE_LIMIT.0 {
        return Err(ShopeeError::new(
            "error_price_exceed_min_limitt",
            format!("Price should be at least {}.", catalog::PRICE_LIMIT.0),
        ));
    }
    if price > catalog::PRICE_LIMIT.1 {
        return Err(ShopeeError::new(
            "error_price_exceed_max_limitt",
            format!("Price should be at most {}.", catalog::PRICE_LIMIT.1),
        ));
    }
    Ok(price)
}

fn stock_of(value: &Value) -> i64 {
    value["seller_stock"]
        .as_array()
        .map(|s| s.iter().filter_map(|e| e["stock"].as_i64()).sum())
        .unwrap_or(0)
}

pub async fn get_category(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/get_category",
        &p,
        Signing::Shop,
        |_, _| Ok(catalog::category_list()),
    )
    .await
}

pub async fn get_attribute_tree(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/get_attribute_tree",
        &p,
        Signing::Shop,
        |_, _| {
            let ids: Vec<u64> = param(&p, "category_id_list")
                .ok_or_else(|| ShopeeError::param("category_id_list is required"))?
                .split(',')
                .map(|s| {
                    s.trim().parse().map_err(|_| {
                        ShopeeError::param("category_id_list must be ids separated by commas")
                    })
                })
                .collect::<Result<_, _>>()?;
            if ids.is_empty() || ids.len() > 20 {
                return Err(ShopeeError::param("category_id_list takes 1 to 20 ids"));
            }
            Ok(catalog::attribute_tree(&ids))
        },
    )
    .await
}

pub async fn get_brand_list(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/get_brand_list",
        &p,
        Signing::Shop,
        |_, _| Ok(catalog::brand_list()),
    )
    .await
}

pub async fn get_item_limit(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/get_item_limit",
        &p,
        Signing::Shop,
        |_, _| Ok(catalog::item_limit()),
    )
    .await
}

pub async fn get_channel_list(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/logistics/get_channel_list",
        &p,
        Signing::Shop,
        |_, _| Ok(catalog::channel_list()),
    )
    .await
}

/// Validates an `add_item` body the way Shopee does, one rule at a time.
fn validate_new_item(state: &ShopeeState, body: &Value) -> Result<(), ShopeeError> {
    let name = body["item_name"]
        .as_str()
        .ok_or_else(|| ShopeeError::param("item_name is required"))?;
    let name_len = name.chars().count();
    if name_len < catalog::NAME_LIMIT.0 {
        return Err(ShopeeError::new(
            "error_item_name_is_too_short",
            format!(
                "Item name should be at least {} characters.",
                catalog::NAME_LIMIT.0
            ),
        ));
    }
    if name_len > catalog::NAME_LIMIT.1 {
        return Err(ShopeeError::new(
            "error_title_exceeds_max_length",
            format!(
                "Item name should be at most {} characters.",
                catalog::NAME_LIMIT.1
            ),
        ));
    }
    let description = body["description"]
        .as_str()
        .ok_or_else(|| ShopeeError::param("description is required"))?;
    let desc_len = description.chars().count();
    if desc_len < catalog::DESCRIPTION_LIMIT.0 {
        return Err(ShopeeError::new(
            "error_desc_length_min_limit",
            format!(
                "Description should be at least {} characters.",
                catalog::DESCRIPTION_LIMIT.0
            ),
        ));
    }
    if desc_len > catalog::DESCRIPTION_LIMIT.1 {
        return Err(ShopeeError::param(format!(
            "Description should be at most {} characters.",
            catalog::DESCRIPTION_LIMIT.1
        )));
    }
    checked_price(&body["original_price"], "original_price")?;
    let weight = body["weight"]
        .as_f64()
        .ok_or_else(|| ShopeeError::param("weight is required"))?;
    if weight <= 0.0 {
        return Err(ShopeeError::param("weight should be greater than 0"));
    }
    let images = body["image"]["image_id_list"]
        .as_array()
        .ok_or_else(|| ShopeeError::param("image.image_id_list is required"))?;
    if images.len() < catalog::IMAGE_LIMIT.0 {
        return Err(ShopeeError::new(
            "error_image_num_min",
            "At least 1 image is required.",
        ));
    }
    if images.len() > catalog::IMAGE_LIMIT.1 {
        return Err(ShopeeError::param(format!(
            "At most {} images are allowed.",
            catalog::IMAGE_LIMIT.1
        )));
    }
    if images
        .iter()
        .any(|id| id.as_str().is_none_or(|id| !state.images.contains_key(id)))
    {
        return Err(ShopeeError::param("Image not exist"));
    }
    let category_id = body["category_id"]
        .as_u64()
        .ok_or_else(|| ShopeeError::param("category_id is required"))?;
    match catalog::category(category_id) {
        Some(c) if c.leaf => {}
        _ => {
            return Err(ShopeeError::new(
                "error_invalid_category",
                "Invalid category: use a leaf category id.",
            ))
        }
    }
    let has_brand = body["attribute_list"].as_array().is_some_and(|attrs| {
        attrs.iter().any(|a| {
            a["attribute_id"].as_u64() == Some(catalog::BRAND_ATTRIBUTE_ID)
                && a["attribute_value_list"]
                    .as_array()
                    .is_some_and(|v| !v.is_empty())
        })
    });
    if !has_brand {
        return Err(ShopeeError::new(
            "error_less_required_attribute",
            "Mandatory attribute Merek is missing.",
        ));
    }
    let has_material = body["attribute_list"].as_array().is_some_and(|attrs| {
        attrs.iter().any(|a| {
            a["attribute_id"].as_u64() == Some(catalog::MATERIAL_ATTRIBUTE_ID)
                && a["attribute_value_list"][0]["value_id"]
                    .as_u64()
                    .is_some_and(|v| v == 11 || v == 12)
        })
    });
    if body["category_id"].as_u64() == Some(catalog::MATERIAL_CATEGORY_ID) && !has_material {
        return Err(ShopeeError::new(
            "error_less_required_attribute",
            "Mandatory attribute Bahan is missing.",
        ));
    }
    let logistics = body["logistic_info"]
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ShopeeError::param("logistic_info is required"))?;
    if logistics
        .iter()
        .any(|l| l["logistic_id"].as_u64() != Some(catalog::LOGISTICS_CHANNEL_ID))
    {
        return Err(ShopeeError::new(
            "error_invalid_logistic_info",
            "Logistics channel is invalid or not enabled.",
        ));
    }
    if let Some(brand_id) = body["brand"]["brand_id"].as_u64() {
        if brand_id != 0 && !catalog::BRANDS.iter().any(|(id, _)| *id == brand_id) {
            return Err(ShopeeError::new("error_invalid_brand", "Invalid brand."));
        }
    }
    Ok(())
}

pub async fn add_item(State(sb): State<Sandbox>, Query(p): Query<Params>, body: Bytes) -> Response {
    handle(
        &sb,
        "/api/v2/product/add_item",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            validate_new_item(state, &body)?;
            let item_id = state.next_id();
            let time = now();
            let item = ShopeeItem {
                item_id,
                shop_id: shop,
                name: body["item_name"].as_str().unwrap_or_default().to_string(),
                description: body["description"].as_str().unwrap_or_default().to_string(),
                item_sku: body["item_sku"].as_str().unwrap_or_default().to_string(),
                category_id: body["category_id"].as_u64().unwrap_or_default(),
                price: checked_price(&body["original_price"], "original_price")?,
                stock: stock_of(&body),
                weight: body["weight"].as_f64().unwrap_or_default(),
                dimension: body.get("dimension").cloned(),
                image_ids: body["image"]["image_id_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                attributes: body["attribute_list"].clone(),
                brand: body
                    .get("brand")
                    .cloned()
                    .unwrap_or(json!({"brand_id": 0, "original_brand_name": "NoBrand"})),
                logistics: body["logistic_info"].clone(),
                condition: body["condition"].as_str().unwrap_or("NEW").to_string(),
                status: body["item_status"].as_str().unwrap_or("NORMAL").to_string(),
                create_time: time,
                update_time: time,
                tiers: Vec::new(),
                models: Vec::new(),
            };
            let mut echo = body.clone();
            echo["item_id"] = json!(item_id);
            echo["item_status"] = json!(item.status);
            state.items.insert(item_id, item);
            Ok(echo)
        },
    )
    .await
}

pub async fn update_price(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/update_price",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item = own_item(state, shop, item_id_of(&body)?)?;
            let list = body["price_list"]
                .as_array()
                .filter(|l| (1..=50).contains(&l.len()))
                .ok_or_else(|| ShopeeError::param("price_list takes 1 to 50 entries"))?;
            let (mut success, mut failure) = (Vec::new(), Vec::new());
            for entry in list {
                let model_id = entry["model_id"].as_u64().unwrap_or(0);
                let price = match checked_price(&entry["original_price"], "original_price") {
                    Ok(p) => p,
                    Err(e) => {
                        failure.push(json!({"model_id": model_id, "failed_reason": e.message}));
                        continue;
                    }
                };
                if model_id == 0 && item.has_model() {
                    return Err(ShopeeError::new(
                        "error_edit_item_price_for_item_has_model",
                        "Item has models; update each model_id.",
                    ));
                }
                if model_id == 0 {
                    item.price = price;
                } else if let Some(m) = item.models.iter_mut().find(|m| m.model_id == model_id) {
                    m.price = price;
                } else {
                    failure.push(json!({"model_id": model_id, "failed_reason": "model not found"}));
                    continue;
                }
                success.push(json!({"model_id": model_id, "original_price": price}));
            }
            item.update_time = now();
            Ok(json!({"success_list": success, "failure_list": failure}))
        },
    )
    .await
}

pub async fn delete_item(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/delete_item",
        &p,
        Signing::Shop,
        |state, shop| {
            let item_id = item_id_of(&body_json(&body)?)?;
            own_item(state, shop, item_id)?;
            state.items.remove(&item_id);
            Ok(json!({}))
        },
    )
    .await
}

pub async fn get_item_list(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(&sb, "/api/v2/product/get_item_list", &p, Signing::Shop, |state, shop| {
        let statuses: Vec<&str> = p.iter().filter(|(k, _)| k == "item_status").map(|(_, v)| v.as_str()).collect();
        if statuses.is_empty() {
            return Err(ShopeeError::param("item_status is required"));
        }
        let offset: usize = param(&p, "offset").unwrap_or("0").parse().map_err(|_| ShopeeError::param("offset must be a number"))?;
        let page_size: usize = param(&p, "page_size").unwrap_or("0").parse().unwrap_or(0);
        if !(1..=100).contains(&page_size) {
            return Err(ShopeeError::param("page_size should be between 1 and 100"));
        }
        let matching: Vec<&ShopeeItem> = state.items.values().filter(|i| i.shop_id == shop && statuses.contains(&i.status.as_str())).collect();
        let page: Vec<Value> = matching.iter().skip(offset).take(page_size)
            .map(|i| json!({"item_id": i.item_id, "item_status": i.status, "update_time": i.update_time})).collect();
        let has_next = offset + page.len() < matching.len();
        Ok(json!({"item": page, "total_count": matching.len(), "has_next_page": has_next, "next_offset": offset + page_size}))
    })
    .await
}

pub async fn get_item_base_info(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    let base = sb.config.public_url.clone();
    handle(
        &sb,
        "/api/v2/product/get_item_base_info",
        &p,
        Signing::Shop,
        |state, shop| {
            let ids: Vec<u64> = param(&p, "item_id_list")
                .ok_or_else(|| ShopeeError::param("item_id_list is required"))?
                .split(',')
                .map(|s| {
                    s.trim().parse().map_err(|_| {
                        ShopeeError::param("item_id_list must be ids separated by commas")
                    })
                })
                .collect::<Result<_, _>>()?;
            if ids.is_empty() || ids.len() > 50 {
                return Err(ShopeeError::param("item_id_list takes 1 to 50 ids"));
            }
            let list: Vec<Value> = ids
                .iter()
                .filter_map(|id| state.items.get(id))
                .filter(|i| i.shop_id == shop)
                .map(|i| i.base_info(|img| format!("{base}/shopee-media/{img}")))
                .collect();
            Ok(json!({"item_list": list}))
        },
    )
    .await
}

pub async fn search_item(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/search_item",
        &p,
        Signing::Shop,
        |state, shop| {
            let page_size: usize = param(&p, "page_size")
                .ok_or_else(|| ShopeeError::param("page_size is required"))?
                .parse()
                .unwrap_or(0);
            if !(1..=100).contains(&page_size) {
                return Err(ShopeeError::param("page_size should be between 1 and 100"));
            }
            let offset: usize = param(&p, "offset")
                .filter(|o| !o.is_empty())
                .unwrap_or("0")
                .parse()
                .unwrap_or(0);
            // item_sku wins over item_name when both are given.
            let sku = param(&p, "item_sku");
            let name = param(&p, "item_name").map(str::to_lowercase);
            let ids: Vec<u64> = state
                .items
                .values()
                .filter(|i| i.shop_id == shop)
                .filter(|i| match (sku, &name) {
                    // Whether Shopee matches item_sku exactly is not documented: the
                    // sandbox answers the worst case, every SKU that contains it.
                    (Some(sku), _) => i.item_sku.contains(sku),
                    (None, Some(name)) => i.name.to_lowercase().contains(name.as_str()),
                    (None, None) => true,
                })
                .map(|i| i.item_id)
                .collect();
            let page: Vec<u64> = ids.iter().skip(offset).take(page_size).copied().collect();
            let next = if offset + page.len() < ids.len() {
                (offset + page.len()).to_string()
            } else {
                String::new()
            };
            Ok(json!({"item_id_list": page, "total_count": ids.len(), "next_offset": next}))
        },
    )
    .await
}

/// The tier variations of an init or update body, with Shopee's limits.
fn parse_tiers(body: &Value) -> Result<Vec<ShopeeTier>, ShopeeError> {
    let tiers: Vec<ShopeeTier> = body["standardise_tier_variation"]
        .as_array()
        .ok_or_else(|| ShopeeError::param("standardise_tier_variation is required"))?
        .iter()
        .map(|t| ShopeeTier {
            name: t["variation_name"].as_str().unwrap_or_default().to_string(),
            options: t["variation_option_list"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    o["variation_option_name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect(),
        })
        .collect();
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        return Err(ShopeeError::param(format!(
            "An item has 1 to {MAX_TIERS} tier variations."
        )));
    }
    if tiers
        .iter()
        .any(|t| t.name.is_empty() || t.options.is_empty() || t.options.len() > 20)
    {
        return Err(ShopeeError::new(
            "error_tier_opt_too_many",
            "Each tier needs a name and 1 to 20 options.",
        ));
    }
    if tiers.iter().any(|t| {
        t.options
            .iter()
            .enumerate()
            .any(|(i, o)| o.is_empty() || t.options[..i].contains(o))
    }) {
        return Err(ShopeeError::param(
            "Tier options must be non-empty and distinct.",
        ));
    }
    Ok(tiers)
}

fn tier_index_of(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_u64().map(|v| v as usize))
        .collect()
}

/// Renames, adds, removes or reorders options within the same tier structure; every
/// existing model is named once with its new `tier_index` and keeps its id.
pub async fn update_tier_variation(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/update_tier_variation",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item_id = item_id_of(&body)?;
            let tiers = parse_tiers(&body)?;
            let list = body["model_list"]
                .as_array()
                .ok_or_else(|| ShopeeError::param("model_list is required"))?
                .clone();
            let item = own_item(state, shop, item_id)?;
            if item.tiers.is_empty() {
                return Err(ShopeeError::param(
                    "Item has no tier variation; call init_tier_variation first",
                ));
            }
            if tiers.len() != item.tiers.len() {
                return Err(ShopeeError::param(
                    "update_tier_variation keeps the number of tiers; use init_tier_variation to change it",
                ));
            }
            let mut moves: Vec<(u64, Vec<usize>)> = Vec::new();
            for entry in &list {
                let model_id = entry["model_id"].as_u64().unwrap_or(0);
                let tier_index = tier_index_of(&entry["tier_index"]);
                let in_range = tier_index.len() == tiers.len()
                    && tier_index.iter().zip(&tiers).all(|(i, t)| *i < t.options.len());
                if !item.models.iter().any(|m| m.model_id == model_id) {
                    return Err(ShopeeError::param(format!("model {model_id} not found")));
                }
                if !in_range
                    || moves
                        .iter()
                        .any(|(id, ti)| *id == model_id || *ti == tier_index)
                {
                    return Err(ShopeeError::param(
                        "tier_index is out of range, or a model or tier_index is named twice",
                    ));
                }
                moves.push((model_id, tier_index));
            }
            if moves.len() != item.models.len() {
                return Err(ShopeeError::param(
                    "model_list must name every model of the item",
                ));
            }
            item.tiers = tiers;
            for (model_id, tier_index) in moves {
                if let Some(m) = item.models.iter_mut().find(|m| m.model_id == model_id) {
                    m.tier_index = tier_index;
                }
            }
            item.update_time = now();
            Ok(json!({"item_id": item_id, "tier_variation": item.model_list()["tier_variation"]}))
        },
    )
    .await
}

/// Deletes one model; an item with variations keeps at least one.
pub async fn delete_model(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/delete_model",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item = own_item(state, shop, item_id_of(&body)?)?;
            let model_id = body["model_id"]
                .as_u64()
                .ok_or_else(|| ShopeeError::param("model_id is required"))?;
            let at = item
                .models
                .iter()
                .position(|m| m.model_id == model_id)
                .ok_or_else(|| ShopeeError::param(format!("model {model_id} not found")))?;
            if item.models.len() == 1 {
                return Err(ShopeeError::param(
                    "An item with tier variations keeps at least one model.",
                ));
            }
            item.models.remove(at);
            item.update_time = now();
            Ok(json!({}))
        },
    )
    .await
}

pub async fn init_tier_variation(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/init_tier_variation",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item_id = item_id_of(&body)?;
            let tiers = parse_tiers(&body)?;
            let models = body["model"]
                .as_array()
                .ok_or_else(|| ShopeeError::param("model is required"))?;
            if models.is_empty() || models.len() > MAX_MODELS {
                return Err(ShopeeError::new(
                    "error_model_count_over_limit",
                    format!("An item has 1 to {MAX_MODELS} models."),
                ));
            }
            let mut parsed = Vec::new();
            for m in models {
                let tier_index: Vec<usize> = m["tier_index"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_u64().map(|v| v as usize))
                    .collect();
                let in_range = tier_index.len() == tiers.len()
                    && tier_index
                        .iter()
                        .zip(&tiers)
                        .all(|(i, t)| *i < t.options.len());
                if !in_range {
                    return Err(ShopeeError::param(
                        "tier_index does not match the tier variations",
                    ));
                }
                if parsed
                    .iter()
                    .any(|p: &(Vec<usize>, &Value)| p.0 == tier_index)
                {
                    return Err(ShopeeError::param("Duplicated tier_index"));
                }
                checked_price(&m["original_price"], "original_price")?;
                parsed.push((tier_index, m));
            }
            let prices: Vec<f64> = parsed
                .iter()
                .filter_map(|(_, m)| m["original_price"].as_f64())
                .collect();
            let (min, max) = prices
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
            if max > min * 7.0 {
                return Err(ShopeeError::new(
                    "error_invalid_price",
                    "The highest model price may be at most 7 times the lowest.",
                ));
            }
            let mut new_models = Vec::new();
            for (tier_index, m) in parsed {
                new_models.push(ShopeeModel {
                    model_id: state.next_id(),
                    tier_index,
                    model_sku: m["model_sku"].as_str().unwrap_or_default().to_string(),
                    price: checked_price(&m["original_price"], "original_price")?,
                    stock: stock_of(m),
                });
            }
            let item = own_item(state, shop, item_id)?;
            // A new tier structure replaces every model (and its id), as on Shopee.
            item.tiers = tiers;
            item.models = new_models;
            item.update_time = now();
            Ok(json!({
                "item_id": item_id,
                "tier_variation": item.model_list()["tier_variation"],
                "model": item.models.iter().map(model_json).collect::<Vec<_>>(),
            }))
        },
    )
    .await
}

pub async fn get_model_list(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/product/get_model_list",
        &p,
        Signing::Shop,
        |state, shop| {
            let item_id: u64 = param(&p, "item_id")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| ShopeeError::param("item_id is required"))?;
            Ok(own_item(state, shop, item_id)?.model_list())
        },
    )
    .await
}

pub async fn update_item(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(&sb, "/api/v2/product/update_item", &p, Signing::Shop, |state, shop| {
        let body = body_json(&body)?;
        let item_id = item_id_of(&body)?;
        if body.get("original_price").is_some() || body.get("seller_stock").is_some() {
            return Err(ShopeeError::param("update_item does not change price or stock; use update_price / update_stock"));
        }
        // Validate the item as it would be after the update, with add_item's rules.
        let mut merged = {
            let item = own_item(state, shop, item_id)?;
            json!({
                "item_name": item.name, "description": item.description, "original_price": item.price,
                "weight": item.weight, "category_id": item.category_id, "image": {"image_id_list": item.image_ids},
                "attribute_list": item.attributes, "logistic_info": item.logistics, "brand": item.brand,
            })
        };
        for (k, v) in body.as_object().into_iter().flatten() {
            if k != "item_id" {
                merged[k] = v.clone();
            }
        }
        validate_new_item(state, &merged)?;
        let item = own_item(state, shop, item_id)?;
        item.name = merged["item_name"].as_str().unwrap_or_default().to_string();
        item.description = merged["description"].as_str().unwrap_or_default().to_string();
        item.weight = merged["weight"].as_f64().unwrap_or(item.weight);
        item.category_id = merged["category_id"].as_u64().unwrap_or(item.category_id);
        item.image_ids = merged["image"]["image_id_list"].as_array().into_iter().flatten()
            .filter_map(|v| v.as_str().map(str::to_string)).collect();
        item.attributes = merged["attribute_list"].clone();
        item.logistics = merged["logistic_info"].clone();
        item.brand = merged["brand"].clone();
        if let Some(sku) = body["item_sku"].as_str() {
            item.item_sku = sku.to_string();
        }
        if let Some(d) = body.get("dimension") {
            item.dimension = Some(d.clone());
        }
        if let Some(status) = body["item_status"].as_str() {
            item.status = status.to_string();
        }
        item.update_time = now();
        let mut echo = body.clone();
        echo["item_id"] = json!(item_id);
        Ok(echo)
    })
    .await
}

pub async fn update_stock(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(&sb, "/api/v2/product/update_stock", &p, Signing::Shop, |state, shop| {
        let body = body_json(&body)?;
        let item = own_item(state, shop, item_id_of(&body)?)?;
        let list = body["stock_list"].as_array().filter(|l| (1..=50).contains(&l.len()))
            .ok_or_else(|| ShopeeError::param("stock_list takes 1 to 50 entries"))?;
        let (mut success, mut failure) = (Vec::new(), Vec::new());
        for entry in list {
            let model_id = entry["model_id"].as_u64().unwrap_or(0);
            let stock = stock_of(entry);
            if !(0..=999_999).contains(&stock) {
                failure.push(json!({"model_id": model_id, "failed_reason": "Stock should be between 0 and 999999"}));
                continue;
            }
            if model_id == 0 && !item.has_model() {
                item.stock = stock;
            } else if let Some(m) = item.models.iter_mut().find(|m| m.model_id == model_id) {
                m.stock = stock;
            } else {
                failure.push(json!({"model_id": model_id, "failed_reason": "model not found"}));
                continue;
            }
            success.push(json!({"model_id": model_id, "location_id": "IDZ", "stock": stock}));
        }
        item.update_time = now();
        Ok(json!({"success_list": success, "failure_list": failure}))
    })
    .await
}

pub async fn unlist_item(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/unlist_item",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let list = body["item_list"]
                .as_array()
                .filter(|l| (1..=50).contains(&l.len()))
                .ok_or_else(|| ShopeeError::param("item_list takes 1 to 50 entries"))?;
            let (mut success, mut failure) = (Vec::new(), Vec::new());
            for entry in list {
                let item_id = entry["item_id"].as_u64().unwrap_or(0);
                let unlist = entry["unlist"].as_bool().unwrap_or(true);
                match own_item(state, shop, item_id) {
                    Ok(item) => {
                        item.status = if unlist { "UNLIST" } else { "NORMAL" }.to_string();
                        item.update_time = now();
                        success.push(json!({"item_id": item_id, "unlist": unlist}));
                    }
                    Err(e) => failure.push(json!({"item_id": item_id, "failed_reason": e.message})),
                }
            }
            Ok(json!({"success_list": success, "failure_list": failure}))
        },
    )
    .await
}

pub async fn add_model(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/add_model",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item_id = item_id_of(&body)?;
            let list = body["model_list"]
                .as_array()
                .filter(|l| (1..=50).contains(&l.len()))
                .ok_or_else(|| ShopeeError::param("model_list takes 1 to 50 entries"))?
                .clone();
            let mut new_models = Vec::new();
            for m in &list {
                new_models.push(ShopeeModel {
                    model_id: 0,
                    tier_index: m["tier_index"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_u64().map(|v| v as usize))
                        .collect(),
                    model_sku: m["model_sku"].as_str().unwrap_or_default().to_string(),
                    price: checked_price(&m["original_price"], "original_price")?,
                    stock: stock_of(m),
                });
            }
            for m in &mut new_models {
                m.model_id = state.next_id();
            }
            let item = own_item(state, shop, item_id)?;
            if item.tiers.is_empty() {
                return Err(ShopeeError::param(
                    "Item has no tier variation; call init_tier_variation first",
                ));
            }
            if item.models.len() + new_models.len() > MAX_MODELS {
                return Err(ShopeeError::new(
                    "error_model_count_over_limit",
                    format!("An item has at most {MAX_MODELS} models."),
                ));
            }
            for m in &new_models {
                let in_range = m.tier_index.len() == item.tiers.len()
                    && m.tier_index
                        .iter()
                        .zip(&item.tiers)
                        .all(|(i, t)| *i < t.options.len());
                if !in_range || item.models.iter().any(|e| e.tier_index == m.tier_index) {
                    return Err(ShopeeError::param(
                        "tier_index is out of range or already used",
                    ));
                }
            }
            item.models.extend(new_models.iter().cloned());
            item.update_time = now();
            Ok(json!({"model": new_models.iter().map(model_json).collect::<Vec<_>>()}))
        },
    )
    .await
}

pub async fn update_model(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    handle(
        &sb,
        "/api/v2/product/update_model",
        &p,
        Signing::Shop,
        |state, shop| {
            let body = body_json(&body)?;
            let item = own_item(state, shop, item_id_of(&body)?)?;
            let list = body["model"]
                .as_array()
                .filter(|l| (1..=50).contains(&l.len()))
                .ok_or_else(|| ShopeeError::param("model takes 1 to 50 entries"))?;
            for entry in list {
                let model_id = entry["model_id"].as_u64().unwrap_or(0);
                let model = item
                    .models
                    .iter_mut()
                    .find(|m| m.model_id == model_id)
                    .ok_or_else(|| ShopeeError::param(format!("model {model_id} not found")))?;
                if let Some(sku) = entry["model_sku"].as_str() {
                    if sku.chars().count() > 100 {
                        return Err(ShopeeError::param("model_sku is at most 100 characters"));
                    }
                    model.model_sku = sku.to_string();
                }
            }
            item.update_time = now();
            Ok(json!({}))
        },
    )
    .await
}

/// `shop/get_shop_info`: the connected shop's name, region and status.
pub async fn get_shop_info(State(sb): State<Sandbox>, Query(p): Query<Params>) -> Response {
    handle(
        &sb,
        "/api/v2/shop/get_shop_info",
        &p,
        Signing::Shop,
        |_, shop_id| {
            Ok(serde_json::json!({
                "shop_name": "Toko Sandbox", "region": "ID", "status": "NORMAL",
                "is_cb": false, "shop_id": shop_id,
            }))
        },
    )
    .await
}
