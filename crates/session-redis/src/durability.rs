//! When a write counts as done.

/// How many copies of a write must exist before the store reports it done.
///
/// Redis replicates asynchronously: a primary that dies right after
/// acknowledging a write can take it along, and a replica promoted in its
/// place never saw it, so a logout (a tombstone) or a login can be lost in
/// a failover. With [`Replicas`](Durability::Replicas), every write
/// (`set`, `create`, `touch`, `destroy`) is followed by `WAIT` on the same
/// connection, and the call succeeds only once that many replicas hold it;
/// otherwise it fails with [`Error::Unavailable`](session_core::Error::Unavailable)
/// within the call's timeout (the write reached the primary, so it may
/// still survive: treat it as of unknown outcome, like a timeout).
///
/// ```
/// use session_redis::{Durability, RedisStore};
///
/// let builder = RedisStore::builder()
///     .url("redis-cluster://127.0.0.1:7201")
///     .durability(Durability::Replicas(1));
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Done when the primary has it (Redis' default; fastest).
    #[default]
    Primary,
    /// Done when the primary and at least this many of its replicas have it.
    Replicas(u32),
}
