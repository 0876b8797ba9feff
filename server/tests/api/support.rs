//! `spawn_app`: the real SyncStore on a random port, against a fresh, migrated database
//! and a fresh Redis key prefix.

use app::api::Stage;
use rand::Rng;
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};
use syncstore::catalog::NewProduct;
use syncstore::config::Settings;
use syncstore::db::{catalog, users};
use syncstore::startup::{AppState, Application};

pub const OWNER_EMAIL: &str = "owner@syncstore.test";
pub const OWNER_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub db: DatabaseConnection,
    /// The marketplace sandbox this app's shops are connected to.
    pub sandbox: SandboxHandle,
    pub settings: Settings,
    /// A client that keeps cookies, like a browser.
    pub client: reqwest::Client,
}

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn test_settings() -> Settings {
    let id: u64 = rand::thread_rng().gen();
    let name = format!("syncstore_test_{id:016x}");
    Settings {
        database_url: format!("{}/{name}", server_url()),
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: "test-secret-that-is-at-least-32-characters".into(),
        previous_secret: None,
        redis_prefix: format!("test:{name}:"),
        public_url: "http://127.0.0.1:0".into(),
        site_root: "target/site".into(),
        shopee: None,
        tiktok: None,
        shopee_app: None,
        tiktok_app: None,
        token_refresh_ahead: std::time::Duration::from_secs(900),
        token_check_every: std::time::Duration::from_secs(60),
        // Below the sandbox's 50 per second, which counts whole calendar seconds.
        trusted_proxy: false,
        session_idle: std::time::Duration::from_secs(3600),
        shopee_qps: 40,
        tiktok_qps: 40,
        queue: syncstore::queue::QueueSettings {
            concurrency: 4,
            retry_base: std::time::Duration::from_millis(200),
            stall_timeout: std::time::Duration::from_secs(3),
        },
    }
}

/// A fresh, migrated database without a running server.
pub async fn fresh_db() -> DatabaseConnection {
    AppState::connect(test_settings())
        .await
        .expect("connect to Postgres and Redis")
        .db
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app`, with the settings adjusted first (e.g. a revoked shop token).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(adjust, AppOptions::default()).await
}

/// How a test app differs from `syncstore serve` against a default sandbox.
pub struct AppOptions {
    /// `false` is `serve --no-worker`: jobs wait for separate worker processes.
    pub worker: bool,
    /// The sandbox's per-shop limit (calls per second) for both platforms.
    pub sandbox_qps: Option<u32>,
    /// The rollout stage the app starts in. Tests of the queue start in `batch_50`: the
    /// pilot and the 10-product stage are recorded as approved by the owner, with the
    /// record an approval leaves (`rollout::record_approval`); their gates are tested in
    /// `rollout.rs` through the real path.
    pub stage: Stage,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            worker: true,
            sandbox_qps: None,
            stage: Stage::Batch50,
        }
    }
}

pub async fn spawn_app_with_options(options: AppOptions) -> TestApp {
    spawn(|_| {}, options).await
}

/// `spawn_app_with_options` with the settings adjusted first (e.g. another Redis).
pub async fn spawn_app_with_options_and(
    options: AppOptions,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn(adjust, options).await
}

/// The demo catalog with image URLs this app serves (so sync can download them),
/// imported, and the owner signed in.
pub async fn app_with_catalog(count: usize) -> (TestApp, Vec<NewProduct>) {
    let app = spawn_app().await;
    let catalog = syncstore::catalog::demo::demo_catalog(count, &app.base);
    app.import(&catalog).await;
    app.login().await;
    (app, catalog)
}

async fn spawn(adjust: impl FnOnce(&mut Settings), options: AppOptions) -> TestApp {
    let sandbox = sandbox_with_qps(options.sandbox_qps).await;
    let mut settings = test_settings();
    settings.shopee = Some(sandbox.shopee.clone());
    settings.tiktok = Some(sandbox.tiktok.clone());
    adjust(&mut settings);
    let state = AppState::connect(settings.clone())
        .await
        .expect("connect to Postgres and Redis");
    let owner = users::create_user(
        &state.db,
        OWNER_EMAIL,
        app::api::Role::Owner,
        OWNER_PASSWORD,
    )
    .await
    .unwrap();
    for passed in Stage::ALL.into_iter().take_while(|s| *s < options.stage) {
        syncstore::rollout::record_approval(
            &state.db,
            passed,
            Some(owner.id),
            "recorded by the test setup",
            json!({"test_setup": true}),
        )
        .await
        .unwrap();
    }
    let db = state.db.clone();
    let mut application = Application::build(state).await.expect("bind");
    if !options.worker {
        application = application.without_worker();
    }
    let base = format!("http://{}", application.addr());
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        db,
        sandbox,
        settings,
        client,
    }
}

impl TestApp {
    /// The application's parts, for what has no HTTP route.
    pub async fn state(&self) -> AppState {
        AppState::connect(self.settings.clone())
            .await
            .expect("connect")
    }

    /// Deletes every Redis key of this app, as if Redis had lost its data, and signs in again.
    pub async fn flush_redis(&self) {
        use fred::prelude::*;
        let redis = syncstore::redis::connect(&self.settings.redis_url)
            .await
            .unwrap();
        let keys: Vec<String> = redis
            .next()
            .custom(
                fred::cmd!("KEYS"),
                vec![format!("{}*", self.settings.redis_prefix)],
            )
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = redis.del(keys).await.unwrap();
        }
        // The session went with everything else.
        self.login().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self) {
        let res = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "login failed: {}",
            res.text().await.unwrap()
        );
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Polls `probe` every 100 ms until it answers `Some`, for at most `limit`.
    pub async fn eventually<T, F, Fut>(&self, what: &str, limit: std::time::Duration, probe: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {limit:?} waiting for {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The number a SQL query on this app's database selects as `n`.
    pub async fn count(&self, query: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        self.db
            .query_one_raw(syncstore::db::sql(query, []))
            .await
            .unwrap()
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0)
    }

    pub async fn product_id(&self, sku: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        self.db
            .query_one_raw(syncstore::db::sql(
                "SELECT id FROM products WHERE sku = $1",
                [sku.into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "id")
            .unwrap()
    }

    pub async fn manual_sync(&self, product_id: i64, target: &str) -> (u16, Value) {
        let res = self
            .client
            .post(self.url("/api/sync/manual"))
            .json(&json!({"product_id": product_id, "target_platform": target}))
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    pub async fn import(&self, products: &[NewProduct]) {
        catalog::import_products(&self.db, products, &|_| {})
            .await
            .unwrap();
    }
}

/// Asserts the SPEC's error body: `{"success": false, "error": {"code", "message"}}`.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error"]["code"], json!(code), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

pub fn sample_csv() -> &'static str {
    include_str!("../../../docs/catalog-sample.csv")
}

/// The marketplace sandbox on a random port, with its development credentials.
pub struct SandboxHandle {
    pub base: String,
    pub shopee: syncstore::marketplace::shopee::ShopeeCredentials,
    pub tiktok: syncstore::marketplace::tiktok::TiktokCredentials,
    admin: reqwest::Client,
}

pub async fn sandbox() -> SandboxHandle {
    sandbox_with_qps(None).await
}

pub async fn sandbox_with_qps(qps: Option<u32>) -> SandboxHandle {
    use sandbox::config::*;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = SandboxConfig::from_env(base.clone());
    config.shopee.partner_id = DEV_SHOPEE_PARTNER_ID;
    config.shopee.partner_key = DEV_SHOPEE_PARTNER_KEY.into();
    config.shopee.shop_id = DEV_SHOPEE_SHOP_ID;
    config.shopee.access_token = DEV_SHOPEE_ACCESS_TOKEN.into();
    config.tiktok = TiktokCredentials {
        app_key: DEV_TIKTOK_APP_KEY.into(),
        app_secret: DEV_TIKTOK_APP_SECRET.into(),
        shop_cipher: DEV_TIKTOK_SHOP_CIPHER.into(),
        access_token: DEV_TIKTOK_ACCESS_TOKEN.into(),
    };
    // Tests read listings back at once; the audit passes immediately.
    config.tiktok_audit_ms = 0;
    if let Some(qps) = qps {
        config.shopee_qps = qps;
        config.tiktok_qps = qps;
    }
    tokio::spawn(async move {
        axum::serve(
            listener,
            sandbox::router(sandbox::store::Sandbox::new(config)),
        )
        .await
    });
    SandboxHandle {
        shopee: syncstore::marketplace::shopee::ShopeeCredentials {
            base_url: base.clone(),
            partner_id: DEV_SHOPEE_PARTNER_ID,
            partner_key: DEV_SHOPEE_PARTNER_KEY.into(),
            shop_id: DEV_SHOPEE_SHOP_ID,
            access_token: DEV_SHOPEE_ACCESS_TOKEN.into(),
        },
        tiktok: syncstore::marketplace::tiktok::TiktokCredentials {
            base_url: base.clone(),
            app_key: DEV_TIKTOK_APP_KEY.into(),
            app_secret: DEV_TIKTOK_APP_SECRET.into(),
            shop_cipher: DEV_TIKTOK_SHOP_CIPHER.into(),
            access_token: DEV_TIKTOK_ACCESS_TOKEN.into(),
        },
        base,
        admin: reqwest::Client::new(),
    }
}

impl SandboxHandle {
    pub async fn fault(&self, platform: &str, mode: &str) {
        let res = self
            .admin
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&json!({"platform": platform, "mode": mode, "probability": 1.0}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// Every response from now on arrives `ms` late (after the request took effect).
    pub async fn latency(&self, ms: u64) {
        let res = self
            .admin
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&json!({"platform": "all", "mode": "none", "probability": 1.0, "latency_ms": ms}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// Any `/_sandbox/faults` body.
    pub async fn set_faults(&self, body: Value) {
        let res = self
            .admin
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// `mode` on every call to `platform`, each answered `latency_ms` late.
    pub async fn fault_with_latency(&self, platform: &str, mode: &str, latency_ms: u64) {
        let res = self
            .admin
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&json!({"platform": platform, "mode": mode, "probability": 1.0, "latency_ms": latency_ms}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    pub fn shopee_client(&self) -> syncstore::marketplace::shopee::ShopeeClient {
        syncstore::marketplace::shopee::ShopeeClient::new(
            self.shopee.clone(),
            std::time::Duration::from_secs(10),
        )
    }

    pub fn tiktok_client(&self) -> syncstore::marketplace::tiktok::TiktokClient {
        syncstore::marketplace::tiktok::TiktokClient::new(
            self.tiktok.clone(),
            std::time::Duration::from_secs(10),
        )
    }

    pub async fn stats(&self) -> Value {
        self.admin
            .get(format!("{}/_sandbox/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// A token refresher that hands out `token` and counts its calls.
pub fn counting_refresher(
    token: &str,
) -> (
    syncstore::marketplace::TokenRefresher,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let token = token.to_string();
    let refresher: syncstore::marketplace::TokenRefresher = std::sync::Arc::new(move |_stale| {
        counter.fetch_add(1, Ordering::SeqCst);
        let token = token.clone();
        Box::pin(async move { Ok(token) })
    });
    (refresher, calls)
}

impl TestApp {
    /// Runs the `syncstore` binary against this app's database, Redis prefix and shops
    /// (asynchronously: the app and the sandbox keep serving on this runtime meanwhile).
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().await.expect("run syncstore")
    }

    /// `cli` with some environment variables changed (`None` removes one).
    pub async fn cli_env(
        &self,
        args: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> std::process::Output {
        let mut command = self.command(args);
        for (name, value) in env {
            match value {
                Some(v) => command.env(name, v),
                None => command.env_remove(name),
            };
        }
        command.output().await.expect("run syncstore")
    }

    /// `syncstore worker` with its log (stderr, at `RUST_LOG=debug`) captured.
    pub fn logged_worker_process(&self) -> tokio::process::Child {
        self.command(&["worker", "--concurrency", "2"])
            .env("RUST_LOG", "debug")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start syncstore worker")
    }

    /// `syncstore worker` as a separate process; killed when the handle is dropped.
    pub fn worker_process(&self, concurrency: u16) -> tokio::process::Child {
        self.worker_process_with(concurrency, &[])
    }

    /// `worker_process` with some environment variables changed (e.g. reaching Postgres
    /// through a [`DbRelay`]).
    pub fn worker_process_with(
        &self,
        concurrency: u16,
        env: &[(&str, &str)],
    ) -> tokio::process::Child {
        let mut command = self.command(&["worker", "--concurrency", &concurrency.to_string()]);
        command.envs(env.iter().copied());
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start syncstore worker")
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        // The shops this app talks to (a test may point one elsewhere).
        let shopee = self
            .settings
            .shopee
            .as_ref()
            .unwrap_or(&self.sandbox.shopee);
        let tiktok = self
            .settings
            .tiktok
            .as_ref()
            .unwrap_or(&self.sandbox.tiktok);
        let queue = &self.settings.queue;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_syncstore"));
        command
            .args(args)
            .env("DATABASE_URL", &self.settings.database_url)
            .env("REDIS_URL", &self.settings.redis_url)
            .env("SYNCSTORE_SECRET", &self.settings.secret)
            .env("SYNCSTORE_REDIS_PREFIX", &self.settings.redis_prefix)
            .env("SYNCSTORE_SHOPEE_QPS", self.settings.shopee_qps.to_string())
            .env("SYNCSTORE_TIKTOK_QPS", self.settings.tiktok_qps.to_string())
            .env(
                "SYNCSTORE_RETRY_BASE_MS",
                queue.retry_base.as_millis().to_string(),
            )
            .env(
                "SYNCSTORE_STALL_TIMEOUT_MS",
                queue.stall_timeout.as_millis().to_string(),
            );
        shop_env(&mut command, shopee, tiktok);
        command
    }
}

/// Points a `syncstore` process at these two shops, as a seller's environment would.
pub fn shop_env(
    command: &mut tokio::process::Command,
    shopee: &syncstore::marketplace::shopee::ShopeeCredentials,
    tiktok: &syncstore::marketplace::tiktok::TiktokCredentials,
) {
    command
        .env("SHOPEE_BASE_URL", &shopee.base_url)
        .env("SHOPEE_PARTNER_ID", shopee.partner_id.to_string())
        .env("SHOPEE_PARTNER_KEY", &shopee.partner_key)
        .env("SHOPEE_SHOP_ID", shopee.shop_id.to_string())
        .env("SHOPEE_ACCESS_TOKEN", &shopee.access_token)
        .env("TIKTOK_BASE_URL", &tiktok.base_url)
        .env("TIKTOK_AUTH_BASE_URL", &tiktok.base_url)
        .env("TIKTOK_APP_KEY", &tiktok.app_key)
        .env("TIKTOK_APP_SECRET", &tiktok.app_secret)
        .env("TIKTOK_SHOP_CIPHER", &tiktok.shop_cipher)
        .env("TIKTOK_ACCESS_TOKEN", &tiktok.access_token);
}

/// A Redis server of a test's own, on a free port, that the test can stop and start again
/// (empty: no persistence), as a restart in production would. Stopped when dropped.
pub struct PrivateRedis {
    pub port: u16,
    server: Option<std::process::Child>,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = PrivateRedis { port, server: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL): every connection drops, every key is gone.
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill().unwrap();
            server.wait().unwrap();
        }
    }

    /// Starts the server again on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let port = self.port.to_string();
        let server = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.server = Some(server);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP relay in front of Postgres that a test can cut, as a network partition or a
/// database restart would: `cut` drops every relayed connection and refuses new ones until
/// `restore`.
pub struct DbRelay {
    /// `database_url` with the relay's address.
    pub url: String,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accepting: tokio::task::AbortHandle,
}

impl DbRelay {
    pub async fn start(database_url: &str) -> DbRelay {
        use std::sync::atomic::Ordering;
        let (scheme, rest) = database_url.split_once('@').expect("user@host in the URL");
        let (upstream, database) = rest.split_once('/').expect("a database in the URL");
        let upstream = upstream.to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{scheme}@{}/{database}", listener.local_addr().unwrap());
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (gate, held) = (open.clone(), connections.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !gate.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(relay.abort_handle());
            }
        })
        .abort_handle();
        DbRelay {
            url,
            open,
            connections,
            accepting,
        }
    }

    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for DbRelay {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}
