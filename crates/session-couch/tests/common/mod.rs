//! Shared by the CouchDB test files: the server's address and stores.

#![allow(dead_code, clippy::expect_used, clippy::panic)]

pub(crate) mod throwaway;

use std::time::{Duration, Instant};

use session_conformance::{Cleanup, Settings};
use session_core::Session;
use session_couch::{CouchStore, CouchStoreBuilder, Layout};
use time::OffsetDateTime;

/// The CouchDB-compatible server; `./scripts/test` starts it and sets `COUCH_URL`.
pub(crate) fn couch_url() -> String {
    std::env::var("COUCH_URL").unwrap_or_else(|_| "http://127.0.0.1:5984".into())
}

/// A builder on `url` for database `name`, with no background purge.
pub(crate) fn builder(url: &str, name: &str) -> CouchStoreBuilder {
    CouchStore::builder().url(url).database(name).purge_interval(None)
}

/// A store for one conformance check: the namespace becomes the database.
pub(crate) async fn store_for(settings: Settings, cache: bool) -> CouchStore {
    let url = couch_url();
    builder(&url, &settings.namespace)
        .lifetimes(settings.lifetimes)
        .cache(cache)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the CouchDB server at {url} must be reachable (run ./scripts/test): {e}"))
}

/// A store for one conformance check in `layout`, without the cache.
pub(crate) async fn layout_store_for(settings: Settings, layout: Layout) -> CouchStore {
    let url = couch_url();
    builder(&url, &settings.namespace)
        .lifetimes(settings.lifetimes)
        .layout(layout)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the CouchDB server at {url} must be reachable (run ./scripts/test): {e}"))
}

/// A database name no other test uses.
pub(crate) fn unique_db(label: &str) -> String {
    format!(
        "t_{label}_{}",
        session_core::SessionId::generate()
            .as_str()
            .to_lowercase()
            .replace(['-', '_'], "")[..10]
            .to_owned()
    )
}

/// A session holding `n`, live for ten minutes.
pub(crate) fn session(n: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(600));
    session.insert("n", n).expect("a number is storable");
    session
}

/// Polls `done` every 2 ms until it holds; fails past `limit`. Returns how long it took.
pub(crate) async fn until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

/// Two cached stores on one database (as two processes would be), both synced.
pub(crate) async fn cached_pair(
    url: &str,
    db: &str,
    heartbeat: Duration,
    timeout: Duration,
) -> (CouchStore, CouchStore) {
    let open = || {
        builder(url, db)
            .cache(true)
            .heartbeat(heartbeat)
            .timeout(timeout)
            .build()
    };
    let (a, b) = (open().await.expect("store a"), open().await.expect("store b"));
    until("both feeds connect", Duration::from_secs(10), async || {
        a.is_synced() && b.is_synced()
    })
    .await;
    (a, b)
}

/// The conformance suite's teardown: deletes the check's database (a
/// database that was never created is fine).
pub(crate) async fn delete_database(settings: Settings) {
    delete_named(settings.namespace).await;
}

/// Deletes database `name` on the shared server (one never created is fine).
async fn delete_named(name: String) {
    let url = format!("{}/{name}", couch_url());
    let response = reqwest::Client::new()
        .delete(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DELETE {url}: {e}"));
    let status = response.status();
    assert!(
        status.is_success() || status == reqwest::StatusCode::NOT_FOUND,
        "DELETE {url} answered {status}"
    );
}

/// Deletes database `name` on the shared server when the value returned
/// goes out of scope: at the end of the test, passed or failed.
pub(crate) fn delete_at_end(name: &str) -> Cleanup {
    Cleanup::new(delete_named(name.to_owned()))
}
