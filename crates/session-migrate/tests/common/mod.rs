//! Shared by the migration tests: server addresses, fresh namespaces,
//! stores that fail the test when their server cannot be reached, and
//! sessions to move.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use session_conformance::Cleanup;
use std::{io::Read as _, io::Write as _, time::Duration};

use futures_util::{StreamExt as _, stream};
use session_core::{Session, SessionId, Store};
use session_migrate::{Backend, Endpoint};
use session_redis::RedisStore;
use session_sql::SqlStore;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

/// Sessions in the scale tests: enough for CI's time. Raise to 100_000 for
/// the full run (about five times as long).
pub(crate) const SCALE: usize = 20_000;

/// Standalone Redis; `./scripts/test` starts it and sets `REDIS_URL`.
pub(crate) fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// PostgreSQL; `./scripts/test` starts it and sets `POSTGRES_URL`.
pub(crate) fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// MariaDB (or MySQL); `./scripts/test` starts it and sets `MYSQL_URL`.
pub(crate) fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A name no other test uses: `m_{label}_` and 12 random lowercase characters
/// (a valid Redis prefix, SQL table or schema name).
pub(crate) fn unique(label: &str) -> String {
    let random = SessionId::generate()
        .as_str()
        .to_lowercase()
        .replace(['-', '_'], "");
    format!("m_{label}_{}", &random[..12])
}

/// Our Redis store under `prefix`; fails the test if Redis is unreachable.
pub(crate) async fn redis_store(prefix: &str) -> RedisStore {
    let url = redis_url();
    RedisStore::builder()
        .url(&url)
        .prefix(prefix)
        .scan_count(1000)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Our PostgreSQL store on `table`; fails the test if PostgreSQL is unreachable.
pub(crate) async fn postgres_store(table: &str) -> SqlStore {
    let url = postgres_url();
    SqlStore::builder()
        .url(&url)
        .table(table)
        .max_connections(16)
        .purge_interval(None)
        .timeout(Duration::from_secs(20))
        .build()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Session number `n`: a few keys of different kinds, expiring at `expiry`.
pub(crate) fn session(n: usize, expiry: OffsetDateTime) -> Session {
    let mut session = Session::new().expiring_at(expiry);
    session.insert("n", n as u64).unwrap();
    session.insert("user", format!("user-{n}")).unwrap();
    session.insert("roles", ["reader", "writer"]).unwrap();
    session.insert("ratio", 1.0 / (n as f64 + 3.0)).unwrap();
    session
}

/// Writes `sessions` into `store`, many at a time.
pub(crate) async fn fill(store: &dyn Store, sessions: &[(SessionId, Session)]) {
    stream::iter(sessions)
        .for_each_concurrent(64, |(id, session)| async move {
            store.set(id, session).await.unwrap();
        })
        .await;
}

/// Checks that `store` holds each of `expected` exactly: id, data, expiry.
pub(crate) async fn assert_holds(store: &dyn Store, expected: &[(SessionId, Session)]) {
    stream::iter(expected)
        .for_each_concurrent(64, |(id, session)| async move {
            let stored = store.get(id).await.unwrap();
            let stored = stored.unwrap_or_else(|| panic!("session {:?} is missing", id.redacted()));
            assert_eq!(stored.data(), session.data(), "data of {:?}", id.redacted());
            assert_eq!(
                stored.expires_at(),
                session.expires_at(),
                "expiry of {:?}",
                id.redacted()
            );
        })
        .await;
}

/// Checks that `store` has none of `ids`.
pub(crate) async fn assert_lacks(store: &dyn Store, ids: &[SessionId]) {
    stream::iter(ids)
        .for_each_concurrent(64, |id| async move {
            assert!(
                store.get(id).await.unwrap().is_none(),
                "session {:?} is there",
                id.redacted()
            );
        })
        .await;
}

/// Removes what `endpoint` names when the value returned goes out of scope,
/// at the end of the test, passed or failed: its Redis keys (its prefix
/// from [`unique`], free of glob characters), its SQL table (a SQLite file:
/// the file) or its CouchDB database.
pub(crate) fn remove_at_end(endpoint: &Endpoint) -> Cleanup {
    Cleanup::new(remove(endpoint.clone()))
}

async fn remove(endpoint: Endpoint) {
    let url = endpoint.url.as_str();
    let named = |name: Option<String>| name.unwrap_or_else(|| panic!("{endpoint} names nothing to remove"));
    match endpoint.backend().unwrap() {
        Backend::Redis => delete_keys(url, &named(endpoint.prefix.clone())).await,
        Backend::Sql => drop_table(url, &named(endpoint.table.clone())).await,
        Backend::Couch => delete_database(url, &named(endpoint.database.clone())),
        _ => unreachable!("a backend these tests do not use"),
    }
}

/// Deletes every key starting with `prefix` (standalone Redis).
async fn delete_keys(url: &str, prefix: &str) {
    use fred::interfaces::{ClientLike as _, KeysInterface as _};
    let config = fred::types::config::Config::from_url(url).unwrap();
    let client = fred::types::Builder::from_config(config).build().unwrap();
    client.init().await.unwrap();
    let mut cursor = "0".to_owned();
    loop {
        let (next, keys): (String, Vec<fred::types::Key>) = client
            .scan_page(cursor, format!("{prefix}*"), Some(1000), None)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = client.del(keys).await.unwrap();
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    client.quit().await.unwrap();
}

async fn drop_table(url: &str, table: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = format!("{path}{suffix}");
            if let Err(e) = std::fs::remove_file(&file)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                panic!("removing {file}: {e}");
            }
        }
    } else if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let drop = format!("DROP TABLE IF EXISTS \"{table}\"");
        sqlx::query(AssertSqlSafe(drop)).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::MySqlPool::connect(url).await.unwrap();
        let drop = format!("DROP TABLE IF EXISTS `{table}`");
        sqlx::query(AssertSqlSafe(drop)).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// `DELETE /{database}` over plain HTTP/1.1 (none of this crate's
/// dependencies is an HTTP client); a database never made is fine.
fn delete_database(url: &str, database: &str) {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("{host}: {e}"));
    write!(
        stream,
        "DELETE /{database} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply.split(' ').nth(1).unwrap_or_default();
    assert!(
        ["200", "202", "404"].contains(&status),
        "DELETE {url}/{database}: {reply}"
    );
}

/// The Redis prefix and the PostgreSQL table of a test labelled `label`,
/// both removed when the returned cleanups drop.
pub(crate) fn redis_and_postgres(label: &str) -> (String, String, [Cleanup; 2]) {
    let (prefix, table) = (unique(label), unique(label));
    let removed = [
        Endpoint::new(redis_url()).prefix(&prefix),
        Endpoint::new(postgres_url()).table(&table),
    ]
    .map(|made| remove_at_end(&made));
    (prefix, table, removed)
}
