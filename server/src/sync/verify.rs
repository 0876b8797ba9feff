//! Read-back verification: what the marketplace shows, compared with what a sync of the
//! catalog as it stands now would put there: title, description, category, weight, images
//! by content hash, the variant set, and price and stock per variant.

use std::collections::BTreeSet;

use app::api::Platform;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{tiktok::description_html, SyncError, SyncService};
use crate::db::{catalog, sync as records};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub platform: Platform,
    pub name: String,
    pub ok: bool,
    pub expected: String,
    pub actual: String,
}

fn check(platform: Platform, name: &str, expected: impl ToString, actual: impl ToString) -> Check {
    let (expected, actual) = (expected.to_string(), actual.to_string());
    Check {
        platform,
        name: name.to_string(),
        ok: expected == actual,
        expected,
        actual,
    }
}

impl SyncService {
    async fn image_hashes(&self, urls: &[String]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for url in urls {
            let bytes = match self.http.get(url).send().await {
                Ok(r) => r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            out.insert(hex::encode(Sha256::digest(&bytes)));
        }
        out
    }

    /// Every check for one product on every platform it is mapped to.
    pub async fn verify(&self, product_id: i64) -> Result<Vec<Check>, SyncError> {
        let product = catalog::product_detail(&self.db, product_id)
            .await?
            .ok_or_else(|| SyncError::InvalidProduct(format!("no product with id {product_id}")))?;
        let master_images = self.image_hashes(&product.images).await;
        let master_skus: BTreeSet<String> = if product.variants.is_empty() {
            BTreeSet::from([product.sku.clone()])
        } else {
            product.variants.iter().map(|v| v.sku.clone()).collect()
        };
        let mut checks = Vec::new();
        for platform in Platform::ALL {
            let Some(mapping) = records::mapping(&self.db, product_id, platform).await? else {
                continue;
            };
            let Some(external_id) = mapping.external_id.clone() else {
                continue;
            };
            let category = records::category_for(&self.db, platform, &product.category)
                .await?
                .unwrap_or_default();
            let limits = match platform {
                Platform::Shopee => {
                    let client = &self.shopee_client().await?;
                    super::shopee::title_limits(client, &category).await?
                }
                Platform::Tiktok => app::domain::TitleLimits::TIKTOK,
            };
            let intended = self
                .intended(&product, platform, &category, limits, Some(&mapping))
                .await?;
            // (SKU, price, stock) as the catalog wants them now.
            let wanted: Vec<(String, i64, i64)> = if intended.variants.is_empty() {
                vec![(
                    product.sku.clone(),
                    intended.final_price.0,
                    i64::from(product.stock),
                )]
            } else {
                intended
                    .variants
                    .iter()
                    .map(|(sku, _, price, stock)| (sku.clone(), price.0, i64::from(*stock)))
                    .collect()
            };
            match platform {
                Platform::Shopee => {
                    let client = &self.shopee_client().await?;
                    let item_id: u64 = external_id.parse().unwrap_or(0);
                    let info = client.item_base_info(&[item_id]).await?;
                    let Some(item) = info.first() else {
                        checks.push(check(platform, "listing exists", external_id, "not found"));
                        continue;
                    };
                    checks.push(check(
                        platform,
                        "title",
                        &intended.title,
                        item["item_name"].as_str().unwrap_or_default(),
                    ));
                    checks.push(check(
                        platform,
                        "description",
                        &product.description,
                        item["description"].as_str().unwrap_or_default(),
                    ));
                    checks.push(check(
                        platform,
                        "category",
                        &category,
                        item["category_id"].as_u64().unwrap_or(0),
                    ));
                    checks.push(check(
                        platform,
                        "weight (kg)",
                        format!("{:.3}", product.weight_kg),
                        format!("{:.3}", number(&item["weight"]).unwrap_or(-1.0)),
                    ));
                    let urls: Vec<String> = item["image"]["image_url_list"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|u| u.as_str().map(str::to_string))
                        .collect();
                    checks.push(check(
                        platform,
                        "images",
                        format!("{master_images:?}"),
                        format!("{:?}", self.image_hashes(&urls).await),
                    ));
                    // (SKU, price, stock) as Shopee shows them.
                    let listed: Vec<(String, i64, i64)> = if item["has_model"] == json!(true) {
                        let models = client.model_list(item_id).await?;
                        models["model"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|m| {
                                (
                                    m["model_sku"].as_str().unwrap_or_default().to_string(),
                                    number(&m["price_info"][0]["original_price"])
                                        .map_or(-1, |p| p.round() as i64),
                                    m["stock_info_v2"]["seller_stock"][0]["stock"]
                                        .as_i64()
                                        .unwrap_or(-1),
                                )
                            })
                            .collect()
                    } else {
                        vec![(
                            item["item_sku"].as_str().unwrap_or_default().to_string(),
                            number(&item["price_info"][0]["original_price"])
                                .map_or(-1, |p| p.round() as i64),
                            item["stock_info_v2"]["seller_stock"][0]["stock"]
                                .as_i64()
                                .unwrap_or(-1),
                        )]
                    };
                    variant_checks(platform, &master_skus, &wanted, &listed, &mut checks);
                }
                Platform::Tiktok => {
                    let client = &self.tiktok_client().await?;
                    let listed = match client.product(&external_id).await {
                        Ok(p) => p,
                        Err(e) if e.class() == "INVALID_PRODUCT" => {
                            checks.push(check(
                                platform,
                                "listing exists",
                                external_id,
                                "not found",
                            ));
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    checks.push(check(
                        platform,
                        "title",
                        &intended.title,
                        listed["title"].as_str().unwrap_or_default(),
                    ));
                    checks.push(check(
                        platform,
                        "description",
                        description_html(&product.description),
                        listed["description"].as_str().unwrap_or_default(),
                    ));
                    let leaf = listed["category_chains"]
                        .as_array()
                        .and_then(|c| c.iter().find(|c| c["is_leaf"] == json!(true)))
                        .and_then(|c| c["id"].as_str())
                        .unwrap_or_default();
                    checks.push(check(platform, "category", &category, leaf));
                    checks.push(check(
                        platform,
                        "weight (kg)",
                        format!("{:.3}", product.weight_kg),
                        format!(
                            "{:.3}",
                            number(&listed["package_weight"]["value"]).unwrap_or(-1.0)
                        ),
                    ));
                    let urls: Vec<String> = listed["main_images"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|i| i["urls"][0].as_str().map(str::to_string))
                        .collect();
                    checks.push(check(
                        platform,
                        "images",
                        format!("{master_images:?}"),
                        format!("{:?}", self.image_hashes(&urls).await),
                    ));
                    let skus: Vec<(String, i64, i64)> = listed["skus"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| {
                            (
                                s["seller_sku"].as_str().unwrap_or_default().to_string(),
                                number(&s["price"]["sale_price"])
                                    .or(number(&s["price"]["amount"]))
                                    .map_or(-1, |p| p.round() as i64),
                                s["inventory"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|i| i["quantity"].as_i64())
                                    .sum::<i64>(),
                            )
                        })
                        .collect();
                    variant_checks(platform, &master_skus, &wanted, &skus, &mut checks);
                }
            }
        }
        super::pilot::record_verification(&self.db, product_id, &checks).await?;
        Ok(checks)
    }
}

/// A number the platform may send as a JSON number or as text.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        other => other.as_f64(),
    }
}

/// The variant set, then price and stock per SKU.
fn variant_checks(
    platform: Platform,
    master_skus: &BTreeSet<String>,
    wanted: &[(String, i64, i64)],
    listed: &[(String, i64, i64)],
    checks: &mut Vec<Check>,
) {
    let listed_skus: BTreeSet<String> = listed.iter().map(|l| l.0.clone()).collect();
    checks.push(check(
        platform,
        "variants",
        format!("{master_skus:?}"),
        format!("{listed_skus:?}"),
    ));
    for (sku, price, stock) in wanted {
        let found = listed.iter().find(|l| &l.0 == sku);
        checks.push(check(
            platform,
            &format!("price {sku}"),
            price,
            found.map_or("missing".to_string(), |l| l.1.to_string()),
        ));
        checks.push(check(
            platform,
            &format!("stock {sku}"),
            stock,
            found.map_or("missing".to_string(), |l| l.2.to_string()),
        ));
    }
}
