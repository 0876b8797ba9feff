//! Shop connections (SPEC §9a): one connected shop per platform, its tokens sealed with
//! AES-256-GCM (never stored in the clear), and the single-use `state` of each
//! authorization the owner started.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE shop_connections (
    platform                 TEXT PRIMARY KEY CHECK (platform IN ('shopee', 'tiktok')),
    shop_id                  TEXT NOT NULL,
    shop_name                TEXT NOT NULL,
    -- TikTok Shop's `shop_cipher`, from Get Authorized Shops; null for Shopee.
    shop_cipher              TEXT,
    source                   TEXT NOT NULL CHECK (source IN ('oauth', 'environment')),
    -- `expiring` is not stored: it is `connected` with little time left, computed on read.
    status                   TEXT NOT NULL CHECK (status IN ('connected', 'expired', 'revoked')),
    status_reason            TEXT,
    -- Sealed tokens (version ‖ nonce ‖ ciphertext); null once disconnected.
    access_token             BYTEA,
    refresh_token            BYTEA,
    access_token_expires_at  TIMESTAMPTZ,
    refresh_token_expires_at TIMESTAMPTZ,
    refreshed_at             TIMESTAMPTZ,
    refresh_count            BIGINT NOT NULL DEFAULT 0,
    connected_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    connected_by             BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Each authorization the owner starts: its nonce is used once, within ten minutes, by the
-- user who started it.
CREATE TABLE oauth_states (
    nonce      TEXT PRIMARY KEY,
    platform   TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = "DROP TABLE oauth_states, shop_connections;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
