//! DTOs shared by the JSON API, the server functions and the WASM dashboard.

use serde::{Deserialize, Serialize};

use crate::domain::Rupiah;

pub const PRODUCTS_PER_PAGE: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Shopee,
    Tiktok,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Shopee, Platform::Tiktok];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Shopee => "shopee",
            Platform::Tiktok => "tiktok",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::Shopee => "Shopee",
            Platform::Tiktok => "TikTok Shop",
        }
    }

    /// `shopee` or `tiktok`, as stored and as URLs carry it.
    pub fn parse(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The platforms a sync targets: `shopee`, `tiktok` or `both`.
    pub fn targets(s: &str) -> Option<Vec<Platform>> {
        match s {
            "both" => Some(Platform::ALL.to_vec()),
            one => Platform::parse(one).map(|p| vec![p]),
        }
    }
}

/// Where a product stands on one platform (SPEC §3 "Mappings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    NotSynced,
    Syncing,
    Synced,
    Error,
}

impl SyncStatus {
    pub fn parse(s: &str) -> SyncStatus {
        match s {
            "syncing" => SyncStatus::Syncing,
            "synced" => SyncStatus::Synced,
            "error" => SyncStatus::Error,
            _ => SyncStatus::NotSynced,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SyncStatus::NotSynced => "Not Synced",
            SyncStatus::Syncing => "Syncing…",
            SyncStatus::Synced => "Synced",
            SyncStatus::Error => "Error",
        }
    }
}

/// One row of the product table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub id: i64,
    pub sku: String,
    pub title: String,
    pub base_price: Rupiah,
    pub shopee_price: Option<Rupiah>,
    pub tiktok_price: Option<Rupiah>,
    /// The product's overall status: the worst of its platform statuses.
    pub status: SyncStatus,
    pub has_variants: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductList {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub items: Vec<ProductSummary>,
}

impl ProductList {
    pub fn page_count(&self) -> u32 {
        (self.total.div_ceil(u64::from(self.per_page)) as u32).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantDto {
    pub sku: String,
    pub options: Vec<String>,
    pub base_price: Rupiah,
    pub stock: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantMappingDto {
    pub sku: String,
    pub external_id: Option<String>,
    pub final_price: Option<Rupiah>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingDto {
    pub platform: Platform,
    pub external_id: Option<String>,
    pub final_price: Option<Rupiah>,
    pub seo_title: Option<String>,
    /// The owner's own title for this platform, used instead of the generated one.
    pub title_override: Option<String>,
    pub category: Option<String>,
    pub sync_status: SyncStatus,
    pub last_error: Option<String>,
    pub last_synced_at: Option<String>,
    /// TikTok only: the Tokopedia listing's status from `integrated_platform_statuses`.
    pub tokopedia_status: Option<String>,
    pub listing_platforms: Vec<String>,
    pub variants: Vec<VariantMappingDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mappings {
    pub shopee: Option<MappingDto>,
    pub tiktok: Option<MappingDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub id: i64,
    pub sku: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub base_price: Rupiah,
    pub weight_kg: f64,
    pub dimensions_cm: Option<[i32; 3]>,
    pub stock: i32,
    pub images: Vec<String>,
    pub tier_names: Vec<String>,
    pub variants: Vec<VariantDto>,
    pub mappings: Mappings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Operator,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// What one platform answered to a sync from the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub platform: Platform,
    pub ok: bool,
    /// `created`, `updated` or `unchanged` when it worked.
    pub action: Option<String>,
    pub external_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl SyncOutcome {
    /// What the operator can do about an error class.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.error_code.as_deref()? {
            "INVALID_PRODUCT" => "Fix the product in the master catalog (or the platform's rule it breaks), then sync again.",
            "RATE_LIMITED" => "The platform asked us to slow down. Try again in a minute.",
            "NETWORK_ERROR" => "The platform could not be reached or failed. Try again; nothing was duplicated.",
            "UNAUTHORIZED" => "The shop connection was refused. The owner needs to reconnect the shop.",
            _ => "Unexpected error; see the sync log.",
        })
    }
}

pub const LOGS_PER_PAGE: u32 = 50;

/// One sync attempt as the Sync Logs page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLogEntry {
    pub id: i64,
    pub created_at: String,
    pub product_id: i64,
    pub platform: String,
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempt: i32,
    pub job_id: Option<String>,
    pub batch_id: Option<String>,
    pub duration_ms: i32,
    pub request_payload: String,
    pub response_payload: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLogPage {
    pub total: u64,
    pub page: u32,
    pub items: Vec<SyncLogEntry>,
}

/// The Sync Logs filters, parsed from the URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFilter {
    pub product_id: Option<i64>,
    pub platform: Option<Platform>,
    /// `success` or `error`.
    pub status: Option<String>,
    /// Only attempts from the last this many hours.
    pub hours: Option<u32>,
}

impl LogFilter {
    pub fn parse(
        product: &str,
        platform: &str,
        status: &str,
        hours: &str,
    ) -> Result<LogFilter, String> {
        let product_id = match product.trim() {
            "" => None,
            p => Some(
                p.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("product must be a product id, not {p:?}"))?,
            ),
        };
        let platform = match platform {
            "" => None,
            other => Some(
                Platform::parse(other)
                    .ok_or_else(|| format!("platform must be shopee or tiktok, not {other:?}"))?,
            ),
        };
        let status = match status {
            "" => None,
            "success" | "error" => Some(status.to_string()),
            other => return Err(format!("status must be success or error, not {other:?}")),
        };
        let hours = match hours {
            "" => None,
            h => Some(
                h.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=24 * 366).contains(n))
                    .ok_or_else(|| format!("hours must be 1 to 8784, not {h:?}"))?,
            ),
        };
        Ok(LogFilter {
            product_id,
            platform,
            status,
            hours,
        })
    }
}

/// One read-back comparison, as the product page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDto {
    pub platform: Platform,
    pub name: String,
    pub ok: bool,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PilotReportDto {
    pub passed: bool,
    pub markdown: String,
}

/// A small bar chart of a report (time per product, errors by class), drawn as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartDto {
    pub title: String,
    pub unit: String,
    pub bars: Vec<(String, i64)>,
}
