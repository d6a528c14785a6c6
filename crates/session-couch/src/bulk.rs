//! `_bulk_docs` rounds, as both layouts' purges and clears send them, and
//! the count of rounds that deleted nothing, so a purge or clear whose
//! deletes keep being refused (a validation function, say) gives up with
//! an error instead of looping forever.

use serde::{Deserialize, Serialize};
use serde_json::value::{RawValue, to_raw_value};
use session_core::Error;

use crate::http::Couch;

/// Rounds in a row that may delete nothing (their documents changed
/// meanwhile, a conflict) before a purge or clear gives up.
const STALLED_ROUNDS: u32 = 3;

/// A document to delete: its id and the revision found. The id is kept as
/// the JSON text the server sent, and sent back as it came: a document
/// under an id no Rust string can hold (a lone surrogate, which the server
/// keeps) is deleted like any other.
#[derive(Deserialize)]
pub(crate) struct IdRev {
    #[serde(rename = "_id")]
    pub(crate) id: Box<RawValue>,
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
}

impl IdRev {
    /// The document `id` at revision `rev`.
    pub(crate) fn new(id: &str, rev: String) -> Result<Self, Error> {
        let id = to_raw_value(id).map_err(|e| Error::Encode(Box::new(e)))?;
        Ok(Self { id, rev })
    }

    /// Its deletion, as `_bulk_docs` takes it.
    pub(crate) fn deletion(&self) -> Result<Box<RawValue>, Error> {
        #[derive(Serialize)]
        struct Deletion<'a> {
            #[serde(rename = "_id")]
            id: &'a RawValue,
            #[serde(rename = "_rev")]
            rev: &'a str,
            #[serde(rename = "_deleted")]
            deleted: bool,
        }
        let deletion = Deletion {
            id: &self.id,
            rev: &self.rev,
            deleted: true,
        };
        to_raw_value(&deletion).map_err(|e| Error::Encode(Box::new(e)))
    }
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
    let deletions = docs.iter().map(IdRev::deletion).collect::<Result<_, _>>()?;
    write_all(couch, deletions).await
}

/// One `_bulk_docs` request writing `docs` (each naming its revision); what
/// it reports is how many were written.
pub(crate) async fn write_all(couch: &Couch, docs: Vec<Box<RawValue>>) -> Result<Deleted, Error> {
    #[derive(Serialize)]
    struct Request {
        docs: Vec<Box<RawValue>>,
    }
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
    let reply = couch.post("_bulk_docs", &Request { docs }).await?;
    let outcomes: Vec<Outcome> = serde_json::from_slice(&reply).map_err(|e| Error::Backend(Box::new(e)))?;
    Ok(Deleted {
        count: outcomes.iter().filter(|o| o.error.is_none()).count() as u64,
        first_error: outcomes.into_iter().find_map(|o| o.error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_no_rust_string_holds_is_sent_back_as_it_came() {
        let found = br#"{"_id":"s:a\ud800","_rev":"1-a","expires_at":5}"#;
        let doc: IdRev = serde_json::from_slice(found).unwrap();
        assert_eq!(
            doc.deletion().unwrap().get(),
            r#"{"_id":"s:a\ud800","_rev":"1-a","_deleted":true}"#
        );
        let named = IdRev::new("a\"b", "2-b".into()).unwrap();
        assert_eq!(
            named.deletion().unwrap().get(),
            r#"{"_id":"a\"b","_rev":"2-b","_deleted":true}"#
        );
    }
}
