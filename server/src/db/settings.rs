//! The owner's settings that live in the `settings` table: per-platform markups.

use app::api::{MarkupSetting, Platform};
use sea_orm::{ConnectionTrait, DbErr};

use super::sql;

/// Listings on `platform` priced at another markup than `bp`: (product id, …) up to `limit`.
pub async fn outdated_products<C: ConnectionTrait>(
    db: &C,
    platform: Platform,
    limit: usize,
) -> Result<Vec<i64>, DbErr> {
    let bp = crate::db::sync::markup(db, platform).await?.0;
    let rows = db
        .query_all_raw(sql(
            "SELECT m.product_id FROM platform_mappings m JOIN products p ON p.id = m.product_id
             WHERE m.platform = $1 AND m.external_id IS NOT NULL AND m.final_price IS NOT NULL
               AND m.final_price <> (p.base_price * $2 + 5000) / 10000
             ORDER BY m.product_id LIMIT $3",
            [
                platform.as_str().into(),
                i64::from(bp).into(),
                (limit as i64).into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<i64>("", "product_id"))
        .collect()
}

/// The markup and how many synced listings were priced at another one (the product price
/// × markup, half up, as the sync computes it).
pub async fn markup<C: ConnectionTrait>(
    db: &C,
    platform: Platform,
) -> Result<MarkupSetting, DbErr> {
    let bp = crate::db::sync::markup(db, platform).await?.0;
    let row = db
        .query_one_raw(sql(
            "SELECT count(*) AS outdated FROM platform_mappings m JOIN products p ON p.id = m.product_id
             WHERE m.platform = $1 AND m.external_id IS NOT NULL AND m.final_price IS NOT NULL
               AND m.final_price <> (p.base_price * $2 + 5000) / 10000",
            [platform.as_str().into(), i64::from(bp).into()],
        ))
        .await?;
    let outdated_listings = row
        .map(|r| r.try_get::<i64>("", "outdated"))
        .transpose()?
        .unwrap_or(0);
    Ok(MarkupSetting {
        platform,
        bp,
        outdated_listings,
    })
}

pub async fn set_markup<C: ConnectionTrait>(
    db: &C,
    platform: Platform,
    bp: u32,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [
            format!("{}_markup_bp", platform.as_str()).into(),
            bp.to_string().into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// The owner's default values for a category's mandatory attributes: attribute id → value
/// (a value id from the attribute's list).
pub async fn attribute_defaults<C: ConnectionTrait>(
    db: &C,
    platform: Platform,
    category_id: &str,
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    let rows = db
        .query_all_raw(sql(
            "SELECT attribute_id, value FROM category_attribute_defaults
             WHERE platform = $1 AND category_id = $2",
            [platform.as_str().into(), category_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "attribute_id")?, r.try_get("", "value")?)))
        .collect()
}

pub async fn set_attribute_default<C: ConnectionTrait>(
    db: &C,
    platform: Platform,
    category_id: &str,
    attribute_id: &str,
    value: &str,
) -> Result<(), DbErr> {
    db.execute_raw(sql(
        "INSERT INTO category_attribute_defaults (platform, category_id, attribute_id, value)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, category_id, attribute_id) DO UPDATE SET value = EXCLUDED.value",
        [
            platform.as_str().into(),
            category_id.into(),
            attribute_id.into(),
            value.into(),
        ],
    ))
    .await
    .map(|_| ())
}
