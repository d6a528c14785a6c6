//! Opening a pool from a URL, with the server-side bounds set on every
//! connection, and telling MariaDB from MySQL.

use std::time::Duration;

use session_core::Error;

use crate::{SqlStore, bounds::ServerBounds, error::from_sqlx, pool::Pool};

/// What a pool of the store's own is opened with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSettings {
    pub(crate) max_connections: u32,
    pub(crate) timeout: Duration,
    /// Set as each connection starts (PostgreSQL, SQLite; MariaDB's go with
    /// each statement instead).
    #[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
    pub(crate) bounds: ServerBounds,
    /// Only reads (SQLite opens the file read-only, never creating it or
    /// changing its journal); a reader of another program's table.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) read_only: bool,
}

/// The cargo feature a scheme of [`SqlStore::URL_SCHEMES`] needs.
fn feature_of(scheme: &str) -> Option<&'static str> {
    match scheme {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" => Some("sqlite"),
        _ => None,
    }
}

/// Opens a pool on `url`; every failure to reach the database is
/// [`Error::Unavailable`].
pub(crate) async fn connect(url: &str, settings: PoolSettings) -> Result<Pool, Error> {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    let fail = |e| match from_sqlx(e, settings.timeout) {
        Error::Backend(source) => Error::Unavailable(source),
        other => other,
    };
    match scheme {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => connect_postgres(url, settings).await.map_err(fail),
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.timeout)
            .connect(&url.replacen("mariadb:", "mysql:", 1))
            .await
            .map(Pool::MySql)
            .map_err(fail),
        #[cfg(feature = "sqlite")]
        "sqlite" => connect_sqlite(url, settings).await.map_err(fail),
        other => Err(Error::InvalidInput(match feature_of(other) {
            Some(feature) => format!("{other}: URLs need session-sql's `{feature}` cargo feature"),
            None => format!(
                "unsupported database URL scheme {other:?}: use {}",
                SqlStore::URL_SCHEMES.join(", ")
            ),
        })),
    }
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str, settings: PoolSettings) -> Result<Pool, sqlx::Error> {
    use std::str::FromStr;

    // Sent when each connection starts: no extra round trip per statement.
    let options =
        sqlx::postgres::PgConnectOptions::from_str(url)?.options(settings.bounds.postgres_settings());
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.timeout)
        .connect_with(options)
        .await
        .map(Pool::Postgres)
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(url: &str, settings: PoolSettings) -> Result<Pool, sqlx::Error> {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut options =
        SqliteConnectOptions::from_str(url)?.busy_timeout(settings.bounds.sqlite_busy_timeout());
    let mut pool = SqlitePoolOptions::new().acquire_timeout(settings.timeout);
    if settings.read_only {
        // Another program's file: open it as it is, changing nothing.
        options = options.read_only(true);
        pool = pool.max_connections(settings.max_connections);
    } else if in_memory {
        // Each connection would see its own empty database: keep one, forever.
        pool = pool
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    } else {
        // WAL lets readers and a writer work at once; busy_timeout waits out the rest.
        options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        pool = pool.max_connections(settings.max_connections);
    }
    // Processes opening one new file at once race to switch it to WAL, and
    // SQLite reports that as "database is locked" without waiting: retry
    // until the timeout (the caller's deadline) ends it.
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Err(sqlx::Error::Database(db)) if crate::error::is_sqlite_busy(db.as_ref()) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            result => return result.map(Pool::Sqlite),
        }
    }
}

/// Whether a MySQL-protocol server is MariaDB, whose per-statement bounds
/// the store uses.
#[cfg(feature = "mysql")]
pub(crate) async fn is_mariadb(pool: &sqlx::MySqlPool) -> Result<bool, sqlx::Error> {
    let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(pool).await?;
    Ok(version.contains("MariaDB"))
}
