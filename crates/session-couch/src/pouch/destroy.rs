//! Logout that sticks for Node too: ending a session in the PouchDbStore
//! layout (`destroy`, and a write whose expiry is past).
//!
//! A Node process running session-pouchdb-store may hold the session in its
//! memory, kept up to date by merging each changed document into its copy
//! key by key; a deletion only adds `_deleted` to that copy. So ending a
//! session is two revision-checked writes:
//!
//! 1. the document again with every data key `null`, `cookie.expires` in
//!    the past and `$ts` 0: the merge logs the user out in every Node
//!    process that holds the session, and its scavenger drops the copy;
//! 2. the deletion, carrying that same body (a feed read late shows only
//!    this revision) and, within a grace window, `$destroyed`: the
//!    tombstone. Both writes carry it, so the id is guarded from the first.
//!
//! An id that holds no document gets a deleted document holding only the
//! tombstone; a deleted one gets its tombstone renewed.

use session_core::{Error, Result, SessionId, backend, backend::Occupant};

use super::{
    Pouch, doc,
    leaf::{self, Need},
};
use crate::{
    http::PutOutcome,
    retry::{Attempt, retry},
};

impl Pouch {
    /// Ends the session `id` holds, for Node and this store both, leaving a
    /// tombstone until `until` (unix ms) if given, or a later one the
    /// document already carries.
    ///
    /// # Errors
    /// A backend error; [`Error::Decode`](session_core::Error::Decode) when
    /// a leaf's revision or tombstone cannot be read.
    pub(crate) async fn end(&self, id: &SessionId, until: Option<i64>) -> Result<()> {
        let couch = &self.couch;
        let doc_id = &doc::doc_id(id);
        retry(couch.timeout, |_| async move {
            let now = self.clock.now();
            let found = leaf::find(couch, doc_id, now, Need::Tombstone).await?;
            let raw = found.raw.as_deref().unwrap_or(b"{}");
            let carried = doc::Meta::of(raw).ok().and_then(|meta| meta.destroyed_until());
            let in_force = carried.filter(|at| *at > backend::unix_millis(now));
            let marker = until.max(in_force);
            let written = match (found.rev.as_deref(), found.undeleted, marker) {
                (None, _, None) => return Ok(Attempt::Done(())),
                (None, _, Some(marker)) => couch.put(doc_id, doc::bare_tombstone(doc_id, marker)).await?,
                (Some(_), false, marker) if marker.is_none() || marker == carried => {
                    return Ok(Attempt::Done(()));
                }
                (Some(rev), false, marker) => {
                    let renewed = doc::revoked(raw, doc_id, Some(rev), true, marker)?;
                    couch.put(doc_id, renewed).await?
                }
                (Some(rev), true, marker) => {
                    let revoke = doc::revoked(raw, doc_id, Some(rev), false, marker)?;
                    match couch.put(doc_id, revoke).await? {
                        PutOutcome::Rev(rev) => {
                            let delete = doc::revoked(raw, doc_id, Some(&rev), true, marker)?;
                            couch.put(doc_id, delete).await?
                        }
                        PutOutcome::Conflict => PutOutcome::Conflict,
                    }
                }
            };
            Ok(written.into())
        })
        .await
    }

    /// Ends the session `id` holds only while it is still at revision `rev`
    /// (`set_if_unchanged` of a session whose expiry is already past). The
    /// revoking write names `rev`, so it is the comparison; once it landed,
    /// the deletion finishes the logout as [`end`](Self::end) does.
    ///
    /// # Errors
    /// [`Error::Destroyed`] for a tombstone in force, [`Error::Conflict`]
    /// when the session is not at `rev` any more, or a backend error.
    pub(crate) async fn end_at(&self, id: &SessionId, rev: &str) -> Result<()> {
        let couch = &self.couch;
        let doc_id = &doc::doc_id(id);
        // Its body tells which data keys the revoke nulls for Node.
        let found = leaf::find(couch, doc_id, self.clock.now(), Need::Tombstone).await?;
        let at_rev = found.undeleted && found.rev.as_deref() == Some(rev);
        let (Occupant::Vacant, true, Some(raw)) = (found.occupant, at_rev, found.raw.as_deref()) else {
            return Err(match found.occupant {
                Occupant::Tombstone => Error::Destroyed,
                Occupant::Live | Occupant::Vacant => Error::Conflict,
            });
        };
        let revoke = doc::revoked(raw, doc_id, Some(rev), false, None)?;
        let PutOutcome::Rev(next) = couch.put(doc_id, revoke).await? else {
            return self.refused(doc_id).await;
        };
        let delete = doc::revoked(raw, doc_id, Some(&next), true, None)?;
        match couch.put(doc_id, delete).await? {
            PutOutcome::Rev(_) => Ok(()),
            // Written over between the two: ended as `set` ends it.
            PutOutcome::Conflict => self.end(id, None).await,
        }
    }
}
