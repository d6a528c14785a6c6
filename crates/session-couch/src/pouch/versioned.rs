//! Rule 10 in the PouchDbStore layout. `get_versioned` is `get` with the
//! token of the revision read. `set_if_unchanged` is one `PUT` naming that
//! revision, outside [`retry`](crate::retry::retry): CouchDB compares the
//! revision with the stored one in the write itself, and a 409 is the
//! answer, `Conflict`. A Node process writing the session in between (its
//! commit or touch, a revision-checked put) moves the revision on just as
//! this store does. Only a refused write reads the leaves, to tell a
//! tombstone (`Destroyed`) from a session that moved on.

use async_trait::async_trait;
use session_core::{
    Error, Result, Session, SessionId, Versioned, backend,
    backend::{Effect, Occupant, Write, decide},
};

use super::{
    Pouch,
    doc::{self, Meta},
    leaf::{self, Need},
};
use crate::{
    documents::Versions,
    http::PutOutcome,
    token::{self, Seen},
};

#[async_trait]
impl Versions for Pouch {
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        let Some(body) = self.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        let Some(session) = doc::live(&body, self.clock.now(), self.lifetimes.default_ttl())? else {
            return Ok(None);
        };
        // A live session's expiry always reads: it was just judged by it.
        let expires_ms = session.expires_at().map_or(i64::MAX, backend::unix_millis);
        Ok(Some(Versioned {
            version: token::issue(&Meta::of(&body)?.rev, expires_ms),
            session,
        }))
    }

    async fn set_if_unchanged(
        &self,
        id: &SessionId,
        session: &Session,
        seen: Option<Seen<'_>>,
    ) -> Result<()> {
        let now = self.clock.now();
        let expires_at = self.lifetimes.expiry_of(session, now);
        // Encoded before anything is sent, as `set` does.
        let encoded = doc::encode(session, expires_at, now)?;
        let doc_id = &doc::doc_id(id);
        // Expired since it was read: gone, though still at the same revision.
        let Some(seen) = seen.filter(|seen| seen.expires_ms > backend::unix_millis(now)) else {
            return self.refused(doc_id).await;
        };
        // The revision read held a live session: what `set` does there.
        let written = match decide(Write::Set, Occupant::Live, expires_at <= now).effect {
            Effect::Store => {
                let body = doc::body(doc_id, Some(seen.rev), &encoded, now);
                self.couch.put(doc_id, body).await?
            }
            Effect::Remove => return self.end_at(id, seen.rev).await,
            Effect::Nothing => return Ok(()),
        };
        match written {
            PutOutcome::Rev(_) => Ok(()),
            PutOutcome::Conflict => self.refused(doc_id).await,
        }
    }
}

impl Pouch {
    /// Why a conditional write of `doc_id` was refused, read from its
    /// leaves (a tombstone is a deleted one): [`Error::Destroyed`] for a
    /// tombstone in force, [`Error::Conflict`] otherwise (or the error the
    /// read met).
    pub(super) async fn refused(&self, doc_id: &str) -> Result<()> {
        let found = leaf::find(&self.couch, doc_id, self.clock.now(), Need::Tombstone).await?;
        Err(match found.occupant {
            Occupant::Tombstone => Error::Destroyed,
            Occupant::Live | Occupant::Vacant => Error::Conflict,
        })
    }
}
