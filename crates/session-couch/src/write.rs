//! Writes: read the document (or take it from the cache), ask the rule
//! table, then `PUT`, `DELETE` or nothing; a revision conflict means the
//! document changed meanwhile, so read again and decide again.

use session_core::backend::SessionParts;
use std::sync::Arc;

use session_core::{
    Error, Result, Session, SessionData, SessionId, backend,
    backend::{Effect, Occupant, Write, check_storable, decide},
};
use time::OffsetDateTime;

use crate::{
    CouchStore,
    cache::{Cache, Entry},
    doc,
    http::PutOutcome,
};

/// Attempts of a write that keeps meeting revision conflicts (HTTP 409);
/// between attempts it backs off for a random while that doubles each time.
/// The store's timeout ends it sooner.
pub(crate) const WRITE_ATTEMPTS: usize = 40;

/// What a write stores.
#[derive(Clone, Copy)]
pub(crate) enum Change<'a> {
    /// `set` and `create`: this session.
    Session(&'a Session),
    /// `touch`: the live session's data again, under this expiry.
    Expiry(Option<OffsetDateTime>),
}

/// The document a write meets.
struct Current {
    /// Its revision; `None` when there is no document.
    rev: Option<String>,
    occupant: Occupant,
    /// The live session's data (read for `touch` only).
    data: Option<Arc<SessionData>>,
}

impl Current {
    const NONE: Self = Self {
        rev: None,
        occupant: Occupant::Vacant,
        data: None,
    };
}

/// Marks an id destroyed in the cache when dropped: when the destroy
/// returns, fails, or is cut off by the timeout (it may still have landed).
struct DestroyedOnDrop<'a>(&'a Cache, &'a SessionId);

impl Drop for DestroyedOnDrop<'_> {
    fn drop(&mut self) {
        self.0.destroyed(self.1);
    }
}

/// Empties the cache when dropped, whether `clear` finished or not.
pub(crate) struct EmptyOnDrop<'a>(pub(crate) &'a Cache);

impl Drop for EmptyOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

impl CouchStore {
    /// `set`, `create` or `touch`, decided by the contract's rule table.
    pub(crate) async fn write(&self, id: &SessionId, write: Write, change: Change<'_>) -> Result<()> {
        let inner = &self.inner;
        if let Change::Session(session) = change {
            check_storable(session.data())?;
        }
        let now = inner.clock.now();
        let expires_at = match change {
            Change::Session(session) => inner.lifetimes.expiry_of(session, now),
            Change::Expiry(at) => inner.lifetimes.expiry_or_default(at, now),
        };
        let expires_ms = backend::unix_millis(expires_at);
        let doc_id = doc::doc_id(id);
        for attempt in 0..WRITE_ATTEMPTS {
            let ticket = inner.cache.as_ref().map(Cache::ticket);
            let expired = expires_ms <= backend::unix_millis(inner.clock.now());
            let current = self.current(id, &doc_id, write, expired, attempt).await?;
            let decision = decide(write, current.occupant, expired);
            decision.answer()?;
            let data = match change {
                Change::Session(session) => Some(Arc::clone(session.shared_data())),
                Change::Expiry(_) => current.data,
            };
            let rev = current.rev.as_deref();
            let written = match (decision.effect, data, rev) {
                (Effect::Nothing, ..) | (Effect::Remove, _, None) => None,
                (Effect::Remove, _, Some(rev)) => Some(inner.couch.delete(&doc_id, rev).await?),
                (Effect::Store, Some(data), rev) => {
                    let body = doc::live_body(&*inner.codec, &doc_id, rev, &data, expires_ms)?;
                    let written = inner.couch.put(&doc_id, body).await?;
                    if let (PutOutcome::Rev(rev), Some(cache), Some(ticket)) =
                        (&written, &inner.cache, ticket)
                    {
                        cache.fill(id, ticket, Entry::new(data, expires_at, rev));
                    }
                    Some(written)
                }
                (Effect::Store, None, _) => {
                    return Err(Error::Backend("a live session document without data".into()));
                }
            };
            if decision.effect == Effect::Remove
                && let Some(cache) = &inner.cache
            {
                cache.destroyed(id);
            }
            match written {
                None | Some(PutOutcome::Rev(_)) => return Ok(()),
                Some(PutOutcome::Conflict) => {
                    if let Some(cache) = &inner.cache {
                        cache.forget(id);
                    }
                    back_off(attempt).await;
                }
            }
        }
        Err(gave_up())
    }

    /// What the write meets: on its first attempt, a `create` that stores
    /// assumes no document (a `PUT` without revision fails on any), and
    /// other writes take the cache's live entry if it has one; otherwise,
    /// and after a conflict, the server's document.
    async fn current(
        &self,
        id: &SessionId,
        doc_id: &str,
        write: Write,
        expired: bool,
        attempt: usize,
    ) -> Result<Current> {
        let inner = &self.inner;
        if attempt == 0 {
            if write == Write::Create && !expired {
                return Ok(Current::NONE);
            }
            if let Some(entry) = inner.cache.as_ref().and_then(|cache| cache.live(id)) {
                return Ok(Current {
                    rev: Some(entry.rev().to_owned()),
                    occupant: Occupant::Live,
                    data: Some(entry.shared_data()),
                });
            }
        }
        let Some(body) = inner.couch.get(doc_id).await? else {
            return Ok(Current::NONE);
        };
        let stored = doc::parse(&body)?;
        let occupant = stored.occupant(backend::unix_millis(inner.clock.now()));
        let data = if write == Write::Touch && occupant == Occupant::Live {
            Some(Arc::new(stored.data(&*inner.codec)?))
        } else {
            None
        };
        Ok(Current {
            rev: Some(stored.rev),
            occupant,
            data,
        })
    }

    /// `destroy`: a tombstone until the grace window ends, or (with no
    /// grace) the document deleted.
    pub(crate) async fn tombstone(&self, id: &SessionId) -> Result<()> {
        let inner = &self.inner;
        let _destroyed = inner.cache.as_ref().map(|cache| DestroyedOnDrop(cache, id));
        let doc_id = doc::doc_id(id);
        let until = inner.lifetimes.tombstone_until(inner.clock.now());
        for attempt in 0..WRITE_ATTEMPTS {
            let rev = match inner.couch.get(&doc_id).await? {
                Some(body) => Some(doc::parse(&body)?.rev),
                None => None,
            };
            let written = match (until, rev) {
                (Some(until), rev) => {
                    let body = doc::tombstone_body(&doc_id, rev.as_deref(), backend::unix_millis(until));
                    inner.couch.put(&doc_id, body).await?
                }
                (None, Some(rev)) => inner.couch.delete(&doc_id, &rev).await?,
                (None, None) => return Ok(()),
            };
            if let PutOutcome::Rev(_) = written {
                return Ok(());
            }
            back_off(attempt).await;
        }
        Err(gave_up())
    }
}

/// The error of a write that met a revision conflict on every attempt.
pub(crate) fn gave_up() -> Error {
    Error::Backend(format!("gave up after {WRITE_ATTEMPTS} revision conflicts").into())
}

/// Waits a random 0..2^attempt milliseconds (at most 64), so writers that
/// keep colliding on one document fall out of step.
pub(crate) async fn back_off(attempt: usize) {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let ceiling = 1u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(byte[0]) % ceiling)).await;
}
