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
    let url = same_host_without_tls(url, std::env::var("PGSSLMODE").ok().as_deref());
    let mut options = ConnectOptions::new(url);
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

/// The URL to connect with: `url` as given, except that a database on this machine
/// (`localhost` or a loopback address) which neither the URL's `sslmode` nor `PGSSLMODE`
/// (`env_sslmode`) names a mode for is reached without TLS. Left to itself the driver
/// would take `prefer` and encrypt every statement to a server that would accept it
/// unencrypted just the same: on loopback that guards nothing (the bytes never leave the
/// machine, and `prefer` falls back to plain text for whoever asks anyway), and it cost
/// a fifth to a quarter of the queue's throughput (`docs/benchmarks.md`). Anyone who wants
/// TLS even so says `sslmode=require` (or stronger) and gets it.
pub fn same_host_without_tls(url: &str, env_sslmode: Option<&str>) -> String {
    if env_sslmode.is_some_and(|m| !m.is_empty()) {
        return url.to_string();
    }
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let names_mode_or_host = parsed
        .query_pairs()
        .any(|(key, _)| matches!(&*key, "sslmode" | "ssl-mode" | "host" | "hostaddr"));
    // A `postgres:` URL's host is opaque to the URL parser: an IPv4 address comes as a name.
    let same_host = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if names_mode_or_host || !same_host {
        return url.to_string();
    }
    parsed.query_pairs_mut().append_pair("sslmode", "disable");
    parsed.to_string()
}

/// Creates the database named in `url` if it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), DbErr> {
    let mut admin_url = url::Url::parse(url)
        .map_err(|e| DbErr::Custom(format!("DATABASE_URL is not a URL ({e}): {url}")))?;
    let name = admin_url.path().trim_start_matches('/').to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DbErr::Custom(format!("unsupported database name {name:?}")));
    }
    // The server's own database, reached as the URL says (its user, its `sslmode`, ...).
    admin_url.set_path("/postgres");
    let admin = connect(admin_url.as_str()).await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
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
    use super::{pool_size, same_host_without_tls};

    #[test]
    fn a_database_on_this_machine_is_reached_without_tls_unless_asked_for() {
        let plain = |url: &str| same_host_without_tls(url, None);
        assert_eq!(
            plain("postgres://postgres@127.0.0.1:5432/syncstore"),
            "postgres://postgres@127.0.0.1:5432/syncstore?sslmode=disable"
        );
        assert_eq!(
            plain("postgres://app:secret@localhost/syncstore?application_name=sync"),
            "postgres://app:secret@localhost/syncstore?application_name=sync&sslmode=disable"
        );
        assert_eq!(
            plain("postgres://postgres@[::1]:5432/syncstore"),
            "postgres://postgres@[::1]:5432/syncstore?sslmode=disable"
        );
        for kept in [
            "postgres://postgres@127.0.0.1:5432/syncstore?sslmode=require",
            "postgres://postgres@localhost/syncstore?ssl-mode=verify-full",
            "postgres://postgres@localhost/syncstore?host=/var/run/postgresql",
            "postgres://postgres@localhost/syncstore?hostaddr=10.0.0.7",
            "postgres://postgres@db.internal:5432/syncstore",
            "postgres://postgres@10.0.0.7:5432/syncstore",
            "not a url",
        ] {
            assert_eq!(plain(kept), kept, "{kept} is left as it is");
        }
        let url = "postgres://postgres@127.0.0.1:5432/syncstore";
        assert_eq!(
            same_host_without_tls(url, Some("require")),
            url,
            "PGSSLMODE is the operator's choice"
        );
    }

    #[test]
    fn a_pool_has_a_connection_for_every_slot_within_bounds() {
        assert_eq!(pool_size(0), 10);
        assert_eq!(pool_size(4), 10, "the default worker keeps the pool it had");
        assert_eq!(pool_size(16), 22);
        assert_eq!(pool_size(34), 40);
        assert_eq!(pool_size(256), 40, "bounded by what Postgres allows");
    }
}
