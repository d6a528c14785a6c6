//! A Rust app and an Express app on one SQL table, one cookie jar between
//! them (see `express_interop::two_way`, then `express_interop::lifetimes`
//! for each session's own lifetime and cookie attributes):
//! connect-pg-simple 10 on PostgreSQL, connect-session-sequelize 8
//! (Sequelize 6) on PostgreSQL, MariaDB and SQLite.

#![allow(clippy::unwrap_used)]

use express_interop::{
    lifetimes::{NodeCookie, keep_lifetimes_and_cookie_flags},
    pairings::{self, mysql_url, postgres_url, sqlite_url},
    parallel::{parallel_requests_keep_every_key, rust_keeps_a_node_write_it_did_not_read},
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};
use session_sql::Layout;

async fn run(node_store: &str, layout: Layout, url: &str, node_expiry: NodeExpiry) {
    let pairing = pairings::sql(node_store, layout, url).await.unwrap();
    share_logins_data_and_logouts(&pairing, node_expiry).await;
    keep_lifetimes_and_cookie_flags(&pairing, NodeCookie::Attributes).await;
    parallel_requests_keep_every_key(&*pairing.store, pairing.rust).await;
    rust_keeps_a_node_write_it_did_not_read(&pairing).await;
    pairing.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_pg_simple_on_postgres() {
    run(
        "connect-pg-simple",
        Layout::ConnectPgSimple,
        &postgres_url(),
        NodeExpiry::Ends,
    )
    .await;
}

/// connect-session-sequelize never checks the expiry on read.
const SEQUELIZE: (&str, Layout, NodeExpiry) = (
    "connect-session-sequelize",
    Layout::ConnectSessionSequelize,
    NodeExpiry::ServesUntilSwept,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_postgres() {
    run(SEQUELIZE.0, SEQUELIZE.1, &postgres_url(), SEQUELIZE.2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_mariadb() {
    run(SEQUELIZE.0, SEQUELIZE.1, &mysql_url(), SEQUELIZE.2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_sqlite() {
    run(SEQUELIZE.0, SEQUELIZE.1, &sqlite_url("seq").unwrap(), SEQUELIZE.2).await;
}
