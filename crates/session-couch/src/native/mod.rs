//! The [`Layout::Native`](crate::Layout::Native) layout: this crate's own
//! documents, one per session, with an optional cache kept in sync by the
//! `_changes` feed.
//!
//! * [`doc`]: the document (its id, its body both ways);
//! * [`read`]: `get`, `all_stream` and `length`;
//! * [`write`](mod@write): `set`, `create`, `touch` and `destroy`;
//! * [`versioned`]: `get_versioned` and `set_if_unchanged` (rule 10);
//! * [`purge`]: deleting expired sessions and lapsed tombstones, and `clear`.

pub(crate) mod doc;
mod purge;
mod read;
mod versioned;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Clock, Codec, Lifetimes, Result};

use crate::{cache::Cache, documents::Upkeep, http::Couch};

/// The native document layer, and what it works with.
pub(crate) struct Native {
    pub(crate) couch: Couch,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) lifetimes: Lifetimes,
    /// The store's cache, which reads and writes fill and destroys empty.
    pub(crate) cache: Option<Cache>,
}

#[async_trait]
impl Upkeep for Native {
    async fn ensure_index(&self) -> Result<()> {
        purge::ensure_index(&self.couch).await
    }

    async fn purge(&self, batch: usize) -> Result<u64> {
        purge::purge(&self.couch, &*self.clock, batch).await
    }

    async fn clear(&self) -> Result<()> {
        purge::delete_all(&self.couch).await
    }
}
