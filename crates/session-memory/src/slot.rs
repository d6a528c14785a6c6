//! What the store keeps per id, and the pure rules that read it.
//!
//! Live sessions sit in the moka cache as [`Entry`]s; tombstones sit apart,
//! in [`Tombstones`] maps under the stripe locks, so a capacity bound can
//! only ever evict live sessions, never the record of a logout.
//!
//! Each entry carries its expiry twice: as written (the application's clock,
//! which `get` reports back) and as a deadline on the monotonic clock. A
//! session is live only while both are ahead, so a wall clock stepping
//! backwards can never keep a session alive past the time it was given, and
//! a clock stepping forwards ends it as the application would expect.
//! Tombstones use the monotonic clock alone: their grace is a duration.

use session_core::backend::SessionParts;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use moka::Expiry;
use session_core::{Session, SessionData, SessionId, backend::Occupant};
use time::OffsetDateTime;

/// One reading of both clocks, taken together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moment {
    /// The application's clock (the store's [`Clock`](session_core::Clock)).
    pub(crate) wall: OffsetDateTime,
    /// The monotonic clock.
    pub(crate) mono: Instant,
}

impl Moment {
    /// `at` (on the application's clock) as an instant on the monotonic
    /// clock; a moment already past maps to now.
    fn monotonic(self, at: OffsetDateTime) -> Instant {
        later(
            self.mono,
            Duration::try_from(at - self.wall).unwrap_or(Duration::ZERO),
        )
    }
}

/// `now + by` on the monotonic clock, `by` clamped to [`LONGEST_KEEP`] so the
/// sum cannot overflow.
pub(crate) fn later(now: Instant, by: Duration) -> Instant {
    now.checked_add(by.min(LONGEST_KEEP)).unwrap_or(now)
}

/// A live session as the cache holds it.
#[derive(Clone)]
pub(crate) struct Entry {
    data: Arc<SessionData>,
    expires_at: OffsetDateTime,
    deadline: Instant,
    /// Which write stored this data: the entry's version (rule 10).
    stamp: u64,
}

impl Entry {
    pub(crate) fn new(data: Arc<SessionData>, expires_at: OffsetDateTime, now: Moment, stamp: u64) -> Self {
        Self {
            data,
            expires_at,
            deadline: now.monotonic(expires_at),
            stamp,
        }
    }

    /// The same data with a new expiry (what `touch` stores): the same
    /// version, since the data did not change.
    pub(crate) fn with_expiry(&self, expires_at: OffsetDateTime, now: Moment) -> Self {
        Self::new(Arc::clone(&self.data), expires_at, now, self.stamp)
    }

    /// The write that stored this data.
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp
    }

    pub(crate) fn is_live_at(&self, now: Moment) -> bool {
        self.expires_at > now.wall && self.deadline > now.mono
    }

    /// The session, if live at `now`; its data is shared, not copied.
    pub(crate) fn session_at(&self, now: Moment) -> Option<Session> {
        self.is_live_at(now)
            .then(|| Session::from_shared(Arc::clone(&self.data), Some(self.expires_at)))
    }
}

/// Whether a conditional write may land: the id still holds the live data
/// stored by write `seen` (rule 10). Anything else (newer data, nothing, an
/// expired entry) means someone wrote or the session ended since the read.
pub(crate) fn still_at(entry: Option<&Entry>, seen: u64, now: Moment) -> bool {
    entry.is_some_and(|entry| entry.is_live_at(now) && entry.stamp == seen)
}

/// What a write finds: an active tombstone first, then a live entry.
pub(crate) fn occupant(tombstoned: bool, entry: Option<&Entry>, now: Moment) -> Occupant {
    match (tombstoned, entry) {
        (true, _) => Occupant::Tombstone,
        (false, Some(entry)) if entry.is_live_at(now) => Occupant::Live,
        (false, _) => Occupant::Vacant,
    }
}

/// The tombstones of one stripe: id → end of its grace window.
///
/// Lapsed tombstones are dropped when looked up, and all at once whenever
/// the map has doubled since the last sweep, so it holds at most about
/// twice the tombstones still within their grace window.
#[derive(Debug, Default)]
pub(crate) struct Tombstones {
    until: HashMap<SessionId, Instant>,
    sweep_at: usize,
    /// The last stamp handed to a write of this stripe; only grows, so no
    /// two writes of an id ever share one.
    stamps: u64,
}

/// The smallest map size that triggers a sweep.
const FIRST_SWEEP: usize = 64;

impl Tombstones {
    /// Whether `id` is tombstoned at `now`.
    pub(crate) fn active(&mut self, id: &SessionId, now: Instant) -> bool {
        if self.until.is_empty() {
            return false; // the common case: no hashing at all
        }
        match self.until.get(id) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.until.remove(id);
                false
            }
            None => false,
        }
    }

    pub(crate) fn insert(&mut self, id: &SessionId, until: Instant, now: Instant) {
        self.until.insert(id.clone(), until);
        if self.until.len() >= self.sweep_at.max(FIRST_SWEEP) {
            self.until.retain(|_, until| *until > now);
            self.sweep_at = self.until.len() * 2;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.until.len()
    }

    /// A stamp no earlier write of this stripe had.
    pub(crate) fn next_stamp(&mut self) -> u64 {
        self.stamps += 1;
        self.stamps
    }

    pub(crate) fn clear(&mut self) {
        self.until.clear();
        self.sweep_at = 0;
    }
}

/// Moka's timer keeps nanoseconds in a u64 (about 584 years); sessions set to
/// expire later than this are kept for this long and then dropped.
const LONGEST_KEEP: Duration = Duration::from_secs(200 * 366 * 24 * 3600);

/// Tells moka to drop each entry at its monotonic deadline.
pub(crate) struct EntryExpiry;

impl EntryExpiry {
    fn keep_for(entry: &Entry) -> Option<Duration> {
        Some(entry.deadline.saturating_duration_since(Instant::now()))
    }
}

impl Expiry<SessionId, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &SessionId, entry: &Entry, _: Instant) -> Option<Duration> {
        Self::keep_for(entry)
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::keep_for(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const WALL: OffsetDateTime = datetime!(2030-01-01 12:00 UTC);

    fn moment() -> Moment {
        Moment {
            wall: WALL,
            mono: Instant::now(),
        }
    }

    fn entry_for(secs: i64, now: Moment) -> Entry {
        Entry::new(Arc::default(), WALL + time::Duration::seconds(secs), now, 1)
    }

    #[test]
    fn a_conditional_write_lands_only_on_the_data_it_read() {
        let now = moment();
        let entry = entry_for(60, now);
        assert!(still_at(Some(&entry), 1, now));
        assert!(still_at(
            Some(&entry.with_expiry(WALL + time::Duration::seconds(90), now)),
            1,
            now
        ));
        assert!(!still_at(Some(&entry), 2, now), "another write landed");
        assert!(!still_at(None, 1, now), "the session was removed");
        assert!(
            !still_at(Some(&entry_for(-1, now)), 1, now),
            "the session expired"
        );
    }

    #[test]
    fn a_session_lives_while_both_clocks_say_so() {
        let now = moment();
        let entry = entry_for(60, now);
        assert!(entry.is_live_at(now));
        let wall_stepped_back = Moment {
            wall: WALL - time::Duration::hours(1),
            mono: now.mono + Duration::from_secs(61),
        };
        assert!(
            !entry.is_live_at(wall_stepped_back),
            "the monotonic deadline still ends it"
        );
        let wall_stepped_forward = Moment {
            wall: WALL + time::Duration::hours(1),
            mono: now.mono + Duration::from_secs(1),
        };
        assert!(
            !entry.is_live_at(wall_stepped_forward),
            "the application's clock ends it"
        );
        assert!(entry_for(-1, now).session_at(now).is_none());
    }

    #[test]
    fn occupants_put_tombstones_first() {
        let now = moment();
        let live = entry_for(60, now);
        assert_eq!(occupant(true, Some(&live), now), Occupant::Tombstone);
        assert_eq!(occupant(false, Some(&live), now), Occupant::Live);
        assert_eq!(occupant(false, Some(&entry_for(0, now)), now), Occupant::Vacant);
        assert_eq!(occupant(false, None, now), Occupant::Vacant);
    }

    #[test]
    fn tombstones_lapse_and_are_swept() {
        let now = Instant::now();
        let mut tombstones = Tombstones::default();
        let kept = SessionId::generate();
        tombstones.insert(&kept, now + Duration::from_secs(60), now);
        for _ in 0..1000 {
            tombstones.insert(&SessionId::generate(), now, now); // lapse at once
        }
        assert!(
            tombstones.len() <= 2 * FIRST_SWEEP,
            "swept as it grew: {}",
            tombstones.len()
        );
        assert!(
            tombstones.active(&kept, now),
            "a tombstone in its grace is never swept"
        );
        assert!(!tombstones.active(&kept, now + Duration::from_secs(61)));
        assert!(!tombstones.active(&kept, now), "removed once lapsed");
    }

    #[test]
    fn far_expiries_are_clamped_for_the_monotonic_clock() {
        let now = moment();
        let entry = Entry::new(Arc::default(), datetime!(9999-12-31 0:00 UTC), now, 1);
        assert!(entry.is_live_at(now));
        let keep = EntryExpiry::keep_for(&entry).unwrap_or(Duration::ZERO);
        assert!(keep > LONGEST_KEEP - Duration::from_secs(60) && keep <= LONGEST_KEEP);
    }
}
