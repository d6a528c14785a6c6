//! The document layer: what a layout does with its documents, so the
//! store never asks which layout it has.
//!
//! Each layout is one peer implementing all of it: [`Native`](crate::native::Native)
//! (this crate's documents) and [`Pouch`](crate::pouch::Pouch)
//! (session-pouchdb-store's). The builder picks one, once, and the store
//! calls it through [`Documents`].
//!
//! The layer is split in four traits so each layout can implement each
//! part in the file that holds that part's code (a trait's `impl` cannot
//! span files): reads, writes, the versioned pair of rule 10, and
//! whole-database upkeep.

use async_trait::async_trait;
use session_core::{Result, Session, SessionId, Versioned, backend::Page, backend::Write};
use time::OffsetDateTime;

use crate::{all_docs::After, token::Seen};

/// What a write stores.
#[derive(Clone, Copy)]
pub(crate) enum Change<'a> {
    /// `set` and `create`: this session.
    Session(&'a Session),
    /// `touch`: the live session's data again, under this expiry.
    Expiry(Option<OffsetDateTime>),
}

/// Reads of live sessions. The store bounds each call by its timeout.
#[async_trait]
pub(crate) trait Reads: Send + Sync {
    /// The live session `id` holds on the server.
    async fn get(&self, id: &SessionId) -> Result<Option<Session>>;

    /// One page of live sessions for `all_stream`, after `after`.
    async fn page(&self, after: After) -> Result<Page<After>>;

    /// How many live sessions there are.
    async fn count(&self) -> Result<u64>;
}

/// Writes, decided by the contract's rule table, and `destroy`.
///
/// Every request of a write runs inside [`retry`](crate::retry::retry),
/// which also holds the whole call to the store's timeout: the store adds
/// no deadline of its own around these.
#[async_trait]
pub(crate) trait Writes: Send + Sync {
    /// `set`, `create` or `touch`.
    async fn write(&self, id: &SessionId, write: Write, change: Change<'_>) -> Result<()>;

    /// `destroy`: the session ended, a tombstone left for the grace window.
    async fn destroy(&self, id: &SessionId) -> Result<()>;
}

/// Rule 10: reads that hand out the revision they read, and the write that
/// stores only at that revision. The store bounds each call by its
/// timeout.
#[async_trait]
pub(crate) trait Versions: Send + Sync {
    /// [`Reads::get`] (the server's document, the cache filled as `get`
    /// fills it), with the token of the revision read.
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>>;

    /// `set` of `session`, in one request that names the revision `seen`
    /// read, with no retry: CouchDB refuses it with 409 if the document
    /// moved on, answered as `Conflict` (or `Destroyed`, for a tombstone).
    /// `seen` is `None` for a token this store did not hand out.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: Option<Seen<'_>>)
    -> Result<()>;
}

/// Work on the whole database. Each request is bounded by the timeout,
/// not the whole run: a purge or `clear` may take many.
#[async_trait]
pub(crate) trait Upkeep: Send + Sync {
    /// Creates the index the purge finds expired sessions with, if missing.
    async fn ensure_index(&self) -> Result<()>;

    /// Deletes expired sessions (and lapsed tombstones), `batch` per
    /// request; returns how many went.
    async fn purge(&self, batch: usize) -> Result<u64>;

    /// Removes every session of the layout.
    async fn clear(&self) -> Result<()>;
}

/// A whole layout: what the store holds and calls.
pub(crate) trait Documents: Reads + Writes + Versions + Upkeep {}

impl<T: Reads + Writes + Versions + Upkeep> Documents for T {}
