//! The batch test report (SPEC §8, seed task 7.5), generated from the batch's jobs, its
//! sync logs and read-back spot checks — never written by hand.

use std::collections::BTreeMap;
use std::fmt::Write;

use app::api::ChartDto;
use app::api::{BatchSnapshot, JobState};
use rand::seq::SliceRandom;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};

use super::{pilot, SyncError, SyncService};
use crate::db::{batches, sql};

/// How many random products a batch's spot check reads back: 3 for up to 10 products,
/// 5 for larger batches.
pub fn default_spot_checks(products: usize) -> usize {
    if products <= 10 {
        3
    } else {
        5
    }
}

/// The value below which `p` percent of `sorted` fall (nearest rank).
pub fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

pub struct BatchReport {
    pub passed: bool,
    pub markdown: String,
    /// Time per product and errors by class, for the page's charts.
    pub charts: Vec<ChartDto>,
}

/// Reads back `count` random products the batch synced and records the verifications.
/// Returns how many were checked.
pub async fn spot_check(
    sync: &SyncService,
    batch_id: &str,
    count: Option<usize>,
) -> Result<usize, SyncError> {
    let Some(snapshot) = batches::snapshot(sync.db(), batch_id).await? else {
        return Ok(0);
    };
    let mut synced: Vec<i64> = product_ids(&snapshot)
        .into_iter()
        .filter(|id| {
            snapshot
                .jobs
                .iter()
                .filter(|j| j.product_id == *id)
                .all(|j| j.state == JobState::Completed)
        })
        .collect();
    let wanted = count.unwrap_or_else(|| default_spot_checks(product_ids(&snapshot).len()));
    synced.shuffle(&mut rand::thread_rng());
    synced.truncate(wanted);
    for id in &synced {
        let checks = sync.verify(*id).await?;
        pilot::record_verification(sync.db(), *id, &checks).await?;
    }
    Ok(synced.len())
}

fn product_ids(snapshot: &BatchSnapshot) -> Vec<i64> {
    let mut ids: Vec<i64> = snapshot.jobs.iter().map(|j| j.product_id).collect();
    ids.dedup();
    ids
}

#[derive(FromQueryResult)]
struct ErrorCount {
    error_code: String,
    n: i64,
}

#[derive(FromQueryResult)]
struct SpotCheck {
    product_id: i64,
    platform: String,
    ok: bool,
}

/// `None` when there is no such batch.
pub async fn batch_report(
    db: &DatabaseConnection,
    batch_id: &str,
) -> Result<Option<BatchReport>, DbErr> {
    let Some(s) = batches::snapshot(db, batch_id).await? else {
        return Ok(None);
    };
    let errors = ErrorCount::find_by_statement(sql(
        "SELECT error_code, count(*) AS n FROM sync_logs
         WHERE batch_id = $1 AND status = 'error' AND error_code IS NOT NULL
         GROUP BY error_code ORDER BY n DESC, error_code",
        [batch_id.into()],
    ))
    .all(db)
    .await?;
    // Read-backs made after the batch's jobs ran, the latest per product and platform.
    let checks = SpotCheck::find_by_statement(sql(
        "SELECT DISTINCT ON (v.product_id, v.platform) v.product_id, v.platform, v.ok
         FROM verifications v
         WHERE v.product_id IN (SELECT product_id FROM sync_jobs WHERE batch_id = $1)
           AND v.created_at >= (SELECT min(started_at) FROM sync_jobs WHERE batch_id = $1)
         ORDER BY v.product_id, v.platform, v.created_at DESC",
        [batch_id.into()],
    ))
    .all(db)
    .await?;
    let has_logs = db
        .query_one_raw(sql(
            "SELECT 1 AS one FROM sync_logs WHERE batch_id = $1 LIMIT 1",
            [batch_id.into()],
        ))
        .await?
        .is_some();
    Ok(Some(render(&s, &errors, &checks, has_logs)))
}

fn render(
    s: &BatchSnapshot,
    errors: &[ErrorCount],
    checks: &[SpotCheck],
    has_logs: bool,
) -> BatchReport {
    let products = product_ids(s);
    let mut per_product: BTreeMap<i64, i64> = BTreeMap::new();
    for j in &s.jobs {
        *per_product.entry(j.product_id).or_default() += j.duration_ms;
    }
    let mut times: Vec<i64> = per_product.values().copied().collect();
    times.sort_unstable();
    let retries: i64 = s
        .jobs
        .iter()
        .map(|j| i64::from((j.attempts - 1).max(0)))
        .sum();
    let retried_jobs = s.jobs.iter().filter(|j| j.attempts > 1).count();
    let success = if s.total == 0 {
        0.0
    } else {
        s.completed as f64 * 100.0 / s.total as f64
    };
    let checked_products: std::collections::BTreeSet<i64> =
        checks.iter().map(|c| c.product_id).collect();
    let wanted = default_spot_checks(products.len()).min(products.len());
    let checks_ok = checks.iter().all(|c| c.ok);
    let passed =
        s.status.is_finished() && s.failed == 0 && checked_products.len() >= wanted && checks_ok;

    let mut md = format!("# Batch test report — {}\n\n", s.batch_id);
    let _ = writeln!(
        md,
        "Result: **{}** — needs every job synced and {wanted} random products verified by read-back.\n",
        if passed { "PASSED" } else { "NOT PASSED" }
    );
    let _ = writeln!(md, "| Measure | Value |\n|---|---|");
    let _ = writeln!(md, "| Status | {} |", s.status.label());
    let _ = writeln!(
        md,
        "| Products × platforms | {} × {} = {} jobs |",
        products.len(),
        s.platform,
        s.total
    );
    let _ = writeln!(
        md,
        "| Success rate | {success:.1}% ({} of {}) |",
        s.completed, s.total
    );
    let _ = writeln!(md, "| Failed (dead-lettered or discarded) | {} |", s.failed);
    let _ = writeln!(
        md,
        "| Time per product p50 / p95 | {} ms / {} ms |",
        percentile(&times, 50),
        percentile(&times, 95)
    );
    let _ = writeln!(md, "| Retries | {retries} (in {retried_jobs} jobs) |");
    let _ = writeln!(
        md,
        "| Started / finished | {} / {} |",
        s.started_at.as_deref().unwrap_or("—"),
        s.finished_at.as_deref().unwrap_or("—")
    );

    md.push_str("\n## Errors by class (every attempt)\n\n");
    if errors.is_empty() {
        md.push_str(if has_logs {
            "No attempt failed.\n"
        } else {
            "No attempt has run yet.\n"
        });
    } else {
        md.push_str("| Class | Attempts |\n|---|---|\n");
        for e in errors {
            let _ = writeln!(md, "| {} | {} |", e.error_code, e.n);
        }
    }

    md.push_str("\n## Spot checks (read back from the marketplaces)\n\n");
    if checks.is_empty() {
        let _ = writeln!(md, "None yet: run `syncstore report batch {} --spot-check` or use the button on the report page.", s.batch_id);
    } else {
        md.push_str("| Product | Platform | Read-back |\n|---|---|---|\n");
        for c in checks {
            let _ = writeln!(
                md,
                "| #{} | {} | {} |",
                c.product_id,
                c.platform,
                if c.ok { "pass" } else { "FAIL" }
            );
        }
    }

    let failed: Vec<_> = s
        .jobs
        .iter()
        .filter(|j| matches!(j.state, JobState::Failed | JobState::Discarded))
        .collect();
    if !failed.is_empty() {
        md.push_str("\n## Failed jobs\n\n| Product | SKU | Platform | State | Attempts | Error |\n|---|---|---|---|---|---|\n");
        for j in failed {
            let _ = writeln!(
                md,
                "| #{} | {} | {} | {} | {} | {} {} |",
                j.product_id,
                j.sku,
                j.platform.as_str(),
                j.state.label(),
                j.attempts,
                j.error_code.as_deref().unwrap_or(""),
                j.error_message.as_deref().unwrap_or("").replace('|', "/"),
            );
        }
    }
    let mut charts = vec![ChartDto {
        title: "Time per product (all attempts, both platforms)".into(),
        unit: "ms".into(),
        bars: per_product
            .iter()
            .map(|(id, ms)| (format!("#{id}"), *ms))
            .collect(),
    }];
    if !errors.is_empty() {
        charts.push(ChartDto {
            title: "Errors by class (attempts)".into(),
            unit: "".into(),
            bars: errors.iter().map(|e| (e.error_code.clone(), e.n)).collect(),
        });
    }
    BatchReport {
        passed,
        markdown: md,
        charts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let times: Vec<i64> = (1..=20).collect();
        assert_eq!(percentile(&times, 50), 10);
        assert_eq!(percentile(&times, 95), 19);
        assert_eq!(percentile(&[7], 95), 7);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn small_batches_check_three_products_and_larger_ones_five() {
        assert_eq!(default_spot_checks(10), 3);
        assert_eq!(default_spot_checks(50), 5);
    }
}
