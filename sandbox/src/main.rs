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
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let public_url =
        std::env::var("SANDBOX_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let sandbox = Sandbox::new(SandboxConfig::from_env(public_url));
    eprintln!("syncstore-sandbox listening on http://{addr}");
    axum::serve(listener, sandbox::router(sandbox)).await
}
