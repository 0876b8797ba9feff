//! TikTok Shop products as the sandbox keeps them, and their JSON.

use serde_json::{json, Value};

pub const WAREHOUSE_ID: &str = "7000000000000000001";
/// A test hook: a description containing this fails audit, with reasons, like a real
/// rejected listing.
pub const AUDIT_FAIL_MARKER: &str = "sandbox:audit-fail";

#[derive(Debug, Clone)]
pub struct TiktokSku {
    pub id: String,
    pub seller_sku: String,
    pub sales_attributes: Vec<Value>,
    pub price: String,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct TiktokProduct {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category_id: String,
    pub main_images: Vec<String>,
    pub skus: Vec<TiktokSku>,
    pub package_weight: Value,
    pub package_dimensions: Value,
    pub product_attributes: Value,
    pub listing_platforms: Vec<String>,
    pub deactivated: bool,
    /// Frozen by the platform (a policy hold): TikTok will not delete it (in Indonesia, a
    /// product frozen on any platform cannot be deleted); set by `/_sandbox/tiktok/freeze`.
    pub frozen: bool,
    pub audit_ends_ms: u128,
    pub create_time: u64,
    pub update_time: u64,
}

impl TiktokProduct {
    /// The combined product + audit status: PENDING while in audit, then ACTIVATE or FAILED.
    pub fn status(&self, now_ms: u128) -> &'static str {
        if now_ms < self.audit_ends_ms {
            "PENDING"
        } else if self.description.contains(AUDIT_FAIL_MARKER) {
            "FAILED"
        } else if self.deactivated {
            "SELLER_DEACTIVATED"
        } else if self.frozen {
            "FREEZE"
        } else {
            "ACTIVATE"
        }
    }

    fn audit_status(&self, now_ms: u128) -> &'static str {
        match self.status(now_ms) {
            "PENDING" => "AUDITING",
            "FAILED" => "FAILED",
            _ => "APPROVED",
        }
    }

    fn on(&self, platform: &str) -> bool {
        self.listing_platforms.iter().any(|p| p == platform)
    }

    pub fn sku_json(&self, sku: &TiktokSku) -> Value {
        json!({
            "id": sku.id,
            "seller_sku": sku.seller_sku,
            "sales_attributes": sku.sales_attributes,
            "price": {"currency": "IDR", "tax_exclusive_price": sku.price, "sale_price": sku.price},
            "inventory": [{"warehouse_id": WAREHOUSE_ID, "quantity": sku.quantity}],
            "status_info": {"status": "NORMAL"},
            "external_sku_id": "",
        })
    }

    /// Adds `status`/`audit` (TikTok Shop) and `integrated_platform_statuses` (Tokopedia),
    /// each omitted when the product is not listed there, as the API does.
    fn platform_fields(&self, out: &mut Value, now_ms: u128) {
        let status = self.status(now_ms);
        if self.on("TIKTOK_SHOP") {
            out["status"] = json!(status);
            out["audit"] = json!({"status": self.audit_status(now_ms), "pre_approved_reasons": []});
        }
        if self.on("TOKOPEDIA") {
            out["integrated_platform_statuses"] =
                json!([{"platform": "TOKOPEDIA", "status": status}]);
        }
        if status == "FAILED" {
            out["audit_failed_reasons"] = json!(self
                .listing_platforms
                .iter()
                .map(|p| json!({
                    "listing_platform": p,
                    "position": "description",
                    "reasons": ["The description does not meet the listing rules"],
                    "suggestions": ["Edit the description and resubmit"],
                }))
                .collect::<Vec<_>>());
        }
    }

    pub fn detail(&self, image_url: impl Fn(&str) -> String, now_ms: u128) -> Value {
        let mut out = json!({
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "category_chains": [{"id": self.category_id, "parent_id": "0", "local_name": "", "is_leaf": true}],
            "main_images": self.main_images.iter().map(|uri| json!({
                "uri": uri, "urls": [image_url(uri)], "width": 320, "height": 320,
            })).collect::<Vec<_>>(),
            "skus": self.skus.iter().map(|s| self.sku_json(s)).collect::<Vec<_>>(),
            "package_weight": self.package_weight,
            "package_dimensions": self.package_dimensions,
            "product_attributes": self.product_attributes,
            "listing_platforms": self.listing_platforms,
            "is_cod_allowed": false,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "product_types": [],
            "is_not_for_sale": false,
        });
        self.platform_fields(&mut out, now_ms);
        out
    }

    pub fn summary(&self, now_ms: u128) -> Value {
        let mut out = json!({
            "id": self.id,
            "title": self.title,
            "skus": self.skus.iter().map(|s| self.sku_json(s)).collect::<Vec<_>>(),
            "sales_regions": ["ID"],
            "create_time": self.create_time,
            "update_time": self.update_time,
            "is_not_for_sale": false,
            "product_sync_fail_reasons": [],
            "recommended_categories": [],
            "listing_quality_tier": "",
        });
        self.platform_fields(&mut out, now_ms);
        out
    }
}
