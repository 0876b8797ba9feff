//! Walks every route the router knows (`syncstore::http::known_routes`: JSON API, forms,
//! media, dashboard pages, server functions and the event stream) with malformed requests,
//! signed out and signed in, and asserts that each one is answered, and never with a 5xx.
//! A handler that panics drops its connection, so "answered" also means "did not panic".

use std::time::Duration;

use reqwest::{Client, Method};

use crate::support::{app_with_catalog, TestApp};

/// What a path parameter is replaced with: NUL, negative and enormous numbers, no UUID,
/// bytes that are not UTF-8, a path escape, a header injection and an overlong string.
fn parameter_values() -> Vec<String> {
    vec![
        "%00".into(),
        "-1".into(),
        "99999999999999999999999999".into(),
        "not-a-uuid".into(),
        "%FF%FE".into(),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%0D%0ASet-Cookie:%20x=1".into(),
        "a".repeat(4000),
    ]
}

/// Queries with the same kinds of values for every filter the routes read.
fn queries() -> Vec<String> {
    vec![
        "?page=-1&q=%E2%80%AE&batch_id=%FF&product=-3&platform=x&status=%0A&hours=-1".into(),
        "?page=1&hours=99999999999&product=99999999999999999999&status=failed&platform=tiktok".into(),
        // Refused at the door (Postgres cannot store NUL); once per route is enough.
        "?q=%00".into(),
        format!(
            "?page=99999999999999999999&q={}&batch_id=00000000-0000-0000-0000-000000000000&product=1e308&hours=99999999999",
            "%C3%A9".repeat(2000)
        ),
        "?page=%FF%FE&q=%E2%80%AE&live=maybe".into(),
    ]
}

/// (content type, body) pairs: broken, wrongly typed, NUL, control characters, overlong,
/// not UTF-8, and far too large.
fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("application/json", b"{\"".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        (
            "application/json",
            br#"{"product_ids":[-1,0,99999999999999999999999,1e308],"product_id":-5,"platform":"both","target":"everything","dry_run":"yes","batch_id":5,"note":"\u0007bell","live":"maybe"}"#.to_vec(),
        ),
        (
            "application/json",
            br#"{"email":"a\u0000@x.id","password":"p","product_id":1,"platform":"shopee"}"#.to_vec(),
        ),
        (
            "application/json",
            format!(r#"{{"email":"{}","password":"{}","note":"{}"}}"#, "e".repeat(100_000), "p".repeat(100_000), "n".repeat(100_000)).into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"id=%FF%FE&target=%00&ids=-1,99999999999999999999&platform=both&page=-5&job_id=..&reason=%07&live=maybe&q=%E2%80%AE".to_vec(),
        ),
        // Every argument name a server function takes, with values that decode but are
        // wrong, so each function's own checks run (no NUL: that is refused at the door).
        (
            "application/x-www-form-urlencoded",
            b"id=-1&target=everywhere&ids=-1,99999999999999999999&platform=both&page=-5&q=%E2%80%AE&product=-3&status=%0A&hours=-1&job_id=..%2F..&reason=%07bell&live=false&note=%07".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!(
                "id=99999999999999999999&target=tiktok&ids={}&platform=tiktok&page=99999999999&q={}&product=1e308&status=x&hours=99999999999&job_id=00000000-0000-0000-0000-000000000000&reason={}&live=false&note={}",
                "7,".repeat(60),
                "q".repeat(5000),
                "r".repeat(5000),
                "n".repeat(5000)
            )
            .into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"id=\xff\xfe&ids=\xc3\x28&reason=\xe2\x82".to_vec(),
        ),
        ("application/x-www-form-urlencoded", Vec::new()),
        ("text/plain", b"\x00\x01\x02".to_vec()),
    ]
}

/// The route's path with each `{param}` (or `:param`, `*rest`) replaced by `value`.
fn fill(path: &str, value: &str) -> String {
    path.split('/')
        .map(|segment| {
            let is_parameter = (segment.starts_with('{') && segment.ends_with('}'))
                || segment.starts_with(':')
                || segment.starts_with('*');
            if is_parameter {
                value
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What SyncStore says in place of an internal error's detail.
const INTERNAL_FAILURE: [&str; 2] = [
    "something went wrong on the server",
    "unexpected server error",
];

struct Walk<'a> {
    app: &'a TestApp,
    requests: usize,
    failures: Vec<String>,
}

impl Walk<'_> {
    async fn send(
        &mut self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        origin: Option<&str>,
    ) {
        self.requests += 1;
        let mut request = client
            .request(method.clone(), self.app.url(path))
            .timeout(Duration::from_secs(20));
        if let Some((content_type, bytes)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        if let Some(origin) = origin {
            request = request.header(reqwest::header::ORIGIN, origin);
        }
        let short: String = path.chars().take(120).collect();
        match request.send().await {
            Ok(res) if !res.status().is_server_error() => {
                // A page streams its 200 before its data loads: an internal failure shows
                // only in the text.
                let text = res.text().await.unwrap_or_default();
                if INTERNAL_FAILURE.iter().any(|m| text.contains(m)) {
                    self.failures.push(format!(
                        "{method} {short} → an internal failure in the page"
                    ));
                }
            }
            Ok(res) => {
                let status = res.status();
                let text: String = res
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                self.failures
                    .push(format!("{method} {short} → {status}: {text}"));
            }
            Err(e) => self
                .failures
                .push(format!("{method} {short} → no answer: {e}")),
        }
    }

    /// Every malformed request for one route, with one client (signed in or not).
    async fn route(&mut self, client: &Client, method: &Method, path: &str) {
        let has_parameters = path.contains('{') || path.contains(':') || path.contains('*');
        let paths: Vec<String> = if has_parameters {
            parameter_values().iter().map(|v| fill(path, v)).collect()
        } else {
            vec![path.to_string()]
        };
        for filled in &paths {
            for query in queries() {
                self.send(client, Method::GET, &format!("{filled}{query}"), None, None)
                    .await;
            }
            for wrong in [Method::PUT, Method::DELETE, Method::PATCH] {
                self.send(client, wrong, filled, None, None).await;
            }
            let post = if *method == Method::GET {
                Method::POST
            } else {
                method.clone()
            };
            for (content_type, bytes) in bodies() {
                self.send(
                    client,
                    post.clone(),
                    filled,
                    Some((content_type, bytes)),
                    None,
                )
                .await;
            }
            self.send(
                client,
                post.clone(),
                filled,
                Some(("application/json", b"{}".to_vec())),
                Some("https://evil.example"),
            )
            .await;
        }
        // Far larger than any body SyncStore takes, once per route.
        let huge = vec![b'a'; 3 * 1024 * 1024];
        self.send(
            client,
            Method::POST,
            &paths[0],
            Some(("application/json", huge)),
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn no_route_answers_malformed_requests_with_a_server_error() {
    let (app, _catalog) = app_with_catalog(3).await;
    let mut routes = syncstore::http::known_routes();
    // Signing out ends the signed-in walk's session: those routes go last.
    routes.sort_by_key(|(_, path)| path.contains("logout"));
    let kinds: Vec<&str> = routes.iter().map(|(_, p)| p.as_str()).collect();
    for expected in [
        "/api/products/{id}",
        "/api/sync/batch/{batch_id}/events",
        "/media/demo/{sku}/{file}",
        "/api/fn/start_batch",
        "/login",
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected} missing from {kinds:?}"
        );
    }
    assert!(
        kinds.iter().any(|p| p.starts_with("/dashboard")),
        "no page in {kinds:?}"
    );

    let anonymous = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut walk = Walk {
        app: &app,
        requests: 0,
        failures: Vec::new(),
    };
    // What the fallback serves: static files, the 404 page and escapes from the site root.
    for path in [
        "/pkg/..%2F..%2FCargo.toml",
        "/favicon.ico",
        "/no/such/page%FF",
        "/%2e%2e/%2e%2e/etc/passwd",
    ] {
        routes.push((Method::GET, path.to_string()));
    }
    for (method, path) in &routes {
        walk.route(&anonymous, method, path).await;
        walk.route(&app.client, method, path).await;
    }
    assert!(
        walk.requests > 1_000,
        "only {} requests were sent",
        walk.requests
    );
    assert!(
        walk.failures.is_empty(),
        "{} of {} requests failed:\n{}",
        walk.failures.len(),
        walk.requests,
        walk.failures.join("\n")
    );
}

/// Postgres ending the server's connections while they sit in its pool (a restart, an
/// administrator's `pg_terminate_backend`) costs no later request an error: a connection
/// idle for more than a second is checked before it is used and replaced if it is gone.
#[tokio::test]
async fn connections_postgres_ends_while_idle_are_replaced_without_an_error() {
    use sea_orm::ConnectionTrait;
    let (app, _) = app_with_catalog(3).await;
    app.login().await;
    // Several requests at once, so the pool holds several connections.
    let requests: Vec<_> = (0..5).map(|_| app.get_json("/api/products")).collect();
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, 200, "{body}");
    }
    let admin = syncstore::db::connect(&app.settings.database_url)
        .await
        .unwrap();
    let ended = admin
        .query_one_raw(syncstore::db::sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            [],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(ended >= 2, "only {ended} connections were ended");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..5 {
        let (status, body) = app.get_json("/api/products").await;
        assert_eq!(
            status, 200,
            "a connection Postgres had ended was used: {body}"
        );
    }
}

/// What the server's connections to the database use, as Postgres sees them: `true` for
/// each connection (other than the asking one) that is encrypted.
async fn connections_encrypted(via: &sea_orm::DatabaseConnection) -> Vec<bool> {
    use sea_orm::ConnectionTrait;
    via.query_all_raw(syncstore::db::sql(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
        [],
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<bool>("", "ssl").unwrap())
    .collect()
}

/// A database on this machine is reached without TLS when the URL leaves `sslmode` open
/// (it would have been `prefer`: every statement encrypted on loopback, where that guards
/// nothing), and with TLS when the URL asks for it.
#[tokio::test]
async fn a_database_on_this_machine_is_reached_without_tls_unless_the_url_asks_for_it() {
    use sea_orm::ConnectionTrait;
    let (app, _) = app_with_catalog(1).await;
    let url = &app.settings.database_url;
    if syncstore::db::same_host_without_tls(url, std::env::var("PGSSLMODE").ok().as_deref()) == *url
    {
        eprintln!("skipped: the test database ({url}) is not on this machine or names its TLS");
        return;
    }
    app.login().await;
    let (status, body) = app.get_json("/api/products").await;
    assert_eq!(status, 200, "{body}");
    let server_side = syncstore::db::connect(&app.settings.database_url)
        .await
        .unwrap();
    let plain = connections_encrypted(&server_side).await;
    assert!(!plain.is_empty(), "the server holds connections");
    assert!(
        plain.iter().all(|ssl| !ssl),
        "a loopback connection was encrypted: {plain:?}"
    );
    let ssl_on: String = server_side
        .query_one_raw(syncstore::db::sql("SHOW ssl", []))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "ssl")
        .unwrap();
    if ssl_on == "on" {
        let asked =
            syncstore::db::connect(&format!("{}?sslmode=require", app.settings.database_url))
                .await
                .unwrap();
        let encrypted = connections_encrypted(&server_side).await;
        assert!(
            encrypted.iter().any(|ssl| *ssl),
            "sslmode=require is honoured: {encrypted:?}"
        );
        asked.close().await.unwrap();
    }
}
