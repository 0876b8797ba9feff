//! Catalog queries: the product list and detail, import and export.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use app::api::{
    MappingDto, Mappings, Platform, ProductDetail, ProductList, ProductSummary, SyncStatus,
    VariantDto, VariantMappingDto, PRODUCTS_PER_PAGE,
};
use app::domain::Rupiah;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait, Value,
};

use super::sql;
use crate::catalog::{grams_to_kg, NewProduct, NewVariant};

/// Rows per multi-row INSERT: keeps every statement under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 500;

/// `LIKE` pattern matching `q` literally anywhere in the title, compared with the
/// lowercased title as `p.title_lower LIKE lower(pattern)` (what `ILIKE` does,
/// without lowercasing every title it reads; migration `title_search_lowercase`).
pub fn contains_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: i64,
    sku: String,
    title: String,
    base_price: i64,
    shopee_price: Option<i64>,
    tiktok_price: Option<i64>,
    shopee_status: Option<String>,
    tiktok_status: Option<String>,
    has_variants: bool,
}

/// The overall status shown in the list: an error anywhere wins, then work in progress.
fn overall_status(statuses: [Option<&str>; 2]) -> SyncStatus {
    let statuses: Vec<SyncStatus> = statuses
        .iter()
        .map(|s| SyncStatus::parse(s.unwrap_or("")))
        .collect();
    [SyncStatus::Error, SyncStatus::Syncing, SyncStatus::Synced]
        .into_iter()
        .find(|wanted| statuses.contains(wanted))
        .unwrap_or(SyncStatus::NotSynced)
}

/// Where the catalog stands: the newest size change's id *and* how many there are
/// (migration `catalog_counts`). Any change to the products moves it. Both, because ids
/// are handed out when a transaction writes, not when it commits, so a long import
/// committing after a newer one adds a row without moving the newest id.
type Generation = (i64, i64);

/// Values read from the catalog, each kept with the generation it was read at and handed
/// out only while the catalog still stands there. Past `kept` keys it starts again.
struct ByGeneration<K, V> {
    kept: usize,
    entries: Mutex<HashMap<K, (Generation, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> ByGeneration<K, V> {
    fn new(kept: usize) -> Self {
        ByGeneration {
            kept,
            entries: Mutex::default(),
        }
    }

    fn get<Q>(&self, key: &Q, at: Generation) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(generation, _)| *generation == at)
            .map(|(_, value)| value.clone())
    }

    fn put(&self, key: K, at: Generation, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.kept && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (at, value));
    }
}

/// Search counts this process has made, by database and search text: paging through a
/// search counts it once, and any change to the products counts it again.
static SEARCH_COUNTS: LazyLock<ByGeneration<(String, String), i64>> =
    LazyLock::new(|| ByGeneration::new(1_000));

/// Where each page of the whole catalog starts (the id of its first product), by database:
/// a deep page then starts at its id through the primary key instead of counting its way
/// past every product before it (`OFFSET` 50,000 at page 1,001 of 100,000 products).
static PAGE_STARTS: LazyLock<ByGeneration<String, std::sync::Arc<Vec<i64>>>> =
    LazyLock::new(|| ByGeneration::new(16));

/// Size changes kept before a reader folds them into one.
const SIZE_CHANGES_KEPT: i64 = 100;

/// The generation a row of `catalog_size_changes` aggregates says.
fn generation(row: &sea_orm::QueryResult) -> Result<Generation, DbErr> {
    Ok((row.try_get("", "generation")?, row.try_get("", "changes")?))
}

/// `value` (an SQL expression, with `params`) and the generation it was read at, from one
/// snapshot.
async fn at_generation<T: sea_orm::TryGetable>(
    db: &DatabaseConnection,
    value: &str,
    params: Vec<Value>,
) -> Result<(Generation, T), DbErr> {
    let row = db
        .query_one_raw(sql(
            &format!(
                "SELECT coalesce(max(c.id), 0) AS generation, count(c.id) AS changes,
                        ({value}) AS value
                 FROM catalog_size_changes c"
            ),
            params,
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("catalog_size_changes".into()))?;
    Ok((generation(&row)?, row.try_get("", "value")?))
}

/// What [`matching`] read: the number of matching products, and the catalog's name and
/// generation at that moment.
struct Matching {
    total: i64,
    catalog: String,
    generation: Generation,
}

/// The id the whole catalog's page `page` (from 1) starts at, as of `at`; `None` past the
/// last page.
async fn page_start(
    db: &DatabaseConnection,
    catalog: &str,
    at: Generation,
    page: u32,
) -> Result<Option<i64>, DbErr> {
    let index = (page - 1) as usize;
    if let Some(starts) = PAGE_STARTS.get(catalog, at) {
        return Ok(starts.get(index).copied());
    }
    let (read_at, starts): (Generation, Vec<i64>) = at_generation(
        db,
        &format!(
            "ARRAY(SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
                                  FROM products) numbered
                   WHERE (n - 1) % {PRODUCTS_PER_PAGE} = 0 ORDER BY id)"
        ),
        vec![],
    )
    .await?;
    let start = starts.get(index).copied();
    PAGE_STARTS.put(catalog.to_string(), read_at, std::sync::Arc::new(starts));
    Ok(start)
}

/// Folds the catalog's size changes into one row, unless a transaction that changes the
/// products is still running (then a later reader folds).
///
/// The lock makes the fold see every row there will ever be below its own: it waits for no
/// writer (`NOWAIT`), it is granted only once every transaction that appended a change has
/// ended, and it holds new appends back for the fold's few milliseconds. So the folded row's
/// id is above every id before it, and a generation (newest id, number of rows) can never
/// come back after a fold: without the lock, a fold committing between a writer taking its
/// id and committing could leave the newest id as it was and, once that writer committed,
/// the number too, and cached page starts and search counts would have outlived a change.
async fn fold_size_changes(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let locked = txn
        .execute_raw(sql(
            "LOCK TABLE catalog_size_changes IN SHARE ROW EXCLUSIVE MODE NOWAIT",
            [],
        ))
        .await;
    if let Err(e) = locked {
        // 55P03: lock_not_available.
        let busy = match &e {
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(driver))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(driver)) => matches!(
                &**driver,
                sea_orm::sqlx::Error::Database(d) if d.code().as_deref() == Some("55P03")
            ),
            _ => false,
        };
        txn.rollback().await?;
        if busy {
            // Another transaction is appending (or folding): a later reader folds.
            tracing::debug!("catalog size changes not folded now: a writer is running");
            return Ok(());
        }
        return Err(e);
    }
    txn.execute_raw(sql(
        "WITH folded AS (DELETE FROM catalog_size_changes RETURNING delta)
         INSERT INTO catalog_size_changes (delta) SELECT coalesce(sum(delta), 0) FROM folded",
        [],
    ))
    .await?;
    txn.commit().await
}

/// How many products match: the trigger-kept size for the whole catalog, a fresh or cached
/// count for a search.
async fn matching(
    db: &DatabaseConnection,
    q: &str,
    pattern: Option<&str>,
) -> Result<Matching, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT coalesce(sum(delta), 0)::bigint AS products, coalesce(max(id), 0) AS generation,
                    count(*) AS changes, current_database()::text AS catalog
             FROM catalog_size_changes",
            [],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("catalog_size_changes".into()))?;
    if row.try_get::<i64>("", "changes")? > SIZE_CHANGES_KEPT {
        // Housekeeping: a fold that fails or cannot run now fails no page.
        if let Err(e) = fold_size_changes(db).await {
            tracing::warn!(error = %e, "folding the catalog size changes failed");
        }
    }
    let generation = generation(&row)?;
    let catalog: String = row.try_get("", "catalog")?;
    let total = match pattern {
        None => row.try_get("", "products")?,
        Some(pattern) => {
            let key = (catalog.clone(), q.to_string());
            match SEARCH_COUNTS.get(&key, generation) {
                Some(total) => total,
                None => {
                    let (at, total) = at_generation(
                        db,
                        "SELECT count(*) FROM products p WHERE p.title_lower LIKE lower($1)",
                        vec![pattern.into()],
                    )
                    .await?;
                    SEARCH_COUNTS.put(key, at, total);
                    total
                }
            }
        }
    };
    Ok(Matching {
        total,
        catalog,
        generation,
    })
}

pub async fn list_products(
    db: &DatabaseConnection,
    page: u32,
    q: &str,
) -> Result<ProductList, DbErr> {
    let pattern = (!q.is_empty()).then(|| contains_pattern(q));
    let matched = matching(db, q, pattern.as_deref()).await?;
    let total = matched.total;
    let offset = i64::from(page - 1) * i64::from(PRODUCTS_PER_PAGE);
    let (filter, offset, params): (&str, i64, Vec<Value>) = match &pattern {
        Some(pattern) => (
            "WHERE p.title_lower LIKE lower($1)",
            offset,
            vec![pattern.clone().into()],
        ),
        None if page == 1 => ("", 0, vec![]),
        // A deeper page of the whole catalog starts at its first product's id.
        None => match page_start(db, &matched.catalog, matched.generation, page).await? {
            Some(start) => ("WHERE p.id >= $1", 0, vec![start.into()]),
            None => ("", offset, vec![]),
        },
    };
    // The page's ids first (an index-only scan), then their rows, fetched by id: as an
    // array, so the planner looks up those 50 rows by the primary key whatever the
    // catalog's size (joined to a CTE instead, a catalog of a few thousand products was
    // scanned whole for every page).
    let rows = SummaryRow::find_by_statement(sql(
        &format!(
            "SELECT p.id, p.sku, p.title, p.base_price,
                    s.final_price AS shopee_price, t.final_price AS tiktok_price,
                    s.status AS shopee_status, t.status AS tiktok_status,
                    EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id) AS has_variants
             FROM products p
             LEFT JOIN platform_mappings s ON s.product_id = p.id AND s.platform = 'shopee'
             LEFT JOIN platform_mappings t ON t.product_id = p.id AND t.platform = 'tiktok'
             WHERE p.id = ANY (ARRAY(
                SELECT p.id FROM products p {filter}
                ORDER BY p.id LIMIT {PRODUCTS_PER_PAGE} OFFSET {offset}
             ))
             ORDER BY p.id"
        ),
        params,
    ))
    .all(db)
    .await?;
    Ok(ProductList {
        total: total as u64,
        page,
        per_page: PRODUCTS_PER_PAGE,
        items: rows
            .into_iter()
            .map(|r| ProductSummary {
                status: overall_status([r.shopee_status.as_deref(), r.tiktok_status.as_deref()]),
                id: r.id,
                sku: r.sku,
                title: r.title,
                base_price: Rupiah(r.base_price),
                shopee_price: r.shopee_price.map(Rupiah),
                tiktok_price: r.tiktok_price.map(Rupiah),
                has_variants: r.has_variants,
            })
            .collect(),
    })
}

#[derive(FromQueryResult)]
struct ProductRow {
    id: i64,
    sku: String,
    title: String,
    description: String,
    category: String,
    base_price: i64,
    weight_g: i32,
    length_cm: Option<i32>,
    width_cm: Option<i32>,
    height_cm: Option<i32>,
    stock: i32,
    tier1_name: Option<String>,
    tier2_name: Option<String>,
}

#[derive(FromQueryResult)]
struct VariantRow {
    product_id: i64,
    sku: String,
    option1: String,
    option2: Option<String>,
    base_price: i64,
    stock: i32,
}

#[derive(FromQueryResult)]
struct ImageRow {
    product_id: i64,
    url: String,
}

#[derive(FromQueryResult)]
struct MappingRow {
    id: i64,
    platform: String,
    external_id: Option<String>,
    final_price: Option<i64>,
    seo_title: Option<String>,
    title_override: Option<String>,
    category_id: Option<String>,
    status: String,
    last_error: Option<String>,
    last_synced_at: Option<chrono::DateTime<chrono::Utc>>,
    tokopedia_status: Option<String>,
    listing_platforms: Vec<String>,
}

#[derive(FromQueryResult)]
struct VariantMappingRow {
    mapping_id: i64,
    sku: String,
    external_id: Option<String>,
    final_price: Option<i64>,
}

pub async fn product_detail(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<ProductDetail>, DbErr> {
    let Some(p) =
        ProductRow::find_by_statement(sql("SELECT * FROM products WHERE id = $1", [id.into()]))
            .one(db)
            .await?
    else {
        return Ok(None);
    };
    let images = ImageRow::find_by_statement(sql(
        "SELECT product_id, url FROM product_images WHERE product_id = $1 ORDER BY position",
        [id.into()],
    ))
    .all(db)
    .await?;
    let variants = VariantRow::find_by_statement(sql(
        "SELECT * FROM product_variants WHERE product_id = $1 ORDER BY position",
        [id.into()],
    ))
    .all(db)
    .await?;
    let mappings = MappingRow::find_by_statement(sql(
        "SELECT * FROM platform_mappings WHERE product_id = $1",
        [id.into()],
    ))
    .all(db)
    .await?;
    let variant_mappings = VariantMappingRow::find_by_statement(sql(
        "SELECT vm.mapping_id, v.sku, vm.external_id, vm.final_price
         FROM variant_mappings vm JOIN product_variants v ON v.id = vm.variant_id
         WHERE v.product_id = $1 ORDER BY v.position",
        [id.into()],
    ))
    .all(db)
    .await?;

    let mapping_for = |platform: Platform| {
        mappings
            .iter()
            .find(|m| m.platform == platform.as_str())
            .map(|m| MappingDto {
                platform,
                external_id: m.external_id.clone(),
                final_price: m.final_price.map(Rupiah),
                seo_title: m.seo_title.clone(),
                title_override: m.title_override.clone(),
                category: m.category_id.clone(),
                sync_status: SyncStatus::parse(&m.status),
                last_error: m.last_error.clone(),
                last_synced_at: m
                    .last_synced_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                tokopedia_status: m.tokopedia_status.clone(),
                listing_platforms: m.listing_platforms.clone(),
                variants: variant_mappings
                    .iter()
                    .filter(|vm| vm.mapping_id == m.id)
                    .map(|vm| VariantMappingDto {
                        sku: vm.sku.clone(),
                        external_id: vm.external_id.clone(),
                        final_price: vm.final_price.map(Rupiah),
                    })
                    .collect(),
            })
    };
    Ok(Some(ProductDetail {
        id: p.id,
        sku: p.sku,
        title: p.title,
        description: p.description,
        category: p.category,
        base_price: Rupiah(p.base_price),
        weight_kg: grams_to_kg(p.weight_g),
        dimensions_cm: match (p.length_cm, p.width_cm, p.height_cm) {
            (Some(l), Some(w), Some(h)) => Some([l, w, h]),
            _ => None,
        },
        stock: p.stock,
        images: images.into_iter().map(|i| i.url).collect(),
        tier_names: [p.tier1_name, p.tier2_name].into_iter().flatten().collect(),
        variants: variants
            .into_iter()
            .map(|v| VariantDto {
                sku: v.sku,
                options: std::iter::once(v.option1).chain(v.option2).collect(),
                base_price: Rupiah(v.base_price),
                stock: v.stock,
            })
            .collect(),
        mappings: Mappings {
            shopee: mapping_for(Platform::Shopee),
            tiktok: mapping_for(Platform::Tiktok),
        },
    }))
}

pub async fn product_exists(db: &DatabaseConnection, id: i64) -> Result<bool, DbErr> {
    Ok(db
        .query_one_raw(sql("SELECT 1 FROM products WHERE id = $1", [id.into()]))
        .await?
        .is_some())
}

pub async fn count_products(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(sql("SELECT count(*) AS n FROM products", []))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0) as u64)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` parameters.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(FromQueryResult)]
struct UpsertedRow {
    id: i64,
    inserted: bool,
}

/// Creates or updates (by SKU) every product in one transaction: all or nothing.
/// `progress` is told how many products are stored so far.
pub async fn import_products(
    db: &DatabaseConnection,
    products: &[NewProduct],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportSummary, DbErr> {
    let txn = db.begin().await?;
    let mut summary = ImportSummary::default();
    for (chunk_index, chunk) in products.chunks(CHUNK).enumerate() {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 13);
        for p in chunk {
            let dim = |i: usize| p.dimensions_cm.map(|d| d[i]);
            values.extend([
                p.sku.clone().into(),
                p.title.clone().into(),
                p.description.clone().into(),
                p.category.clone().into(),
                p.base_price.0.into(),
                p.weight_g.into(),
                dim(0).into(),
                dim(1).into(),
                dim(2).into(),
                p.stock.into(),
                p.tier_names.first().cloned().into(),
                p.tier_names.get(1).cloned().into(),
            ]);
        }
        let upserted = UpsertedRow::find_by_statement(sql(
            &format!(
                "INSERT INTO products (sku, title, description, category, base_price, weight_g,
                                       length_cm, width_cm, height_cm, stock, tier1_name, tier2_name)
                 VALUES {}
                 ON CONFLICT (sku) DO UPDATE SET
                    title = EXCLUDED.title, description = EXCLUDED.description,
                    category = EXCLUDED.category, base_price = EXCLUDED.base_price,
                    weight_g = EXCLUDED.weight_g, length_cm = EXCLUDED.length_cm,
                    width_cm = EXCLUDED.width_cm, height_cm = EXCLUDED.height_cm,
                    stock = EXCLUDED.stock, tier1_name = EXCLUDED.tier1_name,
                    tier2_name = EXCLUDED.tier2_name, updated_at = now()
                 RETURNING id, (xmax = 0) AS inserted",
                placeholders(chunk.len(), 12)
            ),
            values,
        ))
        .all(&txn)
        .await?;
        // RETURNING keeps the order of VALUES, so ids line up with the chunk.
        let ids: Vec<i64> = upserted.iter().map(|r| r.id).collect();
        summary.created += upserted.iter().filter(|r| r.inserted).count();
        summary.updated += upserted.iter().filter(|r| !r.inserted).count();

        let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        txn.execute_unprepared(&format!(
            "DELETE FROM product_images WHERE product_id IN ({id_list})"
        ))
        .await?;
        let images: Vec<(i64, i32, &String)> = chunk
            .iter()
            .zip(&ids)
            .flat_map(|(p, id)| {
                p.images
                    .iter()
                    .enumerate()
                    .map(move |(i, url)| (*id, i as i32, url))
            })
            .collect();
        for part in images.chunks(CHUNK * 3) {
            let values = part.iter().flat_map(|(id, pos, url)| {
                [Value::from(*id), (*pos).into(), (*url).clone().into()]
            });
            txn.execute_raw(sql(
                &format!(
                    "INSERT INTO product_images (product_id, position, url) VALUES {}",
                    placeholders(part.len(), 3)
                ),
                values,
            ))
            .await?;
        }

        let variants: Vec<(i64, i32, &NewVariant)> = chunk
            .iter()
            .zip(&ids)
            .flat_map(|(p, id)| {
                p.variants
                    .iter()
                    .enumerate()
                    .map(move |(i, v)| (*id, i as i32, v))
            })
            .collect();
        let kept: Vec<Value> = variants
            .iter()
            .map(|(_, _, v)| v.sku.clone().into())
            .collect();
        let keep_clause = if kept.is_empty() {
            String::new()
        } else {
            format!(
                "AND sku NOT IN ({})",
                (1..=kept.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        txn.execute_raw(sql(
            &format!("DELETE FROM product_variants WHERE product_id IN ({id_list}) {keep_clause}"),
            kept,
        ))
        .await?;
        for part in variants.chunks(CHUNK) {
            let values = part.iter().flat_map(|(id, pos, v)| {
                [
                    Value::from(*id),
                    (*pos).into(),
                    v.sku.clone().into(),
                    v.options[0].clone().into(),
                    v.options.get(1).cloned().into(),
                    v.base_price.0.into(),
                    v.stock.into(),
                ]
            });
            txn.execute_raw(sql(
                &format!(
                    "INSERT INTO product_variants (product_id, position, sku, option1, option2, base_price, stock)
                     VALUES {}
                     ON CONFLICT (sku) DO UPDATE SET product_id = EXCLUDED.product_id,
                        position = EXCLUDED.position, option1 = EXCLUDED.option1,
                        option2 = EXCLUDED.option2, base_price = EXCLUDED.base_price,
                        stock = EXCLUDED.stock",
                    placeholders(part.len(), 7)
                ),
                values,
            ))
            .await?;
        }
        progress((chunk_index * CHUNK + chunk.len()).min(products.len()));
    }
    txn.commit().await?;
    Ok(summary)
}

/// Every product, in id order, in the shape the CSV writer takes.
pub async fn export_products(db: &DatabaseConnection) -> Result<Vec<NewProduct>, DbErr> {
    let products = ProductRow::find_by_statement(sql("SELECT * FROM products ORDER BY id", []))
        .all(db)
        .await?;
    let mut images: HashMap<i64, Vec<String>> = HashMap::new();
    for row in ImageRow::find_by_statement(sql(
        "SELECT product_id, url FROM product_images ORDER BY product_id, position",
        [],
    ))
    .all(db)
    .await?
    {
        images.entry(row.product_id).or_default().push(row.url);
    }
    let mut variants: HashMap<i64, Vec<NewVariant>> = HashMap::new();
    for v in VariantRow::find_by_statement(sql(
        "SELECT * FROM product_variants ORDER BY product_id, position",
        [],
    ))
    .all(db)
    .await?
    {
        variants.entry(v.product_id).or_default().push(NewVariant {
            sku: v.sku,
            options: std::iter::once(v.option1).chain(v.option2).collect(),
            base_price: Rupiah(v.base_price),
            stock: v.stock,
        });
    }
    Ok(products
        .into_iter()
        .map(|p| NewProduct {
            images: images.remove(&p.id).unwrap_or_default(),
            variants: variants.remove(&p.id).unwrap_or_default(),
            sku: p.sku,
            title: p.title,
            description: p.description,
            category: p.category,
            base_price: Rupiah(p.base_price),
            weight_g: p.weight_g,
            dimensions_cm: match (p.length_cm, p.width_cm, p.height_cm) {
                (Some(l), Some(w), Some(h)) => Some([l, w, h]),
                _ => None,
            },
            stock: p.stock,
            tier_names: [p.tier1_name, p.tier2_name].into_iter().flatten().collect(),
        })
        .collect())
}
