//! `syncstore validate`, `POST /api/validation/run` and `GET /api/validation` (SPEC §8):
//! a clean set of synced products passes; each planted fault fails its check and names
//! its row.

use serde_json::{json, Value};
use syncstore::catalog::NewProduct;

use crate::support::{app_with_catalog, assert_error, TestApp};

async fn validate(app: &TestApp, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["validate", "--json"];
    all.extend_from_slice(args);
    let out = app.cli(&all).await;
    let body = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), body)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// The failing rows of one check as (product, platform).
fn rows(report: &Value, name: &str) -> Vec<(i64, Option<String>)> {
    check(report, name)["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["product_id"].as_i64().unwrap(),
                r["platform"].as_str().map(str::to_string),
            )
        })
        .collect()
}

async fn sync_all(app: &TestApp, products: &[&NewProduct]) -> Vec<i64> {
    let mut ids = Vec::new();
    for p in products {
        let id = app.product_id(&p.sku).await;
        let (status, body) = app.manual_sync(id, "both").await;
        assert_eq!(status, 200, "{body}");
        ids.push(id);
    }
    ids
}

async fn external_id(app: &TestApp, id: i64, platform: &str) -> String {
    let (_, product) = app.get_json(&format!("/api/products/{id}")).await;
    product["mappings"][platform]["external_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn exec(app: &TestApp, statement: &str) {
    use sea_orm::ConnectionTrait;
    app.db
        .execute_raw(syncstore::db::sql(statement, []))
        .await
        .unwrap();
}

#[tokio::test]
async fn synced_products_pass_and_every_planted_fault_names_its_row() {
    let (app, catalog) = app_with_catalog(12).await;
    let simple: Vec<&NewProduct> = catalog
        .iter()
        .filter(|p| p.variants.is_empty())
        .take(2)
        .collect();
    let variant = catalog.iter().find(|p| !p.variants.is_empty()).unwrap();
    let ids = sync_all(&app, &[simple[0], simple[1], variant]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    let (code, report) = validate(&app, &["--live"]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["live"], true);
    for name in ["pricing", "seo_titles", "mappings", "images"] {
        assert_eq!(check(&report, name)["checked"], 3, "{name}: {report:#}");
    }

    // A price changed on Shopee behind SyncStore's back.
    let item: u64 = external_id(&app, a, "shopee").await.parse().unwrap();
    app.sandbox
        .shopee_client()
        .update_price(item, &[(0, 12_345)])
        .await
        .unwrap();
    // A mapping without its external id.
    exec(&app, &format!("UPDATE platform_mappings SET external_id = NULL WHERE product_id = {b} AND platform = 'tiktok'")).await;
    // An image URL that answers 404.
    exec(&app, &format!("UPDATE product_images SET url = url || '-gone' WHERE product_id = {c} AND position = 0")).await;
    // The same title on both platforms.
    exec(&app, &format!(
        "UPDATE platform_mappings SET seo_title = (SELECT seo_title FROM platform_mappings WHERE product_id = {a} AND platform = 'shopee')
         WHERE product_id = {a} AND platform = 'tiktok'"
    )).await;
    // A listing deleted on TikTok.
    let listing = external_id(&app, c, "tiktok").await;
    app.sandbox
        .tiktok_client()
        .delete_products(&[listing])
        .await
        .unwrap();

    let (code, report) = validate(&app, &[]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["live"], false);
    assert!(
        rows(&report, "pricing").is_empty(),
        "the database alone still agrees: {report:#}"
    );
    assert_eq!(rows(&report, "mappings"), vec![(b, Some("tiktok".into()))]);
    assert!(rows(&report, "images").contains(&(c, None)), "{report:#}");
    assert!(
        rows(&report, "seo_titles").contains(&(a, None)),
        "{report:#}"
    );

    let (code, report) = validate(&app, &["--live"]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(rows(&report, "pricing"), vec![(a, Some("shopee".into()))]);
    let mappings = rows(&report, "mappings");
    assert!(mappings.contains(&(c, Some("tiktok".into()))), "{report:#}");
    assert!(mappings.contains(&(b, Some("tiktok".into()))), "{report:#}");

    // The API runs the same checks and keeps the latest run.
    let res = app
        .client
        .post(app.url("/api/validation/run"))
        .json(&json!({"live": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ran: Value = res.json().await.unwrap();
    assert_eq!(ran["passed"], false);
    assert_eq!(rows(&ran, "mappings"), vec![(b, Some("tiktok".into()))]);
    let (status, latest) = app.get_json("/api/validation").await;
    assert_eq!(status, 200);
    assert_eq!(latest, ran);
    // Three CLI runs and this one, each kept.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM validation_runs").await,
        4
    );
}

#[tokio::test]
async fn validation_refuses_bad_requests_and_says_when_it_cannot_run() {
    let (app, catalog) = app_with_catalog(3).await;
    let (status, body) = app.get_json("/api/validation").await;
    assert_eq!(status, 404, "no run yet: {body}");
    for bad in [json!({"live": "yes"}), json!({"deep": true}), json!([1])] {
        let res = app
            .client
            .post(app.url("/api/validation/run"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert_error(&res.json().await.unwrap(), "VALIDATION_ERROR");
    }
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/validation/run"))
        .json(&json!({"live": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // Settings it cannot use: it cannot run.
    let out = app
        .cli_env(&["validate"], &[("SYNCSTORE_SECRET", Some("too-short"))])
        .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing synced yet: nothing to fail.
    let (code, report) = validate(&app, &[]).await;
    assert_eq!(code, 0, "{report:#}");
    // Live, without a shop connected, it cannot run.
    sync_all(&app, &[&catalog[0]]).await;
    let out = app
        .cli_env(&["validate", "--live"], &[("SHOPEE_PARTNER_KEY", None)])
        .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_validation_page_follows_a_live_run_while_it_checks() {
    let (app, catalog) = app_with_catalog(3).await;
    for p in &catalog {
        let id = app.product_id(&p.sku).await;
        assert_eq!(app.manual_sync(id, "both").await.0, 200);
    }
    // Slow shops, so the run is seen part-way.
    app.sandbox.latency(200).await;
    let run = {
        let (client, url) = (app.client.clone(), app.url("/api/fn/run_validation"));
        tokio::spawn(async move {
            let res = client
                .post(url)
                .form(&[("live", "true")])
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        })
    };
    let progress = || async {
        let res = app
            .client
            .post(app.url("/api/fn/validation_progress"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()
    };
    let (done, total) = app
        .eventually(
            "the run part-way",
            std::time::Duration::from_secs(60),
            || async {
                let p = progress().await;
                match (p[0].as_u64(), p[1].as_u64()) {
                    (Some(done), Some(total)) if done < total => Some((done, total)),
                    _ => None,
                }
            },
        )
        .await;
    assert_eq!(total, 3, "every synced product is checked");
    assert!(done < 3);
    assert_eq!(run.await.unwrap(), 200);
    assert_eq!(progress().await, Value::Null, "nothing runs any more");
}
