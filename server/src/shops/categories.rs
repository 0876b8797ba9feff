//! Category mappings the owner picks (SPEC §9a): each master category to a leaf of the
//! category tree the connected marketplace returns, with the attributes that category
//! makes mandatory and whether SyncStore can fill them without claiming anything.

use std::collections::HashMap;

use app::api::{CategoryMapping, CategoryOption, CategoryTree, MandatoryAttribute, Platform};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde_json::Value;

use crate::db::sql;
use crate::sync::{SyncError, SyncService};

/// Values SyncStore fills a mandatory attribute with: they claim nothing (no brand).
const NEUTRAL_VALUES: [&str; 3] = ["tidak ada merek", "no brand", "nobrand"];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Every leaf of the platform's tree, named by its path ("Pakaian › Atasan").
pub async fn leaves(
    sync: &SyncService,
    platform: Platform,
) -> Result<Vec<CategoryOption>, SyncError> {
    // (id, parent, name, leaf)
    let nodes: Vec<(String, String, String, bool)> = match platform {
        Platform::Shopee => {
            let tree = sync
                .shopee_client()
                .await?
                .get("product/get_category", &[("language", "id".into())])
                .await?;
            tree["category_list"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let name = c["display_category_name"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .or(c["original_category_name"].as_str())
                        .unwrap_or("")
                        .to_string();
                    (
                        text(&c["category_id"]),
                        text(&c["parent_category_id"]),
                        name,
                        c["has_children"] == Value::Bool(false),
                    )
                })
                .collect()
        }
        Platform::Tiktok => {
            let tree = sync.tiktok_client().await?.categories().await?;
            tree["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    // Leaves the shop may not list in are not offered (parents stay, for
                    // the paths).
                    let available = c["permission_statuses"]
                        .as_array()
                        .is_none_or(|s| s.iter().any(|p| p == "AVAILABLE"));
                    (
                        text(&c["id"]),
                        text(&c["parent_id"]),
                        c["local_name"].as_str().unwrap_or("").to_string(),
                        c["is_leaf"] == Value::Bool(true) && available,
                    )
                })
                .collect()
        }
    };
    let by_id: HashMap<&str, (&str, &str)> = nodes
        .iter()
        .map(|(id, parent, name, _)| (id.as_str(), (parent.as_str(), name.as_str())))
        .collect();
    let mut options: Vec<CategoryOption> = nodes
        .iter()
        .filter(|(_, _, _, leaf)| *leaf)
        .map(|(id, _, _, _)| {
            let mut names = Vec::new();
            let mut at = id.as_str();
            // Bounded: a malformed tree with a cycle cannot loop forever.
            for _ in 0..10 {
                let Some((parent, name)) = by_id.get(at) else {
                    break;
                };
                names.push(*name);
                at = parent;
            }
            names.reverse();
            CategoryOption {
                id: id.clone(),
                path: names.join(" › "),
            }
        })
        .collect();
    options.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(options)
}

/// The attributes `category_id` makes mandatory, with the value SyncStore fills in, if
/// it can.
pub async fn mandatory_attributes(
    sync: &SyncService,
    platform: Platform,
    category_id: &str,
) -> Result<Vec<MandatoryAttribute>, SyncError> {
    let neutral = |values: &Value, key: &str| {
        values.as_array().into_iter().flatten().find_map(|v| {
            let name = v[key].as_str().unwrap_or_default();
            NEUTRAL_VALUES
                .contains(&name.to_lowercase().as_str())
                .then(|| name.to_string())
        })
    };
    let defaults =
        crate::db::settings::attribute_defaults(sync.db(), platform, category_id).await?;
    let choices = |values: &Value| -> Vec<CategoryOption> {
        values
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| CategoryOption {
                id: text(&v["value_id"]),
                path: v["name"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    };
    let attrs = match platform {
        Platform::Shopee => {
            let tree = sync
                .shopee_client()
                .await?
                .get(
                    "product/get_attribute_tree",
                    &[
                        ("category_id_list", category_id.to_string()),
                        ("language", "id".into()),
                    ],
                )
                .await?;
            tree["list"][0]["attribute_tree"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["mandatory"] == Value::Bool(true))
                .map(|a| MandatoryAttribute {
                    attribute_id: text(&a["attribute_id"]),
                    name: a["name"].as_str().unwrap_or("?").to_string(),
                    filled_with: neutral(&a["attribute_value_list"], "name"),
                    choices: choices(&a["attribute_value_list"]),
                    default: defaults.get(&text(&a["attribute_id"])).cloned(),
                })
                .collect()
        }
        Platform::Tiktok => {
            let answer = sync
                .tiktok_client()
                .await?
                .category_attributes(category_id)
                .await?;
            answer["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                // `is_requried` is TikTok's own spelling.
                .filter(|a| a["is_requried"] == Value::Bool(true) && a["type"] != "SALES_PROPERTY")
                // The TikTok sync sends no product attributes: a required one is the
                // seller's to supply, whatever values it offers.
                .map(|a| MandatoryAttribute {
                    attribute_id: text(&a["id"]),
                    name: a["name"].as_str().unwrap_or("?").to_string(),
                    filled_with: None,
                    choices: Vec::new(),
                    default: None,
                })
                .collect()
        }
    };
    Ok(attrs)
}

#[derive(FromQueryResult)]
struct MappedRow {
    master_category: String,
    category_id: Option<String>,
}

/// Every master category (from the catalog and the mappings) with its mapped leaf, the
/// leaves to choose from, and each mapped category's mandatory attributes.
pub async fn tree(sync: &SyncService, platform: Platform) -> Result<CategoryTree, SyncError> {
    let options = leaves(sync, platform).await?;
    let rows = MappedRow::find_by_statement(sql(
        "SELECT c.master_category, m.category_id FROM (
            SELECT DISTINCT category AS master_category FROM products
            UNION SELECT master_category FROM category_mappings WHERE platform = $1
         ) c LEFT JOIN category_mappings m ON m.platform = $1 AND m.master_category = c.master_category
         ORDER BY c.master_category",
        [platform.as_str().into()],
    ))
    .all(sync.db())
    .await?;
    let mut mappings = Vec::new();
    for row in rows {
        let path = row
            .category_id
            .as_ref()
            .and_then(|id| options.iter().find(|o| &o.id == id).map(|o| o.path.clone()));
        let attributes = match (&row.category_id, &path) {
            (Some(id), Some(_)) => mandatory_attributes(sync, platform, id).await?,
            _ => Vec::new(),
        };
        mappings.push(CategoryMapping {
            master_category: row.master_category,
            category_id: row.category_id,
            path,
            attributes,
        });
    }
    Ok(CategoryTree {
        platform,
        options,
        mappings,
    })
}

/// Why a mapping was not stored.
#[derive(Debug, thiserror::Error)]
pub enum MappingRejected {
    #[error("{0:?} is not a category SyncStore knows (no product has it)")]
    UnknownMaster(String),
    #[error("{0:?} is not a leaf category of the connected shop's tree")]
    NotALeaf(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Maps `master` to `category_id`, which must be a leaf the marketplace returns now.
pub async fn set(
    sync: &SyncService,
    platform: Platform,
    master: &str,
    category_id: &str,
) -> Result<CategoryMapping, MappingRejected> {
    let known = sync
        .db()
        .query_one_raw(sql(
            "SELECT (EXISTS (SELECT 1 FROM products WHERE category = $1)
                  OR EXISTS (SELECT 1 FROM category_mappings WHERE master_category = $1))::int AS n",
            [master.into()],
        ))
        .await?
        .map(|r| r.try_get::<i32>("", "n"))
        .transpose()?
        == Some(1);
    if !known {
        return Err(MappingRejected::UnknownMaster(master.to_string()));
    }
    let options = leaves(sync, platform).await?;
    let leaf = options
        .into_iter()
        .find(|o| o.id == category_id)
        .ok_or_else(|| MappingRejected::NotALeaf(category_id.to_string()))?;
    // Read before anything is stored: a marketplace failure here changes nothing.
    let attributes = mandatory_attributes(sync, platform, category_id).await?;
    sync.db()
        .execute_raw(sql(
            "INSERT INTO category_mappings (platform, master_category, category_id) VALUES ($1, $2, $3)
             ON CONFLICT (platform, master_category) DO UPDATE SET category_id = EXCLUDED.category_id",
            [platform.as_str().into(), master.into(), category_id.into()],
        ))
        .await?;
    Ok(CategoryMapping {
        master_category: master.to_string(),
        category_id: Some(category_id.to_string()),
        path: Some(leaf.path),
        attributes,
    })
}

/// Stores the owner's default for one mandatory Shopee attribute (the value must be one
/// the category offers now); answers the category's mandatory attributes with it.
pub async fn set_default(
    sync: &SyncService,
    platform: Platform,
    category_id: &str,
    attribute_id: &str,
    value: &str,
) -> Result<Vec<MandatoryAttribute>, MappingRejected> {
    if platform != Platform::Shopee {
        return Err(MappingRejected::Unsupported(
            "the TikTok Shop sync sends no product attributes yet".into(),
        ));
    }
    let mut attrs = mandatory_attributes(sync, platform, category_id).await?;
    let Some(attr) = attrs
        .iter_mut()
        .find(|a| a.attribute_id == attribute_id && a.choices.iter().any(|c| c.id == value))
    else {
        return Err(MappingRejected::Unsupported(format!(
            "{value:?} is not a value of a mandatory attribute {attribute_id:?} of category {category_id:?}"
        )));
    };
    attr.default = Some(value.to_string());
    crate::db::settings::set_attribute_default(
        sync.db(),
        platform,
        category_id,
        attribute_id,
        value,
    )
    .await?;
    Ok(attrs)
}
