//! Rollbacks in Postgres: the plan (which snapshot each product and platform goes back
//! to), the rollback batch that carries it through the queue, and the mapping restored
//! from a snapshot.

use app::api::{Platform, RollbackAction};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};
use serde_json::Value;

use super::queue::NewBatch;
use super::sql;

/// What a rollback covers: a batch (optionally narrowed to some of its products), or
/// chosen products' most recent syncs; on one platform or both.
#[derive(Debug, Clone)]
pub struct Scope {
    pub batch_id: Option<String>,
    pub product_ids: Option<Vec<i64>>,
    pub platforms: Vec<Platform>,
}

/// One product and platform of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub product_id: i64,
    pub platform: Platform,
    pub action: RollbackAction,
    /// The listing deleted or restored; the one mapped now for `none`, if any.
    pub external_id: Option<String>,
    /// The snapshot taken before the sync being undone.
    pub snapshot_id: Option<i64>,
}

#[derive(FromQueryResult)]
struct PlanQueryRow {
    product_id: i64,
    platform: String,
    snapshot_id: Option<i64>,
    before_id: Option<String>,
    created_id: Option<String>,
    current_id: Option<String>,
}

fn array_literal<T: ToString>(items: &[T]) -> String {
    format!(
        "{{{}}}",
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Whether a batch with this id exists and is a sync batch (rollbacks are not rolled back
/// as batches: a product's own rollback undoes its latest sync instead).
pub async fn sync_batch_exists(db: &DatabaseConnection, batch_id: &str) -> Result<bool, DbErr> {
    if !app::api::plausible_id(batch_id) {
        return Ok(false);
    }
    Ok(db
        .query_one_raw(sql(
            "SELECT 1 AS one FROM sync_batches WHERE id = $1 AND kind = 'sync'",
            [batch_id.into()],
        ))
        .await?
        .is_some())
}

/// The sync that took a snapshot, as its logs tell: a queued job's attempts carry its id;
/// a manual sync's is the first manual attempt logged for the pair after the snapshot
/// (claims let one sync of a pair run at a time). `$s` is the snapshot's alias.
fn sync_log_of(s: &str) -> String {
    format!(
        "SELECT l.status, l.response_payload FROM sync_logs l
         WHERE l.product_id = {s}.product_id AND l.platform = {s}.platform
           AND (({s}.job_id IS NOT NULL AND l.job_id = {s}.job_id)
                OR ({s}.job_id IS NULL AND l.job_id IS NULL AND l.created_at >= {s}.taken_at))
           -- A sync refused because the pair was busy tried nothing: not this sync's answer.
           AND l.error_code IS DISTINCT FROM 'SYNC_IN_PROGRESS'
         ORDER BY CASE WHEN {s}.job_id IS NOT NULL AND l.status = 'success' THEN 0 ELSE 1 END,
                  CASE WHEN {s}.job_id IS NULL THEN l.id END ASC,
                  CASE WHEN {s}.job_id IS NOT NULL THEN l.id END DESC
         LIMIT 1"
    )
}

/// The plan: for each product and platform in scope, the snapshot taken before the sync
/// being undone and what restoring it takes. With a batch, that sync is the batch's job for
/// the pair; with products alone, the pair's most recent sync that succeeded (manual or
/// queued), else its most recent one. A retried job stored a snapshot per attempt: its
/// first one is the state before the job. A listing the sync found is restored; one it
/// created — the listing its own log names — is deleted; nothing else is touched.
pub async fn plan(db: &DatabaseConnection, scope: &Scope) -> Result<Vec<PlanRow>, DbErr> {
    let platforms: Vec<&str> = scope.platforms.iter().map(|p| p.as_str()).collect();
    let query = format!(
        "WITH pairs AS (
             SELECT j.product_id, j.platform FROM sync_jobs j
             WHERE $1::text IS NOT NULL AND j.batch_id = $1
               AND ($2::bigint[] IS NULL OR j.product_id = ANY($2::bigint[]))
               AND j.platform = ANY($3::text[])
             UNION
             SELECT p.id, pl FROM products p CROSS JOIN unnest($3::text[]) pl
             WHERE $1::text IS NULL AND p.id = ANY($2::bigint[])
         ), candidates AS (
             SELECT s.id, s.product_id, s.platform, s.job_id,
                    COALESCE((SELECT log.status = 'success' FROM ({log_c}) log), false) AS succeeded
             FROM sync_snapshots s
             JOIN pairs pr ON pr.product_id = s.product_id AND pr.platform = s.platform
             WHERE s.kind = 'sync' AND ($1::text IS NULL OR s.batch_id = $1)
         ), chosen AS (
             SELECT DISTINCT ON (pr.product_id, pr.platform) pr.product_id, pr.platform,
                    c.id AS sid, c.job_id
             FROM pairs pr
             LEFT JOIN candidates c ON c.product_id = pr.product_id AND c.platform = pr.platform
             ORDER BY pr.product_id, pr.platform, c.id IS NULL,
                      CASE WHEN $1::text IS NOT NULL THEN c.id END ASC,
                      CASE WHEN $1::text IS NULL THEN c.succeeded END DESC,
                      CASE WHEN $1::text IS NULL THEN c.id END DESC
         ), first AS (
             SELECT c.product_id, c.platform,
                    COALESCE((SELECT min(s2.id) FROM sync_snapshots s2
                              WHERE c.job_id IS NOT NULL AND s2.job_id = c.job_id
                                AND s2.product_id = c.product_id AND s2.platform = c.platform), c.sid) AS sid
             FROM chosen c
         )
         SELECT f.product_id, f.platform, f.sid AS snapshot_id, s.external_id AS before_id,
                (SELECT CASE WHEN log.status = 'success' THEN log.response_payload->>'external_id' END
                 FROM ({log_s}) log) AS created_id,
                m.external_id AS current_id
         FROM first f
         LEFT JOIN sync_snapshots s ON s.id = f.sid
         LEFT JOIN platform_mappings m ON m.product_id = f.product_id AND m.platform = f.platform
         ORDER BY f.product_id, f.platform",
        log_c = sync_log_of("s"),
        log_s = sync_log_of("s"),
    );
    let rows = PlanQueryRow::find_by_statement(sql(
        &query,
        [
            scope.batch_id.clone().into(),
            scope.product_ids.as_deref().map(array_literal).into(),
            array_literal(&platforms).into(),
        ],
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let platform = Platform::parse(&r.platform).unwrap_or(Platform::Shopee);
            let (action, external_id) = match (r.snapshot_id, r.before_id, r.created_id) {
                // Nothing was ever backed up: no sync of ours touched this listing.
                (None, _, _) => (RollbackAction::None, r.current_id),
                (Some(_), Some(before), _) => (RollbackAction::Restore, Some(before)),
                (Some(_), None, Some(created)) => (RollbackAction::Delete, Some(created)),
                // The sync found no listing and its log names none it made: it failed
                // before its create landed (or SyncStore never learnt the id; see
                // docs/rollback.md).
                (Some(_), None, None) => (RollbackAction::None, r.current_id),
            };
            PlanRow {
                product_id: r.product_id,
                platform,
                action,
                external_id,
                snapshot_id: r.snapshot_id,
            }
        })
        .collect())
}

/// A fingerprint of a plan: the dry run shows it, and a rollback started with it runs only
/// if the plan is still the same.
pub fn plan_hash(plan: &[PlanRow]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for r in plan.iter().filter(|r| r.action != RollbackAction::None) {
        hasher.update(format!(
            "{}|{}|{}|{}|{}\n",
            r.product_id,
            r.platform.as_str(),
            r.action.as_str(),
            r.external_id.as_deref().unwrap_or(""),
            r.snapshot_id.unwrap_or(0)
        ));
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Records a rollback batch with one job per planned delete or restore, unless a job of
/// any batch is still unfinished: a rollback never races the syncs it undoes. Takes the
/// lock batch creation holds.
pub async fn create_rollback(
    db: &DatabaseConnection,
    created_by: Option<i64>,
    platform_label: &str,
    rollback_of: Option<&str>,
    plan: &[PlanRow],
) -> Result<NewBatch, DbErr> {
    let txn = db.begin().await?;
    txn.execute_raw(sql(
        "SELECT pg_advisory_xact_lock(hashtext('syncstore.create_batch'))",
        [],
    ))
    .await?;
    let unfinished = txn
        .query_one_raw(sql(
            "SELECT batch_id FROM sync_jobs WHERE state IN ('waiting', 'active', 'retrying') LIMIT 1",
            [],
        ))
        .await?;
    if let Some(row) = unfinished {
        let batch: String = row.try_get("", "batch_id")?;
        return Ok(NewBatch::Gated(format!(
            "batch {batch} is not finished yet: a rollback starts when nothing else is running, so wait for it or cancel it"
        )));
    }
    let jobs: Vec<&PlanRow> = plan
        .iter()
        .filter(|r| r.action != RollbackAction::None && r.snapshot_id.is_some())
        .collect();
    let batch_id: String = txn
        .query_one_raw(sql(
            "INSERT INTO sync_batches (created_by, platform, total, kind, rollback_of)
             VALUES ($1, $2, $3, 'rollback', $4) RETURNING id",
            [
                created_by.into(),
                platform_label.into(),
                (jobs.len() as i32).into(),
                rollback_of.map(str::to_string).into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("inserting a rollback returned no row".into()))?
        .try_get("", "id")?;
    let mut job_ids = Vec::with_capacity(jobs.len());
    for row in jobs {
        let id: String = txn
            .query_one_raw(sql(
                "INSERT INTO sync_jobs (batch_id, product_id, platform, snapshot_id, plan_action, plan_external_id)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                [
                    batch_id.clone().into(),
                    row.product_id.into(),
                    row.platform.as_str().into(),
                    row.snapshot_id.into(),
                    row.action.as_str().into(),
                    row.external_id.clone().into(),
                ],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("inserting a rollback job returned no row".into()))?
            .try_get("", "id")?;
        job_ids.push(id);
    }
    txn.commit().await?;
    Ok(NewBatch::Created { batch_id, job_ids })
}

/// A snapshot as a rollback job reads it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct StoredSnapshot {
    pub id: i64,
    pub product_id: i64,
    pub platform: String,
    pub external_id: Option<String>,
    pub mapping: Option<Value>,
    pub listing: Option<Value>,
}

pub async fn snapshot(db: &DatabaseConnection, id: i64) -> Result<Option<StoredSnapshot>, DbErr> {
    StoredSnapshot::find_by_statement(sql(
        "SELECT id, product_id, platform, external_id, mapping, listing FROM sync_snapshots WHERE id = $1",
        [id.into()],
    ))
    .one(db)
    .await
}

/// Puts the product's mapping on this platform back as the snapshot held it: removed when
/// there was none (or only a failed create without a listing id), otherwise every column
/// and the variant mappings as they were. `models` are (variant SKU, listing id) pairs the
/// restore gave variants whose listing ids changed (Shopee re-creates models when the tier
/// structure changes). One transaction.
pub async fn restore_mapping(
    db: &DatabaseConnection,
    snapshot: &StoredSnapshot,
    models: &[(String, String)],
) -> Result<(), DbErr> {
    let held = snapshot
        .mapping
        .as_ref()
        .filter(|m| m["mapping"]["external_id"].as_str().is_some());
    let txn = db.begin().await?;
    let Some(held) = held else {
        // No listing before: the mapping goes, but a title override the owner wrote
        // before the first sync stays for the next one.
        let pair = || [snapshot.product_id.into(), snapshot.platform.clone().into()];
        txn.execute_raw(sql(
            "DELETE FROM variant_mappings WHERE mapping_id IN
                (SELECT id FROM platform_mappings WHERE product_id = $1 AND platform = $2)",
            pair(),
        ))
        .await?;
        txn.execute_raw(sql(
            "UPDATE platform_mappings SET external_id = NULL, final_price = NULL, seo_title = NULL,
                category_id = NULL, status = 'not_synced', last_error_code = NULL, last_error = NULL,
                last_synced_at = NULL, tokopedia_status = NULL, listing_platforms = '{}',
                content_hash = NULL, updated_at = now()
             WHERE product_id = $1 AND platform = $2 AND title_override IS NOT NULL",
            pair(),
        ))
        .await?;
        txn.execute_raw(sql(
            "DELETE FROM platform_mappings WHERE product_id = $1 AND platform = $2 AND title_override IS NULL",
            pair(),
        ))
        .await?;
        return txn.commit().await;
    };
    let mapping_id: i64 = txn
        .query_one_raw(sql(
            "INSERT INTO platform_mappings AS m (
                 product_id, platform, external_id, final_price, seo_title, title_override, category_id,
                 status, last_error_code, last_error, last_synced_at, tokopedia_status, listing_platforms,
                 content_hash, updated_at)
             SELECT $1, $2, h->>'external_id', (h->>'final_price')::bigint, h->>'seo_title',
                    h->>'title_override', h->>'category_id', h->>'status', h->>'last_error_code',
                    h->>'last_error', (h->>'last_synced_at')::timestamptz, h->>'tokopedia_status',
                    ARRAY(SELECT jsonb_array_elements_text(COALESCE(h->'listing_platforms', '[]'::jsonb))),
                    h->>'content_hash', now()
             FROM (SELECT $3::jsonb AS h) held
             ON CONFLICT (product_id, platform) DO UPDATE SET
                 external_id = EXCLUDED.external_id, final_price = EXCLUDED.final_price,
                 -- The owner's title override is theirs, not the sync's: kept as it is now.
                 seo_title = EXCLUDED.seo_title, title_override = m.title_override,
                 category_id = EXCLUDED.category_id, status = EXCLUDED.status,
                 last_error_code = EXCLUDED.last_error_code, last_error = EXCLUDED.last_error,
                 last_synced_at = EXCLUDED.last_synced_at, tokopedia_status = EXCLUDED.tokopedia_status,
                 listing_platforms = EXCLUDED.listing_platforms, content_hash = EXCLUDED.content_hash,
                 updated_at = now()
             RETURNING id",
            [
                snapshot.product_id.into(),
                snapshot.platform.clone().into(),
                held["mapping"].clone().into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("restoring a mapping returned no row".into()))?
        .try_get("", "id")?;
    txn.execute_raw(sql(
        "DELETE FROM variant_mappings WHERE mapping_id = $1",
        [mapping_id.into()],
    ))
    .await?;
    txn.execute_raw(sql(
        "INSERT INTO variant_mappings (mapping_id, variant_id, external_id, final_price)
         SELECT $1, (v->>'variant_id')::bigint, v->>'external_id', (v->>'final_price')::bigint
         FROM jsonb_array_elements($2::jsonb) v
         WHERE EXISTS (SELECT 1 FROM product_variants pv
                       WHERE pv.id = (v->>'variant_id')::bigint AND pv.product_id = $3)",
        [
            mapping_id.into(),
            held["variants"].clone().into(),
            snapshot.product_id.into(),
        ],
    ))
    .await?;
    for (sku, external_id) in models {
        txn.execute_raw(sql(
            "UPDATE variant_mappings v SET external_id = $3
             FROM product_variants pv
             WHERE v.mapping_id = $1 AND pv.id = v.variant_id AND pv.sku = $2",
            [
                mapping_id.into(),
                sku.clone().into(),
                external_id.clone().into(),
            ],
        ))
        .await?;
    }
    txn.commit().await
}

/// What decides who may act on a batch or one of its jobs: rollbacks are the owner's
/// (retrying, discarding or cancelling one included), and a batch that was rolled back is
/// not retried (that would list again what the rollback took down).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchGuard {
    pub rollback: bool,
    pub rolled_back: bool,
    /// The batch was cancelled: none of its jobs runs again.
    pub cancelled: bool,
    pub owner: bool,
}

/// The guard for a batch id or a job id; `None` when neither names anything.
pub async fn guard(
    db: &DatabaseConnection,
    id: &str,
    user_id: Option<i64>,
) -> Result<Option<BatchGuard>, DbErr> {
    if !app::api::plausible_id(id) {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sql(
            // A job is rolled back when a rollback of its batch, not cancelled, undid at
            // least one listing, or when any rollback since its batch undid its own product
            // and platform.
            "SELECT b.kind = 'rollback' AS rollback, b.cancelled,
                    EXISTS (SELECT 1 FROM sync_batches r JOIN sync_jobs rj ON rj.batch_id = r.id
                            WHERE r.rollback_of = b.id AND NOT r.cancelled AND rj.state = 'completed')
                    OR EXISTS (SELECT 1 FROM sync_jobs j
                            JOIN sync_jobs rj ON rj.product_id = j.product_id AND rj.platform = j.platform
                                AND rj.state = 'completed' AND rj.plan_action IS NOT NULL
                            JOIN sync_batches rb ON rb.id = rj.batch_id AND NOT rb.cancelled
                                AND rb.created_at > b.created_at
                            WHERE j.id = $1) AS rolled_back,
                    COALESCE((SELECT role = 'owner' FROM users WHERE id = $2), false) AS owner
             FROM sync_batches b
             WHERE b.id = COALESCE((SELECT batch_id FROM sync_jobs WHERE id = $1), $1)",
            [id.into(), user_id.into()],
        ))
        .await?;
    row.map(|r| {
        Ok(BatchGuard {
            rollback: r.try_get("", "rollback")?,
            rolled_back: r.try_get("", "rolled_back")?,
            cancelled: r.try_get("", "cancelled")?,
            owner: r.try_get("", "owner")?,
        })
    })
    .transpose()
}
