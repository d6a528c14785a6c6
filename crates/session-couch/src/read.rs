//! Reads from the server: one session (a `get` the cache could not answer),
//! and `_all_docs` pages for `all_stream` and `length`.

use session_core::backend::SessionParts;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{
    Error, Result, Session, SessionId, backend,
    backend::{Occupant, Page},
};

use crate::{
    CouchStore,
    cache::{Cache, Entry},
    doc::{self, Stored},
};

/// Documents per `_all_docs` page.
pub(crate) const PAGE: usize = 500;

/// A page of `_all_docs` with the documents.
#[derive(Deserialize)]
pub(crate) struct AllDocs<'a> {
    #[serde(borrow)]
    pub(crate) rows: Vec<Row<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct Row<'a> {
    pub(crate) id: String,
    #[serde(borrow, default)]
    pub(crate) doc: Option<&'a RawValue>,
}

impl AllDocs<'_> {
    /// Where the page after this one starts, if one may follow.
    pub(crate) fn next(&self) -> Option<After> {
        let last = self.rows.last().map(|row| row.id.clone());
        (self.rows.len() == PAGE).then_some(last)
    }
}

/// Where the next page starts: after this key; `None` for the first page.
pub(crate) type After = Option<String>;

impl CouchStore {
    /// The live session `id` holds on the server, put in the cache.
    pub(crate) async fn fetch(&self, id: &SessionId) -> Result<Option<Session>> {
        let inner = &self.inner;
        let ticket = inner.cache.as_ref().map(Cache::ticket);
        let Some(body) = inner.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        let stored = doc::parse(&body)?;
        if stored.occupant(backend::unix_millis(inner.clock.now())) != Occupant::Live {
            return Ok(None);
        }
        let data = Arc::new(stored.data(&*inner.codec)?);
        let expires_at = backend::from_unix_millis(stored.expires_at)?;
        if let (Some(cache), Some(ticket)) = (&inner.cache, ticket) {
            cache.fill(id, ticket, Entry::new(Arc::clone(&data), expires_at, &stored.rev));
        }
        Ok(Some(Session::from_shared(data, Some(expires_at))))
    }

    /// Calls `each` with every live session document of the page after
    /// `after` (or an error for a document that does not parse); returns
    /// where the next page starts, if one may follow.
    async fn each_live(
        &self,
        after: Option<&str>,
        mut each: impl FnMut(&str, Result<Stored<'_>>),
    ) -> Result<Option<After>> {
        let body = self.inner.couch.all_docs(doc::PREFIX, after, PAGE, true).await?;
        let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
        let now = backend::unix_millis(self.inner.clock.now());
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

    /// One page of live sessions for `all_stream`.
    pub(crate) async fn page(&self, after: After) -> Result<Page<After>> {
        let codec = &*self.inner.codec;
        let mut items = Vec::new();
        let next = self
            .each_live(after.as_deref(), |doc_id, stored| {
                items.push(stored.and_then(|stored| Ok((doc::session_id(doc_id)?, stored.session(codec)?))));
            })
            .await?;
        Ok(Page { items, next })
    }

    /// Live sessions, counted without decoding their data.
    pub(crate) async fn count(&self) -> Result<u64> {
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
