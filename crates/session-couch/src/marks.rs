//! Marks of changes the cache must never go back before.
//!
//! A read (or write) that fetched revision generation `g` of a session
//! stores it in the cache only after its round trip. If meanwhile the
//! session changed to a later generation (a destroy here, a change seen on
//! the feed for a session the cache did not hold), storing `g` would bring
//! back what is gone. So each such change leaves a mark, and a fill older
//! than the mark is refused. A round trip that fills the cache ends within
//! the store's timeout, so a mark is kept that long (plus a margin), then
//! swept.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use session_core::SessionId;

/// The generation that stands for "every revision": what a destroy marks
/// when it cannot know the tombstone's revision (it failed or timed out).
pub(crate) const EVERY: u64 = u64::MAX;

/// The marks of one stripe of ids, each kept for `keep`.
///
/// Lapsed marks are swept whenever the map has doubled since the last
/// sweep, so it holds at most about twice the marks made within `keep`.
#[derive(Debug)]
pub(crate) struct Marks {
    /// Id → (the latest generation marked, when it was marked).
    latest: HashMap<SessionId, (u64, Instant)>,
    keep: Duration,
    /// Sweep lapsed marks once the map reaches this size.
    sweep_at: usize,
}

/// The smallest map size that triggers a sweep.
const FIRST_SWEEP: usize = 64;

impl Marks {
    pub(crate) fn new(keep: Duration) -> Self {
        Self {
            latest: HashMap::new(),
            keep,
            sweep_at: FIRST_SWEEP,
        }
    }

    /// Records that `id` reached `generation` at `now`.
    pub(crate) fn mark(&mut self, id: &SessionId, generation: u64, now: Instant) {
        if let Some((latest, at)) = self.latest.get_mut(id) {
            *latest = (*latest).max(generation);
            *at = now;
            return;
        }
        if self.latest.len() >= self.sweep_at {
            let keep = self.keep;
            self.latest.retain(|_, (_, at)| now.duration_since(*at) < keep);
            self.sweep_at = (self.latest.len() * 2).max(FIRST_SWEEP);
        }
        self.latest.insert(id.clone(), (generation, now));
    }

    /// Whether a fill of `id` at `generation` would go back before a mark
    /// still kept at `now`.
    pub(crate) fn refuses(&self, id: &SessionId, generation: u64, now: Instant) -> bool {
        !self.latest.is_empty()
            && self
                .latest
                .get(id)
                .is_some_and(|(latest, at)| *latest > generation && now.duration_since(*at) < self.keep)
    }

    pub(crate) fn clear(&mut self) {
        self.latest.clear();
        self.sweep_at = FIRST_SWEEP;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_fills_are_refused_while_the_mark_lasts() {
        let keep = Duration::from_secs(5);
        let mut marks = Marks::new(keep);
        let id = SessionId::generate();
        let now = Instant::now();
        marks.mark(&id, 3, now);
        assert!(marks.refuses(&id, 2, now));
        assert!(!marks.refuses(&id, 3, now), "the marked revision itself may fill");
        assert!(!marks.refuses(&SessionId::generate(), 1, now));
        assert!(!marks.refuses(&id, 2, now + keep), "lapsed");
        marks.mark(&id, EVERY, now);
        assert!(marks.refuses(&id, 1_000, now));
    }

    #[test]
    fn lapsed_marks_are_swept_as_new_ones_come() {
        let mut marks = Marks::new(Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..1000 {
            marks.mark(&SessionId::generate(), 1, start);
        }
        let later = start + Duration::from_secs(2);
        for _ in 0..2000 {
            marks.mark(&SessionId::generate(), 1, later);
        }
        assert!(marks.latest.len() <= 2000, "{}", marks.latest.len());
    }
}
