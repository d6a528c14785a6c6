//! The application's clock decides every expiry: writes, reads, listings,
//! the cache and the purge all read "now" from the store's clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{builder, couch_url, delete_at_end, session, unique_db};
use session_core::{SessionId, Store, clock::SkewedClock};

#[tokio::test]
async fn a_store_whose_clock_runs_an_hour_ahead_sees_sooner_expiries_as_past() {
    let db = unique_db("clock");
    let _deleted = delete_at_end(&db);
    let ahead = Arc::new(SkewedClock::new(time::Duration::hours(1)));
    let late = builder(&couch_url(), &db).clock(ahead).build().await.unwrap();
    let cached_late = builder(&couch_url(), &db)
        .clock(Arc::new(SkewedClock::new(time::Duration::hours(1))))
        .cache(true)
        .build()
        .await
        .unwrap();
    let on_time = builder(&couch_url(), &db).build().await.unwrap();

    let id = SessionId::generate();
    on_time.set(&id, &session(1)).await.unwrap(); // ten minutes left, by the system clock
    assert!(on_time.get(&id).await.unwrap().is_some());
    assert!(
        late.get(&id).await.unwrap().is_none(),
        "expired by the late store's clock"
    );
    assert!(cached_late.get(&id).await.unwrap().is_none());
    assert_eq!(late.length().await.unwrap(), 0);
    assert!(late.all().await.unwrap().is_empty());
    assert!(
        matches!(late.touch(&id, None).await, Err(session_core::Error::NotFound)),
        "touch never revives"
    );

    assert_eq!(
        late.purge_expired().await.unwrap(),
        1,
        "purged by the late store's clock"
    );
    assert!(on_time.get(&id).await.unwrap().is_none());

    let written_late = SessionId::generate();
    late.set(&written_late, &session(2)).await.unwrap(); // already past for it: not kept
    assert!(on_time.get(&written_late).await.unwrap().is_none());

    let defaulted = SessionId::generate();
    late.set(&defaulted, &session_core::Session::new()).await.unwrap();
    let expires = on_time
        .get(&defaulted)
        .await
        .unwrap()
        .unwrap()
        .expires_at()
        .unwrap();
    let from_now = expires - time::OffsetDateTime::now_utc();
    assert!(
        from_now > time::Duration::hours(24) + time::Duration::minutes(59),
        "the default TTL counts from the late clock's now: {from_now}"
    );
}
