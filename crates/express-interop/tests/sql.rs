//! A Rust app and an Express app on one SQL table, one cookie jar between
//! them (see `express_interop::two_way`): connect-pg-simple 10 on
//! PostgreSQL, connect-session-sequelize 8 (Sequelize 6) on PostgreSQL,
//! MariaDB and SQLite. Each test has a table of its own, which the Node
//! store creates first (as an app that already runs it would have).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use express_interop::{
    ExpressApp, start_rust_app,
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};
use session_core::SessionId;
use session_sql::{Layout, SqlStore};

fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A fresh table name.
fn table(label: &str) -> String {
    let random = SessionId::generate()
        .as_str()
        .to_lowercase()
        .replace(['-', '_'], "");
    format!("interop_{label}_{}", random.get(..10).unwrap())
}

/// Starts the Express app with `store` on `url` and `table`, then the Rust
/// app on the same table in `layout`, and runs the two-way test.
async fn pair(node_store: &str, layout: Layout, url: &str, table: &str, node_expiry: NodeExpiry) {
    let express = ExpressApp::start(node_store, &[("DATABASE_URL", url), ("TABLE", table)])
        .await
        .unwrap();
    let store = SqlStore::builder()
        .url(url)
        .layout(layout)
        .table(table)
        .purge_interval(None)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"));
    let store = Arc::new(store);
    let rust = start_rust_app(store.clone()).await.unwrap();
    share_logins_data_and_logouts(store, express.address, rust, node_expiry).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_pg_simple_on_postgres() {
    let table = table("pgsimple");
    pair(
        "connect-pg-simple",
        Layout::ConnectPgSimple,
        &postgres_url(),
        &table,
        NodeExpiry::Ends,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_postgres() {
    let table = table("seq");
    pair(
        "connect-session-sequelize",
        Layout::ConnectSessionSequelize,
        &postgres_url(),
        &table,
        NodeExpiry::ServesUntilSwept,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_mariadb() {
    let table = table("seq");
    pair(
        "connect-session-sequelize",
        Layout::ConnectSessionSequelize,
        &mysql_url(),
        &table,
        NodeExpiry::ServesUntilSwept,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_sqlite() {
    let dir = std::env::temp_dir().join("express-interop");
    std::fs::create_dir_all(&dir).unwrap();
    let table = table("seq");
    let path = dir.join(format!("{table}.db"));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite:{}", path.display());
    pair(
        "connect-session-sequelize",
        Layout::ConnectSessionSequelize,
        &url,
        &table,
        NodeExpiry::ServesUntilSwept,
    )
    .await;
}
