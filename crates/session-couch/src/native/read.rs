//! Reads of the native layout: one session (a `get` the cache could not
//! answer), and `_all_docs` pages of the `s:` range for `all_stream` and
//! `length`. Which documents count is decided in [`live`](crate::live).

use session_core::backend::SessionParts;
use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Result, Session, SessionId, backend, backend::Page};

use super::{
    Native,
    doc::{self, Stored},
};
use crate::{
    all_docs::{self, After},
    cache::{Cache, Entry, Ticket},
    documents::Reads,
    live,
};

#[async_trait]
impl Reads for Native {
    /// The live session `id` holds on the server, put in the cache.
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let ticket = self.cache.as_ref().map(Cache::ticket);
        let Some(body) = self.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        judge(&body, self.now_ms(), |stored| self.fill(id, ticket, &stored)).transpose()
    }

    async fn page(&self, after: After) -> Result<Page<After>> {
        let (codec, now_ms) = (&*self.codec, self.now_ms());
        let mut items = Vec::new();
        let next = all_docs::each_doc(&self.couch, doc::PREFIX, after.as_deref(), |found| {
            items.extend(judge(found.raw, now_ms, |stored| {
                Ok((doc::session_id(&found.id()?)?, stored.session(codec)?))
            }));
        })
        .await?;
        Ok(Page { items, next })
    }

    /// Live sessions, counted without decoding their data.
    async fn count(&self) -> Result<u64> {
        let now_ms = self.now_ms();
        all_docs::count(&self.couch, doc::PREFIX, |found| {
            judge(found.raw, now_ms, |_| Ok(())).is_some()
        })
        .await
    }
}

/// What the reads make of the session document `raw` at `now_ms` (unix
/// ms): `read` of it when it is live, by the rule of [`live`].
pub(super) fn judge<T>(
    raw: &[u8],
    now_ms: i64,
    read: impl FnOnce(Stored<'_>) -> Result<T>,
) -> Option<Result<T>> {
    live::judge(doc::parse(raw), |stored| stored.occupant(now_ms), read)
}

impl Native {
    pub(super) fn now_ms(&self) -> i64 {
        backend::unix_millis(self.clock.now())
    }

    /// The live session `stored` holds for `id`, put in the cache unless
    /// something happened to `id` since `ticket`.
    pub(super) fn fill(
        &self,
        id: &SessionId,
        ticket: Option<Ticket>,
        stored: &Stored<'_>,
    ) -> Result<Session> {
        let data = Arc::new(stored.data(&*self.codec)?);
        let expires_at = backend::from_unix_millis(stored.expires_at)?;
        if let (Some(cache), Some(ticket)) = (&self.cache, ticket) {
            cache.fill(id, ticket, Entry::new(Arc::clone(&data), expires_at, &stored.rev));
        }
        Ok(Session::from_shared(data, Some(expires_at)))
    }
}
