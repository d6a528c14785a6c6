//! `migrate::DualWrite` on in-process stores: writes reach both stores, a
//! logout sticks in both, and a copy racing the app loses nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use session_core::{
    Error, Session, SessionId, Store,
    migrate::{DualWrite, Migration, Reads},
};
use session_memory::MemoryStore;
use time::{Duration, OffsetDateTime};

fn session(n: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::minutes(30));
    session.insert("n", n).unwrap();
    session
}

fn stores() -> (MemoryStore, MemoryStore, DualWrite<MemoryStore, MemoryStore>) {
    let (old, new) = (MemoryStore::new(), MemoryStore::new());
    (old.clone(), new.clone(), DualWrite::new(old, new))
}

#[tokio::test]
async fn every_write_reaches_both_stores() {
    let (old, new, dual) = stores();
    let id = SessionId::generate();
    dual.create(&id, &session(1)).await.unwrap();
    assert!(matches!(
        dual.create(&id, &session(2)).await,
        Err(Error::AlreadyExists)
    ));
    dual.set(&id, &session(3)).await.unwrap();
    let later = OffsetDateTime::now_utc() + Duration::hours(2);
    dual.touch(&id, Some(later)).await.unwrap();
    for store in [&old, &new] {
        let stored = store.get(&id).await.unwrap().unwrap();
        assert_eq!(stored.get::<u64>("n").unwrap(), Some(3));
        assert_eq!(
            stored.expires_at(),
            Session::new().expiring_at(later).expires_at()
        );
    }
    dual.destroy(&id).await.unwrap();
    for store in [&old, &new] {
        assert!(store.get(&id).await.unwrap().is_none());
        assert!(matches!(store.set(&id, &session(4)).await, Err(Error::Destroyed)));
    }
}

#[tokio::test]
async fn a_refusal_in_either_store_ends_the_session_in_both() {
    let (old, new, dual) = stores();
    let id = SessionId::generate();
    dual.set(&id, &session(1)).await.unwrap();
    new.destroy(&id).await.unwrap(); // say a new-only instance logged it out
    assert!(matches!(dual.set(&id, &session(2)).await, Err(Error::Destroyed)));
    assert!(
        old.get(&id).await.unwrap().is_none(),
        "the logout reached the old store"
    );

    let other = SessionId::generate();
    dual.set(&other, &session(1)).await.unwrap();
    old.destroy(&other).await.unwrap();
    assert!(matches!(dual.touch(&other, None).await, Err(Error::Destroyed)));
    assert!(
        new.get(&other).await.unwrap().is_none(),
        "the logout reached the new store"
    );
}

#[tokio::test]
async fn reads_fall_back_to_the_new_store_but_never_past_a_logout() {
    let (old, new, dual) = stores();
    let lost = SessionId::generate();
    new.set(&lost, &session(1)).await.unwrap(); // the old store lost it
    let found = dual.get(&lost).await.unwrap().expect("served from the new store");
    assert_eq!(found.get::<u64>("n").unwrap(), Some(1));
    assert!(
        old.get(&lost).await.unwrap().is_some(),
        "and put back into the old one"
    );

    let logged_out = SessionId::generate();
    new.set(&logged_out, &session(2)).await.unwrap();
    old.destroy(&logged_out).await.unwrap(); // a logout the new store missed
    assert!(dual.get(&logged_out).await.unwrap().is_none());
    assert!(
        new.get(&logged_out).await.unwrap().is_none(),
        "the logout now sticks there too"
    );

    let new_reads = DualWrite::new(old.clone(), new.clone()).reads(Reads::New);
    let only_old = SessionId::generate();
    old.set(&only_old, &session(3)).await.unwrap();
    assert!(new_reads.get(&only_old).await.unwrap().is_none());
    assert_eq!(new_reads.length().await.unwrap(), new.length().await.unwrap());
}

#[tokio::test]
async fn a_touch_before_the_copy_arrives_keeps_the_later_expiry() {
    let (old, new, dual) = stores();
    let id = SessionId::generate();
    let read_by_copy = session(1);
    old.set(&id, &read_by_copy).await.unwrap();
    // The copy has read the session; the app touches it before the copy
    // creates it in the new store.
    let later = OffsetDateTime::now_utc() + Duration::hours(5);
    dual.touch(&id, Some(later)).await.unwrap();
    assert!(matches!(
        new.create(&id, &read_by_copy).await,
        Err(Error::AlreadyExists)
    ));
    let kept = new.get(&id).await.unwrap().unwrap();
    assert_eq!(kept.expires_at(), Session::new().expiring_at(later).expires_at());
}

/// The copy runs while the app destroys and rewrites sessions through the
/// wrapper: no destroyed session survives in the new store, and every
/// rewritten one holds its last write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_racing_logouts_and_writes_loses_nothing_and_revives_nothing() {
    let (old, new, dual) = stores();
    let mut ids = Vec::new();
    for n in 0..3_000 {
        let id = SessionId::generate();
        old.set(&id, &session(n)).await.unwrap();
        ids.push(id);
    }
    let dual = Arc::new(dual);
    let app = {
        let (dual, ids) = (Arc::clone(&dual), ids.clone());
        tokio::spawn(async move {
            for (n, id) in ids.iter().enumerate() {
                match n % 3 {
                    0 => dual.destroy(id).await.unwrap(),
                    1 => dual.set(id, &session(1_000_000 + n as u64)).await.unwrap(),
                    _ => {}
                }
                if n % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let report = Migration::new(&old, &new).concurrency(8).run().await;
    app.await.unwrap();
    assert!(report.is_complete(), "{report}");
    for (n, id) in ids.iter().enumerate() {
        let copied = new.get(id).await.unwrap();
        match n % 3 {
            0 => assert!(
                copied.is_none(),
                "destroyed session {n} survived in the new store"
            ),
            1 => assert_eq!(
                copied.expect("a rewritten session").get::<u64>("n").unwrap(),
                Some(1_000_000 + n as u64),
                "session {n} lost its last write"
            ),
            _ => assert_eq!(
                copied.expect("an untouched session").get::<u64>("n").unwrap(),
                Some(n as u64)
            ),
        }
    }
}
