//! Read-back verifications, kept so the pilot report is generated from data.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE verifications (
                    id         BIGSERIAL PRIMARY KEY,
                    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
                    platform   TEXT NOT NULL CHECK (platform IN ('shopee', 'tiktok')),
                    ok         BOOLEAN NOT NULL,
                    checks     JSONB NOT NULL
                );
                CREATE INDEX verifications_product ON verifications (product_id, platform, created_at DESC);",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE verifications;")
            .await?;
        Ok(())
    }
}
