//! Security hardening: no credential in any stored or shown text, no open redirect, a
//! sign-in limit that holds under concurrency without locking the owner out, and no 500
//! from a NUL byte.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use crate::support::{
    assert_error, spawn_app_with, spawn_app_with_options, AppOptions, TestApp, OWNER_EMAIL,
    OWNER_PASSWORD,
};

/// Every secret a failing sync could leak, and the shapes a leaked signature takes.
fn leaks(app: &TestApp, text: &str) -> Vec<String> {
    let secrets = [
        app.sandbox.shopee.access_token.as_str(),
        app.sandbox.shopee.partner_key.as_str(),
        app.sandbox.tiktok.access_token.as_str(),
        app.sandbox.tiktok.app_secret.as_str(),
    ];
    let mut found: Vec<String> = secrets
        .iter()
        .filter(|s| text.contains(*s))
        .map(|s| s.to_string())
        .collect();
    for marker in [
        "sign=",
        "access_token=",
        "\"sign\":\"",
        "\"access_token\":\"",
    ] {
        for (at, _) in text.match_indices(marker) {
            let value: String = text[at + marker.len()..].chars().take(12).collect();
            if !value.starts_with("[REDACTED]") && !value.is_empty() {
                found.push(format!("{marker}{value}"));
            }
        }
    }
    found
}

async fn pg_dump(app: &TestApp) -> String {
    let out = tokio::process::Command::new("pg_dump")
        .args(["--data-only", &app.settings.database_url])
        .output()
        .await
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a batch of one product through a worker process whose log is kept; answers its
/// status and the log.
async fn failed_batch_and_log(app: &TestApp, product_id: i64) -> String {
    let mut seen = String::new();
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": [product_id], "platform": "both"}))
        .send()
        .await
        .unwrap();
    let batch: Value = res.json().await.unwrap();
    let batch_id = batch["batch_id"]
        .as_str()
        .expect("batch started")
        .to_string();
    let mut worker = app.logged_worker_process();
    let status = app
        .eventually(
            "the failing batch to finish",
            Duration::from_secs(90),
            || async {
                let (_, status) = app
                    .get_json(&format!("/api/sync/batch/status?batch_id={batch_id}"))
                    .await;
                status["finished_at"].is_string().then_some(status)
            },
        )
        .await;
    seen.push_str(&status.to_string());
    worker.start_kill().unwrap();
    let mut log = String::new();
    worker
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("INFO"),
        "the worker logged: {log}"
    );
    seen.push_str(&log);
    seen
}

async fn app_without_worker(
    adjust: impl FnOnce(&mut syncstore::config::Settings),
) -> (TestApp, i64) {
    let mut app = spawn_app_with_options(AppOptions {
        worker: false,
        sandbox_qps: None,
        ..AppOptions::default()
    })
    .await;
    adjust(&mut app.settings);
    let catalog = syncstore::catalog::demo::demo_catalog(3, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&simple.sku).await;
    (app, id)
}

#[tokio::test]
async fn no_credential_is_stored_shown_or_logged_when_syncs_fail_every_way() {
    // The worker process reaches Shopee at a closed port (connection refused) and signs
    // TikTok calls with a wrong secret (bad signature).
    let (app, id) = app_without_worker(|settings| {
        let shopee = settings.shopee.as_mut().unwrap();
        shopee.base_url = "http://127.0.0.1:9".into();
        let tiktok = settings.tiktok.as_mut().unwrap();
        tiktok.app_secret = "a-wrong-secret-for-this-app".into();
    })
    .await;
    // The in-process server keeps the real shops, which fail: Shopee drops the connection
    // mid-answer, TikTok answers 5xx.
    app.sandbox.fault("shopee", "disconnect").await;
    app.sandbox.fault("tiktok", "server_error").await;
    let (_, manual) = app.manual_sync(id, "both").await;
    assert_eq!(
        manual["success"], false,
        "the sync was meant to fail: {manual}"
    );
    let mut seen = manual.to_string();
    app.sandbox.fault("all", "none").await;
    seen.push_str(&failed_batch_and_log(&app, id).await);
    for page in ["/dashboard/dead-letters", "/dashboard/sync-logs"] {
        let res = app.client.get(app.url(page)).send().await.unwrap();
        seen.push_str(&res.text().await.unwrap());
    }
    seen.push_str(&pg_dump(&app).await);
    assert_eq!(leaks(&app, &seen), Vec::<String>::new());
    for class in ["NETWORK_ERROR", "UNAUTHORIZED"] {
        assert!(seen.contains(class), "{class} was provoked");
    }
}

#[tokio::test]
async fn a_browser_is_never_sent_to_another_site_after_sign_in() {
    let (app, _) = app_without_worker(|_| {}).await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
    ] {
        let res = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(res.headers()["location"], "/dashboard/products", "{next:?}");
    }
}

async fn attempt(app: &TestApp, from: &str, password: &str) -> u16 {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", from)
        .json(&json!({"email": OWNER_EMAIL, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit() {
    let (app, _) = app_without_worker(|_| {}).await;
    let tries = (0..30).map(|_| attempt(&app, "203.0.113.7", "a wrong guess"));
    let statuses = futures::future::join_all(tries).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + limited, 30, "{statuses:?}");
    assert!(
        checked <= 10,
        "{checked} passwords were checked: {statuses:?}"
    );
}

#[tokio::test]
async fn a_stranger_failing_sign_ins_does_not_lock_the_owner_out() {
    // Behind a proxy (by its settings), so the test can speak for several addresses.
    let app = spawn_app_with(|s| s.trusted_proxy = true).await;
    for _ in 0..12 {
        attempt(&app, "198.51.100.9", "a wrong guess").await;
    }
    assert_eq!(attempt(&app, "198.51.100.9", OWNER_PASSWORD).await, 429);
    assert_eq!(attempt(&app, "192.0.2.44", OWNER_PASSWORD).await, 200);
}

#[tokio::test]
async fn a_nul_byte_is_a_validation_error_not_a_server_error() {
    let (app, _) = app_without_worker(|_| {}).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "a\u{0}@x.id", "password": "whatever-it-is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_error(&res.json().await.unwrap(), "VALIDATION_ERROR");
    let (status, body) = app.get_json("/api/products?q=%00").await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "VALIDATION_ERROR");
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "a\u{0}@x.id"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read_whole() {
    let (app, _) = app_without_worker(|_| {}).await;
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (app, _) = app_without_worker(|_| {}).await;
    for path in [
        "/login",
        "/api/products",
        "/no/such/page",
        "/media/demo/X/1.png",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let headers = res.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
}

/// The nonce a page's policy allows, and the page.
async fn page_with_policy(app: &TestApp, path: &str) -> (String, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = res.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
        .to_string();
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{path}: {policy}");
    }
    let script_src = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{script_src}");
    (nonce, html)
}

#[tokio::test]
async fn pages_run_only_scripts_from_the_site_or_with_this_responses_nonce() {
    let (app, _) = app_without_worker(|_| {}).await;
    app.login().await;
    let (first, _) = page_with_policy(&app, "/login").await;
    let (nonce, html) = page_with_policy(&app, "/dashboard/products").await;
    assert_ne!(first, nonce, "every response has its own nonce");
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page hydrates through a script");
    for script in scripts {
        let tag = script.split('>').next().unwrap();
        let sourced = tag.contains("src=");
        assert!(
            sourced || tag.contains(&format!("nonce=\"{nonce}\"")),
            "an inline script without the nonce: <script{tag}>"
        );
    }
}

#[tokio::test]
async fn server_functions_answer_bad_calls_like_the_json_api() {
    let (app, _) = app_without_worker(|_| {}).await;
    let call = |path: &'static str, form: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let signed_out = reqwest::Client::new()
        .post(app.url("/api/fn/list_products"))
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 401);
    for (path, form, status) in [
        ("/api/fn/list_products", "page=1", 200),
        ("/api/fn/list_products", "page=-1", 400),
        ("/api/fn/list_products", "page=%FF", 400),
        ("/api/fn/discard_dead_letter", "", 400),
        ("/api/fn/run_validation", "live=maybe", 400),
        ("/api/fn/sync_product", "id=abc&target=both", 404),
        ("/api/fn/verify_product", "id=99999999", 404),
        ("/api/fn/sync_product", "id=1&target=everywhere", 400),
        ("/api/fn/start_batch", "ids=1,x&platform=both", 400),
        (
            "/api/fn/cancel_batch",
            "id=00000000-0000-0000-0000-000000000000",
            404,
        ),
        ("/api/fn/start_batch", "ids=1,99999999&platform=both", 422),
        ("/api/fn/approve_rollout", "note=", 400),
        (
            "/api/fn/retry_dead_letter",
            "job_id=00000000-0000-0000-0000-000000000000",
            409,
        ),
    ] {
        let (got, text) = call(path, form).await;
        assert_eq!(got, status, "{path} {form}: {text}");
        assert!(!text.to_lowercase().contains("database"), "{text}");
    }
    // A form sent before the page became interactive goes back to its page with the error.
    let res = app
        .client
        .post(app.url("/api/fn/list_products"))
        .header("accept", "text/html")
        .header("referer", app.url("/dashboard/products"))
        .form(&[("page", "-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&app.url("/dashboard/products")) && location.contains("__err="),
        "{location}"
    );
    let res = app
        .client
        .post(app.url("/api/fn/list_products"))
        .header("origin", "https://evil.example")
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_session_ends_after_the_configured_idle_time_and_lives_while_used() {
    let app = spawn_app_with(|s| s.session_idle = Duration::from_secs(3)).await;
    app.login().await;
    // Used every second for twice the idle time: still signed in.
    for _ in 0..6 {
        let (status, _) = app.get_json("/api/products").await;
        assert_eq!(status, 200);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) = app.get_json("/api/products").await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_request_still_running_at_sign_out_does_not_bring_the_session_back() {
    let (app, id) = app_without_worker(|_| {}).await;
    // A slow request on the session (a sync against a marketplace answering in 300 ms),
    // then sign-out while it runs.
    app.sandbox.latency(300).await;
    let slow = {
        let client = app.client.clone();
        let url = app.url("/api/sync/manual");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"product_id": id, "target_platform": "shopee"}))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let finished = slow.await.unwrap().unwrap();
    assert_eq!(finished.status(), 200, "the sync itself went through");
    let (status, body) = app.get_json("/api/products").await;
    assert_eq!(status, 401, "signed out, yet: {body}");
}

/// Every server function the router registers (the list comes from the router itself, so a
/// new one cannot be missed): signed out it is 401, from another site it is 403, and
/// neither changes anything.
#[tokio::test]
async fn every_server_function_refuses_signed_out_and_cross_origin_calls_and_changes_nothing() {
    let (app, _) = crate::support::app_with_catalog(2).await;
    let functions: Vec<(reqwest::Method, String)> = syncstore::http::known_routes()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/fn/"))
        .map(|(method, path)| {
            (
                reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                path,
            )
        })
        .collect();
    for expected in [
        "start_batch",
        "set_markup",
        "disconnect_shop",
        "set_title_override",
        "retry_dead_letter",
    ] {
        assert!(
            functions.iter().any(|(_, p)| p.ends_with(expected)),
            "{expected} missing from {functions:?}"
        );
    }
    let state = "SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM sync_batches)
        + (SELECT count(*) FROM platform_mappings) + (SELECT count(*) FROM settings)
        + (SELECT count(*) FROM shop_connections WHERE status = 'connected') AS n";
    let before = app.count(state).await;
    // Arguments most functions take, so a refusal is not just a missing argument.
    let args = [
        ("id", "1"),
        ("platform", "shopee"),
        ("target", "both"),
        ("percent", "50"),
        ("title", "Judul Baru Yang Cukup Panjang Untuk TikTok"),
        ("note", "checked"),
        ("reason", "test"),
    ];
    let anonymous = reqwest::Client::new();
    let mut posts = 0;
    for (method, path) in &functions {
        let res = anonymous
            .request(method.clone(), app.url(path))
            .form(&args)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {path} signed out");
        if method != reqwest::Method::GET {
            posts += 1;
            let res = app
                .client
                .request(method.clone(), app.url(path))
                .header("origin", "http://evil.example")
                .form(&args)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{method} {path} from another site");
        }
    }
    assert!(posts >= 20, "only {posts} state-changing functions found");
    assert_eq!(
        app.count(state).await,
        before,
        "a refused call changed something"
    );
}
