use clap::Parser;
use sandbox::config::SandboxConfig;
use sandbox::store::Sandbox;

/// An offline stand-in for the Shopee and TikTok Shop APIs.
#[derive(Parser)]
#[command(name = "syncstore-sandbox")]
struct Args {
    /// Where to listen, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:3100")]
    addr: std::net::SocketAddr,
    /// Lifetime of the access tokens it issues (default 14400, Shopee's 4 hours).
    #[arg(long, env = "SANDBOX_ACCESS_TOKEN_SECS")]
    access_token_secs: Option<u64>,
    /// Lifetime of the refresh tokens it issues (default 30 days).
    #[arg(long, env = "SANDBOX_REFRESH_TOKEN_SECS")]
    refresh_token_secs: Option<u64>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let public_url =
        std::env::var("SANDBOX_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let mut config = SandboxConfig::from_env(public_url);
    if let Some(secs) = args.access_token_secs {
        config.access_token_secs = secs;
    }
    if let Some(secs) = args.refresh_token_secs {
        config.refresh_token_secs = secs;
    }
    let sandbox = Sandbox::new(config);
    eprintln!("syncstore-sandbox listening on http://{addr}");
    axum::serve(listener, sandbox::router(sandbox)).await
}
