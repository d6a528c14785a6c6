//! `clear` in the PouchDbStore layout: every session deleted (with its
//! revoked body, as `destroy` ends one) and every tombstone lifted.
//!
//! Deleted documents, and with them the tombstones, appear nowhere but in
//! the `_changes` feed, so `clear` walks the whole feed, a page at a time.
//! Its own writes come back later in the feed as deleted documents without
//! a tombstone, and are passed over.
//!
//! Every document but CouchDB's own is a session of this layout, readable or
//! not ([`Layout`](crate::Layout)), and each is read on its own, its id kept
//! as the JSON text the server sent: one under an id no Rust string can
//! hold (a lone surrogate, which the server keeps) is written back under
//! that same text, so it goes like the rest.

use serde::Deserialize;
use serde_json::{Value, value::RawValue};
use session_core::Error;

use super::doc::{self, Meta};
use crate::{
    all_docs,
    bulk::{IdRev, write_all},
    http::Couch,
};

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
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default)]
    doc: Option<&'a RawValue>,
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
            if let Some(write) = cleared(change.id, raw)? {
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

/// What `clear` reads of every revision: read apart from its tombstone,
/// which may be what cannot be read.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "_rev")]
    rev: String,
    #[serde(rename = "_deleted", default)]
    deleted: bool,
}

/// What `clear` writes for the document `id` whose latest revision is
/// `raw`: a session deleted, a tombstone lifted, or nothing.
fn cleared(id: &RawValue, raw: &[u8]) -> Result<Option<Box<RawValue>>, Error> {
    if all_docs::id_string(id).is_ok_and(|id| doc::is_couchdbs(&id)) {
        return Ok(None);
    }
    let Ok(head) = serde_json::from_slice::<Head>(raw) else {
        return Ok(None);
    };
    if !head.deleted {
        return doc::revoked_doc(raw, id, Some(&head.rev), true, None).map(Some);
    }
    // A deleted document that carries no tombstone (`clear`'s own deletions
    // among them) is left; one whose tombstone cannot be read is lifted
    // too, as no write can tell what it is.
    let tombstone = Meta::of(raw).map_or(true, |meta| meta.destroyed_until().is_some());
    let lifted = IdRev {
        id: id.to_owned(),
        rev: head.rev,
    };
    tombstone.then(|| lifted.deletion()).transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What `clear` writes for the document `id` (JSON text) holding `body`,
    /// every `LONE` in either made a lone surrogate, JSON that no Rust string
    /// can hold.
    fn cleared_as(id: &str, body: &Value) -> Option<String> {
        let lone = |text: &str| text.replace("LONE", "\\ud800");
        let id = lone(id);
        let id: &RawValue = serde_json::from_str(&id).unwrap();
        let written = cleared(id, lone(&body.to_string()).as_bytes()).unwrap();
        written.map(|body| body.get().to_owned())
    }

    fn parsed(text: Option<String>) -> Value {
        serde_json::from_str(&text.unwrap()).unwrap()
    }

    #[test]
    fn clear_deletes_sessions_lifts_tombstones_and_leaves_the_rest() {
        let session = json!({"_id": "a", "_rev": "2-a", "cookie": {"expires": null}, "user": "ada"});
        let deleted = parsed(cleared_as(r#""a""#, &session));
        assert_eq!(deleted["_deleted"], json!(true));
        assert_eq!(deleted["_rev"], json!("2-a"));
        assert_eq!(deleted["user"], Value::Null);
        let tombstone = json!({"_id": "b", "_rev": "3-b", "_deleted": true, "$destroyed": 5});
        assert_eq!(
            cleared_as(r#""b""#, &tombstone).as_deref(),
            Some(r#"{"_id":"b","_rev":"3-b","_deleted":true}"#)
        );
        let gone = json!({"_id": "c", "_rev": "3-c", "_deleted": true});
        assert_eq!(cleared_as(r#""c""#, &gone), None);
        assert_eq!(cleared_as(r#""_design/x""#, &session), None);
    }

    #[test]
    fn clear_deletes_what_it_cannot_read_too() {
        // A document without a cookie is a session this layout cannot read.
        let no_cookie = json!({"_id": "d", "_rev": "1-d", "n": 1});
        let deleted = parsed(cleared_as(r#""d""#, &no_cookie));
        assert_eq!(
            (&deleted["_deleted"], &deleted["n"]),
            (&json!(true), &Value::Null)
        );
        let session = json!({"_id": "aLONE", "_rev": "2-a", "cookie": {"expires": "LONE"}, "user": "LONE"});
        let deleted = cleared_as(r#""aLONE""#, &session).unwrap();
        for member in [r#""_id":"a\ud800""#, r#""_deleted":true"#, r#""user":null"#] {
            assert!(deleted.contains(member), "{member} in {deleted}");
        }
        let tombstone = json!({"_id": "b", "_rev": "3-b", "_deleted": true, "$destroyed": "LONE"});
        assert_eq!(
            cleared_as(r#""b""#, &tombstone).as_deref(),
            Some(r#"{"_id":"b","_rev":"3-b","_deleted":true}"#)
        );
    }
}
