//! When the `_changes` feed was last heard from, and so whether the cache
//! may answer reads.
//!
//! The server sends a change or a heartbeat line at least every `heartbeat`;
//! a feed silent for longer than the bound (twice the heartbeat) may be
//! missing changes, so reads stop trusting the cache at that moment, without
//! waiting for the feed task to notice.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Whether the feed is live, asked on every cached `get`: one monotonic
/// clock read and one atomic load.
#[derive(Debug)]
pub(crate) struct Liveness {
    start: Instant,
    /// Milliseconds after `start` the feed was last heard from, plus one;
    /// zero while it is not connected.
    heard: AtomicU64,
    bound_ms: u64,
}

impl Liveness {
    /// A feed not yet connected, trusted for `bound` after each sign of life.
    pub(crate) fn new(bound: Duration) -> Self {
        Self {
            start: Instant::now(),
            heard: AtomicU64::new(0),
            bound_ms: u64::try_from(bound.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The feed delivered something just now.
    pub(crate) fn heard(&self) {
        self.heard
            .store(self.elapsed_ms().saturating_add(1), Ordering::Release);
    }

    /// The feed is gone (ended, failed or silent too long).
    pub(crate) fn lost(&self) {
        self.heard.store(0, Ordering::Release);
    }

    /// Whether the feed was heard from within the bound.
    pub(crate) fn is_live(&self) -> bool {
        let heard = self.heard.load(Ordering::Acquire);
        heard != 0 && self.elapsed_ms() < heard.saturating_add(self.bound_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_only_within_the_bound_after_a_sign_of_life() {
        let liveness = Liveness::new(Duration::from_millis(30));
        assert!(!liveness.is_live(), "not before the feed connects");
        liveness.heard();
        assert!(liveness.is_live());
        std::thread::sleep(Duration::from_millis(40));
        assert!(!liveness.is_live(), "silence past the bound");
        liveness.heard();
        assert!(liveness.is_live());
        liveness.lost();
        assert!(!liveness.is_live());
    }
}
