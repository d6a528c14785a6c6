//! The [`Layout::PouchDbStore`](crate::Layout::PouchDbStore) layout:
//! session-pouchdb-store's documents, read and written so a Node process
//! using that store shares every session with this one.
//!
//! * [`doc`]: the document (its id, its body both ways, the revoked body);
//! * [`expiry`]: when a session ends, read without its data;
//! * [`leaf`]: what a write finds under an id, deleted revisions included;
//! * [`read`]: `get`, `all_stream` and `length`;
//! * [`write`](mod@write): `set`, `create` and `touch`, decided by the rule table,
//!   and `destroy`;
//! * [`versioned`]: `get_versioned` and `set_if_unchanged` (rule 10);
//! * [`destroy`]: the two-step logout and its tombstone;
//! * [`purge`]: deleting expired sessions (Node never does);
//! * [`clear`]: every session deleted, every tombstone lifted.

mod clear;
mod destroy;
mod doc;
mod expiry;
mod leaf;
mod purge;
mod read;
mod versioned;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Clock, Lifetimes, Result};

use crate::{documents::Upkeep, http::Couch};

/// The PouchDbStore document layer, and what it works with. It has no
/// cache: Node's writes would not reach it.
pub(crate) struct Pouch {
    pub(crate) couch: Couch,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) lifetimes: Lifetimes,
}

#[async_trait]
impl Upkeep for Pouch {
    async fn ensure_index(&self) -> Result<()> {
        purge::ensure_index(&self.couch).await
    }

    async fn purge(&self, batch: usize) -> Result<u64> {
        let default_ttl = self.lifetimes.default_ttl();
        purge::purge(&self.couch, &*self.clock, default_ttl, batch).await
    }

    async fn clear(&self) -> Result<()> {
        clear::clear(&self.couch).await
    }
}
