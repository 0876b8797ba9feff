//! Who did what to the live shops, kept in `audit_log`.

use app::api::{AuditEntry, AuditPage, AUDIT_PER_PAGE};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use serde_json::Value;

use super::sql;

pub async fn record<C: ConnectionTrait>(
    db: &C,
    user_id: Option<i64>,
    action: &str,
    detail: Value,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO audit_log (user_id, action, detail) VALUES ($1, $2, $3)",
        [user_id.into(), action.into(), detail.into()],
    ))
    .await
    .map(|_| ())
}

#[derive(FromQueryResult)]
struct Row {
    created_at: chrono::DateTime<chrono::Utc>,
    email: Option<String>,
    action: String,
    detail: Value,
}

/// One page of the log, newest first; `action` exactly, `user` as part of the email.
pub async fn page(
    db: &DatabaseConnection,
    page: u32,
    action: Option<String>,
    user: Option<String>,
) -> Result<AuditPage, DbErr> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(AUDIT_PER_PAGE);
    let (action_filter, user_filter) = (action.clone(), user.clone());
    let rows = Row::find_by_statement(sql(
        "SELECT a.created_at, u.email, a.action, a.detail
         FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
         WHERE ($1::text IS NULL OR a.action = $1)
           AND ($2::text IS NULL OR strpos(lower(u.email), lower($2)) > 0)
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT $3 OFFSET $4",
        [
            action.into(),
            user.into(),
            i64::from(AUDIT_PER_PAGE).into(),
            offset.into(),
        ],
    ))
    .all(db)
    .await?;
    let total: i64 = db
        .query_one_raw(sql(
            "SELECT count(*) AS n FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
             WHERE ($1::text IS NULL OR a.action = $1)
               AND ($2::text IS NULL OR strpos(lower(u.email), lower($2)) > 0)",
            [action_filter.into(), user_filter.into()],
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(AuditPage {
        total: total.max(0) as u64,
        page,
        entries: rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                by: r.email,
                action: r.action,
                detail: r.detail.to_string(),
            })
            .collect(),
    })
}
