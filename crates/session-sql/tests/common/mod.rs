//! Shared by the SQL test files: server addresses and store construction.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod raw;

use std::time::Duration;

use session_conformance::{Cleanup, Settings};
use session_core::{Session, SessionId};
use session_sql::{SqlStore, SqlStoreBuilder};
use time::OffsetDateTime;

/// A fresh table name for one test: `t_{label}_` and 12 random characters.
pub(crate) fn table(label: &str) -> String {
    let random = SessionId::generate()
        .as_str()
        .to_lowercase()
        .replace(['-', '_'], "");
    format!("t_{label}_{}", random.get(..12).expect("ids are long enough"))
}

/// A session holding `user: "ada"`, expiring `duration` from now.
pub(crate) fn session_in(duration: Duration) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + duration);
    session.insert("user", "ada").expect("a string is storable");
    session
}

/// PostgreSQL, MariaDB and a fresh SQLite file, by name.
pub(crate) fn urls() -> Vec<(&'static str, String)> {
    vec![
        ("postgres", postgres_url()),
        ("mariadb", mysql_url()),
        ("sqlite", sqlite_file_url(&table("file"))),
    ]
}

/// PostgreSQL; `./scripts/test` starts it and sets `POSTGRES_URL`.
pub(crate) fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// MariaDB (or MySQL); `./scripts/test` starts it and sets `MYSQL_URL`.
pub(crate) fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A SQLite file of its own for `name`, in a fresh temporary folder.
pub(crate) fn sqlite_file_url(name: &str) -> String {
    let url = sqlite_file_path_url(name);
    let _ = std::fs::remove_file(url.trim_start_matches("sqlite:"));
    url
}

/// The URL of the SQLite file for `name`, whether or not it exists yet.
pub(crate) fn sqlite_file_path_url(name: &str) -> String {
    let dir = std::env::temp_dir().join("session-sql-tests");
    std::fs::create_dir_all(&dir).expect("temporary folder");
    format!("sqlite:{}", dir.join(format!("{name}.db")).display())
}

/// A builder for `url` with the test defaults: small pool, no background purge.
pub(crate) fn builder(url: &str, table: &str) -> SqlStoreBuilder {
    SqlStore::builder()
        .url(url)
        .table(table)
        .max_connections(4)
        .purge_interval(None)
        .timeout(Duration::from_secs(10))
}

/// A store for one conformance check: the namespace becomes the table.
/// Panics (failing the test) when the database cannot be reached.
pub(crate) async fn store_for(url: String, settings: Settings) -> SqlStore {
    builder(&url, &settings.namespace)
        .lifetimes(settings.lifetimes)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Like [`store_for`], with two extra columns, so every write path binds them.
pub(crate) async fn store_with_columns_for(url: String, settings: Settings) -> SqlStore {
    builder(&url, &settings.namespace)
        .lifetimes(settings.lifetimes)
        .column(session_sql::Column::text("owner"))
        .column(session_sql::Column::bigint("visits"))
        .build()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"))
}

/// A store on the pool behind a sea-orm connection to `url`.
pub(crate) async fn sea_orm_store_for(url: String, settings: Settings) -> SqlStore {
    let mut options = sea_orm::ConnectOptions::new(url.clone());
    options.max_connections(4);
    if url.contains(":memory:") {
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let db = sea_orm::Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"));
    SqlStore::builder()
        .sea_orm(&db)
        .table(&settings.namespace)
        .lifetimes(settings.lifetimes)
        .purge_interval(None)
        .build()
        .await
        .unwrap_or_else(|e| panic!("a store on the sea-orm connection to {url}: {e}"))
}

/// A store in connect-pg-simple's layout, the namespace its table.
pub(crate) async fn pg_simple_store_for(url: String, settings: Settings) -> SqlStore {
    node_store_for(session_sql::Layout::ConnectPgSimple, url, settings).await
}

/// A store in connect-session-sequelize's layout, the namespace its table.
pub(crate) async fn sequelize_store_for(url: String, settings: Settings) -> SqlStore {
    node_store_for(session_sql::Layout::ConnectSessionSequelize, url, settings).await
}

/// A store in a Node store's `layout`, the namespace its table.
pub(crate) async fn node_store_for(layout: session_sql::Layout, url: String, settings: Settings) -> SqlStore {
    builder(&url, &settings.namespace)
        .layout(layout)
        .lifetimes(settings.lifetimes)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"))
}

/// The conformance suite's teardown: drops the table named after the
/// check's namespace, or deletes its SQLite file (a database in memory goes
/// with its pool).
pub(crate) async fn drop_table(url: String, settings: Settings) {
    drop_named(url, settings.namespace).await;
}

/// Drops `table` at `url`, or deletes the SQLite file `url` names (a
/// database in memory goes with its pool).
async fn drop_named(url: String, table: String) {
    if url.contains(":memory:") {
        return;
    }
    if let Some(path) = url.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = format!("{path}{suffix}");
            if let Err(e) = std::fs::remove_file(&file)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                panic!("removing {file}: {e}");
            }
        }
        return;
    }
    let raw = raw::Raw::connect(&url).await;
    raw.execute(format!("DROP TABLE IF EXISTS {table}")).await;
    raw.close().await;
}

/// Drops `table` at `url`, or deletes the SQLite file `url` names, when the
/// value returned goes out of scope: at the end of the test, passed or
/// failed. Made before the stores on the table, it outlives them.
pub(crate) fn drop_at_end(url: &str, table: &str) -> Cleanup {
    Cleanup::new(drop_named(url.to_owned(), table.to_owned()))
}
