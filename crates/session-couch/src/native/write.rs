//! Writes of the native layout: read the document (or take it from the
//! cache), ask the rule table, then `PUT`, `DELETE` or nothing, each
//! attempt in [`retry`], which reads again and decides again after a
//! revision conflict. Whether the document holds a live session is decided
//! in [`live`], as for the reads: one whose expiry or tombstone cannot be
//! read does.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Error, Result, SessionData, SessionId, backend,
    backend::{Effect, Occupant, SessionParts, Write, decide},
};

use super::{Native, doc};
use crate::{
    cache::{Cache, Entry},
    documents::{Change, Writes},
    http::PutOutcome,
    live,
    retry::{Attempt, retry},
};

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

#[async_trait]
impl Writes for Native {
    /// `set`, `create` or `touch`, decided by the contract's rule table.
    async fn write(&self, id: &SessionId, write: Write, change: Change<'_>) -> Result<()> {
        // Encoded once, before anything is sent: data the contract refuses
        // never reaches the server, and retries reuse the encoding.
        let encoded = match change {
            Change::Session(session) => Some(doc::encode_data(&*self.codec, session.data())?),
            Change::Expiry(_) => None,
        };
        let now = self.clock.now();
        let expires_at = match change {
            Change::Session(session) => self.lifetimes.expiry_of(session, now),
            Change::Expiry(at) => self.lifetimes.expiry_or_default(at, now),
        };
        let expires_ms = backend::unix_millis(expires_at);
        let (doc_id, encoded) = (&doc::doc_id(id), encoded.as_ref());
        retry(self.couch.timeout, |attempt| async move {
            let ticket = self.cache.as_ref().map(Cache::ticket);
            let expired = expires_ms <= backend::unix_millis(self.clock.now());
            let current = self.current(id, doc_id, write, expired, attempt).await?;
            let decision = decide(write, current.occupant, expired);
            decision.answer()?;
            let data = match change {
                Change::Session(session) => Some(Arc::clone(session.shared_data())),
                Change::Expiry(_) => current.data,
            };
            let written = match (decision.effect, data, current.rev.as_deref()) {
                (Effect::Nothing, ..) | (Effect::Remove, _, None) => None,
                (Effect::Remove, _, Some(rev)) => Some(self.couch.delete(doc_id, rev).await?),
                (Effect::Store, Some(data), rev) => {
                    let touched;
                    let member = match encoded {
                        Some(member) => member,
                        // `touch` stores again the data it read.
                        None => {
                            touched = doc::encode_data(&*self.codec, &data)?;
                            &touched
                        }
                    };
                    let body = doc::live_body(doc_id, rev, expires_ms, member);
                    let written = self.couch.put(doc_id, body).await?;
                    if let (PutOutcome::Rev(rev), Some(cache), Some(ticket)) = (&written, &self.cache, ticket)
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
                && let Some(cache) = &self.cache
            {
                cache.destroyed(id);
            }
            Ok(match written {
                None => Attempt::Done(()),
                Some(written) => {
                    // The cached revision is not the server's any more.
                    if let (PutOutcome::Conflict, Some(cache)) = (&written, &self.cache) {
                        cache.forget(id);
                    }
                    written.into()
                }
            })
        })
        .await
    }

    /// `destroy`: a tombstone until the grace window ends, or (with no
    /// grace) the document deleted.
    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let _destroyed = self.cache.as_ref().map(|cache| DestroyedOnDrop(cache, id));
        let doc_id = &doc::doc_id(id);
        let until = self
            .lifetimes
            .tombstone_until(self.clock.now())
            .map(backend::unix_millis);
        retry(self.couch.timeout, |_| async move {
            let rev = match self.couch.get(doc_id).await? {
                Some(body) => Some(doc::rev(&body)?),
                None => None,
            };
            let written = match (until, rev) {
                (Some(until), rev) => {
                    let body = doc::tombstone_body(doc_id, rev.as_deref(), until);
                    self.couch.put(doc_id, body).await?
                }
                (None, Some(rev)) => self.couch.delete(doc_id, &rev).await?,
                (None, None) => return Ok(Attempt::Done(())),
            };
            Ok(written.into())
        })
        .await
    }
}

impl Native {
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
        if attempt == 0 {
            if write == Write::Create && !expired {
                return Ok(Current::NONE);
            }
            if let Some(entry) = self.cache.as_ref().and_then(|cache| cache.live(id)) {
                return Ok(Current {
                    rev: Some(entry.rev().to_owned()),
                    occupant: Occupant::Live,
                    data: Some(entry.shared_data()),
                });
            }
        }
        let Some(body) = self.couch.get(doc_id).await? else {
            return Ok(Current::NONE);
        };
        let now_ms = backend::unix_millis(self.clock.now());
        let stored = doc::parse(&body);
        let occupant = live::occupant(&stored, |stored| stored.occupant(now_ms));
        // Only `touch` reads the data: of a session that cannot be read, it
        // answers why.
        let data = if write == Write::Touch && occupant == Occupant::Live {
            Some(Arc::new(stored?.data(&*self.codec)?))
        } else {
            None
        };
        Ok(Current {
            rev: Some(doc::rev(&body)?),
            occupant,
            data,
        })
    }
}
