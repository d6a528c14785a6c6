//! Rule 10 in the native layout. `get_versioned` is `get` with the token of
//! the revision read. `set_if_unchanged` is one `PUT` naming that revision
//! (a `DELETE`, for a session whose expiry is already past), outside
//! [`retry`](crate::retry::retry): CouchDB compares the revision with the
//! stored one in the write itself, and a 409 is the answer, `Conflict`.
//! Only a refused write reads the document, to tell a tombstone
//! (`Destroyed`) from a session that moved on.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Error, Result, Session, SessionId, Versioned, backend,
    backend::{Effect, Occupant, SessionParts, Write, decide},
};

use super::{Native, doc, read::judge};
use crate::{
    cache::{Cache, Entry},
    documents::Versions,
    http::PutOutcome,
    live,
    token::{self, Seen},
};

#[async_trait]
impl Versions for Native {
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        let ticket = self.cache.as_ref().map(Cache::ticket);
        let Some(body) = self.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        judge(&body, self.now_ms(), |stored| {
            Ok(Versioned {
                session: self.fill(id, ticket, &stored)?,
                version: token::issue(&stored.rev, stored.expires_at),
            })
        })
        .transpose()
    }

    async fn set_if_unchanged(
        &self,
        id: &SessionId,
        session: &Session,
        seen: Option<Seen<'_>>,
    ) -> Result<()> {
        // Encoded before anything is sent, as `set` does.
        let member = doc::encode_data(&*self.codec, session.data())?;
        let doc_id = &doc::doc_id(id);
        let now = self.clock.now();
        let now_ms = backend::unix_millis(now);
        // Expired since it was read: gone, though still at the same revision.
        let Some(seen) = seen.filter(|seen| seen.expires_ms > now_ms) else {
            return self.refused(id, doc_id).await;
        };
        let expires_at = self.lifetimes.expiry_of(session, now);
        let expires_ms = backend::unix_millis(expires_at);
        // The revision read held a live session: what `set` does there.
        let written = match decide(Write::Set, Occupant::Live, expires_ms <= now_ms).effect {
            Effect::Store => {
                let ticket = self.cache.as_ref().map(Cache::ticket);
                let body = doc::live_body(doc_id, Some(seen.rev), expires_ms, &member);
                let written = self.couch.put(doc_id, body).await?;
                if let (PutOutcome::Rev(rev), Some(cache), Some(ticket)) = (&written, &self.cache, ticket) {
                    let data = Arc::clone(session.shared_data());
                    cache.fill(id, ticket, Entry::new(data, expires_at, rev));
                }
                written
            }
            Effect::Remove => {
                // Before sending: a delete cut off by the timeout may still land.
                if let Some(cache) = &self.cache {
                    cache.destroyed(id);
                }
                self.couch.delete(doc_id, seen.rev).await?
            }
            Effect::Nothing => return Ok(()),
        };
        match written {
            PutOutcome::Rev(_) => Ok(()),
            PutOutcome::Conflict => self.refused(id, doc_id).await,
        }
    }
}

impl Native {
    /// Why a conditional write of `id` was refused, read from the server:
    /// [`Error::Destroyed`] for a tombstone in force, [`Error::Conflict`]
    /// otherwise (or the error the read met).
    ///
    /// The cache's entry goes first. It holds the revision the write named
    /// (or one older still), so `update`'s next `get_versioned`, served from
    /// it, would name that revision again and conflict again on every
    /// retry until the feed caught up. The session read here fills it again
    /// as a `get` would, so that next read costs no round trip.
    async fn refused(&self, id: &SessionId, doc_id: &str) -> Result<()> {
        let ticket = self.cache.as_ref().map(|cache| {
            cache.forget(id);
            cache.ticket()
        });
        let Some(body) = self.couch.get(doc_id).await? else {
            return Err(Error::Conflict);
        };
        let now_ms = self.now_ms();
        let stored = doc::parse(&body);
        match live::occupant(&stored, |stored| stored.occupant(now_ms)) {
            Occupant::Tombstone => Err(Error::Destroyed),
            Occupant::Live => {
                if let (Some(_), Ok(stored)) = (ticket, &stored) {
                    // One this store cannot read stays out; the next read says why.
                    self.fill(id, ticket, stored).ok();
                }
                Err(Error::Conflict)
            }
            Occupant::Vacant => Err(Error::Conflict),
        }
    }
}
