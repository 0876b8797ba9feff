//! Batches as operators read them: one batch with its jobs, the batches list and the
//! dead-letter queue.

use app::api::{
    BatchSnapshot, BatchStatus, BatchSummary, DeadLetter, JobDto, JobState, Platform,
    RollbackAction,
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult};

use super::sql;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(FromQueryResult)]
struct BatchRow {
    id: String,
    platform: String,
    kind: String,
    rollback_of: Option<String>,
    cancelled: bool,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct JobRow {
    id: String,
    product_id: i64,
    sku: Option<String>,
    platform: String,
    state: String,
    attempts: i32,
    error_code: Option<String>,
    error_message: Option<String>,
    duration_ms: i32,
    action: Option<String>,
    plan_action: Option<String>,
}

/// The table's CHECK constraint allows only the two platforms.
fn platform_of(s: &str) -> Platform {
    Platform::parse(s).unwrap_or(Platform::Shopee)
}

/// The batch and all its jobs; `None` when there is no such batch.
pub async fn snapshot(
    db: &DatabaseConnection,
    batch_id: &str,
) -> Result<Option<BatchSnapshot>, DbErr> {
    if !app::api::plausible_id(batch_id) {
        return Ok(None);
    }
    let Some(batch) = BatchRow::find_by_statement(sql(
        "SELECT id, platform, kind, rollback_of, cancelled, created_at, started_at, finished_at FROM sync_batches WHERE id = $1",
        [batch_id.into()],
    ))
    .one(db)
    .await?
    else {
        return Ok(None);
    };
    let jobs = JobRow::find_by_statement(sql(
        "SELECT j.id, j.product_id, p.sku, j.platform, j.state, j.attempts, j.error_code,
                j.error_message, j.duration_ms, j.action, j.plan_action
         FROM sync_jobs j LEFT JOIN products p ON p.id = j.product_id
         WHERE j.batch_id = $1 ORDER BY j.product_id, j.platform",
        [batch_id.into()],
    ))
    .all(db)
    .await?;
    let mut snapshot = BatchSnapshot {
        batch_id: batch.id,
        platform: batch.platform,
        status: BatchStatus::Queued,
        total: 0,
        completed: 0,
        failed: 0,
        active: 0,
        waiting: 0,
        retrying: 0,
        percent: 0,
        created_at: rfc3339(batch.created_at),
        started_at: batch.started_at.map(rfc3339),
        finished_at: batch.finished_at.map(rfc3339),
        kind: batch.kind,
        rollback_of: batch.rollback_of,
        jobs: jobs
            .into_iter()
            .map(|j| JobDto {
                job_id: j.id,
                product_id: j.product_id,
                sku: j.sku.unwrap_or_default(),
                platform: platform_of(&j.platform),
                state: JobState::parse(&j.state),
                attempts: j.attempts,
                error_code: j.error_code,
                error_message: j.error_message,
                duration_ms: j.duration_ms.into(),
                action: j.action,
                plan_action: j.plan_action.as_deref().and_then(RollbackAction::parse),
            })
            .collect(),
    };
    snapshot.tally(snapshot.started_at.is_some(), batch.cancelled);
    Ok(Some(snapshot))
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: String,
    platform: String,
    kind: String,
    cancelled: bool,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    total: i64,
    completed: i64,
    failed: i64,
}

/// Newest first.
pub async fn list_batches(db: &DatabaseConnection, limit: i64) -> Result<Vec<BatchSummary>, DbErr> {
    let rows = SummaryRow::find_by_statement(sql(
        "SELECT b.id, b.platform, b.kind, b.cancelled, b.created_at, b.started_at,
                count(j.id) AS total,
                count(j.id) FILTER (WHERE j.state = 'completed') AS completed,
                count(j.id) FILTER (WHERE j.state IN ('failed', 'discarded')) AS failed
         FROM sync_batches b LEFT JOIN sync_jobs j ON j.batch_id = b.id
         GROUP BY b.id ORDER BY b.created_at DESC LIMIT $1",
        [limit.into()],
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = BatchStatus::from_counts(
                r.total,
                r.completed,
                r.failed,
                r.started_at.is_some(),
                r.cancelled,
            );
            BatchSummary {
                batch_id: r.id,
                platform: r.platform,
                status,
                total: r.total,
                completed: r.completed,
                failed: r.failed,
                percent: BatchStatus::percent(r.total, r.completed, r.failed),
                created_at: rfc3339(r.created_at),
                kind: r.kind,
            }
        })
        .collect())
}

#[derive(FromQueryResult)]
struct DeadRow {
    id: String,
    batch_id: String,
    product_id: i64,
    sku: Option<String>,
    title: Option<String>,
    platform: String,
    attempts: i32,
    error_code: Option<String>,
    error_message: Option<String>,
    finished_at: Option<DateTime<Utc>>,
}

/// The dead-letter queue, newest failure first.
pub async fn dead_letters(db: &DatabaseConnection) -> Result<Vec<DeadLetter>, DbErr> {
    let rows = DeadRow::find_by_statement(sql(
        "SELECT j.id, j.batch_id, j.product_id, p.sku, p.title, j.platform, j.attempts,
                j.error_code, j.error_message, j.finished_at
         FROM sync_jobs j LEFT JOIN products p ON p.id = j.product_id
         WHERE j.state = 'failed' ORDER BY j.finished_at DESC NULLS LAST LIMIT 500",
        [],
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeadLetter {
            job_id: r.id,
            batch_id: r.batch_id,
            product_id: r.product_id,
            sku: r.sku.unwrap_or_default(),
            title: r.title.unwrap_or_default(),
            platform: platform_of(&r.platform),
            attempts: r.attempts,
            error_code: r.error_code,
            error_message: r.error_message,
            failed_at: r.finished_at.map(rfc3339).unwrap_or_default(),
        })
        .collect())
}
