//! Read-back verification: what the marketplace shows, compared with what SyncStore
//! intended (title, description, prices per variant, stock, images by content hash).

use std::collections::BTreeSet;

use app::api::Platform;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{tiktok::description_html, SyncError, SyncService};
use crate::db::catalog;

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
        let mut checks = Vec::new();
        for platform in Platform::ALL {
            let stored = match platform {
                Platform::Shopee => product.mappings.shopee.clone(),
                Platform::Tiktok => product.mappings.tiktok.clone(),
            };
            let Some(stored) = stored else { continue };
            let Some(external_id) = stored.external_id.clone() else {
                continue;
            };
            let title = stored.seo_title.clone().unwrap_or_default();
            match platform {
                Platform::Shopee => {
                    let client = self
                        .shopee
                        .as_ref()
                        .ok_or(SyncError::NotConnected("Shopee"))?;
                    let item_id: u64 = external_id.parse().unwrap_or(0);
                    let info = client.item_base_info(&[item_id]).await?;
                    let Some(item) = info.first() else {
                        checks.push(check(platform, "listing exists", external_id, "not found"));
                        continue;
                    };
                    checks.push(check(
                        platform,
                        "title",
                        &title,
                        item["item_name"].as_str().unwrap_or_default(),
                    ));
                    checks.push(check(
                        platform,
                        "description",
                        &product.description,
                        item["description"].as_str().unwrap_or_default(),
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
                    checks.push(check(
                        platform,
                        "stock",
                        product.stock,
                        item["stock_info_v2"]["summary_info"]["total_available_stock"]
                            .as_i64()
                            .unwrap_or(-1),
                    ));
                    if stored.variants.is_empty() {
                        let price = item["price_info"][0]["original_price"]
                            .as_f64()
                            .unwrap_or(-1.0) as i64;
                        checks.push(check(
                            platform,
                            "price",
                            stored.final_price.map(|p| p.0).unwrap_or(0),
                            price,
                        ));
                    } else {
                        let models = client.model_list(item_id).await?;
                        for v in &stored.variants {
                            let model =
                                models["model"].as_array().into_iter().flatten().find(|m| {
                                    m["model_id"].as_u64().map(|id| id.to_string()) == v.external_id
                                });
                            let price = model
                                .and_then(|m| m["price_info"][0]["original_price"].as_f64())
                                .map(|p| p as i64)
                                .unwrap_or(-1);
                            checks.push(check(
                                platform,
                                &format!("price {}", v.sku),
                                v.final_price.map(|p| p.0).unwrap_or(0),
                                price,
                            ));
                        }
                    }
                }
                Platform::Tiktok => {
                    let client = self
                        .tiktok
                        .as_ref()
                        .ok_or(SyncError::NotConnected("TikTok Shop"))?;
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
                        &title,
                        listed["title"].as_str().unwrap_or_default(),
                    ));
                    checks.push(check(
                        platform,
                        "description",
                        description_html(&product.description),
                        listed["description"].as_str().unwrap_or_default(),
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
                    let skus = listed["skus"].as_array().cloned().unwrap_or_default();
                    let sku = |seller_sku: &str| {
                        skus.iter()
                            .find(|s| s["seller_sku"] == json!(seller_sku))
                            .cloned()
                            .unwrap_or(Value::Null)
                    };
                    let quantity = |s: &Value| {
                        s["inventory"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|i| i["quantity"].as_i64())
                            .sum::<i64>()
                    };
                    if stored.variants.is_empty() {
                        let s = sku(&product.sku);
                        checks.push(check(
                            platform,
                            "price",
                            stored.final_price.map(|p| p.0).unwrap_or(0),
                            s["price"]["sale_price"].as_str().unwrap_or("-"),
                        ));
                        checks.push(check(platform, "stock", product.stock, quantity(&s)));
                    } else {
                        for (v, master) in stored.variants.iter().zip(&product.variants) {
                            let s = sku(&v.sku);
                            checks.push(check(
                                platform,
                                &format!("price {}", v.sku),
                                v.final_price.map(|p| p.0).unwrap_or(0),
                                s["price"]["sale_price"].as_str().unwrap_or("-"),
                            ));
                            checks.push(check(
                                platform,
                                &format!("stock {}", v.sku),
                                master.stock,
                                quantity(&s),
                            ));
                        }
                    }
                    checks.push(check(
                        platform,
                        "variants",
                        product.variants.len().max(1),
                        skus.len(),
                    ));
                }
            }
        }
        super::pilot::record_verification(&self.db, product_id, &checks).await?;
        Ok(checks)
    }
}
