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
    bulk::{IdRev, Progress, delete},
    http::Couch,
};

/// The design document and name of the Mango index on `expires_at`.
const INDEX: &str = "session-expiry";

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

/// Deletes every session document (live, expired, tombstone).
pub(crate) async fn delete_all(couch: &Couch) -> Result<(), Error> {
    #[derive(Deserialize)]
    struct Page {
        rows: Vec<Row>,
    }
    #[derive(Deserialize)]
    struct Row {
        id: String,
        value: Rev,
    }
    #[derive(Deserialize)]
    struct Rev {
        rev: String,
    }
    let mut progress = Progress::new();
    loop {
        let page: Page = serde_json::from_slice(&couch.all_docs(doc::PREFIX, None, 1000, false).await?)
            .map_err(|e| Error::Backend(Box::new(e)))?;
        if page.rows.is_empty() {
            return Ok(());
        }
        let count = page.rows.len();
        let docs = page
            .rows
            .into_iter()
            .map(|row| IdRev {
                id: row.id,
                rev: row.value.rev,
            })
            .collect();
        let round = delete(couch, docs).await?;
        progress.round("clear", count, &round)?;
    }
}
