//! SyncStore's schema, as SeaORM migrations. Each migration is plain SQL: PostgreSQL is
//! the only database SyncStore runs on, and SQL says exactly which indexes exist.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_catalog;
mod m20261129_000002_sync;
mod m20261129_000003_verifications;
mod m20261129_000004_queue;
mod m20261129_000005_sync_claims;
mod m20261129_000006_validation_runs;
mod m20261129_000007_rollout;
mod m20261129_000008_sync_snapshots;
mod m20261201_000009_rollbacks;
mod m20261201_000010_shop_connections;
mod m20261201_000011_attribute_defaults;
mod m20261201_000012_sync_log_workers;
mod m20261201_000013_catalog_counts;
mod m20261201_000014_batch_remaining;
mod m20261202_000015_remaining_per_row;
mod m20261202_000016_cancel_counts_once;
mod m20261203_000017_title_search_lowercase;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_catalog::Migration),
            Box::new(m20261129_000002_sync::Migration),
            Box::new(m20261129_000003_verifications::Migration),
            Box::new(m20261129_000004_queue::Migration),
            Box::new(m20261129_000005_sync_claims::Migration),
            Box::new(m20261129_000006_validation_runs::Migration),
            Box::new(m20261129_000007_rollout::Migration),
            Box::new(m20261129_000008_sync_snapshots::Migration),
            Box::new(m20261201_000009_rollbacks::Migration),
            Box::new(m20261201_000010_shop_connections::Migration),
            Box::new(m20261201_000011_attribute_defaults::Migration),
            Box::new(m20261201_000012_sync_log_workers::Migration),
            Box::new(m20261201_000013_catalog_counts::Migration),
            Box::new(m20261201_000014_batch_remaining::Migration),
            Box::new(m20261202_000015_remaining_per_row::Migration),
            Box::new(m20261202_000016_cancel_counts_once::Migration),
            Box::new(m20261203_000017_title_search_lowercase::Migration),
        ]
    }
}
