//! Credentials the sandbox accepts: the same environment variables SyncStore reads, with
//! development defaults so both sides agree out of the box.

#[derive(Debug, Clone)]
pub struct ShopeeCredentials {
    pub partner_id: u64,
    pub partner_key: String,
    pub shop_id: u64,
    pub access_token: String,
}

#[derive(Debug, Clone)]
pub struct TiktokCredentials {
    pub app_key: String,
    pub app_secret: String,
    pub shop_cipher: String,
    pub access_token: String,
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub shopee: ShopeeCredentials,
    pub tiktok: TiktokCredentials,
    /// Requests per second per TikTok API and shop before HTTP 429 / 36009002.
    pub tiktok_qps: u32,
    /// How long a new TikTok listing stays PENDING in audit.
    pub tiktok_audit_ms: u64,
    /// Requests per second each Shopee shop may make before `error_rate_limit`.
    pub shopee_qps: u32,
    /// How the sandbox is reached; image URLs it hands out start with this.
    pub public_url: String,
    /// Lifetimes of the access and refresh tokens it issues (Shopee: 4 hours, 30 days).
    pub access_token_secs: u64,
    pub refresh_token_secs: u64,
}

pub const DEV_SHOPEE_PARTNER_ID: u64 = 1_000_001;
pub const DEV_SHOPEE_PARTNER_KEY: &str = "sandbox-shopee-partner-key";
pub const DEV_SHOPEE_SHOP_ID: u64 = 2_000_001;
pub const DEV_SHOPEE_ACCESS_TOKEN: &str = "sandbox-shopee-access-token";
pub const DEV_TIKTOK_APP_KEY: &str = "sandboxappkey";
pub const DEV_TIKTOK_APP_SECRET: &str = "sandbox-tiktok-app-secret";
pub const DEV_TIKTOK_SHOP_CIPHER: &str = "ROW_sandboxcipher";
pub const DEV_TIKTOK_ACCESS_TOKEN: &str = "sandbox-tiktok-access-token";

impl SandboxConfig {
    pub fn from_env(public_url: String) -> SandboxConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        SandboxConfig {
            shopee: ShopeeCredentials {
                partner_id: var("SHOPEE_PARTNER_ID")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEV_SHOPEE_PARTNER_ID),
                partner_key: var("SHOPEE_PARTNER_KEY")
                    .unwrap_or_else(|| DEV_SHOPEE_PARTNER_KEY.into()),
                shop_id: var("SHOPEE_SHOP_ID")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEV_SHOPEE_SHOP_ID),
                access_token: var("SHOPEE_ACCESS_TOKEN")
                    .unwrap_or_else(|| DEV_SHOPEE_ACCESS_TOKEN.into()),
            },
            tiktok: TiktokCredentials {
                app_key: var("TIKTOK_APP_KEY").unwrap_or_else(|| DEV_TIKTOK_APP_KEY.into()),
                app_secret: var("TIKTOK_APP_SECRET")
                    .unwrap_or_else(|| DEV_TIKTOK_APP_SECRET.into()),
                shop_cipher: var("TIKTOK_SHOP_CIPHER")
                    .unwrap_or_else(|| DEV_TIKTOK_SHOP_CIPHER.into()),
                access_token: var("TIKTOK_ACCESS_TOKEN")
                    .unwrap_or_else(|| DEV_TIKTOK_ACCESS_TOKEN.into()),
            },
            tiktok_qps: var("SANDBOX_TIKTOK_QPS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(50),
            tiktok_audit_ms: var("SANDBOX_TIKTOK_AUDIT_MS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000),
            shopee_qps: var("SANDBOX_SHOPEE_QPS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(50),
            public_url,
            access_token_secs: var("SANDBOX_ACCESS_TOKEN_SECS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(4 * 3600),
            refresh_token_secs: var("SANDBOX_REFRESH_TOKEN_SECS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30 * 24 * 3600),
        }
    }
}
