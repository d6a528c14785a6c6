//! Trust that lapses: a cache answers only while whatever keeps it fresh
//! (a change feed, an invalidation connection) has shown signs of life
//! recently enough.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Held for `window` after each [`renew`](Self::renew), until
/// [`end`](Self::end). Asking costs one monotonic clock read and one atomic
/// load, so a cache can ask on every read without a lock.
///
/// A store's cache renews the lease each time its invalidation source proves
/// alive and serves reads only while [`is_held`](Self::is_held): if the source
/// goes silent, reads stop trusting the cache when the window runs out,
/// without waiting for a task to notice.
///
/// ```
/// use std::time::Duration;
/// use session_core::backend::Lease;
///
/// let lease = Lease::new(Duration::from_secs(1));
/// assert!(!lease.is_held(), "never renewed yet");
/// lease.renew();
/// assert!(lease.is_held());
/// lease.end();
/// assert!(!lease.is_held());
/// ```
#[derive(Debug)]
pub struct Lease {
    origin: Instant,
    /// Nanoseconds after `origin` of the last renewal, plus one; zero while
    /// not held.
    renewed: AtomicU64,
    window: Duration,
}

impl Lease {
    /// A lease not yet held, that each renewal keeps for `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            origin: Instant::now(),
            renewed: AtomicU64::new(0),
            window,
        }
    }

    /// How long each renewal holds.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn elapsed(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A sign of life just now: held for another `window`.
    pub fn renew(&self) {
        self.renewed
            .store(self.elapsed().saturating_add(1), Ordering::Release);
    }

    /// The source is gone: not held until the next renewal.
    pub fn end(&self) {
        self.renewed.store(0, Ordering::Release);
    }

    /// Whether the last renewal was within `window` and not ended since.
    pub fn is_held(&self) -> bool {
        let renewed = self.renewed.load(Ordering::Acquire);
        let window = u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX);
        renewed != 0 && self.elapsed() < renewed.saturating_add(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_only_within_the_window_after_a_renewal() {
        let lease = Lease::new(Duration::from_millis(30));
        assert!(!lease.is_held(), "not before the first renewal");
        lease.renew();
        assert!(lease.is_held());
        std::thread::sleep(Duration::from_millis(40));
        assert!(!lease.is_held(), "silence past the window");
        lease.renew();
        assert!(lease.is_held());
        lease.end();
        assert!(!lease.is_held());
    }

    #[test]
    fn a_huge_window_never_overflows() {
        let lease = Lease::new(Duration::MAX);
        lease.renew();
        assert!(lease.is_held());
    }
}
