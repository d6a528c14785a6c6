//! Shared by the migration tests: server addresses, fresh namespaces,
//! stores that fail the test when their server cannot be reached, and
//! sessions to move.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::{StreamExt as _, stream};
use session_core::{Session, SessionId, Store};
use session_redis::RedisStore;
use session_sql::SqlStore;
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
