//! Who did what to the live shops, kept in `audit_log`.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::Value;

use super::sql;

pub async fn record(
    db: &DatabaseConnection,
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
