//! The application's clock: the one every expiry comparison uses.
//!
//! Stores read "now" from a [`Clock`] (by default [`SystemClock`]) and send
//! it to their servers with each call, so a server whose own clock is off
//! never decides whether a session is live. [`SkewedClock`] runs ahead of or
//! behind the system clock, for testing what a store does when the
//! application's and the server's clocks disagree.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use time::{Duration, OffsetDateTime};

/// A source of the current time for a store.
///
/// ```
/// use std::sync::Arc;
/// use session_core::clock::{Clock, SystemClock};
///
/// let clock: Arc<dyn Clock> = Arc::new(SystemClock);
/// assert!(clock.now() > time::macros::datetime!(2020-01-01 0:00 UTC));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock, in UTC: every store's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The system clock shifted by an offset that can be changed while stores
/// use it (clones share the offset): a clock that runs fast, slow, or steps.
///
/// ```
/// use session_core::clock::{Clock, SkewedClock};
/// use time::Duration;
///
/// let clock = SkewedClock::new(Duration::minutes(-10));
/// let skewed = clock.now();
/// assert!(skewed < time::OffsetDateTime::now_utc() - Duration::minutes(9));
/// clock.set_offset(Duration::ZERO);
/// assert!(clock.now() > skewed);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SkewedClock {
    offset_ms: Arc<AtomicI64>,
}

impl SkewedClock {
    /// A clock `offset` ahead of the system clock (behind when negative),
    /// to the millisecond.
    pub fn new(offset: Duration) -> Self {
        let clock = Self::default();
        clock.set_offset(offset);
        clock
    }

    /// Moves the clock to `offset` from the system clock, for every clone.
    pub fn set_offset(&self, offset: Duration) {
        let millis = i64::try_from(offset.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_ms.store(millis, Ordering::Relaxed);
    }

    /// The current offset from the system clock.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
}

impl Clock for SkewedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            .checked_add(self.offset())
            .unwrap_or_else(OffsetDateTime::now_utc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = SkewedClock::new(Duration::hours(1));
        let clone = clock.clone();
        clock.set_offset(Duration::hours(-1));
        assert_eq!(clone.offset(), Duration::hours(-1));
        assert!(clone.now() < OffsetDateTime::now_utc() - Duration::minutes(59));
    }
}
