//! What a migration reads from: any [`Store`], or a reader of another
//! program's records.

use std::fmt;

use async_trait::async_trait;

use crate::{Result, SessionStream, Store};

/// Where a [`Migration`](super::Migration) reads sessions from.
///
/// Every [`Store`] is a source (its [`all_stream`](Store::all_stream) and
/// [`length`](Store::length)); a reader of records another program wrote
/// (`session-redis` and `session-sql` each have one for tower-sessions'
/// stores, behind their `tower-sessions` feature) implements this trait
/// alone, so it never has to pretend it can be written to.
///
/// ```
/// use session_core::{Error, Store, migrate::Source};
///
/// async fn expected<S: Source + ?Sized>(source: &S) -> Result<u64, Error> {
///     source.count().await
/// }
///
/// async fn of_a_store(store: &dyn Store) -> Result<u64, Error> {
///     expected(store).await // a store is a source
/// }
/// ```
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// Streams every live session, holding a bounded batch in memory. A
    /// session yielded twice is harmless to a migration (the second copy is
    /// refused by the target's `create` and counted as already there), but
    /// costs a round trip. Per-record errors that leave the rest readable
    /// should be [`Error::Decode`](crate::Error::Decode) or
    /// [`Error::InvalidId`](crate::Error::InvalidId) items; any other error
    /// item ends the migration as a failed read.
    fn sessions(&self) -> SessionStream<'_>;

    /// How many sessions [`sessions`](Source::sessions) is expected to yield,
    /// for progress and ETA. Exact for a [`Store`]; a reader may count
    /// records that have expired but are still stored.
    async fn count(&self) -> Result<u64>;
}

#[async_trait]
impl<S: Store + ?Sized> Source for S {
    fn sessions(&self) -> SessionStream<'_> {
        self.all_stream()
    }

    async fn count(&self) -> Result<u64> {
        self.length().await
    }
}
