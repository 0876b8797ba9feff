//! The Phase 2 completion report (SPEC §8): the seed plan's success metrics with their
//! measured values, the issues met, recommendations for Phase 3 computed from the data, and
//! the owner's sign-off (the rollout's last approval, refused while validation fails).
//! Generated from recorded data only.

use std::fmt::Write;

use app::api::Stage;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use serde_json::Value;

use super::{batch_report, pilot};
use crate::db::{batches, sql};

/// TikTok's daily listing quota for a shop past its probation, and during it
/// (shared/marketplaces/tiktok.md).
const TIKTOK_DAILY_LISTINGS: i64 = 1_000;
const TIKTOK_PROBATION_DAILY_LISTINGS: i64 = 100;

pub struct CompletionReport {
    /// The owner may sign it off now (the `batch_50` stage's test has passed).
    pub ready: bool,
    /// Signed off: who, when and the note.
    pub signed_off: Option<String>,
    pub markdown: String,
    /// Errors by class and the 50-product batch's time per product, for the page.
    pub charts: Vec<app::api::ChartDto>,
}

#[derive(FromQueryResult)]
struct Count {
    label: Option<String>,
    n: i64,
}

async fn counts(db: &DatabaseConnection, query: &str) -> Result<Vec<Count>, DbErr> {
    Count::find_by_statement(sql(query, [])).all(db).await
}

async fn number(db: &DatabaseConnection, query: &str) -> Result<i64, DbErr> {
    Ok(db
        .query_one_raw(sql(query, []))
        .await?
        .map(|r| r.try_get::<Option<i64>>("", "n"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// The batch a stage's approval named as its evidence; before the approval, the batch the
/// stage's gate would accept now, else the newest finished sync batch to both platforms of
/// at least `products` products.
async fn stage_batch(
    db: &DatabaseConnection,
    stage: Stage,
    products: i64,
) -> Result<Option<String>, DbErr> {
    let approved = db
        .query_one_raw(sql(
            "SELECT evidence->>'batch_id' AS id FROM rollout_approvals WHERE stage = $1",
            [stage.as_str().into()],
        ))
        .await?
        .and_then(|r| r.try_get::<Option<String>>("", "id").ok().flatten());
    if approved.is_some() {
        return Ok(approved);
    }
    let previous = match stage {
        Stage::Batch50 => Stage::Batch10,
        _ => Stage::Pilot,
    };
    if let Ok(accepted) = crate::rollout::passed_batch(db, products as usize, previous).await? {
        return Ok(Some(accepted));
    }
    let row = db
        .query_one_raw(sql(
            "SELECT id FROM sync_batches
             WHERE kind = 'sync' AND platform = 'both' AND total >= $1 AND finished_at IS NOT NULL
               AND NOT cancelled
             ORDER BY created_at DESC LIMIT 1",
            [(products * 2).into()],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get::<Option<String>>("", "id").ok().flatten()))
}

async fn batch_line(
    db: &DatabaseConnection,
    md: &mut String,
    label: &str,
    batch: Option<String>,
) -> Result<(), DbErr> {
    let Some(id) = batch else {
        let _ = writeln!(md, "| {label} | not run yet |");
        return Ok(());
    };
    let Some(snapshot) = batches::snapshot(db, &id).await? else {
        let _ = writeln!(md, "| {label} | batch {id} is gone |");
        return Ok(());
    };
    let passed = batch_report::batch_report(db, &id)
        .await?
        .is_some_and(|r| r.passed);
    let rate = if snapshot.total > 0 {
        snapshot.completed as f64 * 100.0 / snapshot.total as f64
    } else {
        0.0
    };
    let _ = writeln!(
        md,
        "| {label} | {rate:.1}% ({} of {} jobs), spot checks {} — batch {id} |",
        snapshot.completed,
        snapshot.total,
        if passed { "passed" } else { "not passed" }
    );
    Ok(())
}

pub async fn completion_report(db: &DatabaseConnection) -> Result<CompletionReport, DbErr> {
    let rollout = crate::rollout::status(db).await?;
    let signed = rollout
        .approvals
        .iter()
        .find(|a| a.stage == Stage::Batch50)
        .map(|a| {
            format!(
                "{} on {}: {}",
                a.by.as_deref().unwrap_or("the command line"),
                a.at,
                a.note
            )
        });
    let ready = rollout.stage == Stage::Batch50 && rollout.ready;
    let mut md = String::from("# Phase 2 completion report\n\n");
    let _ = writeln!(
        md,
        "Status: **{}**\n",
        match (&signed, ready) {
            (Some(_), _) => "SIGNED OFF",
            (None, true) => "READY FOR THE OWNER'S SIGN-OFF",
            (None, false) => "NOT READY",
        }
    );

    md.push_str("## Success metrics\n\n| Metric | Measured |\n|---|---|\n");
    let pilot = pilot::pilot_report(db).await?;
    let _ = writeln!(
        md,
        "| Pilot (a product without and one with variants, both platforms, read back) | {} |",
        if pilot.passed { "passed" } else { "not passed" }
    );
    batch_line(
        db,
        &mut md,
        "10-product batch",
        stage_batch(db, Stage::Batch10, 10).await?,
    )
    .await?;
    batch_line(
        db,
        &mut md,
        "50-product batch",
        stage_batch(db, Stage::Batch50, 50).await?,
    )
    .await?;
    let times = db
        .query_one_raw(sql(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)::bigint AS p50,
                    percentile_disc(0.95) WITHIN GROUP (ORDER BY ms)::bigint AS p95
             FROM (SELECT sum(duration_ms) AS ms FROM sync_jobs WHERE state = 'completed'
                   GROUP BY batch_id, product_id) t",
            [],
        ))
        .await?;
    let (p50, p95) = times
        .map(|r| {
            (
                r.try_get::<Option<i64>>("", "p50").ok().flatten(),
                r.try_get::<Option<i64>>("", "p95").ok().flatten(),
            )
        })
        .unwrap_or((None, None));
    let _ = writeln!(
        md,
        "| Time per product (p50 / p95, every batch) | {} / {} |",
        p50.map_or("—".into(), |v| format!("{v} ms")),
        p95.map_or("—".into(), |v| format!("{v} ms"))
    );
    // From the attempts logged, not the jobs' counters: an operator's retry of a dead
    // letter starts its counter again. A job that only waited for a busy pair tried nothing.
    let retries = number(
        db,
        "SELECT (count(*) - count(DISTINCT l.job_id))::bigint AS n
         FROM sync_logs l JOIN sync_batches b ON b.id = l.batch_id
         WHERE b.kind = 'sync' AND l.job_id IS NOT NULL
           AND l.error_code IS DISTINCT FROM 'SYNC_IN_PROGRESS'",
    )
    .await?;
    let _ = writeln!(md, "| Retries | {retries} |");
    let latest = db
        .query_one_raw(sql(
            "SELECT passed, live, ran_at::text AS ran_at, report FROM validation_runs ORDER BY ran_at DESC, id DESC LIMIT 1",
            [],
        ))
        .await?;
    match latest {
        Some(run) => {
            let passed: bool = run.try_get("", "passed")?;
            let live: bool = run.try_get("", "live")?;
            let ran_at: String = run.try_get("", "ran_at")?;
            let report: Value = run.try_get("", "report")?;
            let checks = report["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{} {}",
                        c["name"].as_str().unwrap_or("?"),
                        if c["passed"] == Value::Bool(true) {
                            "ok".to_string()
                        } else {
                            format!("{} failing", c["failing"].as_array().map_or(0, Vec::len))
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                md,
                "| Validation ({}, {ran_at}) | {} — {checks} |",
                if live { "live" } else { "database" },
                if passed { "passed" } else { "FAILED" }
            );
        }
        None => md.push_str("| Validation | not run yet |\n"),
    }
    // A rollback that ran through the queue and undid every listing it planned is the
    // evidence; the SQL restore alone (database side only) is named as such.
    let ran = db
        .query_one_raw(sql(
            "SELECT b.id, b.finished_at::text AS at,
                    count(j.id) FILTER (WHERE j.action IN ('deleted', 'deactivated', 'restored')) AS jobs
             FROM sync_batches b JOIN sync_jobs j ON j.batch_id = b.id
             WHERE b.kind = 'rollback' AND b.finished_at IS NOT NULL AND NOT b.cancelled
             GROUP BY b.id
             HAVING bool_and(j.state = 'completed')
                AND bool_or(j.action IN ('deleted', 'deactivated', 'restored'))
             ORDER BY b.finished_at DESC LIMIT 1",
            [],
        ))
        .await?
        .and_then(|r| {
            Some((
                r.try_get::<String>("", "id").ok()?,
                r.try_get::<String>("", "at").ok()?,
                r.try_get::<i64>("", "jobs").ok()?,
            ))
        });
    let sql_restore = db
        .query_one_raw(sql(
            "SELECT created_at::text AS at FROM audit_log WHERE action = 'rollback.sql' ORDER BY created_at DESC LIMIT 1",
            [],
        ))
        .await?
        .and_then(|r| r.try_get::<String>("", "at").ok());
    let evidence = match (ran, sql_restore) {
        (Some((id, at, jobs)), _) => format!(
            "yes — rollback {id} undid {jobs} listing{} on the marketplaces, finished {at}",
            if jobs == 1 { "" } else { "s" }
        ),
        (None, Some(at)) => format!("database side only — `restore_mappings.sql`, {at}"),
        (None, None) => "no".to_string(),
    };
    let _ = writeln!(md, "| Rollback tested | {evidence} |");

    md.push_str("\n## Errors by class (every attempt)\n\n");
    let errors = counts(
        db,
        "SELECT error_code AS label, count(*) AS n FROM sync_logs WHERE status = 'error'
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .await?;
    let mut charts = Vec::new();
    if let Some(id) = stage_batch(db, Stage::Batch50, 50).await? {
        if let Some(report) = batch_report::batch_report(db, &id).await? {
            charts.extend(report.charts.into_iter().take(1).map(|mut c| {
                c.title = format!(
                    "Time per product, 50-product batch {}",
                    &id[..8.min(id.len())]
                );
                c
            }));
        }
    }
    if !errors.is_empty() {
        charts.push(app::api::ChartDto {
            title: "Errors by class (every attempt)".into(),
            unit: String::new(),
            bars: errors
                .iter()
                .map(|e| (e.label.clone().unwrap_or_else(|| "?".into()), e.n))
                .collect(),
        });
    }
    if errors.is_empty() {
        md.push_str("No attempt failed.\n");
    } else {
        md.push_str("| Class | Attempts |\n|---|---|\n");
        for e in &errors {
            let _ = writeln!(md, "| {} | {} |", e.label.as_deref().unwrap_or("?"), e.n);
        }
    }

    md.push_str("\n## Issues met\n\n");
    let unresolved = number(
        db,
        "SELECT count(*) AS n FROM sync_jobs WHERE state = 'failed'",
    )
    .await?;
    let retried = number(
        db,
        "SELECT count(*) AS n FROM audit_log WHERE action = 'dead_letter.retry'",
    )
    .await?;
    let discarded = counts(
        db,
        "SELECT discard_reason AS label, count(*) AS n FROM sync_jobs WHERE state = 'discarded'
         GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    )
    .await?;
    let _ = writeln!(
        md,
        "- Dead letters unresolved: {unresolved}; retried by an operator: {retried}; discarded: {}.",
        discarded.iter().map(|d| d.n).sum::<i64>()
    );
    for d in &discarded {
        let _ = writeln!(
            md,
            "  - discarded {}×: {}",
            d.n,
            d.label
                .as_deref()
                .unwrap_or("(cancelled with its batch)")
                .replace('\n', " ")
        );
    }

    md.push_str("\n## Recommendations for Phase 3\n\n");
    let total = number(db, "SELECT count(*) AS n FROM products").await?;
    let synced = number(
        db,
        "SELECT count(*) AS n FROM (SELECT product_id FROM platform_mappings
          WHERE status = 'synced' AND external_id IS NOT NULL
          GROUP BY product_id HAVING count(DISTINCT platform) = 2) s",
    )
    .await?;
    let remaining = (total - synced).max(0);
    let rate = db
        .query_one_raw(sql(
            // A batch's run ends when it finished or, once an operator retried one of its dead
            // letters (which reopens the batch and loses its first finish), with the last job
            // that finished before that: the operator's wait is not the queue's speed.
            "SELECT sum(b.total)::float8 / 2 AS products,
                    sum(EXTRACT(EPOCH FROM (CASE WHEN r.first_retry IS NULL THEN b.finished_at
                        ELSE COALESCE((SELECT max(j.finished_at) FROM sync_jobs j
                                       WHERE j.batch_id = b.id AND j.finished_at <= r.first_retry),
                                      r.first_retry) END - b.started_at)))::float8 AS secs
             FROM sync_batches b
             CROSS JOIN LATERAL (SELECT min(a.created_at) AS first_retry FROM audit_log a
                                 WHERE a.action = 'dead_letter.retry' AND a.detail->>'batch_id' = b.id) r
             WHERE b.kind = 'sync' AND b.platform = 'both' AND b.finished_at IS NOT NULL AND b.started_at IS NOT NULL
               AND NOT b.cancelled",
            [],
        ))
        .await?
        .and_then(|r| {
            let products = r.try_get::<Option<f64>>("", "products").ok().flatten()?;
            let secs = r.try_get::<Option<f64>>("", "secs").ok().flatten()?;
            (secs > 0.0).then_some(products * 3600.0 / secs)
        });
    let _ = writeln!(
        md,
        "- {synced} of {total} products are synced to both platforms; {remaining} remain."
    );
    match rate {
        Some(per_hour) => {
            let hours = remaining as f64 / per_hour;
            let batches = (remaining + 49) / 50;
            let _ = writeln!(
                md,
                "- At the measured rate of {per_hour:.0} products an hour (batches to both platforms), the rest takes about {hours:.1} hours of batches: {batches} batches of 50, one at a time."
            );
        }
        None => md.push_str(
            "- No batch to both platforms has finished yet, so there is no measured rate.\n",
        ),
    }
    let _ = writeln!(
        md,
        "- TikTok Shop lists at most {TIKTOK_DAILY_LISTINGS} new products a day ({TIKTOK_PROBATION_DAILY_LISTINGS} while the shop is on probation): the remaining {remaining} need at least {} day(s) ({} on probation).",
        (remaining + TIKTOK_DAILY_LISTINGS - 1) / TIKTOK_DAILY_LISTINGS,
        (remaining + TIKTOK_PROBATION_DAILY_LISTINGS - 1) / TIKTOK_PROBATION_DAILY_LISTINGS
    );
    let categories = counts(
        db,
        "SELECT p.category AS label, count(*) AS n FROM sync_logs l JOIN products p ON p.id = l.product_id
         WHERE l.status = 'error' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
    )
    .await?;
    if categories.is_empty() {
        md.push_str("- No category had failed attempts.\n");
    } else {
        let list = categories
            .iter()
            .map(|c| format!("{} ({})", c.label.as_deref().unwrap_or("?"), c.n))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            md,
            "- Categories with the most failed attempts: {list}. Check their category mappings and attributes first."
        );
    }

    md.push_str("\n## Sign-off\n\n");
    match (&signed, ready) {
        (Some(by), _) => {
            let _ = writeln!(md, "Signed off by {by}");
        }
        (None, true) => md.push_str(
            "Every test has passed: the owner signs off by approving the last stage on the Rollout page (or `syncstore rollout approve`).\n",
        ),
        (None, false) => {
            md.push_str("Not ready for sign-off:\n");
            for m in &rollout.missing {
                let _ = writeln!(md, "- {m}");
            }
            if rollout.stage < Stage::Batch50 {
                let _ = writeln!(md, "- the rollout is still in {}", rollout.stage.label());
            }
        }
    }
    Ok(CompletionReport {
        ready,
        signed_off: signed,
        markdown: md,
        charts,
    })
}
