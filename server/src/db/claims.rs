//! Sync claims in Postgres: taken only when free or lapsed, renewed only by their holder
//! while still unexpired, so a holder that lost its claim can never get it back silently.

use app::api::Platform;
use sea_orm::{ConnectionTrait, DbErr};

use super::sql;

/// Takes the claim on (product, platform) for `holder` when nobody holds it or the last
/// holder's lease has lapsed. `Err` carries the job of whoever holds it now.
pub async fn take(
    db: &impl ConnectionTrait,
    product_id: i64,
    platform: Platform,
    holder: &str,
    job_id: Option<&str>,
    lease_ms: i64,
) -> Result<Result<(), Option<String>>, DbErr> {
    let taken = db
        .query_one_raw(sql(
            "INSERT INTO sync_claims (product_id, platform, holder, job_id, expires_at)
             VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
             ON CONFLICT (product_id, platform) DO UPDATE SET holder = EXCLUDED.holder,
                job_id = EXCLUDED.job_id, claimed_at = now(), expires_at = EXCLUDED.expires_at
             WHERE sync_claims.expires_at <= now()
             RETURNING holder",
            [
                product_id.into(),
                platform.as_str().into(),
                holder.into(),
                job_id.map(str::to_string).into(),
                lease_ms.into(),
            ],
        ))
        .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let current = db
        .query_one_raw(sql(
            "SELECT job_id FROM sync_claims WHERE product_id = $1 AND platform = $2",
            [product_id.into(), platform.as_str().into()],
        ))
        .await?;
    Ok(Err(current.and_then(|r| r.try_get("", "job_id").ok())))
}

/// Extends `holder`'s claim by a lease; `false` when it has lapsed or someone else holds it.
pub async fn renew(
    db: &impl ConnectionTrait,
    product_id: i64,
    platform: Platform,
    holder: &str,
    lease_ms: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(sql(
            "UPDATE sync_claims SET expires_at = now() + $4 * interval '1 millisecond'
             WHERE product_id = $1 AND platform = $2 AND holder = $3 AND expires_at > now()",
            [
                product_id.into(),
                platform.as_str().into(),
                holder.into(),
                lease_ms.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn release(
    db: &impl ConnectionTrait,
    product_id: i64,
    platform: Platform,
    holder: &str,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "DELETE FROM sync_claims WHERE product_id = $1 AND platform = $2 AND holder = $3",
        [product_id.into(), platform.as_str().into(), holder.into()],
    ))
    .await
    .map(|_| ())
}
