//! Deleting expired sessions and lapsed tombstones in `_bulk_docs` batches,
//! found through a Mango index on `expires_at`; and `clear`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use session_core::{Error, expiry};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{doc, http::Couch};

/// The design document and name of the Mango index on `expires_at`.
pub(crate) const INDEX: &str = "session-expiry";

#[derive(Deserialize)]
struct Found {
    docs: Vec<IdRev>,
}

#[derive(Deserialize)]
struct IdRev {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "_rev")]
    rev: String,
}

pub(crate) async fn ensure_index(couch: &Couch) -> Result<(), Error> {
    let index =
        json!({ "index": { "fields": ["expires_at"] }, "name": INDEX, "ddoc": INDEX, "type": "json" });
    couch.post("_index", &index).await.map(drop)
}

/// Deletes documents whose expiry passed, `batch` at a time; returns how many.
pub(crate) async fn purge(couch: &Couch, batch: usize) -> Result<u64, Error> {
    let mut deleted = 0;
    loop {
        let now = expiry::unix_millis(OffsetDateTime::now_utc());
        let query = json!({
            "selector": { "expires_at": { "$lte": now }, "_id": { "$gt": doc::PREFIX } },
            "fields": ["_id", "_rev"],
            "limit": batch,
            "use_index": INDEX,
        });
        let found: Found = serde_json::from_slice(&couch.post("_find", &query).await?)
            .map_err(|e| Error::Backend(Box::new(e)))?;
        let count = found.docs.len();
        deleted += delete(couch, found.docs).await?;
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
    loop {
        let page: Page = serde_json::from_slice(&couch.all_docs(None, 1000).await?)
            .map_err(|e| Error::Backend(Box::new(e)))?;
        if page.rows.is_empty() {
            return Ok(());
        }
        let docs = page
            .rows
            .into_iter()
            .map(|row| IdRev {
                id: row.id,
                rev: row.value.rev,
            })
            .collect();
        delete(couch, docs).await?;
    }
}

/// One `_bulk_docs` request deleting `docs`; returns how many went. A
/// document changed meanwhile (a conflict) is left for the next round.
async fn delete(couch: &Couch, docs: Vec<IdRev>) -> Result<u64, Error> {
    if docs.is_empty() {
        return Ok(0);
    }
    let deletions: Vec<_> = docs
        .iter()
        .map(|d| json!({ "_id": d.id, "_rev": d.rev, "_deleted": true }))
        .collect();
    let reply = couch.post("_bulk_docs", &json!({ "docs": deletions })).await?;
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&reply).map_err(|e| Error::Backend(Box::new(e)))?;
    Ok(results.iter().filter(|r| r.get("error").is_none()).count() as u64)
}

/// Purges every `interval` (±50 % jitter) until `stop` closes.
pub(crate) fn spawn(couch: Couch, batch: usize, interval: Duration, mut stop: watch::Receiver<()>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(session_core::backend::jittered(interval)) => {}
            }
            match purge(&couch, batch).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "purged expired sessions"),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed; will retry"),
            }
        }
    });
}
