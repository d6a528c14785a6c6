//! Helpers for the stores' background work, and the builder options every
//! backend shares.

use std::time::Duration;

use async_trait::async_trait;

/// A store that can delete its expired sessions and lapsed tombstones on
/// demand (SQL and CouchDB; Redis and the memory store expire entries by
/// themselves). Adapters use it, for example for tower-sessions'
/// `ExpiredDeletion`.
#[async_trait]
pub trait PurgeExpired: Send + Sync {
    /// Deletes what has expired; returns how many entries went.
    ///
    /// # Errors
    /// A backend error; what was deleted before it stays deleted.
    async fn purge_expired(&self) -> crate::Result<u64>;
}

/// `interval` scaled by a random factor in `[0.5, 1.5)`, so processes that
/// started together do not purge in step (like connect-pg-simple's
/// randomized prune interval).
///
/// ```
/// use std::time::Duration;
/// use session_core::maintenance::jittered;
///
/// let wait = jittered(Duration::from_secs(60));
/// assert!(wait >= Duration::from_secs(30) && wait < Duration::from_secs(90));
/// ```
pub fn jittered(interval: Duration) -> Duration {
    let mut byte = [0u8; 1];
    // Without randomness the interval itself is still a fine choice.
    let random = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 256.0
    } else {
        0.5
    };
    interval.mul_f64(0.5 + random)
}

/// Runs `op` with a hard deadline: no store call outlives its configured
/// timeout, even while a client is reconnecting. Needs the `tokio` feature.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use session_core::{Error, maintenance::within};
///
/// let slow = async {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok(())
/// };
/// assert!(matches!(within(Duration::from_millis(10), slow).await, Err(Error::Timeout(_))));
/// # }
/// ```
#[cfg(feature = "tokio")]
pub async fn within<T>(timeout: Duration, op: impl Future<Output = crate::Result<T>>) -> crate::Result<T> {
    tokio::time::timeout(timeout, op)
        .await
        .unwrap_or(Err(crate::Error::Timeout(timeout)))
}

/// Generates the builder setters every backend shares, with their docs:
/// `default_ttl`, `tombstone_grace`, `lifetimes`, `disable_touch`, `codec`
/// and `timeout`. The builder must have fields of those names, of types
/// `Duration`, `Duration`, `bool`, `Arc<dyn Codec>` and `Duration`.
#[macro_export]
macro_rules! shared_builder_options {
    () => {
        /// Lifetime of sessions written without an expiry (default 24 h).
        pub fn default_ttl(mut self, ttl: ::std::time::Duration) -> Self {
            self.default_ttl = ttl;
            self
        }

        /// How long writes to a destroyed id are refused (default 300 s);
        /// zero turns tombstones off, so `destroy` deletes outright.
        pub fn tombstone_grace(mut self, grace: ::std::time::Duration) -> Self {
            self.tombstone_grace = grace;
            self
        }

        /// Both lifetimes at once (as the conformance suite hands them out).
        pub fn lifetimes(self, lifetimes: $crate::Lifetimes) -> Self {
            self.default_ttl(lifetimes.default_ttl())
                .tombstone_grace(lifetimes.tombstone_grace())
        }

        /// Make `touch` a no-op that reports success (default `false`).
        pub fn disable_touch(mut self, disable: bool) -> Self {
            self.disable_touch = disable;
            self
        }

        /// How session data is encoded (default [`JsonCodec`]($crate::JsonCodec)).
        pub fn codec(mut self, codec: ::std::sync::Arc<dyn $crate::Codec>) -> Self {
            self.codec = codec;
            self
        }

        /// Longest any call may take (default 5 s). Must be positive.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.timeout = timeout;
            self
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_the_interval() {
        let base = Duration::from_secs(100);
        for _ in 0..200 {
            let d = jittered(base);
            assert!(
                d >= Duration::from_secs(50) && d < Duration::from_secs(150),
                "{d:?}"
            );
        }
    }
}
