//! The one sync service: builds a platform's listing from the master product, creates or
//! updates it, records the mapping and logs every attempt. Used by manual sync and, later,
//! by the batch workers.

pub mod batch_report;
mod claim;
pub mod completion;
pub(crate) mod images;
pub mod pilot;
pub mod rollback;
mod shopee;
mod snapshot;
mod tiktok;
pub mod verify;

use std::time::Instant;

use app::api::{Platform, ProductDetail};
use app::domain::{seo_title, Rupiah, TitleLimits};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use claim::SyncClaim;

use crate::db::{catalog, sync as records};
use crate::marketplace::shopee::ShopeeClient;
use crate::marketplace::tiktok::TiktokClient;
use crate::marketplace::MarketplaceError;

/// A product must have at least this many images to be listed.
pub const MIN_IMAGES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncResult {
    pub platform: Platform,
    pub status: &'static str,
    pub action: SyncAction,
    pub external_id: String,
    pub final_price: Rupiah,
    pub seo_title: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Our data cannot become a listing (never retried).
    #[error("{0}")]
    InvalidProduct(String),
    #[error(transparent)]
    Marketplace(#[from] MarketplaceError),
    #[error("{0} is not connected: set its shop credentials")]
    NotConnected(&'static str),
    /// Another sync of the same product and platform holds the claim.
    #[error("this product is being synced to {} right now{}", .platform.label(), .job_id.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default())]
    InProgress {
        platform: Platform,
        job_id: Option<String>,
    },
    /// This sync was paused past its lease and another took the pair over; it stopped
    /// before writing anything more.
    #[error("this sync of {} was paused too long and handed over to another; it sent nothing more", .0.label())]
    ClaimLost(Platform),
    /// The detail goes to the log; callers see only that the sync could not be recorded.
    #[error("SyncStore could not read or record this sync in its database; try again")]
    Db(#[from] DbErr),
}

impl SyncError {
    /// The SPEC error class.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::InvalidProduct(_) => "INVALID_PRODUCT",
            SyncError::Marketplace(e) => e.class(),
            SyncError::NotConnected(_) => "UNAUTHORIZED",
            SyncError::InProgress { .. } | SyncError::ClaimLost(_) => "SYNC_IN_PROGRESS",
            SyncError::Db(_) => "INTERNAL_ERROR",
        }
    }
}

/// Who asked for this attempt: a manual sync or a queued job.
#[derive(Debug, Clone, Default)]
pub struct AttemptContext {
    pub job_id: Option<String>,
    pub batch_id: Option<String>,
    pub attempt: i32,
    /// The queue worker running the attempt; `None` for a manual sync.
    pub worker_id: Option<String>,
}

/// What SyncStore intends a platform to show; its hash decides whether to push again.
pub struct Intended {
    pub title: String,
    pub final_price: Rupiah,
    /// (variant SKU, options, final price, stock)
    pub variants: Vec<(String, Vec<String>, Rupiah, i32)>,
    pub content_hash: String,
}

/// What one push works from: the product, its mapped category, what the listing should
/// show, and the mapping as stored before the push.
#[derive(Clone, Copy)]
struct Target<'a> {
    product: &'a ProductDetail,
    category: &'a str,
    intended: &'a Intended,
    mapping: Option<&'a records::StoredMapping>,
    /// The job and batch this attempt belongs to, for its snapshot.
    ctx: &'a AttemptContext,
    /// The mapping as it was before this attempt (`snapshot::mapping_as_held`).
    held: Option<&'a Value>,
}

/// The connected shop one attempt talks to.
enum Shop<'a> {
    Shopee(&'a ShopeeClient),
    Tiktok(&'a TiktokClient),
}

#[derive(Clone)]
pub struct SyncService {
    db: DatabaseConnection,
    /// How long a sync claim lives without renewal: the queue's stall timeout, so a crashed
    /// holder blocks its product no longer than a stalled job blocks its batch.
    lease: std::time::Duration,
    /// The connected shops; each attempt takes its platform's client from here.
    shops: crate::shops::Shops,
    http: reqwest::Client,
}

impl SyncService {
    pub fn new(db: DatabaseConnection, shops: crate::shops::Shops) -> Self {
        // Master images come from the seller's image host; 20 s is generous for one file.
        let http = crate::marketplace::http_client(std::time::Duration::from_secs(20));
        SyncService {
            db,
            lease: std::time::Duration::from_secs(15),
            shops,
            http,
        }
    }

    /// Sync claims lapse after `lease` without renewal.
    pub fn with_claim_lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The client for images and other plain downloads.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn shops(&self) -> &crate::shops::Shops {
        &self.shops
    }

    /// The connected Shopee shop's client; refused when the shop is not connected.
    pub async fn shopee_client(&self) -> Result<ShopeeClient, SyncError> {
        self.shops
            .shopee()
            .await?
            .ok_or(SyncError::NotConnected("Shopee"))
    }

    /// The connected TikTok shop's client; refused when the shop is not connected.
    pub async fn tiktok_client(&self) -> Result<TiktokClient, SyncError> {
        self.shops
            .tiktok()
            .await?
            .ok_or(SyncError::NotConnected("TikTok Shop"))
    }

    /// Syncs one product to one platform and logs the attempt, whatever its outcome.
    pub async fn sync_product_to(
        &self,
        product_id: i64,
        platform: Platform,
        ctx: &AttemptContext,
    ) -> Result<SyncResult, SyncError> {
        let started = Instant::now();
        let mut request = Value::Null;
        // A manual sync is answered at once when the pair is busy; a queued job waits for a
        // paused or crashed holder's lease to lapse before it gives the attempt back.
        let wait = match ctx.job_id {
            Some(_) => self.lease + std::time::Duration::from_secs(1),
            None => std::time::Duration::ZERO,
        };
        let outcome = match SyncClaim::acquire(
            &self.db,
            product_id,
            platform,
            ctx.job_id.as_deref(),
            self.lease,
            wait,
        )
        .await
        {
            Ok(claim) => {
                let outcome = self
                    .attempt(product_id, platform, &claim, ctx, &mut request)
                    .await;
                claim.release().await;
                outcome
            }
            Err(e) => Err(e),
        };
        let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        if let Err(SyncError::Db(e)) = &outcome {
            tracing::error!(error = %e, product_id, platform = platform.as_str(), "sync failed in the database");
        }
        if let Err(e) = &outcome {
            let record_error = match e {
                // A busy pair's status belongs to the sync that holds it.
                SyncError::InProgress { .. } | SyncError::ClaimLost(_) => false,
                SyncError::InvalidProduct(_) => {
                    catalog::product_exists(&self.db, product_id).await?
                }
                _ => true,
            };
            if record_error {
                records::set_status(
                    &self.db,
                    product_id,
                    platform,
                    "error",
                    Some((e.code(), &e.to_string())),
                )
                .await?;
            }
        }
        let answer = match &outcome {
            Ok(result) => Ok(json!(result)),
            Err(e) => Err((json!({"error": e.to_string()}), e)),
        };
        self.log_attempt(product_id, platform, ctx, request, answer, duration_ms)
            .await?;
        outcome
    }

    /// Writes an attempt's `sync_logs` row: the response payload of a success, or the
    /// payload and the error of a failure.
    async fn log_attempt(
        &self,
        product_id: i64,
        platform: Platform,
        ctx: &AttemptContext,
        request: Value,
        answer: Result<Value, (Value, &SyncError)>,
        duration_ms: i32,
    ) -> Result<(), DbErr> {
        let (status, response, code, message) = match answer {
            Ok(response) => ("success", response, None, None),
            Err((response, e)) => ("error", response, Some(e.code()), Some(e.to_string())),
        };
        records::insert_log(
            &self.db,
            records::SyncLog {
                product_id,
                platform,
                status,
                request,
                response,
                error_code: code,
                error_message: message,
                attempt: ctx.attempt.max(1),
                job_id: ctx.job_id.as_deref(),
                batch_id: ctx.batch_id.as_deref(),
                worker_id: ctx.worker_id.as_deref(),
                duration_ms,
            },
        )
        .await?;
        Ok(())
    }

    async fn attempt(
        &self,
        product_id: i64,
        platform: Platform,
        claim: &SyncClaim,
        ctx: &AttemptContext,
        request: &mut Value,
    ) -> Result<SyncResult, SyncError> {
        let product = catalog::product_detail(&self.db, product_id)
            .await?
            .ok_or_else(|| SyncError::InvalidProduct(format!("no product with id {product_id}")))?;
        if product.images.len() < MIN_IMAGES {
            return Err(SyncError::InvalidProduct(format!(
                "product {} has {} images; at least {MIN_IMAGES} are needed",
                product.sku,
                product.images.len()
            )));
        }
        let category = records::category_for(&self.db, platform, &product.category)
            .await?
            .ok_or_else(|| {
                SyncError::InvalidProduct(format!(
                    "no {} category is mapped for {:?}",
                    platform.label(),
                    product.category
                ))
            })?;
        let mapping = records::mapping(&self.db, product_id, platform).await?;
        // The shop is checked before any work, so a missing connection fails fast.
        let (shopee_client, tiktok_client);
        let shop = match platform {
            Platform::Shopee => {
                shopee_client = self.shopee_client().await?;
                Shop::Shopee(&shopee_client)
            }
            Platform::Tiktok => {
                tiktok_client = self.tiktok_client().await?;
                Shop::Tiktok(&tiktok_client)
            }
        };
        let limits = match shop {
            Shop::Shopee(client) => shopee::title_limits(client, &category).await?,
            Shop::Tiktok(_) => TitleLimits::TIKTOK,
        };
        let intended = self
            .intended(&product, platform, &category, limits, mapping.as_ref())
            .await?;
        if let Some(unchanged) = unchanged(platform, &intended, mapping.as_ref()) {
            return Ok(unchanged);
        }
        let held = snapshot::mapping_as_held(&self.db, product_id, platform).await?;
        records::set_status(&self.db, product_id, platform, "syncing", None).await?;
        let target = Target {
            product: &product,
            category: &category,
            intended: &intended,
            mapping: mapping.as_ref(),
            ctx,
            held: held.as_ref(),
        };
        match shop {
            Shop::Shopee(client) => shopee::push(self, client, claim, target, request).await,
            Shop::Tiktok(client) => tiktok::push(self, client, claim, target, request).await,
        }
    }

    async fn intended(
        &self,
        product: &ProductDetail,
        platform: Platform,
        category: &str,
        limits: TitleLimits,
        mapping: Option<&records::StoredMapping>,
    ) -> Result<Intended, SyncError> {
        let markup = records::markup(&self.db, platform).await?;
        let title = match mapping.and_then(|m| m.title_override.clone()) {
            Some(t) => t,
            None => seo_title(&product.title, &product.category, platform, limits)
                .map_err(|e| SyncError::InvalidProduct(e.to_string()))?,
        };
        let variants: Vec<(String, Vec<String>, Rupiah, i32)> = product
            .variants
            .iter()
            .map(|v| {
                (
                    v.sku.clone(),
                    v.options.clone(),
                    v.base_price.with_markup(markup),
                    v.stock,
                )
            })
            .collect();
        let final_price = variants
            .iter()
            .map(|v| v.2)
            .min()
            .unwrap_or(product.base_price.with_markup(markup));
        // Every field a listing carries: a change to any of them makes the next sync push.
        let fingerprint = json!({
            "title": title, "description": product.description, "price": final_price, "images": product.images,
            "variants": variants, "stock": product.stock, "weight": product.weight_kg,
            "dimensions": product.dimensions_cm, "tiers": product.tier_names, "category": category,
        });
        let content_hash = hex::encode(Sha256::digest(fingerprint.to_string().as_bytes()));
        Ok(Intended {
            title,
            final_price,
            variants,
            content_hash,
        })
    }
}

/// A listing already synced with exactly this content is not pushed again.
fn unchanged(
    platform: Platform,
    intended: &Intended,
    mapping: Option<&records::StoredMapping>,
) -> Option<SyncResult> {
    let m = mapping?;
    let same =
        m.status == "synced" && m.content_hash.as_deref() == Some(intended.content_hash.as_str());
    same.then(|| SyncResult {
        platform,
        status: "synced",
        action: SyncAction::Unchanged,
        external_id: m.external_id.clone().unwrap_or_default(),
        final_price: intended.final_price,
        seo_title: intended.title.clone(),
    })
}
