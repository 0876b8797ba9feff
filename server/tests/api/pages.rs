//! The dashboard's server-rendered pages (hydration is covered by Playwright).

use syncstore::catalog::demo::demo_catalog;

use crate::support::spawn_app;

#[tokio::test]
async fn dashboard_pages_redirect_to_login_without_a_session() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/dashboard/products?page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=%2Fdashboard%2Fproducts%3Fpage%3D2"
    );
    let login = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains(r#"action="/login""#));
}

#[tokio::test]
async fn the_product_list_renders_prices_the_indonesian_way() {
    let app = spawn_app().await;
    let catalog = demo_catalog(60, "http://img.test");
    app.import(&catalog).await;
    app.login().await;
    let html = app
        .client
        .get(app.url("/dashboard/products"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&catalog[0].title), "first product missing");
    assert!(!html.contains(&catalog[55].title), "page 1 shows only 50");
    assert!(html.contains(&catalog[0].base_price.to_string()));
    assert!(html.contains("Rp "));
    assert!(html.contains("60 products · page 1 of 2"));

    let page2 = app
        .client
        .get(app.url("/dashboard/products?page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page2.contains(&catalog[55].title));
}

#[tokio::test]
async fn a_bad_page_number_shows_an_error_not_a_crash() {
    let app = spawn_app().await;
    app.login().await;
    let res = app
        .client
        .get(app.url("/dashboard/products?page=-4"))
        .send()
        .await
        .unwrap();
    assert!(res.status().as_u16() < 500);
    let html = res.text().await.unwrap();
    assert!(html.contains("page must be 1 or more"), "{html}");
}

#[tokio::test]
async fn the_product_page_shows_the_product_and_unknown_ids_get_a_real_404() {
    let app = spawn_app().await;
    let catalog = demo_catalog(3, "http://img.test");
    app.import(&catalog).await;
    app.login().await;
    let (_, list) = app.get_json("/api/products").await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let res = app
        .client
        .get(app.url(&format!("/dashboard/products/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(&catalog[0].title));
    assert!(html.contains("Not synced yet"));

    for path in [
        "/dashboard/products/424242",
        "/dashboard/products/abc",
        "/no-such-page",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(
            res.text().await.unwrap().contains("does not exist"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn demo_images_are_served_as_png() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/media/demo/FSH-00001/1.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let bytes = res.bytes().await.unwrap();
    assert!(image::load_from_memory(&bytes).is_ok());
    for path in [
        "/media/demo/FSH-00001/0.png",
        "/media/demo/FSH-00001/x.png",
        "/media/demo/bad%20sku/1.png",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}
