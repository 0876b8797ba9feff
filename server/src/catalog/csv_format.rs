//! The catalog CSV format (documented in `docs/catalog-format.md`): one row per variant,
//! the rows of one product together and sharing its SKU; a product without variants is
//! one row with the variant columns empty.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};

use app::domain::Rupiah;

use super::{check_image_url, check_sku, parse_weight_kg, NewProduct, NewVariant};
use super::{MAX_IMAGES, MAX_TITLE_CHARS, MAX_VARIANTS};

pub const COLUMNS: [&str; 16] = [
    "sku",
    "title",
    "description",
    "category",
    "price",
    "stock",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "images",
    "tier1_name",
    "tier2_name",
    "variant_sku",
    "option1",
    "option2",
];
const REQUIRED: [&str; 8] = [
    "sku",
    "title",
    "description",
    "category",
    "price",
    "stock",
    "weight_kg",
    "images",
];
/// Product-level columns: repeated on every row of a product, or left empty after the first.
const PRODUCT_COLUMNS: [&str; 11] = [
    "title",
    "description",
    "category",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "images",
    "tier1_name",
    "tier2_name",
    "sku",
];
/// Images in the `images` column are separated by this character.
pub const IMAGE_SEPARATOR: char = '|';
const MAX_REPORTED_ERRORS: usize = 200;

/// What is wrong with one cell (or row) of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {}: {}", self.line, c, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Reads a whole catalog; any error means nothing from the file may be imported.
pub fn read_catalog(input: impl Read) -> Result<Vec<NewProduct>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![RowError {
                line: 1,
                column: None,
                reason: format!("cannot read the header row: {e}"),
            }])
        }
    };
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_lowercase(), i))
        .collect();
    let missing: Vec<RowError> = REQUIRED
        .iter()
        .filter(|c| !index.contains_key(**c))
        .map(|c| RowError {
            line: 1,
            column: Some(c.to_string()),
            reason: "required column is missing from the header".into(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }

    let mut builder = CatalogBuilder::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                builder.errors.push(RowError {
                    line,
                    column: None,
                    reason: format!("not a valid CSV row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let row = Row {
            line,
            cells: &record,
            index: &index,
        };
        builder.add_row(row);
        if builder.errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    builder.finish()
}

struct Row<'a> {
    line: u64,
    cells: &'a csv::StringRecord,
    index: &'a HashMap<String, usize>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|i| self.cells.get(*i))
            .unwrap_or("")
            .trim()
    }

    fn error(&self, column: &str, reason: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            column: Some(column.to_string()),
            reason: reason.into(),
        }
    }
}

/// The rows of the product being read, checked as they arrive.
struct PendingProduct {
    first_line: u64,
    product: NewProduct,
    product_cells: Vec<String>,
    has_plain_row: bool,
}

#[derive(Default)]
struct CatalogBuilder {
    products: Vec<NewProduct>,
    current: Option<PendingProduct>,
    seen_skus: HashMap<String, u64>,
    seen_variant_skus: HashMap<String, u64>,
    errors: Vec<RowError>,
}

impl CatalogBuilder {
    fn add_row(&mut self, row: Row<'_>) {
        let sku = row.get("sku").to_string();
        if let Err(reason) = check_sku(&sku) {
            self.errors.push(row.error("sku", reason));
            return;
        }
        let continues = self.current.as_ref().is_some_and(|p| p.product.sku == sku);
        if !continues {
            self.flush();
            if let Some(first) = self.seen_skus.get(&sku) {
                self.errors.push(row.error("sku", format!(
                    "duplicate SKU {sku:?}: already used on line {first}; the rows of one product must be together"
                )));
                return;
            }
            self.seen_skus.insert(sku.clone(), row.line);
            match parse_product(&row) {
                Ok(product) => {
                    let product_cells = PRODUCT_COLUMNS
                        .iter()
                        .map(|c| row.get(c).to_string())
                        .collect();
                    self.current = Some(PendingProduct {
                        first_line: row.line,
                        product,
                        product_cells,
                        has_plain_row: false,
                    });
                }
                Err(errors) => {
                    self.errors.extend(errors);
                    return;
                }
            }
        } else if let Some(pending) = &self.current {
            // Later rows may repeat the product's columns but not contradict them.
            for (i, column) in PRODUCT_COLUMNS.iter().enumerate() {
                let value = row.get(column);
                if !value.is_empty() && value != pending.product_cells[i] {
                    self.errors.push(row.error(
                        column,
                        format!(
                            "differs from line {} of the same product ({:?})",
                            pending.first_line, pending.product_cells[i]
                        ),
                    ));
                }
            }
        }
        let Some(pending) = self.current.as_mut() else {
            return;
        };
        add_variant_row(pending, &row, &mut self.seen_variant_skus, &mut self.errors);
    }

    fn flush(&mut self) {
        let Some(mut pending) = self.current.take() else {
            return;
        };
        let product = &mut pending.product;
        if let Some(min) = product.variants.iter().map(|v| v.base_price).min() {
            product.base_price = min;
            product.stock = product.variants.iter().map(|v| v.stock).sum();
        }
        self.products.push(pending.product);
    }

    fn finish(mut self) -> Result<Vec<NewProduct>, Vec<RowError>> {
        self.flush();
        if self.errors.is_empty() {
            Ok(self.products)
        } else {
            Err(self.errors)
        }
    }
}

fn parse_product(row: &Row<'_>) -> Result<NewProduct, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut text = |column: &str, max: usize| -> String {
        let value = row.get(column);
        if value.is_empty() {
            errors.push(row.error(column, "is empty"));
        } else if value.chars().count() > max {
            errors.push(row.error(column, format!("is longer than {max} characters")));
        }
        value.to_string()
    };
    let title = text("title", MAX_TITLE_CHARS);
    let description = text("description", 5_000);
    let category = text("category", 200);
    let weight_g = parse_weight_kg(row.get("weight_kg"))
        .map_err(|e| errors.push(row.error("weight_kg", e)))
        .unwrap_or(0);

    let dims: Vec<Option<i32>> = ["length_cm", "width_cm", "height_cm"]
        .iter()
        .map(|c| {
            let v = row.get(c);
            if v.is_empty() {
                return None;
            }
            match v.parse::<i32>() {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    errors.push(row.error(
                        c,
                        format!("{v:?} must be whole centimetres between 1 and 10000"),
                    ));
                    None
                }
            }
        })
        .collect();
    let given = dims.iter().filter(|d| d.is_some()).count();
    let dimensions_cm = match (dims[0], dims[1], dims[2]) {
        (Some(l), Some(w), Some(h)) => Some([l, w, h]),
        _ => {
            if given > 0 {
                errors.push(row.error("length_cm", "give all three dimensions or none"));
            }
            None
        }
    };

    let images: Vec<String> = row
        .get("images")
        .split(IMAGE_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if images.is_empty() {
        errors.push(row.error(
            "images",
            "at least one image URL is required (3 or more to sync)",
        ));
    }
    if images.len() > MAX_IMAGES {
        errors.push(row.error("images", format!("at most {MAX_IMAGES} images per product")));
    }
    for url in &images {
        if let Err(e) = check_image_url(url) {
            errors.push(row.error("images", e));
        }
    }

    let tier_names: Vec<String> = ["tier1_name", "tier2_name"]
        .iter()
        .map(|c| row.get(c).to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if row.get("tier1_name").is_empty() && !row.get("tier2_name").is_empty() {
        errors.push(row.error("tier1_name", "tier2_name is set, so tier1_name is required"));
    }

    let (base_price, stock) = if row.get("variant_sku").is_empty() {
        (parse_price(row, &mut errors), parse_stock(row, &mut errors))
    } else {
        (Rupiah(0), 0)
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewProduct {
        sku: row.get("sku").to_string(),
        title,
        description,
        category,
        base_price,
        weight_g,
        dimensions_cm,
        stock,
        images,
        tier_names,
        variants: Vec::new(),
    })
}

fn parse_price(row: &Row<'_>, errors: &mut Vec<RowError>) -> Rupiah {
    Rupiah::parse(row.get("price"))
        .map_err(|e| errors.push(row.error("price", format!("{:?}: {e}", row.get("price")))))
        .unwrap_or(Rupiah(0))
}

fn parse_stock(row: &Row<'_>, errors: &mut Vec<RowError>) -> i32 {
    let raw = row.get("stock");
    match raw.parse::<i32>() {
        Ok(n) if (0..=10_000_000).contains(&n) => n,
        _ => {
            errors.push(row.error(
                "stock",
                format!("{raw:?} must be a whole number from 0 to 10000000"),
            ));
            0
        }
    }
}

fn add_variant_row(
    pending: &mut PendingProduct,
    row: &Row<'_>,
    seen_variant_skus: &mut HashMap<String, u64>,
    errors: &mut Vec<RowError>,
) {
    let product = &mut pending.product;
    let variant_sku = row.get("variant_sku");
    if variant_sku.is_empty() {
        if pending.has_plain_row || !product.variants.is_empty() {
            errors.push(row.error(
                "variant_sku",
                format!(
                    "product {:?} has more than one row, so every row needs a variant_sku",
                    product.sku
                ),
            ));
        }
        if !product.tier_names.is_empty() {
            errors.push(row.error(
                "variant_sku",
                "tier names are set, so this row must be a variant",
            ));
        }
        pending.has_plain_row = true;
        return;
    }
    if pending.has_plain_row {
        errors.push(row.error(
            "variant_sku",
            format!(
                "product {:?} already has a row without variants",
                product.sku
            ),
        ));
        return;
    }
    if let Err(e) = check_sku(variant_sku) {
        errors.push(row.error("variant_sku", e));
        return;
    }
    if let Some(first) = seen_variant_skus.insert(variant_sku.to_string(), row.line) {
        errors.push(row.error(
            "variant_sku",
            format!("duplicate variant SKU {variant_sku:?}: already used on line {first}"),
        ));
        return;
    }
    if product.tier_names.is_empty() {
        errors.push(row.error("tier1_name", "a variant row needs tier1_name (e.g. Warna)"));
        return;
    }
    let mut options = Vec::new();
    for (i, column) in ["option1", "option2"]
        .iter()
        .enumerate()
        .take(product.tier_names.len())
    {
        let value = row.get(column);
        if value.is_empty() {
            errors.push(row.error(
                column,
                format!("is empty; every variant needs a {}", product.tier_names[i]),
            ));
        } else if value.chars().count() > 30 {
            errors.push(row.error(column, "is longer than 30 characters"));
        }
        options.push(value.to_string());
    }
    if product.tier_names.len() == 1 && !row.get("option2").is_empty() {
        errors.push(row.error("option2", "is set but the product has no tier2_name"));
    }
    if product.variants.iter().any(|v| v.options == options) {
        errors.push(row.error(
            "option1",
            format!("the option combination {options:?} appears twice"),
        ));
    }
    if product.variants.len() >= MAX_VARIANTS {
        errors.push(row.error(
            "variant_sku",
            format!("a product has at most {MAX_VARIANTS} variants"),
        ));
    }
    let mut price_errors = Vec::new();
    let base_price = parse_price(row, &mut price_errors);
    let stock = parse_stock(row, &mut price_errors);
    if !price_errors.is_empty() {
        errors.extend(price_errors);
        return;
    }
    product.variants.push(NewVariant {
        sku: variant_sku.to_string(),
        options,
        base_price,
        stock,
    });
}

/// Writes products in the same format `read_catalog` reads.
pub fn write_catalog<'a>(
    out: impl Write,
    products: impl IntoIterator<Item = &'a NewProduct>,
) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for p in products {
        let images = p.images.join(&IMAGE_SEPARATOR.to_string());
        let weight = format!("{}.{:03}", p.weight_g / 1000, p.weight_g % 1000);
        let dim = |i: usize| {
            p.dimensions_cm
                .map(|d| d[i].to_string())
                .unwrap_or_default()
        };
        let tier = |i: usize| p.tier_names.get(i).cloned().unwrap_or_default();
        let base = [
            p.sku.clone(),
            p.title.clone(),
            p.description.clone(),
            p.category.clone(),
        ];
        let rest = [weight, dim(0), dim(1), dim(2), images, tier(0), tier(1)];
        if p.variants.is_empty() {
            let mut record: Vec<String> = base.to_vec();
            record.extend([p.base_price.0.to_string(), p.stock.to_string()]);
            record.extend(rest.iter().cloned());
            record.extend([String::new(), String::new(), String::new()]);
            writer.write_record(&record)?;
        }
        for v in &p.variants {
            let mut record: Vec<String> = base.to_vec();
            record.extend([v.base_price.0.to_string(), v.stock.to_string()]);
            record.extend(rest.iter().cloned());
            record.extend([
                v.sku.clone(),
                v.options.first().cloned().unwrap_or_default(),
                v.options.get(1).cloned().unwrap_or_default(),
            ]);
            writer.write_record(&record)?;
        }
    }
    writer.flush()?;
    Ok(())
}
