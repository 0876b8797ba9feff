//! Shop connections (SPEC §9a): the OAuth round trip through the sandbox's consent pages
//! for both platforms, the single-use `state`, tokens refreshed by exactly one process,
//! a revoked authorization pausing jobs until the shop is reconnected, tokens never in the
//! clear at rest or in logs, secret rotation, markups, and the owner-only rule.

use std::time::Duration;

use app::api::Platform;
use serde_json::{json, Value};
use syncstore::shops::cipher::TokenCipher;

use crate::batch::{product_ids, start_ok, wait_finished};
use crate::support::{app_with_catalog, spawn_app_with_options, AppOptions, TestApp};

/// The sandbox's OAuth counters for `platform`.
async fn oauth_counts(app: &TestApp, platform: &str) -> Value {
    reqwest::get(format!("{}/_sandbox/oauth", app.sandbox.base))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()[platform]
        .clone()
}

async fn sandbox_oauth(app: &TestApp, body: Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/_sandbox/oauth", app.sandbox.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The owner clicks Connect, the sandbox shows its consent page, the seller answers
/// `decision`: returns the callback URL the platform sends the browser back to, as a path
/// on this app.
async fn authorize(
    app: &TestApp,
    client: &reqwest::Client,
    platform: &str,
    decision: &str,
) -> String {
    let res = client
        .get(app.url(&format!("/oauth/{platform}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "start redirects to the platform");
    let auth_url = location(&res);
    assert!(auth_url.starts_with(&app.sandbox.base), "{auth_url}");
    let page = reqwest::get(&auth_url).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Authorize") && html.contains("Deny"),
        "{html}"
    );
    let (redirect, state) = match platform {
        "shopee" => (param(&auth_url, "redirect").unwrap(), String::new()),
        _ => (
            param(&auth_url, "redirect_uri").unwrap(),
            param(&auth_url, "state").unwrap(),
        ),
    };
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/_sandbox/consent", app.sandbox.base))
        .form(&[
            ("platform", platform),
            ("redirect", redirect.as_str()),
            ("state", state.as_str()),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert!(consent.status().is_redirection());
    let back = location(&consent);
    let parsed = url::Url::parse(&back).unwrap();
    assert_eq!(parsed.path(), format!("/oauth/{platform}/callback"));
    format!("{}?{}", parsed.path(), parsed.query().unwrap_or(""))
}

/// Follows the callback; answers where SyncStore sent the owner (the settings page with
/// `connected=` or `error=`).
async fn callback(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 303, "callback redirects");
    location(&res)
}

/// The full round trip as the owner; panics unless the shop ends connected.
pub(crate) async fn connect(app: &TestApp, platform: &str) {
    let back = authorize(app, &app.client, platform, "authorize").await;
    let settings = callback(app, &app.client, &back).await;
    assert!(
        settings.starts_with("/dashboard/settings?connected="),
        "{settings}"
    );
}

async fn shop(app: &TestApp, platform: &str) -> Value {
    let (status, body) = app.get_json("/api/shops").await;
    assert_eq!(status, 200, "{body}");
    body["shops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["platform"] == platform)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The stored tokens in the clear, read with the app's own key.
async fn stored_tokens(app: &TestApp, platform: &str) -> (String, String) {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT access_token, refresh_token FROM shop_connections WHERE platform = '{platform}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    let cipher = TokenCipher::new(&app.settings.secret, None);
    let open = |col: &str| {
        let sealed: Vec<u8> = row.try_get("", col).unwrap();
        cipher.open(&sealed).unwrap().0
    };
    (open("access_token"), open("refresh_token"))
}

#[tokio::test]
async fn the_owner_connects_both_shops_through_oauth_and_syncs_with_the_granted_tokens() {
    let (app, _) = app_with_catalog(2).await;
    // Before: the shops the environment configured.
    assert_eq!(shop(&app, "shopee").await["source"], "environment");

    connect(&app, "shopee").await;
    connect(&app, "tiktok").await;

    for platform in ["shopee", "tiktok"] {
        let s = shop(&app, platform).await;
        assert_eq!(s["status"], "connected", "{s}");
        assert_eq!(s["source"], "oauth", "{s}");
        assert_eq!(s["name"], "Toko Sandbox", "{s}");
        assert!(s["access_token_expires_at"].is_string(), "{s}");
        assert!(s["refresh_token_expires_at"].is_string(), "{s}");
        assert_eq!(oauth_counts(&app, platform).await["token_gets"], 1);
        let text = s.to_string();
        let (access, refresh) = stored_tokens(&app, platform).await;
        assert!(
            !text.contains(&access) && !text.contains(&refresh),
            "no token in the API"
        );
    }
    assert_eq!(shop(&app, "tiktok").await["shop_id"], "7494000000000000001");

    // The environment's token no longer works for the sandbox; the granted ones do.
    sandbox_oauth(&app, json!({"revoke_environment": true})).await;
    let id = product_ids(&app, 1).await[0];
    let (status, body) = app.manual_sync(id, "both").await;
    assert_eq!(status, 200, "{body}");
    let results = body["data"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{body}");
    for r in results {
        assert_eq!(r["action"], "created", "{body}");
    }

    let audit = app
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'shop.connect'")
        .await;
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn a_denied_authorization_changes_nothing_and_says_so() {
    let (app, _) = app_with_catalog(1).await;
    for platform in ["shopee", "tiktok"] {
        let back = authorize(&app, &app.client, platform, "deny").await;
        let settings = callback(&app, &app.client, &back).await;
        assert!(
            settings.starts_with("/dashboard/settings?error="),
            "{settings}"
        );
        assert!(settings.contains("denied"), "{settings}");
        // The page shows the message because SyncStore signed it; altered, it shows none.
        let full = format!("http://x{settings}");
        let (error, sig) = (param(&full, "error").unwrap(), param(&full, "sig").unwrap());
        let notice = |error: String, sig: String| {
            let app = &app;
            async move {
                let res = app
                    .client
                    .post(app.url("/api/fn/get_settings"))
                    .form(&[("error", error), ("sig", sig)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                res.json::<Value>().await.unwrap()["notice"].clone()
            }
        };
        let shown = notice(error.clone(), sig.clone()).await;
        assert_eq!(shown["ok"], false, "{shown}");
        assert!(
            shown["text"].as_str().unwrap().contains("denied"),
            "{shown}"
        );
        let forged = notice("Call support at 0800 to reconnect".into(), sig).await;
        assert_eq!(forged, Value::Null);
        assert_eq!(shop(&app, platform).await["source"], "environment");
        assert_eq!(oauth_counts(&app, platform).await["token_gets"], 0);
    }
}

#[tokio::test]
async fn a_replayed_or_forged_state_is_refused() {
    let (app, _) = app_with_catalog(1).await;
    let back = authorize(&app, &app.client, "tiktok", "authorize").await;
    assert!(callback(&app, &app.client, &back)
        .await
        .contains("connected="));
    // The same answer again: the state was used.
    let again = callback(&app, &app.client, &back).await;
    assert!(again.contains("error="), "{again}");
    assert!(again.contains("already"), "{again}");
    assert_eq!(
        oauth_counts(&app, "tiktok").await["token_gets"],
        1,
        "no second exchange"
    );

    // A state whose signature is not ours, and none at all.
    for forged in [
        back.replace("state=", "state=0").to_string(),
        "/oauth/shopee/callback?code=x&shop_id=2000001".to_string(),
    ] {
        let answer = callback(&app, &app.client, &forged).await;
        assert!(answer.contains("error="), "{forged} → {answer}");
    }
    assert_eq!(oauth_counts(&app, "shopee").await["token_gets"], 0);

    // Signed out, the callback sends the browser to sign in and connects nothing.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = authorize(&app, &app.client, "shopee", "authorize").await;
    let res = stranger.get(app.url(&back)).send().await.unwrap();
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    assert_eq!(shop(&app, "shopee").await["source"], "environment");
}

#[tokio::test]
async fn an_access_token_expiring_during_a_batch_is_refreshed_once_and_the_batch_completes() {
    let (app, _) = app_with_catalog(10).await;
    connect(&app, "shopee").await;
    let (old_access, old_refresh) = stored_tokens(&app, "shopee").await;
    // Slow enough that the batch is still running when the token expires.
    app.sandbox.latency(60).await;
    let ids = product_ids(&app, 10).await;
    let batch = start_ok(&app, &ids, "shopee").await;
    app.eventually("three jobs done", Duration::from_secs(60), || async {
        let done = app
            .count(&format!("SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}' AND state = 'completed'"))
            .await;
        (done >= 3).then_some(())
    })
    .await;
    sandbox_oauth(&app, json!({"expire_access_tokens": "shopee"})).await;
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["completed"], 10, "{body:#}");
    assert_eq!(body["failed"], 0, "{body:#}");
    let counts = oauth_counts(&app, "shopee").await;
    assert_eq!(counts["refreshes"], 1, "{counts}");
    assert_eq!(counts["refused_refreshes"], 0, "{counts}");
    let (access, refresh) = stored_tokens(&app, "shopee").await;
    assert_ne!(access, old_access);
    assert_ne!(
        refresh, old_refresh,
        "the new single-use refresh token is kept"
    );
    assert!(shop(&app, "shopee").await["refreshed_at"].is_string());
}

#[tokio::test]
async fn two_worker_processes_on_an_expired_token_refresh_it_once_and_log_no_token() {
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        ..AppOptions::default()
    })
    .await;
    app.import(&syncstore::catalog::demo::demo_catalog(8, &app.base))
        .await;
    app.login().await;
    connect(&app, "tiktok").await;
    sandbox_oauth(&app, json!({"expire_access_tokens": "tiktok"})).await;
    let mut logged = app.logged_worker_process();
    let _other = app.worker_process(4);
    let ids = product_ids(&app, 8).await;
    let batch = start_ok(&app, &ids, "tiktok").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(120)).await;
    assert_eq!(body["completed"], 8, "{body:#}");
    let counts = oauth_counts(&app, "tiktok").await;
    assert_eq!(counts["refreshes"], 1, "{counts}");
    assert_eq!(
        counts["refused_refreshes"], 0,
        "no refresh token was used twice: {counts}"
    );

    // Neither the log of a worker that refreshed nor the database dump holds a token.
    let (access, refresh) = stored_tokens(&app, "tiktok").await;
    logged.start_kill().unwrap();
    let output = logged.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("DEBUG"),
        "the worker logged at debug level: {log}"
    );
    for token in [&access, &refresh] {
        assert!(!log.contains(token.as_str()), "a token in the worker log");
    }
    let dump = tokio::process::Command::new("pg_dump")
        .arg(&app.settings.database_url)
        .output()
        .await
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("shop_connections"));
    for token in [&access, &refresh] {
        assert!(!dump.contains(token.as_str()), "a token in pg_dump");
    }
}

#[tokio::test]
async fn a_revoked_authorization_pauses_jobs_until_the_shop_is_reconnected() {
    let (app, _) = app_with_catalog(3).await;
    connect(&app, "shopee").await;
    sandbox_oauth(&app, json!({"revoke": "shopee"})).await;
    let ids = product_ids(&app, 3).await;
    let batch = start_ok(&app, &ids, "shopee").await;
    app.eventually("every job paused", Duration::from_secs(60), || async {
        let paused = app
            .count(&format!("SELECT count(*) AS n FROM sync_jobs WHERE batch_id = '{batch}' AND state = 'retrying' AND error_code = 'SHOP_DISCONNECTED'"))
            .await;
        (paused == 3).then_some(())
    })
    .await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sync_jobs WHERE state = 'failed'")
            .await,
        0,
        "nothing dead-lettered"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sync_jobs WHERE attempts > 0 AND state = 'retrying'")
            .await,
        0,
        "a paused job has spent no attempt"
    );
    let s = shop(&app, "shopee").await;
    assert_eq!(s["status"], "revoked", "{s}");
    assert!(
        s["status_reason"].as_str().unwrap().contains("refused"),
        "{s}"
    );
    assert_eq!(oauth_counts(&app, "shopee").await["refused_refreshes"], 1);

    // The owner reconnects: the paused jobs run at once and the batch completes.
    connect(&app, "shopee").await;
    let body = wait_finished(&app, &batch, Duration::from_secs(60)).await;
    assert_eq!(body["completed"], 3, "{body:#}");
    assert_eq!(shop(&app, "shopee").await["status"], "connected");
}

#[tokio::test]
async fn a_rotated_secret_with_the_previous_one_configured_keeps_the_shop_connected() {
    let (app, _) = app_with_catalog(1).await;
    connect(&app, "shopee").await;
    let (access, _) = stored_tokens(&app, "shopee").await;

    let mut rotated = app.settings.clone();
    rotated.previous_secret = Some(rotated.secret.clone());
    rotated.secret = "a-brand-new-secret-of-at-least-32-characters".into();
    let state = syncstore::startup::AppState::connect(rotated.clone())
        .await
        .unwrap();
    // Sealed again under the new secret: the new key alone opens it.
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT access_token FROM shop_connections WHERE platform = 'shopee'".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: Vec<u8> = row.try_get("", "access_token").unwrap();
    let new_only = TokenCipher::new(&rotated.secret, None);
    assert_eq!(new_only.open(&sealed).unwrap(), (access, false));
    // And the shop still syncs with it.
    let id = product_ids(&app, 1).await[0];
    let result = state
        .sync
        .sync_product_to(id, Platform::Shopee, &Default::default())
        .await;
    assert!(result.is_ok(), "{result:?}");
    let listed = state.shops.list().await.unwrap();
    assert!(listed.iter().all(|s| s.status.usable()), "{listed:?}");

    // A process given yet another secret, without the previous one, cannot open the
    // tokens: it says so instead of showing the shop connected, and changes nothing.
    let mut wrong = rotated.clone();
    wrong.secret = "a-third-secret-nobody-sealed-anything-with".into();
    wrong.previous_secret = None;
    let lost = syncstore::startup::AppState::connect(wrong).await.unwrap();
    let shopee = lost
        .shops
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.platform == Platform::Shopee)
        .unwrap();
    assert!(!shopee.status.usable(), "{shopee:?}");
    assert!(shopee
        .status_reason
        .unwrap()
        .contains("SYNCSTORE_PREVIOUS_SECRET"));
    assert!(state
        .shops
        .list()
        .await
        .unwrap()
        .iter()
        .all(|s| s.status.usable()));
}

/// Half up, in integers: an oracle of its own, not the production formula.
fn priced(base: i64, bp: i64) -> i64 {
    let exact = base * bp;
    let (whole, rest) = (exact / 10_000, exact % 10_000);
    if rest * 2 >= 10_000 {
        whole + 1
    } else {
        whole
    }
}

#[tokio::test]
async fn a_markup_change_reprices_the_next_sync_and_validation_agrees() {
    let (app, catalog) = app_with_catalog(1).await;
    let id = product_ids(&app, 1).await[0];
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");

    let res = app
        .client
        .post(app.url("/api/fn/set_markup"))
        .form(&[("platform", "shopee"), ("percent", "12.35")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["bp"], 11_235);
    assert_eq!(answer["outdated_listings"], 1, "{answer}");

    let bad = app
        .client
        .post(app.url("/api/fn/set_markup"))
        .form(&[("platform", "shopee"), ("percent", "12.345")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    let item: u64 = app
        .count(&format!("SELECT external_id::bigint AS n FROM platform_mappings WHERE product_id = {id} AND platform = 'shopee'"))
        .await as u64;
    let listed = app
        .sandbox
        .shopee_client()
        .item_base_info(&[item])
        .await
        .unwrap();
    let product = &catalog[0];
    let models = app.sandbox.shopee_client().model_list(item).await.unwrap();
    let expected: Vec<i64> = if product.variants.is_empty() {
        vec![priced(product.base_price.0, 11_235)]
    } else {
        let mut v: Vec<i64> = product
            .variants
            .iter()
            .map(|v| priced(v.base_price.0, 11_235))
            .collect();
        v.sort();
        v
    };
    let mut actual: Vec<i64> = if product.variants.is_empty() {
        vec![listed[0]["price_info"][0]["original_price"]
            .as_f64()
            .unwrap() as i64]
    } else {
        models["model"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["price_info"][0]["original_price"].as_f64().unwrap() as i64)
            .collect()
    };
    actual.sort();
    assert_eq!(actual, expected);

    // TikTok at a markup of its own: 27.77% is 12,777 bp.
    let res = app
        .client
        .post(app.url("/api/fn/set_markup"))
        .form(&[("platform", "tiktok"), ("percent", "27.77")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["bp"], 12_777);
    let (status, body) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = app.get_json(&format!("/api/products/{id}")).await;
    let tiktok_id = detail["mappings"]["tiktok"]["external_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{detail}"))
        .to_string();
    let listed = app
        .sandbox
        .tiktok_client()
        .product(&tiktok_id)
        .await
        .unwrap();
    let mut actual: Vec<i64> = listed["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sku| match &sku["price"]["sale_price"] {
            Value::String(p) => p.parse::<i64>().unwrap(),
            other => other.as_i64().unwrap(),
        })
        .collect();
    actual.sort();
    let mut expected: Vec<i64> = if product.variants.is_empty() {
        vec![priced(product.base_price.0, 12_777)]
    } else {
        product
            .variants
            .iter()
            .map(|v| priced(v.base_price.0, 12_777))
            .collect()
    };
    expected.sort();
    assert_eq!(actual, expected, "TikTok prices at 27.77%");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'settings.markup'")
            .await,
        2
    );

    let res = app
        .client
        .post(app.url("/api/validation/run"))
        .json(&json!({"live": true}))
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    let pricing = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .find(|c| c["name"] == "pricing")
        .cloned()
        .unwrap();
    assert_eq!(pricing["passed"], true, "{report:#}");
    assert_eq!(pricing["checked"], 1, "{report:#}");
}

#[tokio::test]
async fn operators_are_refused_every_settings_action() {
    let (app, _) = app_with_catalog(1).await;
    let operator = crate::rollout::operator(&app).await;
    for (path, form) in [
        (
            "/api/fn/set_markup",
            vec![("platform", "shopee"), ("percent", "50")],
        ),
        ("/api/fn/disconnect_shop", vec![("platform", "shopee")]),
        ("/api/fn/get_settings", vec![]),
    ] {
        let res = operator
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let res = operator
        .post(app.url("/api/shops/shopee/disconnect"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = operator
        .get(app.url("/oauth/shopee/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Nothing changed; operators still see the shops.
    assert_eq!(shop(&app, "shopee").await["status"], "connected");
    let res = operator.get(app.url("/api/shops")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM settings WHERE key = 'shopee_markup_bp' AND value <> '11500'").await,
        0
    );
}

#[tokio::test]
async fn the_owner_disconnects_a_shop_and_its_syncs_wait() {
    let (app, _) = app_with_catalog(1).await;
    let res = app
        .client
        .post(app.url("/api/shops/tiktok/disconnect"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let s = shop(&app, "tiktok").await;
    assert_eq!(s["status"], "revoked", "{s}");
    let id = product_ids(&app, 1).await[0];
    let (status, body) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "SHOP_DISCONNECTED", "{body}");
    // Twice is not found: it is not connected any more.
    let res = app
        .client
        .post(app.url("/api/shops/tiktok/disconnect"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_title_override_is_checked_saved_audited_and_used_by_the_next_sync() {
    let (app, _) = app_with_catalog(1).await;
    let id = product_ids(&app, 1).await[0];
    let set = |title: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/api/fn/set_title_override"))
                .form(&[
                    ("id", id.to_string()),
                    ("platform", "tiktok".into()),
                    ("title", title.into()),
                ])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    // Too short for TikTok (25–255 characters): refused, nothing stored.
    let (status, body) = set("Kaos Polos").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("25–255"), "{body}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM platform_mappings")
            .await,
        0
    );

    let title = "Kaos Polos Pilihan Pemilik Toko Ukuran Lengkap";
    let (status, body) = set(title).await;
    assert_eq!(status, 200, "{body}");
    let (status, sync) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 200, "{sync}");
    let external = sync["data"]["results"][0]["external_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = app
        .sandbox
        .tiktok_client()
        .product(&external)
        .await
        .unwrap();
    assert_eq!(listed["title"], title, "the next sync used the override");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'product.title_override'")
            .await,
        1
    );

    // Cleared: the generated title is back on the next sync.
    let (status, body) = set("  ").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM platform_mappings WHERE title_override IS NOT NULL")
            .await,
        0
    );
    let (status, sync) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 200, "{sync}");
    assert_eq!(sync["data"]["results"][0]["action"], "updated", "{sync}");
    let listed = app
        .sandbox
        .tiktok_client()
        .product(&external)
        .await
        .unwrap();
    assert_ne!(listed["title"], title);

    // An unknown product is 404 and records nothing.
    let res = app
        .client
        .post(app.url("/api/fn/set_title_override"))
        .form(&[("id", "999999"), ("platform", "tiktok"), ("title", title)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn authorizing_another_shop_than_the_one_holding_the_listings_is_refused() {
    let (app, _) = app_with_catalog(1).await;
    let id = product_ids(&app, 1).await[0];
    let (status, body) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{body}");
    // The listings live in shop 999 as far as SyncStore knows; the sandbox authorizes 2000001.
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .execute_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "UPDATE shop_connections SET shop_id = '999', shop_name = 'Toko Lama' WHERE platform = 'shopee'".to_string(),
        ))
        .await
        .unwrap();
    let back = authorize(&app, &app.client, "shopee", "authorize").await;
    let settings = callback(&app, &app.client, &back).await;
    assert!(settings.contains("error="), "{settings}");
    assert!(settings.contains("Toko%20Lama"), "{settings}");
    let s = shop(&app, "shopee").await;
    assert_eq!(
        (s["shop_id"].clone(), s["source"].clone()),
        (json!("999"), json!("environment"))
    );
}

#[tokio::test]
async fn a_category_chosen_from_the_shops_tree_is_used_by_the_next_create() {
    let (app, _) = app_with_catalog(10).await;
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(path))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, tree) = post("/api/fn/get_category_tree", vec![("platform", "shopee")]).await;
    assert_eq!(status, 200, "{tree}");
    let options = tree["options"].as_array().unwrap();
    assert!(
        options
            .iter()
            .any(|o| o["id"] == "100012" && o["path"] == "Pakaian › Bawahan"),
        "{tree:#}"
    );
    assert!(
        options.iter().all(|o| o["id"] != "100001"),
        "only leaves are offered"
    );
    let fashion = tree["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["master_category"] == "Fashion")
        .cloned()
        .unwrap();
    assert_eq!(fashion["category_id"], "100011");
    assert_eq!(fashion["attributes"][0]["name"], "Merek");
    assert_eq!(fashion["attributes"][0]["filled_with"], "Tidak Ada Merek");

    // A parent category and an unknown master category are refused; nothing changes.
    for form in [
        vec![
            ("platform", "shopee"),
            ("master_category", "Fashion"),
            ("category_id", "100001"),
        ],
        vec![
            ("platform", "shopee"),
            ("master_category", "Mainan"),
            ("category_id", "100012"),
        ],
    ] {
        let (status, body) = post("/api/fn/set_category_mapping", form).await;
        assert_eq!(status, 400, "{body}");
    }
    let operator = crate::rollout::operator(&app).await;
    let res = operator
        .post(app.url("/api/fn/set_category_mapping"))
        .form(&[
            ("platform", "shopee"),
            ("master_category", "Fashion"),
            ("category_id", "100012"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM category_mappings WHERE category_id = '100012'")
            .await,
        0
    );

    let (status, body) = post(
        "/api/fn/set_category_mapping",
        vec![
            ("platform", "shopee"),
            ("master_category", "Fashion"),
            ("category_id", "100012"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "Pakaian › Bawahan");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'settings.category'")
            .await,
        1
    );
    // Bawahan also requires "Bahan", which nothing neutral fills: the seller must choose.
    let bahan = body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Bahan")
        .cloned()
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(bahan["filled_with"], Value::Null);
    assert_eq!(bahan["choices"][1]["path"], "Denim");
    let id = app
        .count("SELECT id AS n FROM products WHERE category = 'Fashion' ORDER BY id LIMIT 1")
        .await;
    let (status, sync) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 422, "{sync}");
    assert!(sync.to_string().contains("Bahan"), "{sync}");
    for (platform, value) in [("shopee", "99"), ("tiktok", "12")] {
        let (status, body) = post(
            "/api/fn/set_attribute_default",
            vec![
                ("platform", platform),
                ("category_id", "100012"),
                ("attribute_id", "100901"),
                ("value", value),
            ],
        )
        .await;
        assert_eq!(status, 400, "{platform} {value}: {body}");
    }
    let (status, body) = post(
        "/api/fn/set_attribute_default",
        vec![
            ("platform", "shopee"),
            ("category_id", "100012"),
            ("attribute_id", "100901"),
            ("value", "12"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'settings.attribute_default'"
        )
        .await,
        1
    );
    let (status, sync) = app.manual_sync(id, "shopee").await;
    assert_eq!(status, 200, "{sync}");
    let item: u64 = sync["data"]["results"][0]["external_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let listed = app
        .sandbox
        .shopee_client()
        .item_base_info(&[item])
        .await
        .unwrap();
    assert_eq!(listed[0]["category_id"], 100_012, "{:#}", listed[0]);
    let material = listed[0]["attribute_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attribute_id"] == 100_901)
        .cloned()
        .unwrap_or_else(|| panic!("{:#}", listed[0]));
    assert_eq!(material["attribute_value_list"][0]["value_id"], 12);
}

#[tokio::test]
async fn a_markup_change_queues_the_resync_of_the_listings_it_made_out_of_date() {
    let (app, _) = app_with_catalog(3).await;
    let ids = product_ids(&app, 3).await;
    let batch = start_ok(&app, &ids, "shopee").await;
    wait_finished(&app, &batch, Duration::from_secs(60)).await;
    let form = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(path))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Nothing is out of date yet.
    let (status, body) = form("/api/fn/resync_outdated", vec![("platform", "shopee")]).await;
    assert_eq!(status, 409, "{body}");

    let (status, body) = form(
        "/api/fn/set_markup",
        vec![("platform", "shopee"), ("percent", "20")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outdated_listings"], 3, "{body}");
    let operator = crate::rollout::operator(&app).await;
    let res = operator
        .post(app.url("/api/fn/resync_outdated"))
        .form(&[("platform", "shopee")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let (status, body) = form("/api/fn/resync_outdated", vec![("platform", "shopee")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_jobs"], 3, "{body}");
    let done = wait_finished(
        &app,
        body["batch_id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(done["completed"], 3, "{done:#}");
    let (_, settings) = form("/api/fn/get_settings", vec![]).await;
    let shopee = settings["markups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"] == "shopee")
        .cloned()
        .unwrap();
    assert_eq!(shopee["outdated_listings"], 0, "{settings:#}");
}

#[tokio::test]
async fn a_refresh_that_fails_for_now_keeps_the_shop_connected_and_the_next_one_works() {
    let (app, _) = app_with_catalog(1).await;
    connect(&app, "tiktok").await;
    sandbox_oauth(
        &app,
        json!({"expire_access_tokens": "tiktok", "fail_refreshes": {"platform": "tiktok", "count": 1}}),
    )
    .await;
    let id = product_ids(&app, 1).await[0];
    let (status, body) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "NETWORK_ERROR", "{body}");
    assert_eq!(
        shop(&app, "tiktok").await["status"],
        "connected",
        "a busy platform is not a lost authorization"
    );
    let (status, body) = app.manual_sync(id, "tiktok").await;
    assert_eq!(status, 200, "{body}");
    let counts = oauth_counts(&app, "tiktok").await;
    assert_eq!(
        (
            counts["refreshes"].clone(),
            counts["refused_refreshes"].clone()
        ),
        (json!(2), json!(0))
    );
}
