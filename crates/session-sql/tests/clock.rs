//! The application's clock decides every expiry on every database: writes,
//! reads, listings, touch and the purge read "now" from the store's clock,
//! never from the database's `now()`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{builder, drop_at_end, postgres_url, session_in, table, urls};
use session_core::{Error, Session, SessionId, Store, clock::SkewedClock};
use session_sql::Layout;

async fn a_clock_an_hour_ahead_decides_expiry(name: &str, url: &str, layout: Layout) {
    let table = table("clock");
    let _dropped = drop_at_end(url, &table);
    let ahead = || Arc::new(SkewedClock::new(time::Duration::hours(1)));
    let behind = Arc::new(SkewedClock::new(time::Duration::hours(-1)));
    let builder = |url, table| builder(url, table).layout(layout);
    let late = builder(url, &table).clock(ahead()).build().await.unwrap();
    let on_time = builder(url, &table).build().await.unwrap();
    let early = builder(url, &table).clock(behind).build().await.unwrap();

    let id = SessionId::generate();
    on_time
        .set(&id, &session_in(Duration::from_secs(600)))
        .await
        .unwrap();
    assert!(on_time.get(&id).await.unwrap().is_some(), "{name}");
    assert!(
        late.get(&id).await.unwrap().is_none(),
        "{name}: past by the late clock"
    );
    assert_eq!(late.length().await.unwrap(), 0, "{name}");
    assert!(late.all().await.unwrap().is_empty(), "{name}");
    assert!(
        matches!(late.touch(&id, None).await, Err(Error::NotFound)),
        "{name}: touch never revives"
    );

    // Written by a clock an hour behind, it expired 50 minutes ago in real
    // time; that store alone still sees it, as its clock says.
    let old = SessionId::generate();
    let in_ten_minutes_behind = time::OffsetDateTime::now_utc() - time::Duration::minutes(50);
    early
        .set(&old, &Session::new().expiring_at(in_ten_minutes_behind))
        .await
        .unwrap();
    assert!(
        early.get(&old).await.unwrap().is_some(),
        "{name}: the database's now() is never used"
    );
    assert!(on_time.get(&old).await.unwrap().is_none(), "{name}");

    assert_eq!(
        late.purge_expired().await.unwrap(),
        2,
        "{name}: purged by the late store's clock"
    );
    assert!(on_time.get(&id).await.unwrap().is_none(), "{name}");

    let written_late = SessionId::generate();
    late.set(&written_late, &session_in(Duration::from_secs(600)))
        .await
        .unwrap();
    assert!(
        on_time.get(&written_late).await.unwrap().is_none(),
        "{name}: already past for the late store, so not kept"
    );
}

#[tokio::test]
async fn the_stores_clock_decides_expiry_on_every_database() {
    for (name, url) in urls() {
        a_clock_an_hour_ahead_decides_expiry(name, &url, Layout::Native).await;
    }
}

#[tokio::test]
async fn the_stores_clock_decides_expiry_in_the_node_stores_tables() {
    for (name, url) in urls() {
        a_clock_an_hour_ahead_decides_expiry(name, &url, Layout::ConnectSessionSequelize).await;
    }
    a_clock_an_hour_ahead_decides_expiry("pg-simple", &postgres_url(), Layout::ConnectPgSimple).await;
}
