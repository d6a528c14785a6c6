//! `MemoryStore`: the `Store` contract on a moka cache.

use std::{
    fmt,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use moka::{ops::compute::Op, sync::Cache};
use session_core::{Error, Lifetimes, Result, Session, SessionData, SessionId, SessionStream, Store};
use time::OffsetDateTime;

use crate::{
    MemoryStoreBuilder,
    slot::{self, Decision, Slot},
};

/// An in-process session store on [`moka`]'s concurrent cache.
///
/// * Each entry expires at its session's own expiry (moka's per-entry
///   expiry); reads also compare with the clock, so an expired session is
///   never served even before moka evicts it.
/// * Writes to one id are atomic: they serialize on a lock striped by id,
///   so [`create`](Store::create) has exactly one winner and a racing `set`
///   never outlives a `destroy`'s tombstone. Reads take no lock.
/// * [`length`](Store::length) is exact: it counts live sessions one by one
///   (O(n)), since moka's own entry count is approximate and includes
///   tombstones and expired entries not yet evicted.
/// * With a capacity bound, the least recently used entries are evicted
///   first, and new sessions are always admitted.
/// * Cloning is cheap and the clones share the same sessions.
/// * Sessions are kept as values and handed out by reference count: a `get`
///   copies no session data, so no codec is involved.
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
    cache: Cache<SessionId, Slot>,
    /// Writers to one id serialize on its stripe; readers take no lock.
    stripes: Arc<Stripes>,
    lifetimes: Lifetimes,
    max_capacity: Option<u64>,
}

/// Write locks, one per stripe of the id space: a fixed array is cheaper
/// than moka's per-key lock map (measured: set 0.3-0.4x raw moka with
/// `and_compute_with`), and 64 stripes keep writers to different ids apart.
///
/// They are plain (blocking) mutexes on purpose: the cache is moka's
/// synchronous one, so a writer holds its stripe for a read and an insert
/// and never across an `.await`; an async mutex let a writer be suspended
/// while holding it, and the writers queued behind it (p99 in milliseconds
/// at 64 concurrent writers).
struct Stripes {
    locks: Box<[Mutex<()>]>,
    hasher: RandomState,
}

const STRIPES: usize = 64;

impl Stripes {
    fn new() -> Self {
        Self {
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn of(&self, id: &SessionId) -> &Mutex<()> {
        // The modulo keeps the index in range, so indexing cannot fail.
        &self.locks[(self.hasher.hash_one(id.as_str()) % STRIPES as u64) as usize]
    }
}

impl MemoryStore {
    /// An unbounded store with the default [`Lifetimes`] (24 h TTL, 300 s
    /// tombstone grace).
    pub fn new() -> Self {
        Self::with_parts(None, Lifetimes::default())
    }

    /// A builder for capacity, default TTL and tombstone grace.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    pub(crate) fn with_parts(max_capacity: Option<u64>, lifetimes: Lifetimes) -> Self {
        let mut cache = Cache::builder()
            .expire_after(slot::SlotExpiry)
            .eviction_policy(moka::policy::EvictionPolicy::lru());
        if let Some(capacity) = max_capacity {
            cache = cache.max_capacity(capacity);
        }
        Self {
            cache: cache.build(),
            stripes: Arc::new(Stripes::new()),
            lifetimes,
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

    /// Runs one write's decision atomically for `id` (under its stripe's
    /// lock, which every writer of the id takes), and returns its answer.
    fn write(
        &self,
        id: &SessionId,
        decide: impl FnOnce(Option<&Slot>, OffsetDateTime) -> Decision,
    ) -> Result<()> {
        // A writer that panicked left no half-done write (the cache call is
        // the one mutation), so a poisoned stripe is still safe to use.
        let _writer = self.stripes.of(id).lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.cache.get(id);
        // Read the clock under the lock, so the decision and the write see the same moment.
        let (op, answer) = decide(current.as_ref(), OffsetDateTime::now_utc());
        match op {
            Op::Put(slot) => self.cache.insert(id.clone(), slot),
            Op::Remove => self.cache.invalidate(id),
            Op::Nop => {}
        }
        answer
    }

    fn live_data(&self, session: &Session) -> (Arc<SessionData>, OffsetDateTime) {
        let expires_at = self.lifetimes.expiry_of(session, OffsetDateTime::now_utc());
        (Arc::clone(session.shared_data()), expires_at)
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
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        Ok(self
            .cache
            .get(id)
            .and_then(|slot| slot.live_at(OffsetDateTime::now_utc())))
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (data, expires_at) = self.live_data(session);
        self.write(id, |current, now| slot::set(current, &data, expires_at, now))
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (data, expires_at) = self.live_data(session);
        self.write(id, |current, now| slot::create(current, &data, expires_at, now))
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        let expires_at = self
            .lifetimes
            .expiry_or_default(expires_at, OffsetDateTime::now_utc());
        self.write(id, |current, now| slot::touch(current, expires_at, now))
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let lifetimes = self.lifetimes;
        self.write(id, |_, now| slot::destroy(lifetimes.tombstone_until(now)))
    }

    fn all_stream(&self) -> SessionStream<'_> {
        // moka's iterator walks the shards without a global lock; the clock is
        // read per entry so a long walk never yields a session that expired
        // while it ran.
        let live = self.cache.iter().filter_map(|(id, slot)| {
            slot.live_at(OffsetDateTime::now_utc())
                .map(|session| Ok::<_, Error>((SessionId::clone(&id), session)))
        });
        Box::pin(futures_util::stream::iter(live))
    }

    async fn length(&self) -> Result<u64> {
        let now = OffsetDateTime::now_utc();
        let live = self.cache.iter().filter(|(_, slot)| slot.is_live_at(now)).count();
        Ok(u64::try_from(live).unwrap_or(u64::MAX))
    }

    async fn clear(&self) -> Result<()> {
        self.cache.invalidate_all();
        Ok(())
    }
}
