use std::process::Command;

use syncstore::catalog::csv_format::{read_catalog, write_catalog, RowError};
use syncstore::catalog::demo::demo_catalog;
use syncstore::db::catalog::{count_products, export_products, import_products};

use crate::support::{fresh_db, sample_csv, test_settings};

fn errors_of(csv: &str) -> Vec<RowError> {
    read_catalog(csv.as_bytes()).expect_err("the file should be refused")
}

fn header() -> &'static str {
    sample_csv().lines().next().unwrap()
}

fn with_row(row: &str) -> String {
    format!("{}\n{row}\n", header())
}

const GOOD_ROW: &str = "SKU-1,Botol Minum BPA Free 1 Liter Tebal Kuat,Botol minum.,Rumah Tangga,25000,10,0.3,,,,https://img.test/1.png|https://img.test/2.png|https://img.test/3.png,,,,,";

#[tokio::test]
async fn the_sample_file_imports_and_exports_back_identically() {
    let db = fresh_db().await;
    let products = read_catalog(sample_csv().as_bytes()).unwrap();
    assert_eq!(products.len(), 3);
    let kaos = &products[0];
    assert_eq!(kaos.tier_names, ["Warna", "Ukuran"]);
    assert_eq!(kaos.variants.len(), 6);
    assert_eq!(
        kaos.base_price.0, 45_000,
        "a product with variants costs its cheapest variant"
    );
    assert_eq!(kaos.stock, 45, "and holds the sum of their stock");
    let summary = import_products(&db, &products, &|_| {}).await.unwrap();
    assert_eq!((summary.created, summary.updated), (3, 0));

    let exported = export_products(&db).await.unwrap();
    assert_eq!(exported, products);
    let mut csv = Vec::new();
    write_catalog(&mut csv, &exported).unwrap();
    assert_eq!(read_catalog(csv.as_slice()).unwrap(), products);

    // Importing again updates by SKU instead of duplicating.
    let again = import_products(&db, &products, &|_| {}).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 3));
    assert_eq!(count_products(&db).await.unwrap(), 3);
}

#[test]
fn a_missing_column_is_named() {
    let csv = sample_csv().replacen(",price,", ",cost,", 1);
    let errors = errors_of(&csv);
    assert_eq!(errors[0].line, 1);
    assert_eq!(errors[0].column.as_deref(), Some("price"));
    assert!(errors[0].to_string().contains("required column is missing"));
}

#[test]
fn bad_prices_are_reported_with_line_and_column() {
    for (price, reason) in [
        ("12,5", "without decimals"),
        ("-1", "negative"),
        ("abc", "number"),
        ("", "empty"),
    ] {
        let row = GOOD_ROW.replace(",25000,", &format!(",\"{price}\","));
        let errors = errors_of(&with_row(&row));
        assert_eq!(errors.len(), 1, "{price}: {errors:?}");
        assert_eq!(errors[0].line, 2);
        assert_eq!(errors[0].column.as_deref(), Some("price"));
        assert!(errors[0].reason.contains(reason), "{price}: {}", errors[0]);
    }
}

#[test]
fn a_duplicate_sku_is_refused() {
    let csv = format!(
        "{}\n{GOOD_ROW}\n{}\n{GOOD_ROW}\n",
        header(),
        GOOD_ROW.replace("SKU-1", "SKU-2")
    );
    let errors = errors_of(&csv);
    assert_eq!(errors[0].line, 4);
    assert!(
        errors[0].reason.contains("duplicate SKU \"SKU-1\""),
        "{}",
        errors[0]
    );
    // Two rows of the same product without variant SKUs are duplicates too.
    let errors = errors_of(&format!("{}\n{GOOD_ROW}\n{GOOD_ROW}\n", header()));
    assert_eq!(errors[0].column.as_deref(), Some("variant_sku"));
}

#[test]
fn a_broken_image_url_is_refused() {
    let row = GOOD_ROW.replace("https://img.test/2.png", "not a url");
    let errors = errors_of(&with_row(&row));
    assert_eq!(errors[0].column.as_deref(), Some("images"));
    assert!(errors[0].reason.contains("not a url"));
}

#[test]
fn other_bad_cells_are_refused() {
    let cases = [
        (GOOD_ROW.replace(",0.3,", ",\"0,3\","), "weight_kg"),
        (GOOD_ROW.replace(",10,0.3", ",-5,0.3"), "stock"),
        (
            GOOD_ROW.replace("Botol Minum BPA Free 1 Liter Tebal Kuat", ""),
            "title",
        ),
        (GOOD_ROW.replace("SKU-1", "SKU 1"), "sku"),
    ];
    for (row, column) in cases {
        let errors = read_catalog(with_row(&row).as_bytes()).expect_err(column);
        assert!(
            errors.iter().any(|e| e.column.as_deref() == Some(column)),
            "{column}: {errors:?}"
        );
    }
}

#[tokio::test]
async fn a_file_with_any_bad_row_imports_nothing_from_the_command_line() {
    let settings = test_settings();
    let dir = std::env::temp_dir().join(format!("syncstore-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{}\n{GOOD_ROW}\n{}\n",
            header(),
            GOOD_ROW
                .replace("SKU-1", "SKU-2")
                .replace(",25000,", ",\"12,5\",")
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_syncstore"))
        .args(["catalog", "import", bad.to_str().unwrap()])
        .env("DATABASE_URL", &settings.database_url)
        .env("SYNCSTORE_REDIS_PREFIX", &settings.redis_prefix)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    let good = dir.join("good.csv");
    std::fs::write(&good, sample_csv()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_syncstore"))
        .args(["catalog", "import", good.to_str().unwrap()])
        .env("DATABASE_URL", &settings.database_url)
        .env("SYNCSTORE_REDIS_PREFIX", &settings.redis_prefix)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let db = syncstore::db::connect(&settings.database_url)
        .await
        .unwrap();
    assert_eq!(
        count_products(&db).await.unwrap(),
        3,
        "only the good file's products"
    );

    let export = Command::new(env!("CARGO_BIN_EXE_syncstore"))
        .args(["catalog", "export"])
        .env("DATABASE_URL", &settings.database_url)
        .output()
        .unwrap();
    assert!(export.status.success());
    assert_eq!(
        read_catalog(export.stdout.as_slice()).unwrap(),
        read_catalog(sample_csv().as_bytes()).unwrap()
    );
}

#[tokio::test]
async fn the_full_demo_catalog_loads() {
    let db = fresh_db().await;
    let catalog = demo_catalog(4_147, "http://img.test");
    let summary = import_products(&db, &catalog, &|_| {}).await.unwrap();
    assert_eq!(summary.created, 4_147);
    assert_eq!(count_products(&db).await.unwrap(), 4_147);
}
