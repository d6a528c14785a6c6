//! Node stores that write wall-clock times in a zone of their own, beside a
//! Rust store told that zone: connect-pg-simple whose connections run in
//! America/New_York (−05:00 in winter, −04:00 in summer) or Asia/Tokyo
//! (+09:00), and Sequelize on MariaDB with `timezone: '-05:00'` or
//! `'+09:00'`. Misread by the zone's offset, a session would look expired
//! to Rust (west of UTC) or live hours too long (east of it): the runs
//! check both sides' expiries to the minute, a Node session's own 60 s
//! lifetime included.

#![allow(clippy::unwrap_used)]

use express_interop::{
    lifetimes::{NodeCookie, a_node_lifetime_holds_on_rust},
    pairings::{self, mysql_url, postgres_url},
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};
use session_sql::Layout;

async fn run(node_store: &str, layout: Layout, url: &str, zone: &str, node_expiry: NodeExpiry) {
    let pairing = pairings::sql_in_zone(node_store, layout, url, Some(zone))
        .await
        .unwrap();
    share_logins_data_and_logouts(&pairing, node_expiry).await;
    a_node_lifetime_holds_on_rust(&pairing, NodeCookie::Attributes).await;
    pairing.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_pg_simple_west_of_utc() {
    let url = postgres_url();
    run(
        "connect-pg-simple",
        Layout::ConnectPgSimple,
        &url,
        "America/New_York",
        NodeExpiry::Ends,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_pg_simple_east_of_utc() {
    let url = postgres_url();
    run(
        "connect-pg-simple",
        Layout::ConnectPgSimple,
        &url,
        "Asia/Tokyo",
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
async fn sequelize_on_mariadb_west_of_utc() {
    run(SEQUELIZE.0, SEQUELIZE.1, &mysql_url(), "-05:00", SEQUELIZE.2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_on_mariadb_east_of_utc() {
    run(SEQUELIZE.0, SEQUELIZE.1, &mysql_url(), "+09:00", SEQUELIZE.2).await;
}
