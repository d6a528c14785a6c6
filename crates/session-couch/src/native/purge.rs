//! Deleting expired sessions and lapsed tombstones of the native layout in
//! `_bulk_docs` batches, found through a Mango index on `expires_at`; and
//! `clear`.
//!
//! Both touch only the store's own documents (ids `s:...` shaped like a
//! session), and both give up with an error when rounds of deletes keep
//! deleting nothing ([`Progress`]).

use serde::Deserialize;
use serde_json::json;
use session_core::{Clock, Error, backend};

use super::doc;
use crate::{
    all_docs,
    bulk::{IdRev, Progress, delete},
    http::Couch,
};

/// The design document and name of the Mango index on `expires_at`.
const INDEX: &str = "session-expiry";

/// Documents per round of `clear`.
const CLEAR_PAGE: usize = 1000;

#[derive(Deserialize)]
struct Found {
    docs: Vec<IdRev>,
}

/// Creates the index on `expires_at` unless it exists.
pub(crate) async fn ensure_index(couch: &Couch) -> Result<(), Error> {
    let index =
        json!({ "index": { "fields": ["expires_at"] }, "name": INDEX, "ddoc": INDEX, "type": "json" });
    couch.post("_index", &index).await.map(drop)
}

/// Deletes the store's documents whose expiry passed, `batch` at a time;
/// returns how many.
pub(crate) async fn purge(couch: &Couch, clock: &dyn Clock, batch: usize) -> Result<u64, Error> {
    let mut deleted = 0;
    let mut progress = Progress::new();
    loop {
        let now = backend::unix_millis(clock.now());
        let query = json!({
            "selector": {
                "expires_at": { "$lte": now },
                "_id": { "$regex": format!("^{}", doc::PREFIX) },
                "destroyed": { "$in": [true, false] },
            },
            "fields": ["_id", "_rev"],
            "limit": batch,
            "use_index": INDEX,
        });
        let found: Found = serde_json::from_slice(&couch.post("_find", &query).await?)
            .map_err(|e| Error::Backend(Box::new(e)))?;
        let count = found.docs.len();
        let round = delete(couch, found.docs).await?;
        progress.round("purge", count, &round)?;
        deleted += round.count;
        if count < batch {
            return Ok(deleted);
        }
    }
}

/// Deletes every session document (live, expired, tombstone), those under
/// ids no Rust string holds included.
pub(crate) async fn delete_all(couch: &Couch) -> Result<(), Error> {
    let mut progress = Progress::new();
    loop {
        // Deleted documents leave the range: each round takes the first.
        let docs = all_docs::first(couch, doc::PREFIX, CLEAR_PAGE).await?;
        if docs.is_empty() {
            return Ok(());
        }
        let count = docs.len();
        let round = delete(couch, docs).await?;
        progress.round("clear", count, &round)?;
    }
}
