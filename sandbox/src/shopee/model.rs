//! Shopee listings as the sandbox keeps them, and how they are rendered in responses.

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ShopeeModel {
    pub model_id: u64,
    pub tier_index: Vec<usize>,
    pub model_sku: String,
    pub price: f64,
    pub stock: i64,
}

#[derive(Debug, Clone)]
pub struct ShopeeTier {
    pub name: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ShopeeItem {
    pub item_id: u64,
    pub shop_id: u64,
    pub name: String,
    pub description: String,
    pub item_sku: String,
    pub category_id: u64,
    pub price: f64,
    pub stock: i64,
    pub weight: f64,
    pub dimension: Option<Value>,
    pub image_ids: Vec<String>,
    pub attributes: Value,
    pub brand: Value,
    pub logistics: Value,
    pub condition: String,
    pub status: String,
    pub create_time: u64,
    pub update_time: u64,
    pub tiers: Vec<ShopeeTier>,
    pub models: Vec<ShopeeModel>,
}

impl ShopeeItem {
    pub fn has_model(&self) -> bool {
        !self.models.is_empty()
    }

    pub fn base_info(&self, image_url: impl Fn(&str) -> String) -> Value {
        let mut info = json!({
            "item_id": self.item_id,
            "category_id": self.category_id,
            "item_name": self.name,
            "description": self.description,
            "item_sku": self.item_sku,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "attribute_list": self.attributes,
            "image": {
                "image_id_list": self.image_ids,
                "image_url_list": self.image_ids.iter().map(|id| image_url(id)).collect::<Vec<_>>(),
            },
            "weight": format!("{}", self.weight),
            "dimension": self.dimension.clone().unwrap_or(json!({"package_length": 0, "package_width": 0, "package_height": 0})),
            "logistic_info": self.logistics,
            "pre_order": {"is_pre_order": false, "days_to_ship": 2},
            "condition": self.condition,
            "item_status": self.status,
            "has_model": self.has_model(),
            "brand": self.brand,
            "item_dangerous": 0,
            "description_type": "normal",
            "stock_info_v2": {
                "summary_info": {"total_reserved_stock": 0, "total_available_stock": self.total_stock()},
                "seller_stock": [{"location_id": "IDZ", "stock": self.total_stock()}],
            },
        });
        if !self.has_model() {
            info["price_info"] = json!([price_info(self.price)]);
        }
        info
    }

    pub fn total_stock(&self) -> i64 {
        if self.has_model() {
            self.models.iter().map(|m| m.stock).sum()
        } else {
            self.stock
        }
    }

    pub fn model_list(&self) -> Value {
        json!({
            "tier_variation": self.tiers.iter().map(|t| json!({
                "name": t.name,
                "option_list": t.options.iter().map(|o| json!({"option": o})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "standardise_tier_variation": self.tiers.iter().map(|t| json!({
                "variation_id": 0,
                "variation_name": t.name,
                "variation_group_id": 0,
                "variation_option_list": t.options.iter().map(|o| json!({
                    "variation_option_id": 0, "variation_option_name": o,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "model": self.models.iter().map(model_json).collect::<Vec<_>>(),
        })
    }
}

pub fn price_info(price: f64) -> Value {
    json!({
        "currency": "IDR",
        "original_price": price,
        "current_price": price,
        "inflated_price_of_original_price": price,
        "inflated_price_of_current_price": price,
    })
}

pub fn model_json(m: &ShopeeModel) -> Value {
    json!({
        "model_id": m.model_id,
        "tier_index": m.tier_index,
        "model_sku": m.model_sku,
        "model_status": "MODEL_NORMAL",
        "price_info": [price_info(m.price)],
        "stock_info_v2": {
            "summary_info": {"total_reserved_stock": 0, "total_available_stock": m.stock},
            "seller_stock": [{"location_id": "IDZ", "stock": m.stock}],
        },
    })
}
