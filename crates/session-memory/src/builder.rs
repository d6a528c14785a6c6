//! Options for `MemoryStore`.

use std::time::Duration;

use session_core::{Error, Lifetimes};

use crate::MemoryStore;

/// Builds a [`MemoryStore`]. Every option has a default:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`max_capacity`](Self::max_capacity) | unbounded | most entries (sessions and tombstones) kept; least recently used go first |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero disables tombstones |
///
/// ```
/// use std::time::Duration;
/// use session_memory::MemoryStore;
///
/// let store = MemoryStore::builder()
///     .max_capacity(100_000)
///     .default_ttl(Duration::from_secs(3600))
///     .tombstone_grace(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(store.lifetimes().default_ttl(), Duration::from_secs(3600));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_capacity: Option<u64>,
    default_ttl: Option<Duration>,
    tombstone_grace: Option<Duration>,
}

impl MemoryStoreBuilder {
    /// Bounds the number of entries (sessions plus tombstones).
    pub fn max_capacity(mut self, entries: u64) -> Self {
        self.max_capacity = Some(entries);
        self
    }

    /// Lifetime of sessions written without an expiry. Must be positive.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// How long writes to a destroyed id are refused; zero disables tombstones.
    pub fn tombstone_grace(mut self, grace: Duration) -> Self {
        self.tombstone_grace = Some(grace);
        self
    }

    /// Takes both lifetimes at once (as the conformance suite hands them out).
    pub fn lifetimes(self, lifetimes: Lifetimes) -> Self {
        self.default_ttl(lifetimes.default_ttl())
            .tombstone_grace(lifetimes.tombstone_grace())
    }

    /// Checks the options and builds the store.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero capacity, a zero TTL, or a TTL or
    /// grace over [`Lifetimes::MAX`].
    pub fn build(self) -> Result<MemoryStore, Error> {
        if self.max_capacity == Some(0) {
            return Err(Error::InvalidInput("max_capacity must be at least 1".into()));
        }
        let lifetimes = Lifetimes::new(
            self.default_ttl.unwrap_or(Lifetimes::DEFAULT_TTL),
            self.tombstone_grace.unwrap_or(Lifetimes::DEFAULT_TOMBSTONE_GRACE),
        )?;
        Ok(MemoryStore::with_parts(self.max_capacity, lifetimes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_options() {
        assert!(matches!(
            MemoryStore::builder().max_capacity(0).build(),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            MemoryStore::builder().default_ttl(Duration::ZERO).build(),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn defaults_apply() {
        let store = MemoryStore::builder().build().unwrap();
        assert_eq!(store.lifetimes(), Lifetimes::default());
    }
}
