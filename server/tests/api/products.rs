use serde_json::json;
use syncstore::catalog::demo::demo_catalog;

use crate::support::{assert_error, spawn_app};

#[tokio::test]
async fn the_product_list_pages_by_50_and_searches_titles() {
    let app = spawn_app().await;
    app.import(&demo_catalog(120, "http://img.test")).await;
    app.login().await;

    let (status, body) = app.get_json("/api/products").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], json!(120));
    assert_eq!(body["page"], json!(1));
    assert_eq!(body["per_page"], json!(50));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    let first = &items[0];
    for field in [
        "id",
        "sku",
        "title",
        "base_price",
        "shopee_price",
        "tiktok_price",
        "status",
        "has_variants",
    ] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert_eq!(first["status"], json!("not_synced"));

    let (_, last) = app.get_json("/api/products?page=3").await;
    assert_eq!(last["items"].as_array().unwrap().len(), 20);
    let (_, beyond) = app.get_json("/api/products?page=4").await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);

    let (_, found) = app.get_json("/api/products?q=kaos%20POLOS").await;
    let titles: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(!titles.is_empty());
    assert!(
        titles
            .iter()
            .all(|t| t.to_lowercase().contains("kaos polos")),
        "{titles:?}"
    );
    assert_eq!(found["total"], json!(titles.len()));
}

#[tokio::test]
async fn the_list_counts_stay_true_as_the_catalog_changes() {
    let app = spawn_app().await;
    let mut catalog = demo_catalog(120, "http://img.test");
    app.import(&catalog[..100]).await;
    app.login().await;
    let total = |query: &'static str| {
        let app = &app;
        async move { app.get_json(&format!("/api/products?{query}")).await.1["total"].clone() }
    };
    assert_eq!(total("page=1").await, json!(100));
    // An update by SKU adds nothing; 20 new products do.
    app.import(&catalog[..100]).await;
    assert_eq!(total("page=1").await, json!(100));
    app.import(&catalog).await;
    assert_eq!(total("page=1").await, json!(120));
    let deep = app.get_json("/api/products?page=3").await.1;
    let ids: Vec<i64> = deep["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "the last page in id order: {ids:?}"
    );

    // A search counted once is counted again after a title changes.
    let matches = catalog
        .iter()
        .filter(|p| p.title.to_lowercase().contains("kaos"))
        .count();
    assert_eq!(total("q=kaos").await, json!(matches));
    assert_eq!(total("q=kaos&page=2").await, json!(matches));
    let renamed = catalog
        .iter()
        .position(|p| !p.title.to_lowercase().contains("kaos"))
        .unwrap();
    catalog[renamed].title = format!("Kaos {}", catalog[renamed].title);
    app.import(&catalog[renamed..=renamed]).await;
    assert_eq!(total("q=kaos").await, json!(matches + 1));
    assert_eq!(total("page=1").await, json!(120));
}

/// The ids on page `page` of the whole catalog, as the API lists them.
async fn page_ids(app: &crate::support::TestApp, page: u32) -> Vec<i64> {
    let (status, body) = app.get_json(&format!("/api/products?page={page}")).await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// Every product id in order, straight from the database.
async fn all_ids(app: &crate::support::TestApp) -> Vec<i64> {
    use sea_orm::ConnectionTrait;
    app.db
        .query_all_raw(syncstore::db::sql(
            "SELECT id FROM products ORDER BY id",
            [],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "id").unwrap())
        .collect()
}

#[tokio::test]
async fn deep_pages_start_where_the_catalog_says_as_products_come_and_go() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let catalog = demo_catalog(130, "http://img.test");
    app.import(&catalog[..120]).await;
    app.login().await;
    let ids = all_ids(&app).await;
    assert_eq!(page_ids(&app, 2).await, ids[50..100]);
    assert_eq!(page_ids(&app, 3).await, ids[100..120]);
    assert!(page_ids(&app, 4).await.is_empty());

    // Products leaving the first page move every later page forward by as many.
    app.db
        .execute_raw(syncstore::db::sql(
            "DELETE FROM products WHERE id = ANY($1)",
            [vec![ids[3], ids[7]].into()],
        ))
        .await
        .unwrap();
    let ids = all_ids(&app).await;
    assert_eq!(ids.len(), 118);
    assert_eq!(page_ids(&app, 2).await, ids[50..100], "after a delete");
    assert_eq!(page_ids(&app, 3).await, ids[100..118], "after a delete");

    // New products are listed on the last page at once.
    app.import(&catalog[120..]).await;
    let ids = all_ids(&app).await;
    assert_eq!(ids.len(), 128);
    assert_eq!(page_ids(&app, 3).await, ids[100..128], "after an import");
}

/// How many size changes the catalog keeps (folded into one by a reader past 100).
const SIZE_CHANGES: &str = "SELECT count(*) AS n FROM catalog_size_changes";

/// A fold while a writer was still running could leave the catalog's generation as it was
/// before that writer's change, and cached page starts would outlive it: the fold waits
/// until no writer is running.
#[tokio::test]
async fn size_changes_are_not_folded_while_a_change_to_the_products_is_running() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = spawn_app().await;
    app.import(&demo_catalog(120, "http://img.test")).await;
    app.login().await;
    let ids = all_ids(&app).await;
    for _ in 0..101 {
        app.db
            .execute_raw(syncstore::db::sql(
                "UPDATE products SET title = title WHERE false",
                [],
            ))
            .await
            .unwrap();
    }
    let kept = app.count(SIZE_CHANGES).await;
    assert!(kept > 100, "{kept}");

    let writer = app.db.begin().await.unwrap();
    writer
        .execute_raw(syncstore::db::sql(
            "DELETE FROM products WHERE id = $1",
            [ids[3].into()],
        ))
        .await
        .unwrap();
    assert_eq!(
        page_ids(&app, 2).await,
        ids[50..100],
        "the delete is not seen yet"
    );
    assert_eq!(
        app.count(SIZE_CHANGES).await,
        kept,
        "nothing folded while the delete runs (its own change not visible yet)"
    );

    writer.commit().await.unwrap();
    let ids = all_ids(&app).await;
    assert_eq!(page_ids(&app, 2).await, ids[50..100], "after the delete");
    // A reader folds as soon as nothing holds the table (autovacuum may, for a moment).
    app.eventually("the fold", std::time::Duration::from_secs(2), || async {
        if app.count(SIZE_CHANGES).await == 1 {
            return Some(());
        }
        page_ids(&app, 1).await;
        None
    })
    .await;
    assert_eq!(
        app.count(SIZE_CHANGES).await,
        1,
        "folded once no writer runs"
    );
    assert_eq!(page_ids(&app, 3).await, ids[100..119]);
    let (_, body) = app.get_json("/api/products?page=1").await;
    assert_eq!(body["total"], json!(119));
}

#[tokio::test]
async fn imports_running_side_by_side_both_finish_and_are_counted() {
    let app = spawn_app().await;
    let catalog = demo_catalog(1_200, "http://img.test");
    // A long import (3 statements of 500) and short ones whose products fall in its later
    // statements, each in its own transaction at the same time.
    let imports = [&catalog[..], &catalog[700..701], &catalog[1_100..1_102]];
    let results = futures::future::join_all(
        imports
            .iter()
            .map(|products| syncstore::db::catalog::import_products(&app.db, products, &|_| {})),
    )
    .await;
    for result in results {
        result.expect("every import finishes");
    }
    app.login().await;
    let (_, body) = app.get_json("/api/products").await;
    assert_eq!(body["total"], json!(1_200));
}

#[tokio::test]
async fn bad_page_numbers_are_validation_errors() {
    let app = spawn_app().await;
    app.login().await;
    for page in ["-1", "0", "abc", "99999999999999999999999", "1.5"] {
        let (status, body) = app.get_json(&format!("/api/products?page={page}")).await;
        assert_eq!(status, 400, "page={page}");
        assert_error(&body, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn a_title_search_finds_what_a_case_insensitive_match_of_the_title_finds() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let mut catalog = demo_catalog(6, "http://img.test");
    let titles = [
        "KAOS ÉTÉ Merah",
        "Kaos été putih",
        "Jaket İstanbul",
        "Topi Ⱥ Hitam",
        "Tas 100% Kulit_Asli",
        "Sepatu ΣΟΦΙΑ",
    ];
    for (product, title) in catalog.iter_mut().zip(titles) {
        product.title = title.to_string();
    }
    app.import(&catalog).await;
    app.login().await;
    for q in [
        "été",
        "ÉTÉ",
        "i̇stanbul",
        "İSTANBUL",
        "ⱥ",
        "Ⱥ",
        "σοφια",
        "100%",
        "kulit_asli",
        "kaos",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/products?q={}", urlencoding::encode(q)))
            .await;
        assert_eq!(status, 200, "{q}");
        // What `ILIKE` on the title itself matches, with the list's own pattern.
        let expected: i64 = app
            .db
            .query_one_raw(syncstore::db::sql(
                "SELECT count(*) AS n FROM products WHERE title ILIKE $1",
                [syncstore::db::catalog::contains_pattern(q).into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(body["total"], json!(expected), "{q}: {body}");
        assert_eq!(
            body["items"].as_array().unwrap().len() as i64,
            expected,
            "{q}"
        );
    }
}

#[tokio::test]
async fn hostile_search_text_is_harmless() {
    let app = spawn_app().await;
    app.import(&demo_catalog(10, "http://img.test")).await;
    app.login().await;

    let long = "a".repeat(10_000);
    let (status, body) = app.get_json(&format!("/api/products?q={long}")).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");

    for q in [
        "'; DROP TABLE products; --",
        "<script>alert(1)</script>",
        "100%",
        "_",
        "\\",
    ] {
        let url = format!("/api/products?q={}", urlencoding::encode(q));
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(body["total"], json!(0), "{q} matched: {body}");
    }
    let (_, all) = app.get_json("/api/products").await;
    assert_eq!(all["total"], json!(10), "the catalog is intact");
}

#[tokio::test]
async fn a_product_shows_its_master_fields_variants_and_empty_mappings() {
    let app = spawn_app().await;
    let catalog = demo_catalog(30, "http://img.test");
    app.import(&catalog).await;
    app.login().await;
    let (_, list) = app.get_json("/api/products?page=1").await;
    let with_variants = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["has_variants"] == json!(true))
        .unwrap();
    let id = with_variants["id"].as_i64().unwrap();

    let (status, p) = app.get_json(&format!("/api/products/{id}")).await;
    assert_eq!(status, 200);
    let master = catalog
        .iter()
        .find(|c| c.sku == p["sku"].as_str().unwrap())
        .unwrap();
    assert_eq!(p["title"], json!(master.title));
    assert_eq!(p["base_price"], json!(master.base_price.0));
    assert_eq!(
        p["weight_kg"].as_f64().unwrap(),
        f64::from(master.weight_g) / 1000.0
    );
    assert_eq!(p["images"], json!(master.images));
    let variants = p["variants"].as_array().unwrap();
    assert_eq!(variants.len(), master.variants.len());
    assert_eq!(variants[0]["sku"], json!(master.variants[0].sku));
    assert_eq!(variants[0]["options"], json!(master.variants[0].options));
    assert_eq!(
        variants[0]["base_price"],
        json!(master.variants[0].base_price.0)
    );
    assert_eq!(p["mappings"], json!({"shopee": null, "tiktok": null}));
}

#[tokio::test]
async fn unknown_or_malformed_product_ids_are_404_invalid_product() {
    let app = spawn_app().await;
    app.login().await;
    for id in [
        "999999",
        "abc",
        "-1",
        "99999999999999999999999",
        "1%27%20OR%201=1",
    ] {
        let (status, body) = app.get_json(&format!("/api/products/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert_error(&body, "INVALID_PRODUCT");
    }
}
