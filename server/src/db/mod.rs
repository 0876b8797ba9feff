//! PostgreSQL: connecting, creating the database, migrating, and the queries per area.

pub mod audit;
pub mod batches;
pub mod catalog;
pub mod claims;
pub mod queue;
pub mod rollback;
pub mod settings;
pub mod sync;
pub mod users;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};

/// The most connections a process opens when it runs no worker slots or the default few.
const BASE_CONNECTIONS: u32 = 10;
/// The most any process opens, however many slots it runs: two processes at the limit and
/// a few at the base stay inside Postgres's default `max_connections` (100).
const MAX_CONNECTIONS: u32 = 40;

/// How many connections a process with `worker_slots` worker slots may open: a slot holds
/// one while it claims or ends a job (and its sync one now and then), and the pages, the
/// heartbeat and the maintenance share the rest. With fewer, slots past the tenth wait in
/// line for a connection on every claim and every end.
pub fn pool_size(worker_slots: usize) -> u32 {
    (worker_slots.min(MAX_CONNECTIONS as usize) as u32 + 6).clamp(BASE_CONNECTIONS, MAX_CONNECTIONS)
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, BASE_CONNECTIONS).await
}

/// Connects with a pool of at most `max_connections` (see [`pool_size`]).
pub async fn connect_with(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(std::time::Duration::from_secs(5))
        // A connection back from use within the last second is handed out as it is:
        // checking every one first cost a round trip to Postgres before each statement
        // (every queue claim and end, every query of a page). One idle longer may have been
        // dropped meanwhile (a restart of Postgres, a network cut), so it is checked first
        // and replaced if it is gone; only a statement in the same second as the drop can
        // meet it, as one in flight always could.
        .test_before_acquire_if_idle_for(std::time::Duration::from_secs(1))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// Creates the database named in `url` if it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), DbErr> {
    let (server, name) = url
        .rsplit_once('/')
        .ok_or_else(|| DbErr::Custom(format!("DATABASE_URL has no database name: {url}")))?;
    let name = name.split('?').next().unwrap_or(name);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DbErr::Custom(format!("unsupported database name {name:?}")));
    }
    let admin = connect(&format!("{server}/postgres")).await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
    }
    admin.close().await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Creates the database if needed, connects and applies every migration.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_and_migrate_with(url, BASE_CONNECTIONS).await
}

/// [`connect_and_migrate`] with a pool of at most `max_connections`.
pub async fn connect_and_migrate_with(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    ensure_database(url).await?;
    let db = connect_with(url, max_connections).await?;
    migrate(&db).await?;
    Ok(db)
}

/// A statement with positional parameters (`$1`, `$2`, …) for PostgreSQL.
pub fn sql(text: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, text, values)
}

#[cfg(test)]
mod tests {
    use super::pool_size;

    #[test]
    fn a_pool_has_a_connection_for_every_slot_within_bounds() {
        assert_eq!(pool_size(0), 10);
        assert_eq!(pool_size(4), 10, "the default worker keeps the pool it had");
        assert_eq!(pool_size(16), 22);
        assert_eq!(pool_size(34), 40);
        assert_eq!(pool_size(256), 40, "bounded by what Postgres allows");
    }
}
