//! Reads of the native layout: one session (a `get` the cache could not
//! answer), and `_all_docs` pages of the `s:` range for `all_stream` and
//! `length`.

use session_core::backend::SessionParts;
use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Error, Result, Session, SessionId, backend,
    backend::{Occupant, Page},
};

use super::{
    Native,
    doc::{self, Stored},
};
use crate::{
    all_docs::{After, AllDocs, PAGE},
    cache::{Cache, Entry},
    documents::Reads,
};

#[async_trait]
impl Reads for Native {
    /// The live session `id` holds on the server, put in the cache.
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let ticket = self.cache.as_ref().map(Cache::ticket);
        let Some(body) = self.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        let stored = doc::parse(&body)?;
        if stored.occupant(backend::unix_millis(self.clock.now())) != Occupant::Live {
            return Ok(None);
        }
        let data = Arc::new(stored.data(&*self.codec)?);
        let expires_at = backend::from_unix_millis(stored.expires_at)?;
        if let (Some(cache), Some(ticket)) = (&self.cache, ticket) {
            cache.fill(id, ticket, Entry::new(Arc::clone(&data), expires_at, &stored.rev));
        }
        Ok(Some(Session::from_shared(data, Some(expires_at))))
    }

    async fn page(&self, after: After) -> Result<Page<After>> {
        let codec = &*self.codec;
        let mut items = Vec::new();
        let next = self
            .each_live(after.as_deref(), |doc_id, stored| {
                items.push(stored.and_then(|stored| Ok((doc::session_id(doc_id)?, stored.session(codec)?))));
            })
            .await?;
        Ok(Page { items, next })
    }

    /// Live sessions, counted without decoding their data.
    async fn count(&self) -> Result<u64> {
        let mut after: After = None;
        let mut live = 0;
        loop {
            let next = self
                .each_live(after.as_deref(), |_, stored| live += u64::from(stored.is_ok()))
                .await?;
            match next {
                Some(next) => after = next,
                None => return Ok(live),
            }
        }
    }
}

impl Native {
    /// Calls `each` with every live session document of the page after
    /// `after` (or an error for a document that does not parse); returns
    /// where the next page starts, if one may follow.
    async fn each_live(
        &self,
        after: Option<&str>,
        mut each: impl FnMut(&str, Result<Stored<'_>>),
    ) -> Result<Option<After>> {
        let body = self.couch.all_docs(doc::PREFIX, after, PAGE, true).await?;
        let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
        let now = backend::unix_millis(self.clock.now());
        for row in &page.rows {
            let Some(raw) = row.doc else { continue };
            match doc::parse(raw.get().as_bytes()) {
                Ok(stored) if stored.occupant(now) == Occupant::Live => each(&row.id, Ok(stored)),
                Ok(_) => {}
                Err(error) => each(&row.id, Err(error)),
            }
        }
        Ok(page.next())
    }
}
