//! `_bulk_docs` rounds, as both layouts' purges and clears send them, and
//! the count of rounds that deleted nothing, so a purge or clear whose
//! deletes keep being refused (a validation function, say) gives up with
//! an error instead of looping forever.

use serde::Deserialize;
use serde_json::json;
use session_core::Error;

use crate::http::Couch;

/// Rounds in a row that may delete nothing (their documents changed
/// meanwhile, a conflict) before a purge or clear gives up.
const STALLED_ROUNDS: u32 = 3;

/// A document to delete: its id and the revision found.
#[derive(Deserialize)]
pub(crate) struct IdRev {
    #[serde(rename = "_id")]
    pub(crate) id: String,
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
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
