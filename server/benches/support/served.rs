//! `syncstore serve` as its own process, as a seller runs it: the list pages under load
//! from signed-in clients, and the server's memory idle and during a 50-product batch.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use syncstore::config::Settings;
use tokio::process::{Child, Command};

use crate::support::{self, SandboxHandle};

const EMAIL: &str = "bench@syncstore.test";
const PASSWORD: &str = "bench owner password";

/// A `syncstore serve` process on its own database and Redis prefix.
pub struct Served {
    pub base: String,
    pub settings: Settings,
    server: Option<Child>,
    port: u16,
    pub sandbox: Option<SandboxHandle>,
    worker: bool,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl Served {
    /// A fresh database holding the demo catalog of `products` (how long it took to load
    /// is the second value), with the owner added; the server is not started yet.
    pub async fn with_catalog(
        products: usize,
        sandbox: Option<SandboxHandle>,
        worker: bool,
    ) -> (Served, Duration) {
        let settings = support::test_settings();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let served = Served {
            base: format!("http://127.0.0.1:{port}"),
            settings,
            server: None,
            port,
            sandbox,
            worker,
        };
        served.cli(&["migrate"]).await;
        let started = Instant::now();
        served
            .cli(&["catalog", "demo", "--count", &products.to_string()])
            .await;
        let loaded = started.elapsed();
        // What autovacuum does within a minute of a large load: the visibility map lets a
        // deep page's ids come from the index alone.
        let db = sea_orm::Database::connect(&served.settings.database_url)
            .await
            .expect("connect");
        sea_orm::ConnectionTrait::execute_unprepared(&db, "VACUUM ANALYZE products")
            .await
            .expect("vacuum");
        served
            .cli(&[
                "user",
                "add",
                "--email",
                EMAIL,
                "--role",
                "owner",
                "--password",
                PASSWORD,
            ])
            .await;
        (served, loaded)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_syncstore"));
        command
            .args(args)
            .current_dir(workspace())
            .env("DATABASE_URL", &self.settings.database_url)
            .env("REDIS_URL", &self.settings.redis_url)
            .env("SYNCSTORE_SECRET", &self.settings.secret)
            .env("SYNCSTORE_REDIS_PREFIX", &self.settings.redis_prefix)
            .env("SYNCSTORE_ADDR", format!("127.0.0.1:{}", self.port))
            .env("SYNCSTORE_PUBLIC_URL", &self.base)
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if let Some(sandbox) = &self.sandbox {
            support::shop_env(&mut command, &sandbox.shopee, &sandbox.tiktok);
        }
        command
    }

    pub async fn cli(&self, args: &[&str]) {
        let out = self
            .command(args)
            .stderr(Stdio::piped())
            .output()
            .await
            .expect("run syncstore");
        assert!(
            out.status.success(),
            "syncstore {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `syncstore serve` (with its worker when asked, with `env` added) and waits
    /// until it answers.
    pub async fn start(&mut self, env: &[(&str, String)]) {
        let mut command = if self.worker {
            self.command(&["serve"])
        } else {
            self.command(&["serve", "--no-worker"])
        };
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        self.server = Some(command.stderr(Stdio::null()).spawn().expect("start serve"));
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(format!("{}/login", self.base)).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "syncstore serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server process's resident memory, in MiB.
    pub fn rss_mb(&self) -> f64 {
        let pid = self.server.as_ref().and_then(Child::id).expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kb / 1024.0
    }

    /// A client signed in as the owner, with its own session.
    pub async fn signed_in(&self) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sign in");
        client
    }
}

/// Latencies of `total` GETs of `path`, spread over `clients` running one request at a
/// time each: (p50 ms, p95 ms, requests per second).
pub async fn load(
    served: &Served,
    clients: &[reqwest::Client],
    path: &str,
    total: usize,
) -> (f64, f64, f64) {
    let url = format!("{}{path}", served.base);
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in clients {
        let (client, url, issued) = (client.clone(), url.clone(), issued.clone());
        tasks.spawn(async move {
            let mut took = Vec::new();
            while issued.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                let res = client.get(&url).send().await.expect("answer");
                assert_eq!(res.status(), 200, "{url}");
                res.bytes().await.expect("body");
                took.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            took
        });
    }
    let mut all = Vec::with_capacity(total);
    while let Some(took) = tasks.join_next().await {
        all.extend(took.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let rank = |p: f64| all[((p * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1];
    (rank(0.50), rank(0.95), all.len() as f64 / elapsed)
}
