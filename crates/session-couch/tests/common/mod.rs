//! Shared by the CouchDB test files: the server's address and stores.

#![allow(dead_code, clippy::expect_used, clippy::panic)]

use session_conformance::Settings;
use session_couch::{CouchStore, CouchStoreBuilder};

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
