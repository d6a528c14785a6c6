//! CouchDB-specific behaviour, against the real (CouchDB-compatible) server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{builder, couch_url, delete_at_end, throwaway::Throwaway, unique_db};
use serde_json::json;
use session_core::{Error, Session, SessionId, Store};
use session_couch::CouchStore;
use time::OffsetDateTime;

fn session(n: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(600));
    session.insert("n", n).unwrap();
    session
}

fn n_of(session: &Session) -> Option<u64> {
    session.get::<u64>("n").unwrap()
}

async fn until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

async fn cached_pair(url: &str, db: &str) -> (CouchStore, CouchStore) {
    let a = builder(url, db)
        .cache(true)
        .heartbeat(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    let b = builder(url, db)
        .cache(true)
        .heartbeat(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    until("both feeds connect", Duration::from_secs(5), async || {
        a.is_synced() && b.is_synced()
    })
    .await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_and_destroys_in_one_process_reach_the_other_processes_cache() {
    let db = unique_db("sync");
    let _deleted = delete_at_end(&db);
    let (a, b) = cached_pair(&couch_url(), &db).await;
    let mut latencies = Vec::new();
    for round in 0..10 {
        let id = SessionId::generate();
        a.set(&id, &session(round)).await.unwrap();
        assert!(b.get(&id).await.unwrap().is_some());
        assert_eq!(
            b.cached(&id).await.as_ref().and_then(n_of),
            Some(round),
            "b caches what it read"
        );

        a.set(&id, &session(round + 100)).await.unwrap();
        latencies.push(
            until("b sees a's write", Duration::from_secs(2), async || {
                b.cached(&id).await.as_ref().and_then(n_of) == Some(round + 100)
            })
            .await,
        );
        assert_eq!(
            b.get(&id).await.unwrap().as_ref().and_then(n_of),
            Some(round + 100)
        );

        a.destroy(&id).await.unwrap();
        latencies.push(
            until("b evicts what a destroyed", Duration::from_secs(2), async || {
                b.cached(&id).await.is_none()
            })
            .await,
        );
        assert!(b.get(&id).await.unwrap().is_none());
        assert!(
            matches!(b.set(&id, &session(0)).await, Err(Error::Destroyed)),
            "b sees a's tombstone"
        );
    }
    latencies.sort();
    println!(
        "cache sync latency over {} changes: median {:?}, max {:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_writes_from_two_processes_never_lose_the_last_acknowledged_one() {
    let db = unique_db("conflict");
    let _deleted = delete_at_end(&db);
    let (a, b) = cached_pair(&couch_url(), &db).await;
    let reader = builder(&couch_url(), &db).build().await.unwrap(); // no cache: reads the server
    let (a, b) = (Arc::new(a), Arc::new(b));
    let id = SessionId::generate();
    a.set(&id, &session(0)).await.unwrap();
    for round in 1..=30u64 {
        let (a2, b2, id_a, id_b) = (Arc::clone(&a), Arc::clone(&b), id.clone(), id.clone());
        let from_a = tokio::spawn(async move { a2.set(&id_a, &session(round * 10 + 1)).await });
        let from_b = tokio::spawn(async move { b2.set(&id_b, &session(round * 10 + 2)).await });
        from_a.await.unwrap().unwrap();
        from_b.await.unwrap().unwrap();
        let stored = reader.get(&id).await.unwrap().as_ref().and_then(n_of);
        assert!(
            matches!(stored, Some(n) if n == round * 10 + 1 || n == round * 10 + 2),
            "round {round}: both writes acknowledged, the server holds {stored:?}"
        );
    }
    a.set(&id, &session(999)).await.unwrap();
    assert_eq!(reader.get(&id).await.unwrap().as_ref().and_then(n_of), Some(999));
}

#[tokio::test]
async fn ids_couchdb_reserves_are_stored_safely() {
    let db = unique_db("reserved");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db).build().await.unwrap();
    for text in [
        "_design/x",
        "_local/y",
        "_users",
        "_all_docs",
        "_changes",
        "s:nested",
        "%2F/..",
    ] {
        let id = SessionId::parse(text).unwrap();
        store.create(&id, &session(7)).await.unwrap();
        assert_eq!(
            store.get(&id).await.unwrap().as_ref().and_then(n_of),
            Some(7),
            "{text}"
        );
    }
    assert_eq!(
        store.length().await.unwrap(),
        7,
        "design documents (the expiry index) are not sessions"
    );
}

#[tokio::test]
async fn the_database_is_created_if_missing_and_refused_otherwise() {
    let db = unique_db("created");
    let _deleted = delete_at_end(&db);
    let refused = builder(&couch_url(), &db).create_database(false).build().await;
    assert!(matches!(refused, Err(Error::InvalidInput(_))), "{refused:?}");
    let store = builder(&couch_url(), &db).build().await.unwrap();
    assert_eq!(store.database(), db);
    builder(&couch_url(), &db)
        .create_database(false)
        .build()
        .await
        .unwrap();
    let bad = builder(&couch_url(), "Not_Valid").build().await;
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_deletes_ten_thousand_expired_documents_in_batches_and_keeps_live_ones() {
    let db = unique_db("purge");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db)
        .purge_batch(1000)
        .build()
        .await
        .unwrap();
    let past = session_core::backend::unix_millis(OffsetDateTime::now_utc()) - 1;
    let http = reqwest::Client::new();
    for chunk in 0..10 {
        let docs: Vec<_> = (0..1000)
            .map(|n| json!({ "_id": format!("s:bulk-{chunk}-{n}"), "expires_at": past, "destroyed": false, "data": "{}" }))
            .collect();
        let reply = http
            .post(format!("{}/{db}/_bulk_docs", couch_url()))
            .header("Content-Type", "application/json")
            .body(json!({ "docs": docs }).to_string())
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
    }
    let live: Vec<SessionId> = (0..50).map(|_| SessionId::generate()).collect();
    for id in &live {
        store.set(id, &session(1)).await.unwrap();
    }
    assert_eq!(
        store.length().await.unwrap(),
        50,
        "expired documents are not sessions"
    );
    assert_eq!(store.purge_expired().await.unwrap(), 10_000);
    assert_eq!(store.length().await.unwrap(), 50);
    for id in &live[..5] {
        assert!(store.get(id).await.unwrap().is_some());
    }
    assert_eq!(store.purge_expired().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_feed_survives_a_server_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let db = unique_db("restart");
    let server = Throwaway::start(port).await;
    let (a, b) = cached_pair(&url, &db).await;
    let before = SessionId::generate();
    a.set(&before, &session(1)).await.unwrap();
    assert!(b.get(&before).await.unwrap().is_some());

    server.kill().await;
    until(
        "the feeds notice the outage",
        Duration::from_secs(5),
        async || !a.is_synced() && !b.is_synced(),
    )
    .await;
    let during = b.get(&before).await;
    assert!(
        matches!(&during, Err(e) if e.is_transient()),
        "the cache is bypassed while the feed is down: {during:?}"
    );

    // The test server keeps nothing on disk: it comes back empty.
    let _server = Throwaway::start(port).await;
    builder(&url, &db).build().await.unwrap(); // recreate the database
    until("both feeds reconnect", Duration::from_secs(10), async || {
        a.is_synced() && b.is_synced()
    })
    .await;

    let after = SessionId::generate();
    a.set(&after, &session(2)).await.unwrap();
    assert!(b.get(&after).await.unwrap().is_some());
    a.destroy(&after).await.unwrap();
    until(
        "b evicts a destroy made after the restart",
        Duration::from_secs(2),
        async || b.cached(&after).await.is_none(),
    )
    .await;
    assert!(b.get(&after).await.unwrap().is_none());
}

#[tokio::test]
async fn debug_output_shows_no_credentials() {
    let builder = CouchStore::builder()
        .url("http://admin:hunter2@127.0.0.1:5984")
        .credentials("admin", "hunter2");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let db = unique_db("debug");
    let _deleted = delete_at_end(&db);
    let store = common::builder(&couch_url(), &db).build().await.unwrap();
    let shown = format!("{store:?}");
    assert!(
        shown.contains("CouchStore") && !shown.contains("127.0.0.1"),
        "{shown}"
    );
}
