//! The in-process cache of live sessions: moka's synchronous cache, read
//! without locks, with every change to it made under a lock striped by id.
//!
//! Three rules keep it from serving what is gone:
//! * reads trust it only while the `_changes` feed is live (a [`Lease`] the feed renews);
//! * a fill (what a read fetched, what a write stored) carries the revision
//!   generation it reflects and the cache epoch it started in; it is refused
//!   if the cache was emptied since (epoch), if the cache holds a later
//!   generation, or if a later change was marked ([`Marks`]): a destroy here,
//!   or a change on the feed;
//! * fills, marks and removals of one id serialize on its stripe, so a check
//!   and the insert that follows it are one step.

use session_core::backend::SessionParts;
use std::{
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use moka::{Expiry, sync::Cache as Moka};
use session_core::{
    Clock, Session, SessionData, SessionId, Versioned,
    backend::{Lease, unix_millis},
};
use time::OffsetDateTime;

use crate::{
    marks::{self, Marks},
    revision, token,
};

/// A live session as the cache holds it, with the revision it was read or
/// written at: `get_versioned` hands that out, so a write it leads to names
/// what the server stored then.
#[derive(Clone)]
pub(crate) struct Entry {
    data: Arc<SessionData>,
    expires_at: OffsetDateTime,
    rev: Arc<str>,
}

impl Entry {
    pub(crate) fn new(data: Arc<SessionData>, expires_at: OffsetDateTime, rev: &str) -> Self {
        Self {
            data,
            expires_at,
            rev: Arc::from(rev),
        }
    }

    /// The session, its data shared rather than copied.
    pub(crate) fn into_session(self) -> Session {
        Session::from_shared(self.data, Some(self.expires_at))
    }

    /// The session with the version it was read or written at (rule 10).
    pub(crate) fn into_versioned(self) -> Versioned {
        Versioned {
            version: token::issue(&self.rev, unix_millis(self.expires_at)),
            session: self.into_session(),
        }
    }

    pub(crate) fn rev(&self) -> &str {
        &self.rev
    }

    /// The session's data, shared.
    pub(crate) fn shared_data(&self) -> Arc<SessionData> {
        Arc::clone(&self.data)
    }

    fn generation(&self) -> u64 {
        revision::generation(&self.rev)
    }
}

/// Lets moka drop entries at their session's expiry (reads also compare
/// with the clock, so this only frees memory sooner).
struct EntryExpiry {
    clock: Arc<dyn Clock>,
}

impl EntryExpiry {
    fn left(&self, entry: &Entry) -> Option<Duration> {
        let left = Duration::try_from(entry.expires_at - self.clock.now()).unwrap_or(Duration::ZERO);
        Some(left.min(Duration::from_secs(366 * 24 * 3600)))
    }
}

impl Expiry<SessionId, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &SessionId, entry: &Entry, _: std::time::Instant) -> Option<Duration> {
        self.left(entry)
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        entry: &Entry,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.left(entry)
    }
}

/// Where a fill started: the cache epoch before its round trip.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

/// Sizes and bounds of a cache.
pub(crate) struct Limits {
    pub(crate) capacity: u64,
    pub(crate) max_idle: Duration,
    /// How long after its last sign of life the feed is trusted.
    pub(crate) silence: Duration,
    /// How long a fill's round trip can take (the store's timeout).
    pub(crate) round_trip: Duration,
}

/// The cache, shared by a store's clones and its feed task.
#[derive(Clone)]
pub(crate) struct Cache {
    shared: Arc<Shared>,
}

struct Shared {
    entries: Moka<SessionId, Entry>,
    stripes: Box<[Mutex<Marks>]>,
    hasher: RandomState,
    /// Bumped whenever the whole cache is emptied.
    epoch: AtomicU64,
    feed: Lease,
    clock: Arc<dyn Clock>,
}

/// Lock stripes: enough that fills of different ids rarely wait on each other.
const STRIPES: usize = 64;

impl Cache {
    pub(crate) fn new(limits: &Limits, clock: Arc<dyn Clock>) -> Self {
        let entries = Moka::builder()
            .max_capacity(limits.capacity)
            .time_to_idle(limits.max_idle)
            .expire_after(EntryExpiry {
                clock: Arc::clone(&clock),
            })
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .build();
        // A margin over the round trip: a fill's deadline is measured from
        // before its ticket, a mark from after its change.
        let keep = limits.round_trip.saturating_add(Duration::from_secs(1));
        Self {
            shared: Arc::new(Shared {
                entries,
                stripes: (0..STRIPES).map(|_| Mutex::new(Marks::new(keep))).collect(),
                hasher: RandomState::new(),
                epoch: AtomicU64::new(0),
                feed: Lease::new(limits.silence),
                clock,
            }),
        }
    }

    /// The live session `id` holds, if the feed is live and the cache has it.
    pub(crate) fn live(&self, id: &SessionId) -> Option<Entry> {
        if !self.shared.feed.is_held() {
            return None;
        }
        let entry = self.shared.entries.get(id)?;
        (entry.expires_at > self.shared.clock.now()).then_some(entry)
    }

    /// What the cache holds for `id`, trusted or not: for diagnostics.
    pub(crate) fn holds(&self, id: &SessionId) -> Option<Session> {
        self.shared.entries.get(id).map(Entry::into_session)
    }

    /// Taken before a round trip whose result may fill the cache.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.shared.epoch.load(Ordering::Acquire))
    }

    /// Stores what a read fetched or a write stored, unless something later
    /// happened to `id` since `ticket` was taken.
    pub(crate) fn fill(&self, id: &SessionId, ticket: Ticket, entry: Entry) {
        let marks = self.stripe(id);
        let generation = entry.generation();
        let stale = self.shared.epoch.load(Ordering::Acquire) != ticket.0
            || marks.refuses(id, generation, Instant::now())
            || self
                .shared
                .entries
                .get(id)
                .is_some_and(|held| held.generation() > generation);
        if !stale {
            self.shared.entries.insert(id.clone(), entry);
        }
    }

    /// `id` was destroyed (or removed) here: drop it, and refuse every fill
    /// that started before.
    pub(crate) fn destroyed(&self, id: &SessionId) {
        let mut marks = self.stripe(id);
        marks.mark(id, marks::EVERY, Instant::now());
        self.shared.entries.invalidate(id);
    }

    /// Drops what the cache holds for `id`, leaving no mark (a write met a
    /// conflict: the cached revision is not the server's).
    pub(crate) fn forget(&self, id: &SessionId) {
        let _marks = self.stripe(id);
        self.shared.entries.invalidate(id);
    }

    /// The feed saw `id` reach `generation`: `now_live` is the session then,
    /// or `None` when it is gone or the feed could not tell. Only ids the
    /// cache holds are refreshed; `decode` is called only for them.
    pub(crate) fn observe(&self, id: &SessionId, generation: u64, now_live: impl FnOnce() -> Option<Entry>) {
        let mut marks = self.stripe(id);
        marks.mark(id, generation, Instant::now());
        let Some(held) = self.shared.entries.get(id) else {
            return;
        };
        if held.generation() > generation {
            return; // the feed is behind what this process wrote or read
        }
        match now_live() {
            Some(entry) => self.shared.entries.insert(id.clone(), entry),
            None => self.shared.entries.invalidate(id),
        }
    }

    /// Empties the cache and refuses every fill that started before.
    pub(crate) fn clear(&self) {
        let mut stripes: Vec<_> = self.shared.stripes.iter().map(lock).collect();
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        self.shared.entries.invalidate_all();
        for marks in &mut stripes {
            marks.clear();
        }
    }

    /// The lease the feed renews, which decides whether reads use the cache.
    pub(crate) fn feed(&self) -> &Lease {
        &self.shared.feed
    }

    fn stripe(&self, id: &SessionId) -> MutexGuard<'_, Marks> {
        // The modulo keeps the index in range, so indexing cannot fail.
        let index = (self.shared.hasher.hash_one(id.as_str()) % STRIPES as u64) as usize;
        lock(&self.shared.stripes[index])
    }
}

/// A stripe's lock. Nothing under it can leave marks half-changed, so a
/// poisoned lock is still safe to use.
fn lock(stripe: &Mutex<Marks>) -> MutexGuard<'_, Marks> {
    stripe.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::clock::SystemClock;

    fn cache() -> Cache {
        let limits = Limits {
            capacity: 100,
            max_idle: Duration::from_secs(60),
            silence: Duration::from_secs(60),
            round_trip: Duration::from_secs(5),
        };
        let cache = Cache::new(&limits, Arc::new(SystemClock));
        cache.feed().renew();
        cache
    }

    fn entry(rev: &str) -> Entry {
        let later = OffsetDateTime::now_utc() + Duration::from_secs(60);
        Entry::new(Arc::new(SessionData::new()), later, rev)
    }

    #[test]
    fn a_read_that_raced_a_destroy_cannot_bring_the_session_back() {
        let cache = cache();
        let id = SessionId::generate();
        let ticket = cache.ticket();
        cache.destroyed(&id); // lands while the read is in flight
        cache.fill(&id, ticket, entry("1-a"));
        assert!(cache.live(&id).is_none());
    }

    #[test]
    fn a_fill_older_than_a_change_on_the_feed_is_refused() {
        let cache = cache();
        let id = SessionId::generate();
        let ticket = cache.ticket();
        cache.observe(&id, 3, || None); // not held: only marked
        cache.fill(&id, ticket, entry("2-a"));
        assert!(cache.live(&id).is_none());
        cache.fill(&id, cache.ticket(), entry("3-a"));
        assert_eq!(
            cache.live(&id).map(|e| e.rev().to_owned()).as_deref(),
            Some("3-a")
        );
    }

    #[test]
    fn the_feed_never_replaces_a_newer_revision_and_clear_refuses_older_fills() {
        let cache = cache();
        let id = SessionId::generate();
        cache.fill(&id, cache.ticket(), entry("5-a"));
        cache.observe(&id, 4, || Some(entry("4-b")));
        assert_eq!(
            cache.live(&id).map(|e| e.rev().to_owned()).as_deref(),
            Some("5-a")
        );
        let ticket = cache.ticket();
        cache.clear();
        cache.fill(&id, ticket, entry("6-a"));
        assert!(cache.live(&id).is_none());
    }

    #[test]
    fn nothing_is_served_while_the_feed_is_not_live() {
        let cache = cache();
        let id = SessionId::generate();
        cache.fill(&id, cache.ticket(), entry("1-a"));
        cache.feed().end();
        assert!(cache.live(&id).is_none());
        assert!(cache.holds(&id).is_some());
    }
}
