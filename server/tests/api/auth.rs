use serde_json::json;

use crate::support::{assert_error, spawn_app, OWNER_EMAIL, OWNER_PASSWORD};

#[tokio::test]
async fn api_routes_need_a_session() {
    let app = spawn_app().await;
    for path in ["/api/products", "/api/products/1"] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 401, "{path}");
        assert_error(&body, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_a_right_one_opens_a_session() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": OWNER_EMAIL, "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_error(&res.json().await.unwrap(), "UNAUTHENTICATED");

    app.login().await;
    let (status, _) = app.get_json("/api/products").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("syncstore_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "served over plain HTTP: {cookie}"
    );
}

#[tokio::test]
async fn malformed_login_bodies_are_validation_errors() {
    let app = spawn_app().await;
    for body in [
        "not json",
        "{}",
        r#"{"email": "", "password": ""}"#,
        r#"{"email": 5}"#,
    ] {
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        assert_error(&res.json().await.unwrap(), "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = spawn_app().await;
    for _ in 0..10 {
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": OWNER_EMAIL, "password": "guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    // Even the right password waits until the window passes.
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_error(&res.json().await.unwrap(), "RATE_LIMITED");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.login().await;
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = app.get_json("/api/products").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_cross_site_origin_is_forbidden_and_the_same_origin_accepted() {
    let app = spawn_app().await;
    let creds = json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD});
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(&res.json().await.unwrap(), "FORBIDDEN");

    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", app.base.clone())
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_login_form_signs_in_and_redirects_to_the_page_asked_for() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
            ("next", "/dashboard/products?page=2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/products?page=2");

    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", "nope"),
            ("next", "https://evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/login?error=invalid&next=%2Fdashboard%2Fproducts"),
        "{location}"
    );
}

#[tokio::test]
async fn users_are_created_once_with_a_hashed_password() {
    use syncstore::db::users::{create_user, UserError};
    let app = spawn_app().await;
    let err = create_user(
        &app.db,
        "OWNER@syncstore.test",
        app::api::Role::Operator,
        "another password",
    )
    .await;
    assert!(matches!(err, Err(UserError::Exists(_))));
    let err = create_user(
        &app.db,
        "new@syncstore.test",
        app::api::Role::Operator,
        "short",
    )
    .await;
    assert!(matches!(err, Err(UserError::Invalid(_))));
}
