//! `validate --live`: the listings as the marketplaces show them — present and sellable,
//! priced by the markup rule, with the catalog's images.

use std::collections::BTreeSet;

use app::api::{Platform, ProductDetail};
use app::domain::MarkupBp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{expected_prices, mapping_of, ProductFindings, IMAGES, MAPPINGS, PRICING};
use crate::sync::{SyncError, SyncService};

pub(super) async fn require_shops(sync: &SyncService) -> Result<(), SyncError> {
    sync.shopee_client().await?;
    sync.tiktok_client().await?;
    Ok(())
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    }
    .map(|p| p.round() as i64)
}

/// What one listing shows: whether it can be bought (and why not), price per SKU, and the
/// URLs its images are served from.
struct Listed {
    unsellable: Option<String>,
    prices: Vec<(String, Option<i64>)>,
    image_urls: Vec<String>,
}

pub(super) async fn check(
    sync: &SyncService,
    f: &mut ProductFindings,
    product: &ProductDetail,
    markups: [MarkupBp; 2],
) -> Result<(), SyncError> {
    // Each platform's images as it serves them, by content.
    let mut served_by: Vec<(Platform, BTreeSet<String>)> = Vec::new();
    for (platform, markup) in Platform::ALL.into_iter().zip(markups) {
        let Some(external_id) = mapping_of(product, platform)
            .and_then(|m| m.external_id.clone())
            .filter(|id| !id.trim().is_empty())
        else {
            continue;
        };
        let listed = match platform {
            Platform::Shopee => shopee(sync, &external_id).await?,
            Platform::Tiktok => tiktok(sync, &external_id).await?,
        };
        let Some(listed) = listed else {
            f.fail(
                MAPPINGS,
                product.id,
                Some(platform),
                format!(
                    "listing {external_id} does not exist on {}",
                    platform.label()
                ),
            );
            continue;
        };
        if let Some(why) = listed.unsellable {
            f.fail(MAPPINGS, product.id, Some(platform), why);
        }
        for (sku, expected) in expected_prices(product, markup) {
            let shown = listed.prices.iter().find(|p| p.0 == sku).and_then(|p| p.1);
            if shown != Some(expected) {
                f.fail(
                    PRICING,
                    product.id,
                    Some(platform),
                    format!(
                        "{sku}: {} shows {shown:?}, expected {expected}",
                        platform.label()
                    ),
                );
            }
        }
        let mut served = BTreeSet::new();
        for url in &listed.image_urls {
            match crate::sync::images::download(sync, url).await {
                Ok(bytes) => {
                    served.insert(hex::encode(Sha256::digest(&bytes)));
                }
                Err(reason) => {
                    f.fail(
                        IMAGES,
                        product.id,
                        Some(platform),
                        format!("served image {} {reason}", super::shown_url(url)),
                    );
                }
            }
        }
        served_by.push((platform, served));
    }
    if let [(_, shopee), (_, tiktok)] = served_by.as_slice() {
        if shopee != tiktok {
            f.fail(
                IMAGES,
                product.id,
                None,
                format!(
                    "Shopee and TikTok Shop serve different images ({} and {}, compared by content)",
                    shopee.len(),
                    tiktok.len()
                ),
            );
        }
    }
    Ok(())
}

async fn shopee(sync: &SyncService, external_id: &str) -> Result<Option<Listed>, SyncError> {
    let client = sync.shopee_client().await?;
    let Ok(item_id) = external_id.parse::<u64>() else {
        return Ok(None);
    };
    let Some(item) = client.item_base_info(&[item_id]).await?.into_iter().next() else {
        return Ok(None);
    };
    let status = item["item_status"].as_str().unwrap_or_default();
    let unsellable =
        (status != "NORMAL").then(|| format!("Shopee listing is {status}, not NORMAL"));
    let prices = if item["has_model"] == json!(true) {
        let models = client.model_list(item_id).await?;
        models["model"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["model_sku"].as_str().unwrap_or_default().to_string(),
                    number(&m["price_info"][0]["original_price"]),
                )
            })
            .collect()
    } else {
        vec![(
            item["item_sku"].as_str().unwrap_or_default().to_string(),
            number(&item["price_info"][0]["original_price"]),
        )]
    };
    let image_urls = item["image"]["image_url_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect();
    Ok(Some(Listed {
        unsellable,
        prices,
        image_urls,
    }))
}

async fn tiktok(sync: &SyncService, external_id: &str) -> Result<Option<Listed>, SyncError> {
    let client = sync.tiktok_client().await?;
    let listed = match client.product(external_id).await {
        Ok(p) => p,
        Err(e) if e.class() == "INVALID_PRODUCT" => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut problems = Vec::new();
    let status = listed["status"].as_str().unwrap_or("absent");
    if status != "ACTIVATE" {
        problems.push(format!("TikTok Shop listing is {status}, not ACTIVATE"));
    }
    let tokopedia = listed["integrated_platform_statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["platform"] == json!("TOKOPEDIA"))
        .and_then(|s| s["status"].as_str())
        .unwrap_or("absent");
    if tokopedia != "ACTIVATE" {
        problems.push(format!("Tokopedia listing is {tokopedia}, not ACTIVATE"));
    }
    let prices = listed["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["seller_sku"].as_str().unwrap_or_default().to_string(),
                number(&s["price"]["sale_price"]).or(number(&s["price"]["amount"])),
            )
        })
        .collect();
    let image_urls = listed["main_images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["urls"][0].as_str().map(str::to_string))
        .collect();
    Ok(Some(Listed {
        unsellable: (!problems.is_empty()).then(|| problems.join("; ")),
        prices,
        image_urls,
    }))
}
