//! Deleting expired sessions and lapsed tombstones in `_bulk_docs` batches,
//! found through a Mango index on `expires_at`; and `clear`.
//!
//! Both touch only the store's own documents (ids `s:...` shaped like a
//! session), and both give up with an error when rounds of deletes keep
//! deleting nothing (a validation function refusing deletes, say), instead
//! of looping forever.

use serde::Deserialize;
use serde_json::json;
use session_core::{Clock, Error, backend};

use crate::{doc, http::Couch};

/// The design document and name of the Mango index on `expires_at`.
pub(crate) const INDEX: &str = "session-expiry";

/// Rounds in a row that may delete nothing (their documents changed
/// meanwhile, a conflict) before a purge or clear gives up.
const STALLED_ROUNDS: u32 = 3;

#[derive(Deserialize)]
struct Found {
    docs: Vec<IdRev>,
}

#[derive(Deserialize)]
pub(crate) struct IdRev {
    #[serde(rename = "_id")]
    pub(crate) id: String,
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
}

pub(crate) async fn ensure_index(couch: &Couch) -> Result<(), Error> {
    let index =
        json!({ "index": { "fields": ["expires_at"] }, "name": INDEX, "ddoc": INDEX, "type": "json" });
    couch.post("_index", &index).await.map(drop)
}

/// Counts rounds that deleted nothing and says when to give up.
pub(crate) struct Progress {
    stalled: u32,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Self { stalled: 0 }
    }

    /// Records a round that found `found` documents and deleted `deleted`.
    pub(crate) fn round(&mut self, what: &str, found: usize, deleted: &Deleted) -> Result<(), Error> {
        if found == 0 || deleted.count > 0 {
            self.stalled = 0;
            return Ok(());
        }
        self.stalled += 1;
        if self.stalled < STALLED_ROUNDS {
            return Ok(());
        }
        let why = deleted.first_error.as_deref().unwrap_or("conflicts");
        Err(Error::Backend(
            format!("{what} gave up: {STALLED_ROUNDS} rounds in a row deleted none of the {found} documents found ({why})")
                .into(),
        ))
    }
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

/// What one `_bulk_docs` round deleted.
pub(crate) struct Deleted {
    pub(crate) count: u64,
    /// The kind of the first refusal (`forbidden`, `conflict`...): never a
    /// reason text, which may name the document.
    pub(crate) first_error: Option<String>,
}

/// One `_bulk_docs` request deleting `docs`. A document changed meanwhile
/// (a conflict) is left for the next round.
pub(crate) async fn delete(couch: &Couch, docs: Vec<IdRev>) -> Result<Deleted, Error> {
    let deletions = docs
        .iter()
        .map(|d| json!({ "_id": d.id, "_rev": d.rev, "_deleted": true }))
        .collect();
    write_all(couch, deletions).await
}

/// One `_bulk_docs` request writing `docs` (each naming its revision); what
/// it reports is how many were written.
pub(crate) async fn write_all(couch: &Couch, docs: Vec<serde_json::Value>) -> Result<Deleted, Error> {
    #[derive(Deserialize)]
    struct Outcome {
        #[serde(default)]
        error: Option<String>,
    }
    if docs.is_empty() {
        return Ok(Deleted {
            count: 0,
            first_error: None,
        });
    }
    let reply = couch.post("_bulk_docs", &json!({ "docs": docs })).await?;
    let outcomes: Vec<Outcome> = serde_json::from_slice(&reply).map_err(|e| Error::Backend(Box::new(e)))?;
    Ok(Deleted {
        count: outcomes.iter().filter(|o| o.error.is_none()).count() as u64,
        first_error: outcomes.into_iter().find_map(|o| o.error),
    })
}
