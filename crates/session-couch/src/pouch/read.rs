//! Reads in the PouchDbStore layout: one session, and `_all_docs` pages of
//! the whole database for `all_stream` and `length`, skipping every
//! document that is not a session of this layout.

use async_trait::async_trait;
use session_core::{Error, Result, Session, SessionId, backend::Page};

use super::{Pouch, doc};
use crate::{
    all_docs::{After, AllDocs, PAGE},
    documents::Reads,
};

#[async_trait]
impl Reads for Pouch {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let Some(body) = self.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        doc::live(&body, self.clock.now(), self.lifetimes.default_ttl())
    }

    async fn page(&self, after: After) -> Result<Page<After>> {
        let mut items = Vec::new();
        let next = self.each_live(after.as_deref(), |item| items.push(item)).await?;
        Ok(Page { items, next })
    }

    async fn count(&self) -> Result<u64> {
        let mut after: After = None;
        let mut live = 0;
        loop {
            let next = self
                .each_live(after.as_deref(), |item| live += u64::from(item.is_ok()))
                .await?;
            match next {
                Some(next) => after = next,
                None => return Ok(live),
            }
        }
    }
}

impl Pouch {
    /// Calls `each` with every live session of the page after `after` (or
    /// the error of a session document that cannot be read); returns where
    /// the next page starts, if one may follow.
    async fn each_live(
        &self,
        after: Option<&str>,
        mut each: impl FnMut(Result<(SessionId, Session)>),
    ) -> Result<Option<After>> {
        let body = self.couch.all_docs("", after, PAGE, true).await?;
        let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
        let (now, default_ttl) = (self.clock.now(), self.lifetimes.default_ttl());
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
}
