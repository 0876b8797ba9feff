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

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(10)
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
    ensure_database(url).await?;
    let db = connect(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// A statement with positional parameters (`$1`, `$2`, …) for PostgreSQL.
pub fn sql(text: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, text, values)
}
