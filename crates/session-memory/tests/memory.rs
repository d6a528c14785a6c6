//! Behaviour specific to the memory store, beyond the conformance suite.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use session_core::backend::SessionParts;
use std::{sync::Arc, time::Duration};

use serde_json::json;
use session_core::{Clock, Error, Session, SessionId, Store, clock::SkewedClock};
use session_memory::MemoryStore;
use time::{OffsetDateTime, macros::datetime};

fn session(n: usize) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(3600));
    session.insert("n", n).unwrap();
    session
}

#[tokio::test]
async fn clones_share_sessions() {
    let store = MemoryStore::new();
    let clone = store.clone();
    let id = SessionId::generate();
    clone.set(&id, &session(1)).await.unwrap();
    assert_eq!(
        store.get(&id).await.unwrap().unwrap().get::<usize>("n").unwrap(),
        Some(1)
    );
    store.destroy(&id).await.unwrap();
    assert!(
        clone.set(&id, &session(2)).await.is_err(),
        "the clone sees the tombstone"
    );
}

#[tokio::test]
async fn capacity_bound_evicts_old_sessions_and_admits_new_ones() {
    let store = MemoryStore::builder().max_capacity(100).build().unwrap();
    let ids: Vec<_> = (0..300).map(|_| SessionId::generate()).collect();
    for (n, id) in ids.iter().enumerate() {
        store.set(id, &session(n)).await.unwrap();
    }
    store.run_pending_tasks().await;
    let length = store.length().await.unwrap();
    assert!(
        (90..=100).contains(&length),
        "length {length} after 300 writes with capacity 100"
    );
    let newest = store.get(&ids[299]).await.unwrap();
    assert!(
        newest.is_some(),
        "the newest session must be admitted (LRU, not TinyLFU admission)"
    );
    assert!(
        store.get(&ids[0]).await.unwrap().is_none(),
        "the oldest session is evicted first"
    );
}

#[tokio::test]
async fn tombstones_outlive_capacity_pressure() {
    let store = MemoryStore::builder().max_capacity(100).build().unwrap();
    let destroyed = SessionId::generate();
    store.create(&destroyed, &session(0)).await.unwrap();
    store.destroy(&destroyed).await.unwrap();
    for n in 0..1_000 {
        store.set(&SessionId::generate(), &session(n)).await.unwrap();
    }
    store.run_pending_tasks().await;
    assert!(store.length().await.unwrap() <= 100, "live sessions stay bounded");
    assert!(
        matches!(store.set(&destroyed, &session(1)).await, Err(Error::Destroyed)),
        "a late save after ten capacities of other writes is still refused"
    );
    assert!(store.get(&destroyed).await.unwrap().is_none());
    assert_eq!(store.tombstones(), 1);
}

#[tokio::test]
async fn tombstones_stay_bounded_by_the_grace_window() {
    let store = MemoryStore::builder()
        .tombstone_grace(Duration::from_millis(50))
        .build()
        .unwrap();
    for _ in 0..20_000 {
        store.destroy(&SessionId::generate()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    for _ in 0..20_000 {
        store.destroy(&SessionId::generate()).await.unwrap();
    }
    assert!(
        store.tombstones() < 30_000,
        "lapsed tombstones are swept as new ones arrive: {}",
        store.tombstones()
    );
}

/// A store whose clock the test can step.
fn on_a_clock_of_its_own() -> (SkewedClock, MemoryStore) {
    let clock = SkewedClock::new(time::Duration::ZERO);
    let store = MemoryStore::builder()
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (clock, store)
}

#[tokio::test]
async fn a_wall_clock_stepping_backwards_never_extends_a_session() {
    let (clock, store) = on_a_clock_of_its_own();
    let id = SessionId::generate();
    let expires = clock.now() + Duration::from_millis(800);
    store.set(&id, &session(0).expiring_at(expires)).await.unwrap();
    clock.set_offset(time::Duration::hours(-1));
    assert!(
        store.get(&id).await.unwrap().is_some(),
        "live until its time is up"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(
        store.get(&id).await.unwrap().is_none(),
        "by the application's clock the session has an hour left, but its 800 ms are over"
    );
    assert_eq!(store.length().await.unwrap(), 0);
    assert!(store.all().await.unwrap().is_empty());
    assert!(matches!(store.touch(&id, None).await, Err(Error::NotFound)));
}

#[tokio::test]
async fn a_wall_clock_stepping_forwards_ends_sessions_it_passes() {
    let (clock, store) = on_a_clock_of_its_own();
    let id = SessionId::generate();
    store
        .set(
            &id,
            &session(0).expiring_at(clock.now() + Duration::from_secs(60)),
        )
        .await
        .unwrap();
    clock.set_offset(time::Duration::minutes(2));
    assert!(
        store.get(&id).await.unwrap().is_none(),
        "expired by the application's clock"
    );
}

#[tokio::test]
async fn tombstones_use_the_monotonic_clock() {
    let clock = SkewedClock::new(time::Duration::ZERO);
    let store = MemoryStore::builder()
        .clock(Arc::new(clock.clone()))
        .tombstone_grace(Duration::from_secs(60))
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.destroy(&id).await.unwrap();
    clock.set_offset(time::Duration::hours(2));
    assert!(
        matches!(store.set(&id, &session(0)).await, Err(Error::Destroyed)),
        "a clock jumping past the grace window does not lift the tombstone"
    );
}

#[tokio::test]
async fn length_is_exact_at_scale() {
    let store = MemoryStore::new();
    let soon = OffsetDateTime::now_utc() + Duration::from_millis(300);
    for n in 0..10_000 {
        let id = SessionId::generate();
        store.set(&id, &session(n)).await.unwrap();
        if n % 10 == 0 {
            store.destroy(&id).await.unwrap(); // 1 000 tombstones
        } else if n % 10 == 1 {
            store.set(&id, &session(n).expiring_at(soon)).await.unwrap(); // 1 000 expiring
        }
    }
    assert_eq!(store.length().await.unwrap(), 9_000);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.length().await.unwrap(),
        8_000,
        "expired sessions not yet evicted must not count"
    );
    assert_eq!(store.all().await.unwrap().len(), 8_000);
}

#[tokio::test]
async fn far_future_expiry_is_kept() {
    let store = MemoryStore::new();
    let id = SessionId::generate();
    let at = datetime!(9999-12-31 23:59:59.999 UTC);
    store.set(&id, &Session::new().expiring_at(at)).await.unwrap();
    assert_eq!(
        store.get(&id).await.unwrap().and_then(|s| s.expires_at()),
        Some(at)
    );
}

#[tokio::test]
async fn reads_share_data_instead_of_copying_it() {
    let store = MemoryStore::new();
    let id = SessionId::generate();
    let mut written = session(0);
    written.insert("blob", "x".repeat(100_000)).unwrap();
    store.set(&id, &written).await.unwrap();
    let (a, b) = (
        store.get(&id).await.unwrap().unwrap(),
        store.get(&id).await.unwrap().unwrap(),
    );
    assert!(Arc::ptr_eq(a.shared_data(), b.shared_data()));
    assert!(Arc::ptr_eq(a.shared_data(), written.shared_data()));
    let mut changed = a.clone();
    changed.insert("extra", json!(true)).unwrap();
    assert!(
        store
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .get::<bool>("extra")
            .unwrap()
            .is_none(),
        "changing a read copy leaves the store alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usable_as_arc_dyn_store_across_tasks() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for n in 0..250 {
                    let id = SessionId::generate();
                    store.create(&id, &session(worker * 1000 + n)).await.unwrap();
                    assert!(store.get(&id).await.unwrap().is_some());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.length().await.unwrap(), 2_000);
}

#[test]
fn debug_shows_settings_only() {
    let store = MemoryStore::builder().max_capacity(5).build().unwrap();
    let shown = format!("{store:?}");
    assert!(
        shown.starts_with("MemoryStore {") && shown.contains("max_capacity: Some(5)"),
        "{shown}"
    );
}
