//! The catalog, per-platform mappings, sync logs, users, settings and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
    id          BIGSERIAL PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT NOT NULL,
    base_price  BIGINT NOT NULL CHECK (base_price > 0),
    weight_g    INTEGER NOT NULL CHECK (weight_g > 0),
    length_cm   INTEGER CHECK (length_cm > 0),
    width_cm    INTEGER CHECK (width_cm > 0),
    height_cm   INTEGER CHECK (height_cm > 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    tier1_name  TEXT,
    tier2_name  TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Substring search on titles stays fast at 100,000 products.
CREATE INDEX products_title_trgm ON products USING gin (title gin_trgm_ops);

CREATE TABLE product_images (
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    url        TEXT NOT NULL,
    PRIMARY KEY (product_id, position)
);

CREATE TABLE product_variants (
    id         BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    sku        TEXT NOT NULL UNIQUE,
    option1    TEXT NOT NULL,
    option2    TEXT,
    base_price BIGINT NOT NULL CHECK (base_price > 0),
    stock      INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE INDEX product_variants_product ON product_variants (product_id, position);

CREATE TABLE platform_mappings (
    id                BIGSERIAL PRIMARY KEY,
    product_id        BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    platform          TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
    external_id       TEXT,
    final_price       BIGINT,
    seo_title         TEXT,
    title_override    TEXT,
    category_id       TEXT,
    status            TEXT NOT NULL DEFAULT 'not_synced'
                      CHECK (status IN ('not_synced', 'syncing', 'synced', 'error')),
    last_error_code   TEXT,
    last_error        TEXT,
    last_synced_at    TIMESTAMPTZ,
    tokopedia_status  TEXT,
    listing_platforms TEXT[] NOT NULL DEFAULT '{}',
    content_hash      TEXT,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (product_id, platform)
);
CREATE INDEX platform_mappings_status ON platform_mappings (platform, status);

CREATE TABLE variant_mappings (
    mapping_id  BIGINT NOT NULL REFERENCES platform_mappings(id) ON DELETE CASCADE,
    variant_id  BIGINT NOT NULL REFERENCES product_variants(id) ON DELETE CASCADE,
    external_id TEXT,
    final_price BIGINT,
    PRIMARY KEY (mapping_id, variant_id)
);

CREATE TABLE sync_logs (
    id               BIGSERIAL PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    product_id       BIGINT NOT NULL,
    platform         TEXT NOT NULL,
    status           TEXT NOT NULL,
    request_payload  JSONB,
    response_payload JSONB,
    error_code       TEXT,
    error_message    TEXT,
    attempt          INTEGER NOT NULL DEFAULT 1,
    job_id           TEXT,
    batch_id         TEXT,
    duration_ms      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sync_logs_created ON sync_logs (created_at DESC);
CREATE INDEX sync_logs_product ON sync_logs (product_id, created_at DESC);
CREATE INDEX sync_logs_platform ON sync_logs (platform, created_at DESC);
CREATE INDEX sync_logs_status ON sync_logs (status, created_at DESC);
CREATE INDEX sync_logs_batch ON sync_logs (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'operator')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO settings (key, value) VALUES
    ('shopee_markup_bp', '11500'),
    ('tiktok_markup_bp', '12000');

CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id    BIGINT REFERENCES users(id),
    action     TEXT NOT NULL,
    detail     JSONB NOT NULL DEFAULT '{}'
);
"#;

const DOWN: &str = r#"
DROP TABLE audit_log, settings, users, sync_logs, variant_mappings, platform_mappings,
    product_variants, product_images, products;
"#;

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
