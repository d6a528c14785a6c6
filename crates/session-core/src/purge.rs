//! Stores that delete expired records on demand.

use async_trait::async_trait;

/// A store that can delete its expired sessions and lapsed tombstones on
/// demand (SQL and CouchDB; Redis and the memory store expire entries by
/// themselves). Adapters use it, for example for tower-sessions'
/// `ExpiredDeletion`.
#[async_trait]
pub trait PurgeExpired: Send + Sync {
    /// Deletes what has expired; returns how many records went.
    ///
    /// # Errors
    /// A backend error; what was deleted before it stays deleted.
    async fn purge_expired(&self) -> crate::Result<u64>;
}
