//! `set`, `create` and `touch`: read every leaf of the document (deleted
//! ones hold the tombstones), ask the rule table, then put the document
//! with the revision found, or end the session. A revision conflict means
//! the document changed meanwhile: read again and decide again.
//!
//! A put without a revision (the id held no document) lands even on a
//! deleted document that appeared since the read, a tombstone included:
//! such a put comes back with a revision past the first, and the write then
//! reads the revision it covered and, if that was a tombstone, ends the
//! session again and answers `Destroyed`.

use std::borrow::Cow;

use serde::Deserialize;
use session_core::{
    Error, Result, SessionId, backend,
    backend::{Effect, Write, decide},
};

use super::{
    doc::{self, Meta},
    leaf::{self, Found},
};
use crate::{
    CouchStore,
    doc::generation,
    http::PutOutcome,
    write::{Change, WRITE_ATTEMPTS, back_off, gave_up},
};

impl CouchStore {
    /// `set`, `create` or `touch` in the PouchDbStore layout.
    pub(crate) async fn pouch_write(&self, id: &SessionId, write: Write, change: Change<'_>) -> Result<()> {
        let inner = &self.inner;
        let default_ttl = inner.lifetimes.default_ttl();
        if let Change::Session(session) = change {
            doc::check(session)?;
        }
        let now = inner.clock.now();
        let expires_at = match change {
            Change::Session(session) => inner.lifetimes.expiry_of(session, now),
            Change::Expiry(at) => inner.lifetimes.expiry_or_default(at, now),
        };
        let doc_id = doc::doc_id(id);
        for attempt in 0..WRITE_ATTEMPTS {
            let now = inner.clock.now();
            let expired = expires_at <= now;
            let found = if attempt == 0 && write == Write::Create && !expired {
                // A put without revision fails on any document that is not
                // deleted; a covered deleted one is checked afterwards.
                Found::NOTHING
            } else {
                leaf::find(&inner.couch, &doc_id, now, default_ttl).await?
            };
            let decision = decide(write, found.occupant, expired);
            decision.answer()?;
            let written = match decision.effect {
                Effect::Nothing => return Ok(()),
                // The written expiry is past: a document still there is ended
                // as a logout is, for Node's copies too.
                Effect::Remove if found.undeleted => return self.pouch_end(id, None).await,
                Effect::Remove => return Ok(()),
                Effect::Store => {
                    let session = match change {
                        Change::Session(session) => Cow::Borrowed(session),
                        Change::Expiry(at) => {
                            let Some(mut live) = found.session else {
                                return Err(Error::Backend(
                                    "a live session document without a session".into(),
                                ));
                            };
                            // `None` keeps a browser-session cookie's `null`.
                            live.set_expires_at(at);
                            Cow::Owned(live)
                        }
                    };
                    let body = doc::body(&doc_id, found.rev.as_deref(), &session, expires_at, now)?;
                    inner.couch.put(&doc_id, body).await?
                }
            };
            match written {
                PutOutcome::Rev(rev) if found.rev.is_none() && generation(&rev) > 1 => {
                    return self.pouch_covered(id, &doc_id, &rev).await;
                }
                PutOutcome::Rev(_) => return Ok(()),
                PutOutcome::Conflict => back_off(attempt).await,
            }
        }
        Err(gave_up())
    }

    /// After a put without revision landed as revision `rev` on top of a
    /// deleted document it did not see: if that document was a tombstone
    /// still in force, the session is ended again and the write refused.
    async fn pouch_covered(&self, id: &SessionId, doc_id: &str, rev: &str) -> Result<()> {
        let couch = &self.inner.couch;
        let Some(covered) = couch
            .revision(doc_id, rev, true)
            .await?
            .and_then(|body| parent(&body))
        else {
            // Already compacted away: nothing left to tell.
            return Ok(());
        };
        let Some(body) = couch.revision(doc_id, &covered, false).await? else {
            return Ok(());
        };
        let now = backend::unix_millis(self.inner.clock.now());
        match Meta::of(&body)?.destroyed_until() {
            Some(until) if until > now => {
                self.pouch_end(id, Some(until)).await?;
                Err(Error::Destroyed)
            }
            _ => Ok(()),
        }
    }
}

/// The revision a document's revision history (`_revisions`) says came
/// before its own.
fn parent(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Revisions {
        start: u64,
        ids: Vec<String>,
    }
    #[derive(Deserialize)]
    struct WithHistory {
        #[serde(rename = "_revisions")]
        revisions: Revisions,
    }
    let history: WithHistory = serde_json::from_slice(body).ok()?;
    let hash = history.revisions.ids.get(1)?;
    let generation = history.revisions.start.checked_sub(1).filter(|g| *g > 0)?;
    Some(format!("{generation}-{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_covered_revision_comes_from_the_history() {
        let body = br#"{"_id":"a","_rev":"3-c","_revisions":{"start":3,"ids":["c","b","a"]}}"#;
        assert_eq!(parent(body).as_deref(), Some("2-b"));
        assert_eq!(parent(br#"{"_revisions":{"start":1,"ids":["a"]}}"#), None);
        assert_eq!(parent(br#"{"_rev":"2-x"}"#), None);
    }
}
