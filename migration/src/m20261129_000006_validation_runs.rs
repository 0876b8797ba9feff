//! Validation runs (SPEC §8): every run's report, so the page can show their history and
//! the completion report can cite the latest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE validation_runs (
    id      BIGSERIAL PRIMARY KEY,
    ran_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    live    BOOLEAN NOT NULL,
    passed  BOOLEAN NOT NULL,
    report  JSONB NOT NULL
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE validation_runs;")
            .await?;
        Ok(())
    }
}
