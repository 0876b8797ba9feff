//! The seller's rollout rules (SPEC §7), enforced: the stage SyncStore is in, each stage's
//! test computed from recorded data (the pilot's read-back verifications, batch reports
//! with their spot checks, validation runs), the owner's approvals, and the gate every new
//! batch passes — the stage's size, one unfinished batch at a time, no unresolved failures.

use app::api::{Approval, CurrentUser, Role, RolloutStatus, Stage};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};
use serde_json::{json, Value};

use crate::db::sql;
use crate::sync::{batch_report, pilot};

/// The first stage the owner has not approved yet.
pub async fn current_stage<C: ConnectionTrait>(db: &C) -> Result<Stage, DbErr> {
    let approved: Vec<String> = db
        .query_all_raw(sql("SELECT stage FROM rollout_approvals", []))
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "stage"))
        .collect::<Result<_, _>>()?;
    Ok(Stage::ALL
        .into_iter()
        .find(|s| *s != Stage::Complete && !approved.iter().any(|a| a == s.as_str()))
        .unwrap_or(Stage::Complete))
}

/// Whether a stage's test has passed, what it still lacks and what it found.
pub struct StageTest {
    pub ready: bool,
    pub missing: Vec<String>,
    pub evidence: Value,
}

/// The newest finished batch to both platforms of at least `products` products that
/// passed its test (every job synced, its spot check read back and passing); else a hint
/// about the newest such batch that has not passed yet.
pub(crate) async fn passed_batch(
    db: &DatabaseConnection,
    products: usize,
    since_approval_of: Stage,
) -> Result<Result<String, Option<String>>, DbErr> {
    // Only batches run in this stage count: one from before the last approval (or from
    // before the rollout existed) did not test this stage.
    let candidates: Vec<String> = db
        .query_all_raw(sql(
            "SELECT id FROM sync_batches
             WHERE kind = 'sync' AND platform = 'both' AND total >= $1 AND finished_at IS NOT NULL
               AND NOT cancelled
               -- A batch rolled back since no longer shows what it tested.
               AND NOT EXISTS (SELECT 1 FROM sync_batches r JOIN sync_jobs rj ON rj.batch_id = r.id
                               WHERE r.rollback_of = sync_batches.id AND NOT r.cancelled
                                 AND rj.state = 'completed')
               AND created_at > COALESCE(
                   (SELECT approved_at FROM rollout_approvals WHERE stage = $2), 'infinity')
             ORDER BY created_at DESC LIMIT 20",
            [
                ((products * 2) as i32).into(),
                since_approval_of.as_str().into(),
            ],
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "id"))
        .collect::<Result<_, _>>()?;
    for id in &candidates {
        if let Some(report) = batch_report::batch_report(db, id).await? {
            if report.passed {
                return Ok(Ok(id.clone()));
            }
        }
    }
    Ok(Err(candidates.first().map(|id| {
        format!("batch {id} has not passed its test: every job must be synced and its spot check read back without a difference (see its report)")
    })))
}

#[derive(FromQueryResult)]
struct LatestValidation {
    id: i64,
    passed: bool,
}

pub async fn stage_test(db: &DatabaseConnection, stage: Stage) -> Result<StageTest, DbErr> {
    let mut missing = Vec::new();
    let evidence = match stage {
        Stage::Pilot => {
            let report = pilot::pilot_report(db).await?;
            if !report.simple_verified {
                missing.push("a product without variants synced to Shopee and TikTok Shop and verified by reading it back".to_string());
            }
            if !report.variants_verified {
                missing.push("a product with variants synced to Shopee and TikTok Shop and verified by reading it back".to_string());
            }
            json!({"pilot_report_passed": report.passed})
        }
        Stage::Batch10 | Stage::Batch50 => {
            let (size, checks, previous) = if stage == Stage::Batch10 {
                (10, 3, Stage::Pilot)
            } else {
                (50, 5, Stage::Batch10)
            };
            let batch = match passed_batch(db, size, previous).await? {
                Ok(id) => Some(id),
                Err(hint) => {
                    missing.push(format!("a batch of {size} products to both platforms finished at 100% success with {checks} random products verified by read-back"));
                    missing.extend(hint);
                    None
                }
            };
            let mut evidence = json!({ "batch_id": batch });
            if stage == Stage::Batch50 {
                // The validation must have looked at what the batch synced, and at what any
                // rollback since left.
                let latest = LatestValidation::find_by_statement(sql(
                    "SELECT id, passed FROM validation_runs
                     WHERE ran_at >= GREATEST(
                         COALESCE((SELECT finished_at FROM sync_batches WHERE id = $1), '-infinity'),
                         COALESCE((SELECT max(COALESCE(finished_at, 'infinity')) FROM sync_batches
                                   WHERE kind = 'rollback' AND NOT cancelled), '-infinity'))
                     ORDER BY ran_at DESC, id DESC LIMIT 1",
                    [batch.clone().into()],
                ))
                .one(db)
                .await?;
                match latest {
                    Some(run) if run.passed => evidence["validation_run"] = json!(run.id),
                    Some(_) => missing.push("a passing validation: the latest run failed (see the Validation page)".to_string()),
                    None => missing.push("a passing validation after the batch: none has run since (`syncstore validate --live` or the Validation page)".to_string()),
                }
            }
            evidence
        }
        Stage::Complete => json!({}),
    };
    Ok(StageTest {
        ready: missing.is_empty(),
        missing,
        evidence,
    })
}

#[derive(FromQueryResult)]
struct ApprovalRow {
    stage: String,
    email: Option<String>,
    approved_at: chrono::DateTime<chrono::Utc>,
    note: String,
}

pub async fn approvals(db: &DatabaseConnection) -> Result<Vec<Approval>, DbErr> {
    let rows = ApprovalRow::find_by_statement(sql(
        "SELECT a.stage, u.email, a.approved_at, a.note
         FROM rollout_approvals a LEFT JOIN users u ON u.id = a.approved_by
         ORDER BY a.approved_at, a.id",
        [],
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Approval {
                stage: Stage::parse(&r.stage)?,
                by: r.email,
                at: r
                    .approved_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                note: r.note,
            })
        })
        .collect())
}

/// The `GET /api/rollout` body.
pub async fn status(db: &DatabaseConnection) -> Result<RolloutStatus, DbErr> {
    let stage = current_stage(db).await?;
    let test = stage_test(db, stage).await?;
    Ok(RolloutStatus {
        stage,
        max_batch_products: stage.max_batch_products(),
        ready: test.ready,
        missing: test.missing,
        approvals: approvals(db).await?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("only the owner approves a rollout stage")]
    NotOwner,
    #[error("{0}")]
    Invalid(String),
    /// The stage's test has not passed: what it still lacks.
    #[error("the {} stage's test has not passed yet: {}", .stage.label(), .missing.join("; "))]
    Gate { stage: Stage, missing: Vec<String> },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records an approval of `stage`. The caller has checked the stage's test; tests use this
/// to start from a later stage with the same record an owner's approval leaves.
pub async fn record_approval<C: ConnectionTrait>(
    db: &C,
    stage: Stage,
    by: Option<i64>,
    note: &str,
    evidence: Value,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO rollout_approvals (stage, approved_by, note, evidence) VALUES ($1, $2, $3, $4)",
        [
            stage.as_str().into(),
            by.into(),
            note.into(),
            evidence.clone().into(),
        ],
    ))
    .await?;
    crate::db::audit::record(
        db,
        by,
        "rollout.approve",
        json!({"stage": stage.as_str(), "note": note, "evidence": evidence}),
    )
    .await?;
    Ok(())
}

/// The owner approves leaving the current stage, once its test has passed. Two approvals
/// at once are serialised; the second finds the next stage and its own test.
pub async fn approve(
    db: &DatabaseConnection,
    user: &CurrentUser,
    note: &str,
) -> Result<RolloutStatus, ApproveError> {
    if user.role != Role::Owner {
        return Err(ApproveError::NotOwner);
    }
    let note = app::api::parse_note(note).map_err(ApproveError::Invalid)?;
    let stage = current_stage(db).await?;
    if stage == Stage::Complete {
        return Err(ApproveError::Gate {
            stage,
            missing: vec!["nothing: the rollout is complete".into()],
        });
    }
    // The test reads on its own connections, before the approval's transaction holds one.
    let test = stage_test(db, stage).await?;
    if !test.ready {
        return Err(ApproveError::Gate {
            stage,
            missing: test.missing,
        });
    }
    let txn = db.begin().await?;
    txn.execute_raw(sql(
        "SELECT pg_advisory_xact_lock(hashtext('syncstore.rollout'))",
        [],
    ))
    .await?;
    // Another approval got there first: this one was for a stage that is already behind.
    let now = current_stage(&txn).await?;
    if now != stage {
        return Err(ApproveError::Gate {
            stage: now,
            missing: vec![format!(
                "the {} stage was approved a moment ago; look at the rollout again",
                stage.label()
            )],
        });
    }
    record_approval(&txn, stage, Some(user.id), &note, test.evidence).await?;
    txn.commit().await?;
    tracing::info!(stage = stage.as_str(), by = %user.email, "rollout stage approved");
    Ok(status(db).await?)
}

/// Why a new batch of `products` products may not start now, if it may not: the stage's
/// size (none in the pilot), another unfinished batch, or failures nobody resolved. Runs
/// inside the transaction that creates the batch, under its lock.
pub async fn batch_gate<C: ConnectionTrait>(
    db: &C,
    products: usize,
) -> Result<Option<String>, DbErr> {
    let stage = current_stage(db).await?;
    if stage == Stage::Pilot {
        return Ok(Some("batches start after the owner approves the pilot: until then sync products one at a time, then verify them (Rollout page)".into()));
    }
    if products > stage.max_batch_products() {
        return Ok(Some(format!(
            "the {} stage allows batches of at most {} products; this one has {products}. The owner approves larger batches on the Rollout page once this stage's test has passed",
            stage.label(),
            stage.max_batch_products()
        )));
    }
    // One statement, one view of the jobs (a dead letter retried meanwhile takes the same
    // lock as batch creation, so it is either failed or waiting here, never neither).
    let row = db
        .query_one_raw(sql(
            "SELECT (SELECT batch_id FROM sync_jobs
                     WHERE state IN ('waiting', 'active', 'retrying') LIMIT 1) AS unfinished,
                    (SELECT count(*) FROM sync_jobs WHERE state = 'failed') AS failed",
            [],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the batch gate's query returned no row".into()))?;
    if let Some(batch) = row.try_get::<Option<String>>("", "unfinished")? {
        return Ok(Some(format!(
            "batch {batch} is not finished yet: one batch runs at a time, so wait for it or cancel it"
        )));
    }
    let failed: i64 = row.try_get("", "failed")?;
    if failed > 0 {
        return Ok(Some(format!(
            "{failed} failed job{} not resolved: retry {} to success or discard {} with a reason on the Dead letters page before the next batch",
            if failed == 1 { " is" } else { "s are" },
            if failed == 1 { "it" } else { "them" },
            if failed == 1 { "it" } else { "them" },
        )));
    }
    Ok(None)
}
