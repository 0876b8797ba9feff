//! Rollout approvals (SPEC §7): the owner's approval of each stage's test, which is what
//! moves SyncStore from the pilot to 10-product and then 50-product batches. The current
//! stage is the first one not approved yet; one approval per stage.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE rollout_approvals (
    id          BIGSERIAL PRIMARY KEY,
    -- The stage whose test passed and that the owner approved leaving.
    stage       TEXT NOT NULL UNIQUE CHECK (stage IN ('pilot', 'batch_10', 'batch_50')),
    approved_by BIGINT REFERENCES users(id),
    approved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    note        TEXT NOT NULL,
    -- What the stage's test found when it was approved (batch ids, products verified).
    evidence    JSONB NOT NULL
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
            .execute_unprepared("DROP TABLE rollout_approvals;")
            .await?;
        Ok(())
    }
}
