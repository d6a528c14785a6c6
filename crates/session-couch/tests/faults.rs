//! Faults made for real: a throwaway server killed or frozen (SIGSTOP) by
//! its PID, a database deleted under the store, writes a validation
//! function refuses. Every call ends within its timeout with a typed error,
//! no error text holds a session id, and a frozen server stops the cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    builder, cached_pair, couch_url, delete_at_end, session, throwaway::Throwaway, unique_db, until,
};
use serde_json::json;
use session_core::{Error, SessionId, Store};
use session_couch::CouchStore;

/// Fails if `error`'s text, its `Debug`, or any of its sources' holds `id`
/// (as written, or percent-encoded as in a request URL).
fn assert_no_id(error: &Error, id: &SessionId) {
    let encoded =
        percent_encoding::utf8_percent_encode(id.as_str(), percent_encoding::NON_ALPHANUMERIC).to_string();
    let mut texts = vec![error.to_string(), format!("{error:?}")];
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        texts.push(inner.to_string());
        texts.push(format!("{inner:?}"));
        source = inner.source();
    }
    for text in texts {
        assert!(
            !text.contains(id.as_str()) && !text.contains(&encoded),
            "an error shows the session id: {text}"
        );
    }
}

/// Runs every call that names `id` and returns the errors they gave.
async fn errors_of_every_call(store: &CouchStore, id: &SessionId) -> Vec<Error> {
    let mut errors = vec![
        store.get(id).await.err(),
        store.set(id, &session(1)).await.err(),
        store.create(id, &session(1)).await.err(),
        store.touch(id, None).await.err(),
        store.destroy(id).await.err(),
        store.length().await.err(),
        store.all().await.err(),
    ];
    errors.retain(Option::is_some);
    errors.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_gives_unavailable_errors_without_ids() {
    let server = Throwaway::start_anywhere().await;
    let store = builder(&server.url(), &unique_db("killed"))
        .timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    server.kill().await;
    let id = SessionId::generate();
    let errors = errors_of_every_call(&store, &id).await;
    assert_eq!(errors.len(), 7, "every call fails: {errors:?}");
    for error in &errors {
        assert!(error.is_transient(), "{error:?}");
        assert_no_id(error, &id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_ends_every_call_within_its_timeout_without_ids() {
    let server = Throwaway::start_anywhere().await;
    let timeout = Duration::from_millis(300);
    let store = builder(&server.url(), &unique_db("frozen"))
        .timeout(timeout)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, &session(1)).await.unwrap();
    server.pause();
    let started = Instant::now();
    let errors = errors_of_every_call(&store, &id).await;
    server.resume();
    assert_eq!(errors.len(), 7, "every call fails: {errors:?}");
    for error in &errors {
        assert!(matches!(error, Error::Timeout(t) if *t == timeout), "{error:?}");
        assert_no_id(error, &id);
    }
    // Seven calls of 300 ms each, with room for a loaded machine.
    assert!(
        started.elapsed() < 7 * timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        store.get(&id).await.unwrap().is_some(),
        "answers again once resumed"
    );
}

#[tokio::test]
async fn a_deleted_database_and_refused_writes_give_errors_without_ids() {
    let db = unique_db("gone");
    let store = builder(&couch_url(), &db).build().await.unwrap();
    let http = reqwest::Client::new();
    // A validation function refusing tombstones, with a reason that names
    // the document, as apps' functions do.
    let refuse = "function(doc) { if (doc.destroyed) { throw({forbidden: 'refused ' + doc._id}); } }";
    let design = http
        .put(format!("{}/{db}/_design/refuse", couch_url()))
        .header("Content-Type", "application/json")
        .body(json!({ "validate_doc_update": refuse }).to_string())
        .send()
        .await
        .unwrap();
    assert!(design.status().is_success());
    let id = SessionId::generate();
    store.set(&id, &session(1)).await.unwrap();
    let error = store.destroy(&id).await.unwrap_err();
    assert!(error.to_string().contains("forbidden"), "{error}");
    assert_no_id(&error, &id);

    let deleted = http.delete(format!("{}/{db}", couch_url())).send().await.unwrap();
    assert!(deleted.status().is_success());
    let errors = errors_of_every_call(&store, &id).await;
    assert!(errors.len() >= 4, "writes and listings fail: {errors:?}");
    for error in &errors {
        assert_no_id(error, &id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_writers_cut_off_by_their_timeout_show_no_ids() {
    let db = unique_db("contended");
    let _deleted = delete_at_end(&db);
    let stores: Vec<CouchStore> = futures_util::future::join_all((0..4).map(|_| {
        builder(&couch_url(), &db)
            .timeout(Duration::from_millis(500))
            .build()
    }))
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    let id = SessionId::generate();
    stores[0].set(&id, &session(0)).await.unwrap();
    let writes = (0..40).map(|n| {
        let (store, id) = (stores[n % 4].clone(), id.clone());
        tokio::spawn(async move { store.set(&id, &session(n as u64)).await.err() })
    });
    for error in futures_util::future::join_all(writes)
        .await
        .into_iter()
        .flatten()
        .flatten()
    {
        assert!(
            matches!(error, Error::Timeout(_) | Error::Backend(_)),
            "{error:?}"
        );
        assert_no_id(&error, &id);
    }
    assert!(
        stores[1].get(&id).await.unwrap().is_some(),
        "the session survives the contention"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_server_stops_the_cache_within_two_heartbeats() {
    let server = Throwaway::start_anywhere().await;
    let heartbeat = Duration::from_millis(500);
    let (a, b) = cached_pair(
        &server.url(),
        &unique_db("paused"),
        heartbeat,
        Duration::from_millis(300),
    )
    .await;
    let id = SessionId::generate();
    b.set(&id, &session(1)).await.unwrap();
    assert!(a.get(&id).await.unwrap().is_some());
    // Freeze the server right after the feed delivered b's next write to a:
    // the feed's last sign of life is then known to the millisecond.
    b.set(&id, &session(2)).await.unwrap();
    until(
        "a's feed delivers b's write",
        Duration::from_secs(2),
        async || a.cached(&id).await.and_then(|s| s.get::<u64>("n").unwrap()) == Some(2),
    )
    .await;
    server.pause();
    let frozen = Instant::now();
    let served = loop {
        let asked = frozen.elapsed();
        if !matches!(a.get(&id).await, Ok(Some(_))) {
            break asked;
        }
        assert!(
            asked < Duration::from_secs(5),
            "still served from the cache after {asked:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let bound = 2 * heartbeat;
    assert!(
        served <= bound + Duration::from_millis(250),
        "served from the cache {served:?} after the server froze; the bound is {bound:?}"
    );
    assert!(!a.is_synced());
    assert!(
        matches!(a.get(&id).await, Err(Error::Timeout(_))),
        "reads go to the server"
    );
    server.resume();
    until("the feed comes back", Duration::from_secs(15), async || {
        a.is_synced()
    })
    .await;
    assert!(a.get(&id).await.unwrap().is_some());
    assert!(frozen.elapsed() < Duration::from_secs(30));
}

/// Open connections of this machine to 127.0.0.1:`port`, seen from the
/// client's side.
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let remote = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01") // ESTABLISHED
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_store_ends_its_feed_even_while_the_server_hangs() {
    let server = Throwaway::start_anywhere().await;
    let store = builder(&server.url(), &unique_db("dropped"))
        .cache(true)
        .heartbeat(Duration::from_millis(200))
        .timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    until("the feed connects", Duration::from_secs(10), async || {
        store.is_synced()
    })
    .await;
    assert!(
        connections_to(server.port()) >= 1,
        "the feed's connection is open"
    );
    server.pause();
    until("the feed goes silent", Duration::from_secs(5), async || {
        !store.is_synced()
    })
    .await;
    // Long enough for the feed to be reopening against the frozen server.
    tokio::time::sleep(Duration::from_millis(800)).await;
    drop(store);
    until("every connection closes", Duration::from_secs(3), async || {
        connections_to(server.port()) == 0
    })
    .await;
    server.resume();
}
