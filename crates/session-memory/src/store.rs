//! `MemoryStore`: the `Store` contract on a moka cache.

use session_core::backend::SessionParts;
use std::{
    fmt,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Instant,
};

use async_trait::async_trait;
use moka::sync::Cache;
use session_core::{
    Clock, Error, Lifetimes, Result, Session, SessionId, SessionStream, Store, Version, Versioned,
    backend::{Effect, Write, check_storable, decide},
};
use time::OffsetDateTime;

use crate::{
    MemoryStoreBuilder,
    slot::{self, Entry, EntryExpiry, Moment, Tombstones},
};

/// An in-process session store on [`moka`]'s concurrent cache.
///
/// * Each session expires at its own expiry (moka's per-entry expiry); reads
///   also compare with the clock, so an expired session is never served
///   even before moka evicts it. A session lives only while both the
///   application's clock and the monotonic clock say so: a wall clock that
///   steps backwards never extends a session.
/// * Writes to one id are atomic: they serialize on a lock striped by id,
///   so [`create`](Store::create) has exactly one winner and a racing `set`
///   never outlives a `destroy`'s tombstone. Reads take no lock.
/// * **Capacity bounds live sessions only.** With
///   [`max_capacity`](MemoryStoreBuilder::max_capacity), the least recently
///   used sessions are evicted first, and new sessions are always admitted.
///   Tombstones are kept apart, outside the bound, for their whole grace
///   window: memory pressure can never undo a logout. They cost about 100
///   bytes each and number at most about twice the ids destroyed within one
///   grace window.
/// * [`length`](Store::length) is exact: it counts live sessions one by one
///   (O(n)), since moka's own entry count is approximate.
/// * Cloning is cheap and the clones share the same sessions.
/// * Sessions are kept as values and handed out by reference count: a `get`
///   copies no session data, so no codec is involved. Data nested deeper
///   than [`MAX_DEPTH`](session_core::backend::MAX_DEPTH) is refused with
///   [`Error::Encode`], as every other store refuses it.
///
/// ```
/// use session_core::{Session, SessionId, Store};
/// use session_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_core::Error> {
/// let store = MemoryStore::new();
/// let id = SessionId::generate();
/// let mut session = Session::new();
/// session.insert("user", "ada")?;
/// store.create(&id, &session).await?;
/// assert_eq!(store.get(&id).await?.and_then(|s| s.get::<String>("user").ok().flatten()).as_deref(), Some("ada"));
/// assert_eq!(store.length().await?, 1);
/// store.destroy(&id).await?;
/// assert!(store.set(&id, &session).await.is_err()); // logout sticks
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<SessionId, Entry>,
    /// Writers to one id serialize on its stripe, which also holds the
    /// stripe's tombstones; readers take no lock.
    stripes: Arc<Stripes>,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
    max_capacity: Option<u64>,
}

/// Write locks, one per stripe of the id space: a fixed array is cheaper
/// than moka's per-key lock map (measured: set 0.3-0.4x raw moka with
/// `and_compute_with`), and 64 stripes keep writers to different ids apart.
///
/// They are plain (blocking) mutexes on purpose: the cache is moka's
/// synchronous one, so a writer holds its stripe for a lookup and an insert
/// and never across an `.await`.
struct Stripes {
    locks: Box<[Mutex<Tombstones>]>,
    hasher: RandomState,
}

const STRIPES: usize = 64;

impl Stripes {
    fn new() -> Self {
        Self {
            locks: (0..STRIPES).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Locks the stripe of `id`. A writer that panicked left no half-done
    /// write (each cache call is one mutation), so a poisoned stripe is
    /// still safe to use.
    fn lock(&self, id: &SessionId) -> MutexGuard<'_, Tombstones> {
        // The modulo keeps the index in range, so indexing cannot fail.
        let stripe = &self.locks[(self.hasher.hash_one(id.as_str()) % STRIPES as u64) as usize];
        stripe.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn clear(&self) {
        for stripe in &self.locks {
            stripe.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
    }
}

/// What a write stores: the session's data, or (for `touch`) the live
/// entry's data again under a new expiry.
enum Payload<'a> {
    Session(&'a Session),
    Expiry(Option<OffsetDateTime>),
}

impl MemoryStore {
    /// An unbounded store with the default [`Lifetimes`] (24 h TTL, 300 s
    /// tombstone grace).
    pub fn new() -> Self {
        Self::with_parts(
            None,
            Lifetimes::default(),
            Arc::new(session_core::clock::SystemClock),
        )
    }

    /// A builder for capacity, default TTL, tombstone grace and clock.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    pub(crate) fn with_parts(max_capacity: Option<u64>, lifetimes: Lifetimes, clock: Arc<dyn Clock>) -> Self {
        let mut cache = Cache::builder()
            .expire_after(EntryExpiry)
            .eviction_policy(moka::policy::EvictionPolicy::lru());
        if let Some(capacity) = max_capacity {
            cache = cache.max_capacity(capacity);
        }
        Self {
            cache: cache.build(),
            stripes: Arc::new(Stripes::new()),
            lifetimes,
            clock,
            max_capacity,
        }
    }

    /// Applies moka's pending maintenance now: evictions past the capacity
    /// bound and removal of expired entries. moka batches this work and runs
    /// it during other calls, so it is never needed for correctness; call it
    /// before measuring memory, or in tests of the capacity bound.
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }

    /// The TTL and tombstone grace this store applies.
    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    /// How many tombstones the store holds right now (outside the capacity
    /// bound), lapsed ones not yet swept included: for monitoring.
    pub fn tombstones(&self) -> usize {
        self.stripes
            .locks
            .iter()
            .map(|stripe| stripe.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    fn now(&self) -> Moment {
        Moment {
            wall: self.clock.now(),
            mono: Instant::now(),
        }
    }

    /// Runs one write atomically for `id`, under its stripe's lock, with
    /// the rule table deciding what happens.
    /// With `seen`, a `set` lands only while the id still holds the data
    /// stored by that write (rule 10).
    fn write(&self, id: &SessionId, write: Write, payload: Payload<'_>, seen: Option<u64>) -> Result<()> {
        if let Payload::Session(session) = payload {
            check_storable(session.data())?;
        }
        let mut tombstones = self.stripes.lock(id);
        // Read the clocks under the lock, so the decision and the write see the same moment.
        let now = self.now();
        let tombstoned = tombstones.active(id, now.mono);
        let current = (!tombstoned && (write.needs_liveness() || seen.is_some()))
            .then(|| self.cache.get(id))
            .flatten();
        if let Some(seen) = seen
            && !tombstoned
            && !slot::still_at(current.as_ref(), seen, now)
        {
            return Err(Error::Conflict);
        }
        let found = slot::occupant(tombstoned, current.as_ref(), now);
        let (expires_at, entry) = match payload {
            Payload::Session(session) => {
                let at = self.lifetimes.expiry_of(session, now.wall);
                let stamp = tombstones.next_stamp();
                (
                    at,
                    Some(Entry::new(Arc::clone(session.shared_data()), at, now, stamp)),
                )
            }
            Payload::Expiry(at) => {
                let at = self.lifetimes.expiry_or_default(at, now.wall);
                (at, current.map(|live| live.with_expiry(at, now)))
            }
        };
        let decision = decide(write, found, expires_at <= now.wall);
        match (decision.effect, entry) {
            (Effect::Store, Some(entry)) => self.cache.insert(id.clone(), entry),
            (Effect::Remove, _) => self.cache.invalidate(id),
            (Effect::Store, None) | (Effect::Nothing, _) => {}
        }
        drop(tombstones);
        decision.answer()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("lifetimes", &self.lifetimes)
            .field("max_capacity", &self.max_capacity)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        Ok(self.cache.get(id).and_then(|entry| entry.session_at(self.now())))
    }

    /// The version is the stamp of the write that stored the data.
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        let Some(entry) = self.cache.get(id) else {
            return Ok(None);
        };
        Ok(entry.session_at(self.now()).map(|session| Versioned {
            session,
            version: Version::from_token(entry.stamp().to_be_bytes()),
        }))
    }

    /// Compared under the id's stripe lock, with the write itself.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        let Some(token) = seen.token() else {
            return self.set(id, session).await;
        };
        // A token this store did not hand out never matches.
        let seen = <[u8; 8]>::try_from(token).map_or(0, u64::from_be_bytes);
        self.write(id, Write::Set, Payload::Session(session), Some(seen))
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.write(id, Write::Set, Payload::Session(session), None)
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.write(id, Write::Create, Payload::Session(session), None)
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        self.write(id, Write::Touch, Payload::Expiry(expires_at), None)
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let grace = self.lifetimes.tombstone_grace();
        let mut tombstones = self.stripes.lock(id);
        if !grace.is_zero() {
            let now = Instant::now();
            tombstones.insert(id, slot::later(now, grace), now);
        }
        self.cache.invalidate(id);
        Ok(())
    }

    fn all_stream(&self) -> SessionStream<'_> {
        // moka's iterator walks the shards without a global lock; the clocks
        // are read per entry so a long walk never yields a session that
        // expired while it ran.
        let live = self.cache.iter().filter_map(|(id, entry)| {
            entry
                .session_at(self.now())
                .map(|session| Ok::<_, Error>((SessionId::clone(&id), session)))
        });
        Box::pin(futures_util::stream::iter(live))
    }

    async fn length(&self) -> Result<u64> {
        let now = self.now();
        let live = self
            .cache
            .iter()
            .filter(|(_, entry)| entry.is_live_at(now))
            .count();
        Ok(u64::try_from(live).unwrap_or(u64::MAX))
    }

    async fn clear(&self) -> Result<()> {
        self.stripes.clear();
        self.cache.invalidate_all();
        Ok(())
    }
}
