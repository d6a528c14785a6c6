//! Reads in the PouchDbStore layout: one session, and `_all_docs` pages of
//! the whole database for `all_stream` and `length`, skipping every
//! document that is not a session of this layout.

use session_core::{Error, Result, Session, SessionId, backend::Page};

use super::doc;
use crate::{
    CouchStore,
    read::{After, AllDocs, PAGE},
};

impl CouchStore {
    /// The live session `id` holds.
    pub(crate) async fn pouch_get(&self, id: &SessionId) -> Result<Option<Session>> {
        let inner = &self.inner;
        let Some(body) = inner.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        doc::live(&body, inner.clock.now(), inner.lifetimes.default_ttl())
    }

    /// Calls `each` with every live session of the page after `after` (or
    /// the error of a session document that cannot be read); returns where
    /// the next page starts, if one may follow.
    async fn pouch_each_live(
        &self,
        after: Option<&str>,
        mut each: impl FnMut(Result<(SessionId, Session)>),
    ) -> Result<Option<After>> {
        let inner = &self.inner;
        let body = inner.couch.all_docs("", after, PAGE, true).await?;
        let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
        let (now, default_ttl) = (inner.clock.now(), inner.lifetimes.default_ttl());
        for row in &page.rows {
            let (Some(id), Some(raw)) = (doc::session_id(&row.id), row.doc) else {
                continue;
            };
            let raw = raw.get().as_bytes();
            if !doc::is_session(raw) {
                continue;
            }
            match doc::live(raw, now, default_ttl) {
                Ok(Some(session)) => each(Ok((id, session))),
                Ok(None) => {}
                Err(error) => each(Err(error)),
            }
        }
        Ok(page.next())
    }

    /// One page of live sessions for `all_stream`.
    pub(crate) async fn pouch_page(&self, after: After) -> Result<Page<After>> {
        let mut items = Vec::new();
        let next = self
            .pouch_each_live(after.as_deref(), |item| items.push(item))
            .await?;
        Ok(Page { items, next })
    }

    /// Live sessions, counted.
    pub(crate) async fn pouch_count(&self) -> Result<u64> {
        let mut after: After = None;
        let mut live = 0;
        loop {
            let next = self
                .pouch_each_live(after.as_deref(), |item| live += u64::from(item.is_ok()))
                .await?;
            match next {
                Some(next) => after = next,
                None => return Ok(live),
            }
        }
    }
}
