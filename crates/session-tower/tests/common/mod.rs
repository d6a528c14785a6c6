//! Shared by the tests: removing what a test made on the shared servers
//! when it ends, passed or failed.

#![allow(dead_code, clippy::expect_used, clippy::panic)]

use session_conformance::Cleanup;

use session_core::Store as _;

/// Deletes the keys of the store with `prefix` at `url` (standalone or
/// cluster) when the value returned goes out of scope.
pub(crate) fn delete_keys_at_end(url: &str, prefix: &str) -> Cleanup {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    Cleanup::new(async move {
        // A store of its own on the prefix: `clear` finds its keys on
        // every primary, tombstones included.
        let store = session_redis::RedisStore::builder()
            .url(&url)
            .prefix(&prefix)
            .build()
            .await
            .unwrap_or_else(|e| panic!("Redis at {url}: {e}"));
        store
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {prefix}: {e}"));
    })
}

/// Drops `table` at `url` (PostgreSQL or MySQL; a SQLite database in
/// memory goes with its pool) when the value returned goes out of scope.
pub(crate) fn drop_table_at_end(url: &str, table: &str) -> Cleanup {
    let (url, table) = (url.to_owned(), table.to_owned());
    Cleanup::new(async move {
        let drop = sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"));
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
            sqlx::query(drop).execute(&pool).await.expect("DROP TABLE");
            pool.close().await;
        } else if url.starts_with("mysql") {
            let pool = sqlx::MySqlPool::connect(&url).await.expect("MySQL");
            sqlx::query(drop).execute(&pool).await.expect("DROP TABLE");
            pool.close().await;
        }
    })
}

/// Deletes CouchDB database `name` at `url` when the value returned goes
/// out of scope (one never made is fine).
pub(crate) fn delete_database_at_end(url: &str, name: &str) -> Cleanup {
    let database = format!("{url}/{name}");
    Cleanup::new(async move {
        let response = reqwest::Client::new()
            .delete(&database)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DELETE {database}: {e}"));
        let status = response.status();
        assert!(
            status.is_success() || status == reqwest::StatusCode::NOT_FOUND,
            "DELETE {database} answered {status}"
        );
    })
}
