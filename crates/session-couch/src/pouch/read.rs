//! Reads in the PouchDbStore layout: one session, and `_all_docs` pages of
//! the whole database for `all_stream` and `length`, skipping CouchDB's own
//! documents, the only ones that are not sessions. Which sessions count is
//! decided in [`live`](crate::live).

use async_trait::async_trait;
use session_core::{Result, Session, SessionId, backend::Page};
use std::time::Duration;
use time::OffsetDateTime;

use super::{Pouch, doc, expiry};
use crate::{
    all_docs::{self, After, Doc},
    documents::Reads,
    live,
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
        let (now, default_ttl) = (self.clock.now(), self.lifetimes.default_ttl());
        let mut items = Vec::new();
        let next = all_docs::each_doc(&self.couch, "", after.as_deref(), |found| {
            items.extend(judge(&found, now, default_ttl, |doc_id| {
                Ok((doc::read_id(&doc_id?)?, doc::decode(found.raw, default_ttl)?))
            }));
        })
        .await?;
        Ok(Page { items, next })
    }

    /// Live sessions, counted without decoding their data.
    async fn count(&self) -> Result<u64> {
        let (now, default_ttl) = (self.clock.now(), self.lifetimes.default_ttl());
        all_docs::count(&self.couch, "", |found| {
            judge(&found, now, default_ttl, |_| Ok(())).is_some()
        })
        .await
    }
}

/// What the reads make of a document at `now`: nothing when it is
/// CouchDB's own; otherwise, when it is live by the rule of [`live`] (one
/// without a `cookie` object is, as its expiry cannot be read), `read` of
/// its id (an error for one no Rust string can hold).
fn judge<T>(
    found: &Doc<'_>,
    now: OffsetDateTime,
    default_ttl: Duration,
    read: impl FnOnce(Result<String>) -> Result<T>,
) -> Option<Result<T>> {
    let doc_id = found.id();
    if doc_id.as_ref().is_ok_and(|id| doc::is_couchdbs(id)) {
        return None;
    }
    let occupant = expiry::occupant(found.raw, now, default_ttl);
    live::judge(occupant, |occupant| *occupant, |_| read(doc_id))
}
