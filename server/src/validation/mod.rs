//! Phase 2 validation (SPEC §8): pricing, SEO titles, mappings and images of every synced
//! product, from the database alone or — `live` — also as the marketplaces show them. Each
//! check names its offending rows; every run is stored.

mod live;

use app::api::{Platform, ProductDetail};
use app::domain::{similarity, TitleLimits, SIMILARITY_BAND};
use futures::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::db::{catalog, sql, sync as records};
use crate::sync::{SyncError, SyncService, MIN_IMAGES};

pub const CHECKS: [&str; 4] = ["pricing", "seo_titles", "mappings", "images"];
/// Products checked at once (image downloads and read-backs overlap; the shops' shared
/// rate limits still pace every marketplace call).
const AT_ONCE: usize = 8;

pub use app::api::{ValidationCheck, ValidationReport, ValidationRow};

/// The rows one product contributes to each check.
#[derive(Default)]
struct ProductFindings {
    rows: [Vec<ValidationRow>; 4],
    /// Whether the product was checked at all by each check.
    checked: [bool; 4],
}

impl ProductFindings {
    fn fail(&mut self, check: usize, product_id: i64, platform: Option<Platform>, reason: String) {
        self.rows[check].push(ValidationRow {
            product_id,
            platform: platform.map(|p| p.as_str().to_string()),
            reason,
        });
    }
}

const PRICING: usize = 0;
const TITLES: usize = 1;
const MAPPINGS: usize = 2;
const IMAGES: usize = 3;

/// Products SyncStore has synced (or tried to list) on at least one platform.
pub async fn synced_products(db: &DatabaseConnection) -> Result<Vec<i64>, DbErr> {
    let rows = db
        .query_all_raw(sql(
            "SELECT DISTINCT product_id FROM platform_mappings
             WHERE status = 'synced' OR external_id IS NOT NULL ORDER BY product_id",
            [],
        ))
        .await?;
    rows.iter().map(|r| r.try_get("", "product_id")).collect()
}

/// [`run`], with its progress kept in `progress` for the Validation page to poll while it
/// runs. The first run to start holds the slot (a second one at the same time runs without
/// showing progress); it is cleared when the run ends, fails, or is dropped because its
/// caller went away.
pub async fn run_tracked(
    sync: &SyncService,
    live: bool,
    progress: &crate::startup::ValidationProgress,
) -> Result<ValidationReport, SyncError> {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let me = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let slot = Slot { progress, me };
    let result = run(sync, live, &|done, total| slot.set(done, total)).await;
    drop(slot);
    result
}

/// This run's hold on the progress slot; let go when dropped, whatever ended the run.
struct Slot<'a> {
    progress: &'a crate::startup::ValidationProgress,
    me: u64,
}

impl Slot<'_> {
    fn set(&self, done: usize, total: usize) {
        let mut slot = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none_or(|(run, _, _)| run == self.me) {
            *slot = Some((self.me, done, total));
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut slot = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some_and(|(run, _, _)| run == self.me) {
            *slot = None;
        }
    }
}

/// Runs every check over every synced product; `progress(done, total)` after each product.
pub async fn run(
    sync: &SyncService,
    live: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ValidationReport, SyncError> {
    if live {
        live::require_shops(sync).await?;
    }
    let db = sync.db();
    let ids = synced_products(db).await?;
    let total = ids.len();
    let markups = [
        records::markup(db, Platform::Shopee).await?,
        records::markup(db, Platform::Tiktok).await?,
    ];
    let mut done = 0;
    progress(0, total);
    let mut findings = Vec::with_capacity(total);
    let mut results = futures::stream::iter(ids)
        .map(|id| check_product(sync, id, markups, live))
        .buffer_unordered(AT_ONCE);
    while let Some(result) = results.next().await {
        findings.push(result?);
        done += 1;
        progress(done, total);
    }
    let checks: Vec<ValidationCheck> = CHECKS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut failing: Vec<ValidationRow> =
                findings.iter().flat_map(|f| f.rows[i].clone()).collect();
            failing.sort_by(|a, b| (a.product_id, &a.platform).cmp(&(b.product_id, &b.platform)));
            ValidationCheck {
                name: name.to_string(),
                passed: failing.is_empty(),
                checked: findings.iter().filter(|f| f.checked[i]).count(),
                failing,
            }
        })
        .collect();
    let report = ValidationReport {
        passed: checks.iter().all(|c| c.passed),
        ran_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        live,
        checks,
    };
    store(db, &report).await?;
    Ok(report)
}

async fn check_product(
    sync: &SyncService,
    product_id: i64,
    markups: [app::domain::MarkupBp; 2],
    live: bool,
) -> Result<ProductFindings, SyncError> {
    let mut f = ProductFindings::default();
    let Some(product) = catalog::product_detail(sync.db(), product_id).await? else {
        return Ok(f);
    };
    f.checked = [true; 4];
    for (platform, markup) in Platform::ALL.into_iter().zip(markups) {
        let Some(mapping) = mapping_of(&product, platform) else {
            f.fail(
                MAPPINGS,
                product_id,
                Some(platform),
                "no mapping: never synced to this platform".into(),
            );
            continue;
        };
        if mapping
            .external_id
            .as_deref()
            .is_none_or(|id| id.trim().is_empty())
        {
            f.fail(
                MAPPINGS,
                product_id,
                Some(platform),
                "the mapping has no external id".into(),
            );
        }
        if mapping.sync_status != app::api::SyncStatus::Synced {
            f.fail(
                MAPPINGS,
                product_id,
                Some(platform),
                format!("status is {:?}, not synced", mapping.sync_status),
            );
        }
        check_prices(&mut f, &product, platform, markup, mapping);
        check_title(&mut f, &product, platform, mapping);
    }
    if let (Some(s), Some(t)) = (&product.mappings.shopee, &product.mappings.tiktok) {
        if s.seo_title.is_some() && s.seo_title == t.seo_title {
            f.fail(
                TITLES,
                product_id,
                None,
                format!(
                    "Shopee and TikTok have the same title {:?}",
                    s.seo_title.clone().unwrap_or_default()
                ),
            );
        }
    }
    check_images(sync, &mut f, &product).await;
    if live {
        // A marketplace that keeps failing for one product makes that product's row, not
        // the end of the run; a passing re-run needs it to answer.
        let mut tries = 0;
        loop {
            let mut attempt = ProductFindings::default();
            match live::check(sync, &mut attempt, &product, markups).await {
                Ok(()) => {
                    for (i, rows) in attempt.rows.into_iter().enumerate() {
                        f.rows[i].extend(rows);
                    }
                    break;
                }
                Err(SyncError::Marketplace(e)) if e.is_retryable() && tries < 2 => {
                    tries += 1;
                    let wait = match &e {
                        crate::marketplace::MarketplaceError::RateLimited {
                            retry_after: Some(after),
                            ..
                        } => *after,
                        _ => std::time::Duration::from_secs(tries),
                    };
                    tokio::time::sleep(wait).await;
                }
                Err(SyncError::Marketplace(e)) => {
                    f.fail(
                        MAPPINGS,
                        product_id,
                        None,
                        format!("the listings could not be read back: {e}"),
                    );
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(f)
}

/// The product's mapping on `platform`; one that only holds a title override (never
/// synced, no listing) counts as none.
fn mapping_of(product: &ProductDetail, platform: Platform) -> Option<&app::api::MappingDto> {
    match platform {
        Platform::Shopee => product.mappings.shopee.as_ref(),
        Platform::Tiktok => product.mappings.tiktok.as_ref(),
    }
    .filter(|m| m.external_id.is_some() || m.sync_status != app::api::SyncStatus::NotSynced)
}

/// What the markup rule makes of the current base prices: (SKU, price) per variant, or the
/// product's own price.
fn expected_prices(product: &ProductDetail, markup: app::domain::MarkupBp) -> Vec<(String, i64)> {
    if product.variants.is_empty() {
        vec![(
            product.sku.clone(),
            product.base_price.with_markup(markup).0,
        )]
    } else {
        product
            .variants
            .iter()
            .map(|v| (v.sku.clone(), v.base_price.with_markup(markup).0))
            .collect()
    }
}

fn check_prices(
    f: &mut ProductFindings,
    product: &ProductDetail,
    platform: Platform,
    markup: app::domain::MarkupBp,
    mapping: &app::api::MappingDto,
) {
    let expected = expected_prices(product, markup);
    let lowest = expected.iter().map(|e| e.1).min().unwrap_or(0);
    let stored = mapping.final_price.map(|p| p.0);
    if stored != Some(lowest) {
        f.fail(
            PRICING,
            product.id,
            Some(platform),
            format!("stored final price {stored:?}, expected {lowest}"),
        );
    }
    if product.variants.is_empty() {
        return;
    }
    for (sku, price) in &expected {
        let stored = mapping
            .variants
            .iter()
            .find(|v| &v.sku == sku)
            .and_then(|v| v.final_price.map(|p| p.0));
        if stored != Some(*price) {
            f.fail(
                PRICING,
                product.id,
                Some(platform),
                format!("variant {sku}: stored final price {stored:?}, expected {price}"),
            );
        }
    }
}

fn check_title(
    f: &mut ProductFindings,
    product: &ProductDetail,
    platform: Platform,
    mapping: &app::api::MappingDto,
) {
    let Some(title) = mapping.seo_title.as_deref() else {
        f.fail(TITLES, product.id, Some(platform), "no title stored".into());
        return;
    };
    let limits = match platform {
        Platform::Shopee => TitleLimits::SHOPEE_DEFAULT,
        Platform::Tiktok => TitleLimits::TIKTOK,
    };
    let len = title.chars().count();
    if len < limits.min_chars || len > limits.max_chars {
        f.fail(
            TITLES,
            product.id,
            Some(platform),
            format!(
                "{len} characters, outside {}–{}: {title:?}",
                limits.min_chars, limits.max_chars
            ),
        );
    }
    let score = similarity(&product.title, title);
    if !SIMILARITY_BAND.contains(&score) {
        f.fail(
            TITLES,
            product.id,
            Some(platform),
            format!("similarity {score:.3} to the master title is outside 0.70–0.80: {title:?}"),
        );
    }
}

/// At least [`MIN_IMAGES`] images, each answering with an image.
async fn check_images(sync: &SyncService, f: &mut ProductFindings, product: &ProductDetail) {
    if product.images.len() < MIN_IMAGES {
        f.fail(
            IMAGES,
            product.id,
            None,
            format!(
                "{} images; at least {MIN_IMAGES} are needed",
                product.images.len()
            ),
        );
    }
    for (i, url) in product.images.iter().enumerate() {
        if let Err(reason) = crate::sync::images::download(sync, url).await {
            f.fail(
                IMAGES,
                product.id,
                None,
                format!("image {} ({}) {reason}", i + 1, shown_url(url)),
            );
        }
    }
}

/// A URL as a report may show it: without its query (a signed URL's signature) and
/// redacted.
pub(crate) fn shown_url(url: &str) -> String {
    crate::redact::redact(url.split('?').next().unwrap_or(url))
}

/// The report as text for a terminal: one line per check, then its failing rows.
pub fn text(report: &ValidationReport) -> String {
    let mut out = format!(
        "Validation {} ({}, {})\n",
        if report.passed { "PASSED" } else { "FAILED" },
        if report.live {
            "database and marketplaces"
        } else {
            "database only"
        },
        report.ran_at
    );
    for check in &report.checks {
        out.push_str(&format!(
            "{} {:<11} {} products checked, {} failing\n",
            if check.passed { "ok  " } else { "FAIL" },
            check.name,
            check.checked,
            check.failing.len()
        ));
        for row in &check.failing {
            out.push_str(&format!(
                "       product {} {}: {}\n",
                row.product_id,
                row.platform.as_deref().unwrap_or("-"),
                row.reason
            ));
        }
    }
    out
}

async fn store(db: &DatabaseConnection, report: &ValidationReport) -> Result<(), DbErr> {
    let body = serde_json::to_value(report).unwrap_or_default();
    db.execute_raw(sql(
        "INSERT INTO validation_runs (live, passed, report) VALUES ($1, $2, $3)",
        [report.live.into(), report.passed.into(), body.into()],
    ))
    .await
    .map(|_| ())
}

/// The latest run, if any.
pub async fn latest(db: &DatabaseConnection) -> Result<Option<ValidationReport>, DbErr> {
    Ok(history(db, 1).await?.into_iter().next())
}

/// The newest `limit` runs, newest first.
pub async fn history(db: &DatabaseConnection, limit: u32) -> Result<Vec<ValidationReport>, DbErr> {
    let rows = db
        .query_all_raw(sql(
            &format!("SELECT report FROM validation_runs ORDER BY id DESC LIMIT {limit}"),
            [],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<serde_json::Value>("", "report").ok())
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}
