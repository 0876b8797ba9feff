//! What the sync service reads and records: markups, category mappings, mappings,
//! uploaded images and sync logs.

use app::api::Platform;
use app::domain::MarkupBp;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};
use serde_json::Value;

use super::sql;

pub async fn markup<C: sea_orm::ConnectionTrait>(
    db: &C,
    platform: Platform,
) -> Result<MarkupBp, DbErr> {
    let key = format!("{}_markup_bp", platform.as_str());
    let row = db
        .query_one_raw(sql(
            "SELECT value FROM settings WHERE key = $1",
            [key.into()],
        ))
        .await?;
    let default = match platform {
        Platform::Shopee => MarkupBp::SHOPEE_DEFAULT,
        Platform::Tiktok => MarkupBp::TIKTOK_DEFAULT,
    };
    Ok(row
        .and_then(|r| r.try_get::<String>("", "value").ok())
        .and_then(|v| v.parse().ok())
        .map(MarkupBp)
        .unwrap_or(default))
}

pub async fn category_for(
    db: &DatabaseConnection,
    platform: Platform,
    master: &str,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT category_id FROM category_mappings WHERE platform = $1 AND master_category = $2",
            [platform.as_str().into(), master.to_string().into()],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get("", "category_id").ok()))
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct StoredMapping {
    pub external_id: Option<String>,
    pub status: String,
    pub content_hash: Option<String>,
    pub title_override: Option<String>,
}

pub async fn mapping(
    db: &DatabaseConnection,
    product_id: i64,
    platform: Platform,
) -> Result<Option<StoredMapping>, DbErr> {
    StoredMapping::find_by_statement(sql(
        "SELECT external_id, status, content_hash, title_override FROM platform_mappings
         WHERE product_id = $1 AND platform = $2",
        [product_id.into(), platform.as_str().into()],
    ))
    .one(db)
    .await
}

/// Marks the mapping `syncing` or `error` (creating it if needed) without touching its ids.
pub async fn set_status(
    db: &DatabaseConnection,
    product_id: i64,
    platform: Platform,
    status: &str,
    error: Option<(&str, &str)>,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO platform_mappings (product_id, platform, status, last_error_code, last_error)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (product_id, platform) DO UPDATE SET status = EXCLUDED.status,
            last_error_code = EXCLUDED.last_error_code, last_error = EXCLUDED.last_error, updated_at = now()",
        [
            product_id.into(),
            platform.as_str().into(),
            status.into(),
            error.map(|e| e.0.to_string()).into(),
            error.map(|e| crate::redact::redact(e.1)).into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// A listing as it now stands on the platform.
pub struct SyncedListing<'a> {
    pub external_id: &'a str,
    pub final_price: i64,
    pub seo_title: &'a str,
    pub category_id: &'a str,
    pub content_hash: &'a str,
    pub tokopedia_status: Option<&'a str>,
    pub listing_platforms: &'a [String],
    /// (variant SKU, external model/SKU id, final price)
    pub variants: &'a [(String, String, i64)],
}

/// Records a listing and its variant ids in one transaction: a crash leaves either the
/// whole result or none of it, and a second recording of the same pair waits on the
/// mapping's row lock instead of colliding with the first.
pub async fn record_synced(
    db: &DatabaseConnection,
    product_id: i64,
    platform: Platform,
    listing: &SyncedListing<'_>,
) -> Result<(), DbErr> {
    let platforms = format!("{{{}}}", listing.listing_platforms.join(","));
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(sql(
            "INSERT INTO platform_mappings (product_id, platform, external_id, final_price, seo_title, category_id,
                status, last_error_code, last_error, last_synced_at, tokopedia_status, listing_platforms, content_hash)
             VALUES ($1, $2, $3, $4, $5, $6, 'synced', NULL, NULL, now(), $7, $8::text[], $9)
             ON CONFLICT (product_id, platform) DO UPDATE SET external_id = EXCLUDED.external_id,
                final_price = EXCLUDED.final_price, seo_title = EXCLUDED.seo_title, category_id = EXCLUDED.category_id,
                status = 'synced', last_error_code = NULL, last_error = NULL, last_synced_at = now(),
                tokopedia_status = EXCLUDED.tokopedia_status, listing_platforms = EXCLUDED.listing_platforms,
                content_hash = EXCLUDED.content_hash, updated_at = now()
             RETURNING id",
            [
                product_id.into(),
                platform.as_str().into(),
                listing.external_id.to_string().into(),
                listing.final_price.into(),
                listing.seo_title.to_string().into(),
                listing.category_id.to_string().into(),
                listing.tokopedia_status.map(str::to_string).into(),
                platforms.into(),
                listing.content_hash.to_string().into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("upserting a mapping returned no row".into()))?;
    let mapping_id: i64 = row.try_get("", "id")?;
    txn.execute_raw(sql(
        "DELETE FROM variant_mappings WHERE mapping_id = $1",
        [mapping_id.into()],
    ))
    .await?;
    for (sku, external_id, price) in listing.variants {
        txn.execute_raw(sql(
            "INSERT INTO variant_mappings (mapping_id, variant_id, external_id, final_price)
             SELECT $1, id, $3, $4 FROM product_variants WHERE sku = $2",
            [
                mapping_id.into(),
                sku.clone().into(),
                external_id.clone().into(),
                (*price).into(),
            ],
        ))
        .await?;
    }
    txn.commit().await
}

pub async fn uploaded_image(
    db: &DatabaseConnection,
    platform: Platform,
    sha256: &str,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT external_id FROM image_uploads WHERE platform = $1 AND sha256 = $2",
            [platform.as_str().into(), sha256.to_string().into()],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get("", "external_id").ok()))
}

pub async fn remember_image(
    db: &DatabaseConnection,
    platform: Platform,
    sha256: &str,
    external_id: &str,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO image_uploads (platform, sha256, external_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [platform.as_str().into(), sha256.to_string().into(), external_id.to_string().into()],
    ))
    .await
    .map(|_| ())
}

/// One attempt, as the sync log keeps it.
pub struct SyncLog<'a> {
    pub product_id: i64,
    pub platform: Platform,
    pub status: &'a str,
    pub request: Value,
    pub response: Value,
    pub error_code: Option<&'a str>,
    pub error_message: Option<String>,
    pub attempt: i32,
    pub job_id: Option<&'a str>,
    pub batch_id: Option<&'a str>,
    pub worker_id: Option<&'a str>,
    pub duration_ms: i32,
}

pub async fn insert_log(db: &DatabaseConnection, log: SyncLog<'_>) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sql(
            "INSERT INTO sync_logs (product_id, platform, status, request_payload, response_payload, error_code,
                error_message, attempt, job_id, batch_id, duration_ms, worker_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            [
                log.product_id.into(),
                log.platform.as_str().into(),
                log.status.into(),
                crate::redact::redact_json(&log.request).into(),
                crate::redact::redact_json(&log.response).into(),
                log.error_code.map(str::to_string).into(),
                log.error_message.map(|m| crate::redact::redact(&m)).into(),
                log.attempt.into(),
                log.job_id.map(str::to_string).into(),
                log.batch_id.map(str::to_string).into(),
                log.duration_ms.into(),
                log.worker_id.map(str::to_string).into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("inserting a sync log returned no row".into()))?;
    row.try_get("", "id")
}

#[derive(FromQueryResult)]
struct LogRow {
    id: i64,
    created_at: chrono::DateTime<chrono::Utc>,
    product_id: i64,
    platform: String,
    status: String,
    error_code: Option<String>,
    error_message: Option<String>,
    attempt: i32,
    job_id: Option<String>,
    batch_id: Option<String>,
    duration_ms: i32,
    request_payload: Option<Value>,
    response_payload: Option<Value>,
}

/// Newest first, 50 per page, filtered as the Sync Logs page asks.
pub async fn list_logs(
    db: &DatabaseConnection,
    page: u32,
    filter: &app::api::LogFilter,
) -> Result<app::api::SyncLogPage, DbErr> {
    let mut clauses = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    if let Some(p) = filter.product_id {
        values.push(p.into());
        clauses.push(format!("product_id = ${}", values.len()));
    }
    if let Some(p) = filter.platform {
        values.push(p.as_str().into());
        clauses.push(format!("platform = ${}", values.len()));
    }
    if let Some(s) = &filter.status {
        values.push(s.clone().into());
        clauses.push(format!("status = ${}", values.len()));
    }
    if let Some(h) = filter.hours {
        values.push(i64::from(h).into());
        clauses.push(format!(
            "created_at > now() - make_interval(hours => ${}::int)",
            values.len()
        ));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total: i64 = db
        .query_one_raw(sql(
            &format!("SELECT count(*) AS n FROM sync_logs {filter_sql}"),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let per_page = app::api::LOGS_PER_PAGE;
    let offset = i64::from(page - 1) * i64::from(per_page);
    let rows = LogRow::find_by_statement(sql(
        &format!("SELECT * FROM sync_logs {filter_sql} ORDER BY created_at DESC, id DESC LIMIT {per_page} OFFSET {offset}"),
        values,
    ))
    .all(db)
    .await?;
    let pretty = |v: Option<Value>| {
        v.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
            .unwrap_or_default()
    };
    Ok(app::api::SyncLogPage {
        total: total as u64,
        page,
        items: rows
            .into_iter()
            .map(|r| app::api::SyncLogEntry {
                id: r.id,
                created_at: r.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                product_id: r.product_id,
                platform: r.platform,
                status: r.status,
                error_code: r.error_code,
                error_message: r.error_message,
                attempt: r.attempt,
                job_id: r.job_id,
                batch_id: r.batch_id,
                duration_ms: r.duration_ms,
                request_payload: pretty(r.request_payload),
                response_payload: pretty(r.response_payload),
            })
            .collect(),
    })
}

/// Sets or clears (`None`) a product's own title on one platform, keeping the rest of its
/// mapping; a product never synced gets a mapping that holds only the title.
pub async fn set_title_override<C: ConnectionTrait>(
    db: &C,
    product_id: i64,
    platform: Platform,
    title: Option<&str>,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO platform_mappings (product_id, platform, title_override) VALUES ($1, $2, $3)
         ON CONFLICT (product_id, platform) DO UPDATE SET
            title_override = EXCLUDED.title_override, updated_at = now()",
        [
            product_id.into(),
            platform.as_str().into(),
            title.map(str::to_string).into(),
        ],
    ))
    .await
    .map(|_| ())
}
