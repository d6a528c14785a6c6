//! Options for `MemoryStore`.

use session_core::{Error, backend::BuilderOptions};

use crate::MemoryStore;

/// Builds a [`MemoryStore`]. Every option has a default:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`max_capacity`](Self::max_capacity) | unbounded | most live sessions kept; least recently used go first (tombstones are kept apart, outside the bound) |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero disables tombstones |
/// | [`clock`](Self::clock) | the system clock | the application's clock, which expiries are computed and compared with |
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
    options: BuilderOptions,
}

impl MemoryStoreBuilder {
    session_core::builder_options!(lifetimes);

    /// Bounds the number of live sessions kept; tombstones do not count.
    pub fn max_capacity(mut self, sessions: u64) -> Self {
        self.max_capacity = Some(sessions);
        self
    }

    /// Checks the options and builds the store.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero capacity, a zero TTL, or a TTL or
    /// grace over [`Lifetimes::MAX`](session_core::Lifetimes::MAX).
    pub fn build(self) -> Result<MemoryStore, Error> {
        if self.max_capacity == Some(0) {
            return Err(Error::InvalidInput("max_capacity must be at least 1".into()));
        }
        let lifetimes = self.options.check()?;
        Ok(MemoryStore::with_parts(
            self.max_capacity,
            lifetimes,
            self.options.clock,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use session_core::Lifetimes;

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
