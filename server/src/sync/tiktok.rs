//! TikTok Shop (and Tokopedia) listings: one product with a SKU per variant, created with
//! a stable idempotency key so a retried create finds the first one. An update is a full
//! edit with every field and SKU (ids kept by seller SKU, missing ones removed), sent only
//! when the listing as TikTok shows it differs from the catalog.

use app::api::Platform;
use serde_json::{json, Value};

use super::images::platform_images;
use super::{snapshot, SyncAction, SyncClaim, SyncError, SyncResult, SyncService, Target};
use crate::db::sync::{self as records, SyncedListing};
use crate::marketplace::tiktok::TiktokClient;

pub const LISTING_PLATFORMS: [&str; 2] = ["TIKTOK_SHOP", "TOKOPEDIA"];

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The master description as the HTML TikTok expects: one paragraph per line.
pub fn description_html(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", html_escape(l.trim())))
        .collect()
}

pub async fn push(
    service: &SyncService,
    client: &TiktokClient,
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
    let warehouses = client.warehouses().await?;
    let warehouse = warehouses["warehouses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["type"] == json!("SALES_WAREHOUSE") && w["effect_status"] == json!("ENABLED"))
        .and_then(|w| w["id"].as_str())
        .ok_or_else(|| {
            SyncError::InvalidProduct("the TikTok shop has no enabled sales warehouse".into())
        })?
        .to_string();
    let skus: Vec<Value> = if intended.variants.is_empty() {
        vec![json!({
            "seller_sku": product.sku,
            "sales_attributes": [],
            "price": {"amount": intended.final_price.0.to_string(), "currency": "IDR"},
            "inventory": [{"warehouse_id": warehouse, "quantity": product.stock}],
        })]
    } else {
        intended
            .variants
            .iter()
            .map(|(sku, options, price, stock)| {
                json!({
                    "seller_sku": sku,
                    "sales_attributes": product.tier_names.iter().zip(options).map(|(n, o)| json!({"name": n, "value_name": o})).collect::<Vec<_>>(),
                    "price": {"amount": price.0.to_string(), "currency": "IDR"},
                    "inventory": [{"warehouse_id": warehouse, "quantity": stock}],
                })
            })
            .collect()
    };
    let uris = platform_images(
        service,
        Platform::Tiktok,
        &product.images,
        |bytes, name| async move {
            client
                .upload_image(bytes, &name)
                .await
                .map_err(SyncError::from)
        },
    )
    .await?;
    let mut body = json!({
        "title": intended.title,
        "description": description_html(&product.description),
        "category_id": category,
        "main_images": uris.iter().map(|u| json!({"uri": u})).collect::<Vec<_>>(),
        "skus": skus,
        "package_weight": {"value": format!("{:.3}", product.weight_kg), "unit": "KILOGRAM"},
        "listing_platforms": LISTING_PLATFORMS,
    });
    if let Some([l, w, h]) = product.dimensions_cm {
        body["package_dimensions"] = json!({"length": l.to_string(), "width": w.to_string(), "height": h.to_string(), "unit": "CENTIMETER"});
    }

    let known = mapping.and_then(|m| m.external_id.clone());
    let (product_id, action) = match known {
        Some(id) => {
            let listed = client
                .product(&id)
                .await
                .map_err(|e| SyncError::Marketplace(snapshot::before_backup(e)))?;
            // Backup first: the product as TikTok shows it, before anything is changed.
            snapshot::take(
                service.db(),
                claim,
                &target,
                Platform::Tiktok,
                Some((id.clone(), listed.clone())),
            )
            .await?;
            if comparable(&listed) != comparable(&body) {
                // SKUs TikTok already has keep their ids; the others are added, and SKUs
                // the body leaves out are removed.
                for sku in body["skus"].as_array_mut().into_iter().flatten() {
                    if let Some(listed_id) =
                        sku_id_of(&listed, sku["seller_sku"].as_str().unwrap_or_default())
                    {
                        sku["id"] = json!(listed_id);
                    }
                }
                *request = body.clone();
                claim.confirm().await?;
                client.edit_product(&id, &body).await?;
            }
            (id, SyncAction::Updated)
        }
        None => {
            snapshot::take(service.db(), claim, &target, Platform::Tiktok, None).await?;
            // Stable per product: a create retried after a crash returns the first listing.
            body["idempotency_key"] = json!(format!("syncstore-{}-{}", product.id, product.sku));
            *request = body.clone();
            claim.confirm().await?;
            let created = client.create_product(&body).await?;
            let id = created["product_id"]
                .as_str()
                .ok_or_else(|| {
                    SyncError::Marketplace(crate::marketplace::MarketplaceError::network(
                        "TikTok Shop",
                        "create answered without a product_id",
                    ))
                })?
                .to_string();
            (id, SyncAction::Created)
        }
    };

    let listed = client.product(&product_id).await?;
    let mut variants = Vec::new();
    for (seller_sku, _, price, _) in &intended.variants {
        let id = sku_id_of(&listed, seller_sku).ok_or_else(|| {
            SyncError::InvalidProduct(format!("TikTok Shop has no SKU {seller_sku}"))
        })?;
        variants.push((seller_sku.clone(), id, price.0));
    }
    if intended.variants.is_empty() && sku_id_of(&listed, &product.sku).is_none() {
        return Err(SyncError::InvalidProduct(format!(
            "TikTok Shop has no SKU {}",
            product.sku
        )));
    }
    let tokopedia = listed["integrated_platform_statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["platform"] == json!("TOKOPEDIA"))
        .and_then(|s| s["status"].as_str())
        .map(str::to_string);
    let platforms: Vec<String> = listed["listing_platforms"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| LISTING_PLATFORMS.iter().map(|p| p.to_string()).collect());
    claim.confirm().await?;
    records::record_synced(
        &service.db,
        product.id,
        Platform::Tiktok,
        &SyncedListing {
            external_id: &product_id,
            final_price: intended.final_price.0,
            seo_title: &intended.title,
            category_id: category,
            content_hash: &intended.content_hash,
            tokopedia_status: tokopedia.as_deref(),
            listing_platforms: &platforms,
            variants: &variants,
        },
    )
    .await?;
    Ok(SyncResult {
        platform: Platform::Tiktok,
        status: "synced",
        action,
        external_id: product_id,
        final_price: intended.final_price,
        seo_title: intended.title.clone(),
    })
}

pub(super) fn sku_id_of(listed: &Value, seller_sku: &str) -> Option<String> {
    listed["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["seller_sku"] == json!(seller_sku))
        .and_then(|s| s["id"].as_str())
        .map(str::to_string)
}

pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a listing shows a buyer, in one shape for a request body and a read-back listing:
/// the fields an update can change, SKUs by seller SKU.
pub(super) fn comparable(listing: &Value) -> Value {
    let mut skus: Vec<Value> = listing["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            json!({
                "seller_sku": text(&s["seller_sku"]),
                "price": text(&s["price"]["amount"]).parse::<i64>().ok(),
                "quantity": s["inventory"].as_array().into_iter().flatten().filter_map(|i| i["quantity"].as_i64()).sum::<i64>(),
                "attributes": s["sales_attributes"].as_array().into_iter().flatten()
                    .map(|a| (text(&a["name"]), text(&a["value_name"]))).collect::<Vec<_>>(),
            })
        })
        .collect();
    skus.sort_by_key(|s| s["seller_sku"].as_str().unwrap_or_default().to_string());
    let dimensions = ["length", "width", "height"]
        .map(|k| text(&listing["package_dimensions"][k]).parse::<f64>().ok());
    // A request names the category; a read-back listing shows its chain, leaf last.
    let category = match &listing["category_id"] {
        Value::Null => listing["category_chains"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["is_leaf"] == json!(true)).or(c.last()))
            .map(|c| text(&c["id"]))
            .unwrap_or_default(),
        id => text(id),
    };
    json!({
        "title": text(&listing["title"]),
        "description": text(&listing["description"]),
        "category_id": category,
        "images": listing["main_images"].as_array().into_iter().flatten().map(|i| text(&i["uri"])).collect::<Vec<_>>(),
        "skus": skus,
        "weight": text(&listing["package_weight"]["value"]).parse::<f64>().ok(),
        "dimensions": dimensions,
        "listing_platforms": listing["listing_platforms"],
    })
}
