//! TikTok Shop (and Tokopedia) listings: one product with a SKU per variant, created with
//! a stable idempotency key so a retried create finds the first one.

use app::api::{Platform, ProductDetail};
use serde_json::{json, Value};

use super::images::platform_images;
use super::{Intended, SyncAction, SyncError, SyncResult, SyncService};
use crate::db::sync::{self as records, StoredMapping, SyncedListing};
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
    product: &ProductDetail,
    category: &str,
    intended: &Intended,
    mapping: Option<&StoredMapping>,
    request: &mut Value,
) -> Result<SyncResult, SyncError> {
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

    let known = mapping.and_then(|m| m.external_id.clone());
    let (product_id, action) = match known {
        Some(id) => {
            let edit = json!({"title": intended.title, "description": description_html(&product.description)});
            *request = edit.clone();
            client.partial_edit(&id, &edit).await?;
            (id, SyncAction::Updated)
        }
        None => {
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
                // Stable per product: a create retried after a crash returns the first listing.
                "idempotency_key": format!("syncstore-{}-{}", product.id, product.sku),
            });
            if let Some([l, w, h]) = product.dimensions_cm {
                body["package_dimensions"] = json!({"length": l.to_string(), "width": w.to_string(), "height": h.to_string(), "unit": "CENTIMETER"});
            }
            *request = body.clone();
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
    let sku_id = |seller_sku: &str| {
        listed["skus"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["seller_sku"] == json!(seller_sku))
            .and_then(|s| s["id"].as_str())
            .map(str::to_string)
    };
    let wanted: Vec<(String, i64)> = if intended.variants.is_empty() {
        vec![(product.sku.clone(), intended.final_price.0)]
    } else {
        intended
            .variants
            .iter()
            .map(|(sku, _, price, _)| (sku.clone(), price.0))
            .collect()
    };
    let mut prices = Vec::new();
    let mut variants = Vec::new();
    for (seller_sku, price) in &wanted {
        let id = sku_id(seller_sku).ok_or_else(|| {
            SyncError::InvalidProduct(format!("TikTok Shop has no SKU {seller_sku}"))
        })?;
        prices.push((id.clone(), *price));
        if !intended.variants.is_empty() {
            variants.push((seller_sku.clone(), id, *price));
        }
    }
    if action == SyncAction::Updated {
        client.update_prices(&product_id, &prices).await?;
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
