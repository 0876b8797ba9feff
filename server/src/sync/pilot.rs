//! The pilot (SPEC §7): at least two products, one without and one with variants, synced
//! to both platforms and verified by reading them back. The report is generated from the
//! recorded verifications, never written by hand.

use std::fmt::Write;

use app::api::Platform;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use serde_json::json;

use super::verify::Check;
use crate::db::sql;

pub async fn record_verification(
    db: &DatabaseConnection,
    product_id: i64,
    checks: &[Check],
) -> Result<(), DbErr> {
    for platform in Platform::ALL {
        let mine: Vec<&Check> = checks.iter().filter(|c| c.platform == platform).collect();
        if mine.is_empty() {
            continue;
        }
        db.execute_raw(sql(
            "INSERT INTO verifications (product_id, platform, ok, checks) VALUES ($1, $2, $3, $4)",
            [
                product_id.into(),
                platform.as_str().into(),
                mine.iter().all(|c| c.ok).into(),
                json!(mine).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct PilotRow {
    product_id: i64,
    sku: String,
    title: String,
    has_variants: bool,
    platform: String,
    status: String,
    external_id: Option<String>,
    verified_ok: Option<bool>,
    verified_at: Option<chrono::DateTime<chrono::Utc>>,
    failed_checks: Option<serde_json::Value>,
}

pub struct PilotReport {
    pub passed: bool,
    /// A product without variants is synced to both platforms and verified there.
    pub simple_verified: bool,
    /// A product with variants is synced to both platforms and verified there.
    pub variants_verified: bool,
    pub markdown: String,
}

/// Products whose latest verification exists, with each platform's mapping and result.
pub async fn pilot_report(db: &DatabaseConnection) -> Result<PilotReport, DbErr> {
    let rows = PilotRow::find_by_statement(sql(
        "SELECT p.id AS product_id, p.sku, p.title,
                EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id) AS has_variants,
                m.platform, m.status, m.external_id,
                lv.ok AS verified_ok, lv.created_at AS verified_at,
                (SELECT jsonb_agg(c) FROM jsonb_array_elements(lv.checks) c WHERE (c->>'ok')::boolean = false) AS failed_checks
         FROM platform_mappings m
         JOIN products p ON p.id = m.product_id
         LEFT JOIN LATERAL (SELECT ok, checks, created_at FROM verifications v
                            WHERE v.product_id = m.product_id AND v.platform = m.platform
                            ORDER BY created_at DESC LIMIT 1) lv ON true
         WHERE EXISTS (SELECT 1 FROM verifications v WHERE v.product_id = p.id)
         ORDER BY p.id, m.platform",
        [],
    ))
    .all(db)
    .await?;

    let verified_both = |variants: bool| {
        let ids: std::collections::BTreeSet<i64> = rows
            .iter()
            .filter(|r| r.has_variants == variants)
            .map(|r| r.product_id)
            .collect();
        ids.into_iter().any(|id| {
            ["shopee", "tiktok"].iter().all(|p| {
                rows.iter().any(|r| {
                    r.product_id == id
                        && r.platform == *p
                        && r.status == "synced"
                        && r.verified_ok == Some(true)
                })
            })
        })
    };
    let simple_verified = verified_both(false);
    let variants_verified = verified_both(true);
    let passed = simple_verified && variants_verified;

    let mut md = String::from("# Pilot test report\n\n");
    let _ = writeln!(
        md,
        "Pilot stage: **{}** — needs one product without and one with variants, synced to Shopee and TikTok Shop and verified by read-back.\n",
        if passed { "PASSED" } else { "NOT PASSED" }
    );
    md.push_str("| Product | SKU | Variants | Platform | Sync status | Listing | Read-back | Verified at | Issues |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        let issues = r
            .failed_checks
            .as_ref()
            .and_then(|c| c.as_array())
            .map(|c| {
                c.iter()
                    .map(|c| {
                        format!(
                            "{}: expected {} found {}",
                            c["name"].as_str().unwrap_or("?"),
                            c["expected"],
                            c["actual"]
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| #{} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.product_id,
            r.title.replace('|', "/"),
            r.sku,
            if r.has_variants { "yes" } else { "no" },
            r.platform,
            r.status,
            r.external_id.clone().unwrap_or_default(),
            match r.verified_ok {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "not verified",
            },
            r.verified_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            issues.replace('|', "/"),
        );
    }
    if rows.is_empty() {
        md.push_str(
            "\nNo product has been verified yet: sync one and run `syncstore verify PRODUCT_ID`.\n",
        );
    }
    Ok(PilotReport {
        simple_verified,
        variants_verified,
        passed,
        markdown: md,
    })
}
