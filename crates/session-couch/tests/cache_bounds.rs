//! How long a cache can serve a session that is gone: within the documented
//! bound (2 × heartbeat) across processes, and never after a `destroy` in
//! its own process, even one racing reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{builder, cached_pair, couch_url, delete_at_end, session, unique_db};
use session_core::{SessionId, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destroy_in_one_store_stops_the_others_cache_within_the_bound() {
    let heartbeat = Duration::from_millis(500);
    let db = unique_db("bound");
    let _deleted = delete_at_end(&db);
    let (a, b) = cached_pair(&couch_url(), &db, heartbeat, Duration::from_secs(5)).await;
    let mut slowest = Duration::ZERO;
    for round in 0..5 {
        let id = SessionId::generate();
        a.set(&id, &session(round)).await.unwrap();
        assert!(b.get(&id).await.unwrap().is_some());
        assert!(b.cached(&id).await.is_some(), "b serves it from its cache");
        a.destroy(&id).await.unwrap();
        let destroyed = std::time::Instant::now();
        while b.get(&id).await.unwrap().is_some() {
            assert!(
                destroyed.elapsed() <= 2 * heartbeat,
                "b served a session destroyed {:?} ago",
                destroyed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        slowest = slowest.max(destroyed.elapsed());
    }
    println!("b stopped serving destroyed sessions within {slowest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_get_racing_a_destroy_never_puts_the_session_back() {
    let db = unique_db("race");
    let _deleted = delete_at_end(&db);
    let store = Arc::new(builder(&couch_url(), &db).cache(true).build().await.unwrap());
    let writer = builder(&couch_url(), &db).build().await.unwrap(); // another process
    common::until("the feed connects", Duration::from_secs(10), async || {
        store.is_synced()
    })
    .await;
    for round in 0..60 {
        let id = SessionId::generate();
        writer.set(&id, &session(round)).await.unwrap(); // not in store's cache: its gets read the server
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (store, id) = (Arc::clone(&store), id.clone());
                tokio::spawn(async move { store.get(&id).await })
            })
            .collect();
        store.destroy(&id).await.unwrap();
        for reader in readers {
            reader.await.unwrap().unwrap();
        }
        assert!(
            store.get(&id).await.unwrap().is_none(),
            "round {round}: a destroyed session came back from the cache"
        );
        assert!(store.cached(&id).await.is_none(), "round {round}");
    }
}
