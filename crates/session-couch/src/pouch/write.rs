//! Writes in the PouchDbStore layout: `set`, `create` and `touch` read
//! every leaf of the document (deleted ones hold the tombstones), ask the
//! rule table, then put the document with the revision found, or end the
//! session, each attempt in [`retry`], which reads again and decides again
//! after a revision conflict. `destroy` ends the session ([`destroy`](super::destroy)).
//!
//! A put without a revision (the id held no document) lands even on a
//! deleted document that appeared since the read, a tombstone included:
//! such a put comes back with a revision past the first, and the write then
//! reads the revision it covered and, if that was a tombstone, ends the
//! session again and answers `Destroyed`.

use async_trait::async_trait;
use serde::Deserialize;
use session_core::{
    Error, Result, SessionId, backend,
    backend::{Effect, Write, decide},
};

use super::{
    Pouch,
    doc::{self, Meta},
    leaf::{self, Found, Need},
};
use crate::{
    documents::{Change, Writes},
    http::PutOutcome,
    retry::{Attempt, retry},
    revision::generation,
};

#[async_trait]
impl Writes for Pouch {
    /// `set`, `create` or `touch`, decided by the contract's rule table.
    async fn write(&self, id: &SessionId, write: Write, change: Change<'_>) -> Result<()> {
        let now = self.clock.now();
        let expires_at = match change {
            Change::Session(session) => self.lifetimes.expiry_of(session, now),
            Change::Expiry(at) => self.lifetimes.expiry_or_default(at, now),
        };
        // Encoded once, before anything is read or sent: data this layout
        // cannot store never reaches the server, and retries reuse it.
        let encoded = match change {
            Change::Session(session) => Some(doc::encode(session, expires_at, now)?),
            Change::Expiry(_) => None,
        };
        // `set` decides the same on a live session as on an expired one, so
        // it never decodes the session it replaces.
        let need = if write.needs_liveness() {
            Need::Liveness(self.lifetimes.default_ttl())
        } else {
            Need::Tombstone
        };
        let (doc_id, encoded) = (&doc::doc_id(id), encoded.as_ref());
        retry(self.couch.timeout, |attempt| async move {
            let now = self.clock.now();
            let expired = expires_at <= now;
            let found = if attempt == 0 && write == Write::Create && !expired {
                // A put without revision fails on any document that is not
                // deleted; a covered deleted one is checked afterwards.
                Found::NOTHING
            } else {
                leaf::find(&self.couch, doc_id, now, need).await?
            };
            let decision = decide(write, found.occupant, expired);
            decision.answer()?;
            match decision.effect {
                Effect::Nothing => return Ok(Attempt::Done(())),
                // The written expiry is past: a document still there is ended
                // as a logout is, for Node's copies too.
                Effect::Remove if found.undeleted => return self.end(id, None).await.map(Attempt::Done),
                Effect::Remove => return Ok(Attempt::Done(())),
                Effect::Store => {}
            }
            let touched;
            let session = match encoded {
                Some(session) => session,
                None => {
                    // `touch`: the live session again, under its new expiry;
                    // one that cannot be read answers why.
                    let (Change::Expiry(at), Some(live)) = (change, found.session) else {
                        return Err(Error::Backend("a live session document without a session".into()));
                    };
                    let mut live = live?;
                    // `None` keeps a browser-session cookie's `null`.
                    live.set_expires_at(at);
                    touched = doc::encode(&live, expires_at, now)?;
                    &touched
                }
            };
            let body = doc::body(doc_id, found.rev.as_deref(), session, now);
            Ok(match self.couch.put(doc_id, body).await? {
                PutOutcome::Rev(rev) if found.rev.is_none() && generation(&rev) > 1 => {
                    self.covered(id, doc_id, &rev).await?;
                    Attempt::Done(())
                }
                written => written.into(),
            })
        })
        .await
    }

    /// `destroy`: the session ended, and a tombstone for the grace window
    /// (none when it is zero).
    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let until = self
            .lifetimes
            .tombstone_until(self.clock.now())
            .map(backend::unix_millis);
        self.end(id, until).await
    }
}

impl Pouch {
    /// After a put without revision landed as revision `rev` on top of a
    /// deleted document it did not see: if that document was a tombstone
    /// still in force, the session is ended again and the write refused.
    async fn covered(&self, id: &SessionId, doc_id: &str, rev: &str) -> Result<()> {
        let couch = &self.couch;
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
        let now = backend::unix_millis(self.clock.now());
        match Meta::of(&body)?.destroyed_until() {
            Some(until) if until > now => {
                self.end(id, Some(until)).await?;
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
