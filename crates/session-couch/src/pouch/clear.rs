//! `clear` in the PouchDbStore layout: every session deleted (with its
//! revoked body, as `destroy` ends one) and every tombstone lifted.
//!
//! Deleted documents, and with them the tombstones, appear nowhere but in
//! the `_changes` feed, so `clear` walks the whole feed, a page at a time.
//! Its own writes come back later in the feed as deleted documents without
//! a tombstone, and are passed over.

use serde::Deserialize;
use serde_json::{Value, json};
use session_core::Error;

use super::doc::{self, Meta};
use crate::{bulk::write_all, http::Couch};

/// Documents per `_changes` page of `clear`.
const CLEAR_PAGE: usize = 1000;

#[derive(Deserialize)]
struct Changes<'a> {
    #[serde(borrow)]
    results: Vec<Change<'a>>,
    last_seq: Value,
}

#[derive(Deserialize)]
struct Change<'a> {
    id: String,
    #[serde(borrow, default)]
    doc: Option<&'a serde_json::value::RawValue>,
}

/// Removes every session of this layout and lifts every tombstone.
pub(crate) async fn clear(couch: &Couch) -> Result<(), Error> {
    let mut since = "0".to_owned();
    let (mut refused, mut first_error) = (0, None);
    loop {
        let body = couch.changes_page(&since, CLEAR_PAGE).await?;
        let page: Changes<'_> = serde_json::from_slice(&body).map_err(|e| Error::Backend(Box::new(e)))?;
        let mut writes = Vec::new();
        for change in &page.results {
            let Some(raw) = change.doc.map(|raw| raw.get().as_bytes()) else {
                continue;
            };
            if let Some(write) = cleared(&change.id, raw)? {
                writes.push(write);
            }
        }
        let wanted = writes.len() as u64;
        let round = write_all(couch, writes).await?;
        refused += wanted - round.count.min(wanted);
        first_error = first_error.or(round.first_error.filter(|kind| kind != "conflict"));
        since = match page.last_seq {
            Value::String(seq) => seq,
            other => other.to_string(),
        };
        if page.results.len() < CLEAR_PAGE {
            break;
        }
    }
    // A conflict means the document changed meanwhile: the change comes
    // later in the feed and was handled there.
    match first_error {
        Some(kind) => Err(Error::Backend(
            format!("clear could not remove every session: {refused} of its writes were refused ({kind})")
                .into(),
        )),
        None => Ok(()),
    }
}

/// What `clear` writes for the document `id` whose latest revision is
/// `raw`: a session deleted, a tombstone lifted, or nothing.
fn cleared(id: &str, raw: &[u8]) -> Result<Option<Value>, Error> {
    if id.starts_with("_design/") {
        return Ok(None);
    }
    let Ok(meta) = Meta::of(raw) else {
        return Ok(None);
    };
    Ok(if meta.deleted {
        meta.destroyed_until()
            .map(|_| json!({ "_id": id, "_rev": meta.rev, "_deleted": true }))
    } else if doc::is_session(raw) {
        Some(doc::revoked_doc(raw, id, Some(&meta.rev), true, None)?)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_deletes_sessions_lifts_tombstones_and_leaves_the_rest() {
        let raw = |body: Value| serde_json::to_vec(&body).unwrap();
        let session = raw(json!({"_id": "a", "_rev": "2-a", "cookie": {"expires": null}, "user": "ada"}));
        let deleted = cleared("a", &session).unwrap().unwrap();
        assert_eq!(deleted["_deleted"], json!(true));
        assert_eq!(deleted["_rev"], json!("2-a"));
        assert_eq!(deleted["user"], Value::Null);
        let tombstone = raw(json!({"_id": "b", "_rev": "3-b", "_deleted": true, "$destroyed": 5}));
        assert_eq!(
            cleared("b", &tombstone).unwrap(),
            Some(json!({"_id": "b", "_rev": "3-b", "_deleted": true}))
        );
        let gone = raw(json!({"_id": "c", "_rev": "3-c", "_deleted": true}));
        assert_eq!(cleared("c", &gone).unwrap(), None);
        let foreign = raw(json!({"_id": "d", "_rev": "1-d", "views": {}}));
        assert_eq!(cleared("d", &foreign).unwrap(), None);
        assert_eq!(cleared("_design/x", &session).unwrap(), None);
    }
}
