//! The near cache: sessions kept in process, invalidated by Redis itself.
//!
//! Reads that miss go through a client of the cache's own, with client
//! tracking on (RESP3): Redis remembers which keys that connection read and
//! pushes an invalidation on the same connection as soon as anyone changes
//! one of them. The store's own writes also drop the entry locally before
//! they return, so this process always reads its own writes.
//!
//! Three rules keep it from ever serving something older than the
//! invalidation delay plus a bound:
//!
//! * **No stale fill.** A miss marks the id as filling with a fresh token
//!   before it reads; the value is cached only if the mark is still there
//!   when the reply arrives. An invalidation (or a local write) in between
//!   removes the mark, so a read that raced a write is never cached.
//! * **Trust only what is verified.** A task checks every node's tracking
//!   connection every `staleness / 4`: within `staleness / 2` it must
//!   answer, have tracking on, and be the same connection as last time
//!   (`CLIENT ID`). A connection
//!   that was replaced lost its tracking, and whatever was cached through it
//!   is dropped. The cache is used only while the last successful check is
//!   younger than `staleness`; otherwise every read goes to Redis.
//! * **Missed messages flush.** If invalidations arrive faster than they are
//!   handled and some are dropped, or the channel closes, everything goes.
//!
//! Every change to one entry (fill, invalidation, local write) goes through
//! moka's per-key compute, which runs them one at a time: a plain
//! `invalidate` could land between a fill's check of its mark and its put,
//! and the stale value would stay. A flush of everything cannot be ordered
//! that way, so it bumps a generation instead, and an entry filled under an
//! older generation is never served.
//!
//! Each entry also keeps the value it was decoded from, `get_versioned`'s
//! token, so a versioned read that hits costs no round trip either (and an
//! entry about twice the memory). A stale entry's token can only make a
//! conditional write answer `Conflict`, never land over a newer value; the
//! store drops the entry on that answer, so the retry reads Redis.

use session_core::backend::SessionParts;
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use fred::{
    clients::Client,
    interfaces::{ClientLike, ClusterInterface, KeysInterface, TrackingInterface},
    types::{ClusterHash, CustomCommand, Value, config::Server},
};
use moka::{Expiry, ops::compute::Op, sync::Cache};
use session_core::{
    Codec, Error, Result, Session, SessionData, SessionId,
    backend::{BackgroundTask, Lease},
};
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

use crate::{call::Call, connection::Connection, keys::Namespace, record};

/// Options of the near cache (see [`RedisStoreBuilder::near_cache`](crate::RedisStoreBuilder::near_cache)).
///
/// ```
/// use std::time::Duration;
/// use session_redis::NearCacheOptions;
///
/// let near = NearCacheOptions::new(100_000).staleness(Duration::from_millis(50));
/// # let _ = near;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NearCacheOptions {
    pub(crate) capacity: u64,
    pub(crate) staleness: Duration,
}

impl NearCacheOptions {
    /// A near cache of at most `capacity` sessions (least recently used go
    /// first), trusted for 100 ms after each verification of its connections.
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            staleness: Duration::from_millis(100),
        }
    }

    /// The longest the cache is trusted without a fresh check that its
    /// tracking connections are alive and tracking (default 100 ms): the
    /// bound on how stale a read can be if a connection dies silently.
    /// Checks run four times per period. Must be at least 4 ms.
    pub fn staleness(mut self, staleness: Duration) -> Self {
        self.staleness = staleness;
        self
    }
}

/// What the cache holds for an id.
#[derive(Clone)]
enum Cached {
    /// A read is under way; only the reader holding this token may fill.
    Filling(u64),
    Live {
        data: Arc<SessionData>,
        /// The value it was decoded from: `get_versioned`'s token. A copy,
        /// so it pins no connection buffer it was sliced from.
        stored: Bytes,
        expires_at: OffsetDateTime,
        /// The flush generation the read that filled it started in.
        generation: u64,
    },
}

/// Entries go when their session expires; a fill mark after a second.
struct CachedExpiry;

impl CachedExpiry {
    fn keep(cached: &Cached) -> Option<Duration> {
        Some(match cached {
            Cached::Filling(_) => Duration::from_secs(1),
            Cached::Live { expires_at, .. } => Duration::try_from(*expires_at - OffsetDateTime::now_utc())
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(24 * 3600)),
        })
    }
}

impl Expiry<SessionId, Cached> for CachedExpiry {
    fn expire_after_create(&self, _: &SessionId, value: &Cached, _: Instant) -> Option<Duration> {
        Self::keep(value)
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        value: &Cached,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::keep(value)
    }
}

/// The entries and their flush generation, shared with the background tasks.
#[derive(Clone)]
struct Entries {
    cache: Cache<SessionId, Cached>,
    generation: Arc<AtomicU64>,
}

impl Entries {
    /// Drops `id`'s entry, ordered with any fill of it under way.
    fn drop_one(&self, id: &SessionId) {
        let _ = self.cache.entry_by_ref(id).and_compute_with(|_| Op::Remove);
    }

    /// Drops everything: entries filled before now are never served again.
    fn drop_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate_all();
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// The running near cache of one store.
pub(crate) struct NearCache {
    entries: Entries,
    client: Client,
    /// The tracking connection, shared with the verification task; its
    /// tasks stop when the last holder drops it.
    connection: Arc<Connection>,
    /// Renewed by each successful verification of the tracking connections.
    trust: Arc<Lease>,
    tokens: AtomicU64,
    _tasks: [BackgroundTask; 2],
}

impl NearCache {
    /// Starts the cache on `connection`, a connected RESP3 client of its
    /// own: turns tracking on and starts the invalidation and verification
    /// tasks.
    pub(crate) async fn start(
        connection: Connection,
        options: NearCacheOptions,
        namespace: Namespace,
    ) -> Result<Self> {
        let client = connection.client().clone();
        let connection = Arc::new(connection);
        let entries = Entries {
            cache: Cache::builder()
                .max_capacity(options.capacity)
                .expire_after(CachedExpiry)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
            generation: Arc::new(AtomicU64::new(0)),
        };
        let trust = Arc::new(Lease::new(options.staleness));
        client
            .start_tracking(Vec::<String>::new(), false, false, false, false)
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        let listener = BackgroundTask::spawn(listen(
            client.clone(),
            entries.clone(),
            namespace,
            Arc::clone(&trust),
        ));
        let checker = BackgroundTask::spawn(verify(
            Arc::clone(&connection),
            entries.clone(),
            Arc::clone(&trust),
        ));
        Ok(Self {
            entries,
            client,
            connection,
            trust,
            tokens: AtomicU64::new(1),
            _tasks: [listener, checker],
        })
    }

    /// The session under `key` and the value it was decoded from: from the
    /// cache when it may be trusted, else read through the tracking client
    /// and cached if nothing changed it meanwhile.
    pub(crate) async fn get(
        &self,
        id: &SessionId,
        namespace: &Namespace,
        codec: &dyn Codec,
        now: OffsetDateTime,
        timeout: Duration,
    ) -> Result<Option<(Session, Bytes)>> {
        let call = &Call::start(&self.connection, timeout);
        if !self.trust.is_held() {
            return self.read(id, namespace, codec, now, call).await;
        }
        let generation = self.entries.generation();
        match self.entries.cache.get(id) {
            Some(Cached::Live {
                data,
                stored,
                expires_at,
                generation: filled_in,
            }) if expires_at > now && filled_in == generation => {
                return Ok(Some((Session::from_shared(data, Some(expires_at)), stored)));
            }
            Some(Cached::Filling(_)) => return self.read(id, namespace, codec, now, call).await,
            _ => {}
        }
        let token = self.tokens.fetch_add(1, Ordering::Relaxed);
        self.entries.cache.insert(id.clone(), Cached::Filling(token));
        let session = self.read(id, namespace, codec, now, call).await?;
        let _ = self.entries.cache.entry_by_ref(id).and_compute_with(|current| {
            let ours = matches!(current.map(|c| c.into_value()), Some(Cached::Filling(t)) if t == token);
            match (&session, ours && self.trust.is_held()) {
                (Some((session, stored)), true) => Op::Put(Cached::Live {
                    data: Arc::clone(session.shared_data()),
                    stored: Bytes::copy_from_slice(stored),
                    expires_at: session.expires_at().unwrap_or(now),
                    generation,
                }),
                (None, true) => Op::Remove,
                (_, false) => Op::Nop,
            }
        });
        Ok(session)
    }

    async fn read(
        &self,
        id: &SessionId,
        namespace: &Namespace,
        codec: &dyn Codec,
        now: OffsetDateTime,
        call: &Call<'_>,
    ) -> Result<Option<(Session, Bytes)>> {
        let value: Option<Bytes> = call.read(self.client.get(namespace.key(id))).await?;
        let Some(bytes) = value else { return Ok(None) };
        Ok(record::session_at(codec, &bytes, now)?.map(|session| (session, bytes)))
    }

    /// Drops `id` after a write of this store, before the write returns.
    pub(crate) fn forget(&self, id: &SessionId) {
        self.entries.drop_one(id);
    }

    /// Drops everything (after `clear`).
    pub(crate) fn forget_all(&self) {
        self.entries.drop_all();
    }

    /// Whether reads are served from the cache right now.
    pub(crate) fn is_trusted(&self) -> bool {
        self.trust.is_held()
    }

    /// Whether the cache holds a live entry for `id` (for tests).
    pub(crate) fn holds(&self, id: &SessionId) -> bool {
        matches!(self.entries.cache.get(id), Some(Cached::Live { generation, .. }) if generation == self.entries.generation())
    }
}

/// Applies invalidations as Redis pushes them.
async fn listen(client: Client, entries: Entries, namespace: Namespace, trust: Arc<Lease>) {
    let mut invalidations = client.invalidation_rx();
    loop {
        match invalidations.recv().await {
            // No keys: the server flushed a database, or lost track.
            Ok(invalidation) if invalidation.keys.is_empty() => entries.drop_all(),
            Ok(invalidation) => {
                // Keys of other namespaces are not sessions of ours.
                for id in invalidation.keys.iter().filter_map(|key| namespace.id_of(key)) {
                    entries.drop_one(&id);
                }
            }
            Err(RecvError::Lagged(_)) => entries.drop_all(),
            Err(RecvError::Closed) => {
                trust.end();
                entries.drop_all();
                return;
            }
        }
    }
}

/// Verifies the tracking connections every `staleness / 4`.
async fn verify(connection: Arc<Connection>, entries: Entries, trust: Arc<Lease>) {
    let staleness = trust.window();
    let interval = staleness / 4;
    let mut connections: HashMap<Option<Server>, i64> = HashMap::new();
    loop {
        match check(&connection, &mut connections, staleness / 2).await {
            Ok(Checked::Same) => trust.renew(),
            Ok(Checked::Replaced) => {
                // Whatever was cached through a lost connection may miss
                // invalidations: drop it, then trust what comes next.
                entries.drop_all();
                trust.renew();
            }
            Err(_) => trust.end(),
        }
        tokio::time::sleep(interval).await;
    }
}

enum Checked {
    Same,
    Replaced,
}

/// One round of checks: every node's connection answers with its id and
/// has tracking on; a connection that changed gets tracking turned on.
async fn check(
    connection: &Connection,
    connections: &mut HashMap<Option<Server>, i64>,
    deadline: Duration,
) -> Result<Checked> {
    let client = connection.client();
    let nodes: Vec<Option<Server>> = if client.is_clustered() {
        client
            .cached_cluster_state()
            .map(|state| state.unique_primary_nodes().into_iter().map(Some).collect())
            .unwrap_or_default()
    } else {
        vec![None]
    };
    if nodes.is_empty() {
        return Err(Error::Unavailable("the cluster's primaries are not known".into()));
    }
    let call = Call::start(connection, deadline.max(Duration::from_millis(1)));
    let mut replaced = false;
    for node in nodes {
        let id = on_node::<i64>(client, &node, &call, "CLIENT", vec!["ID".into()]).await?;
        let tracking = on_node::<Value>(client, &node, &call, "CLIENT", vec!["TRACKINGINFO".into()]).await?;
        let on = tracking_is_on(&tracking);
        if connections.get(&node) != Some(&id) || !on {
            on_node::<Value>(
                client,
                &node,
                &call,
                "CLIENT",
                vec!["TRACKING".into(), "ON".into()],
            )
            .await?;
            connections.insert(node, id);
            replaced = true;
        }
    }
    Ok(if replaced {
        Checked::Replaced
    } else {
        Checked::Same
    })
}

/// Sends a command to one node (or the standalone server) within `call`.
async fn on_node<T: fred::types::FromValue>(
    client: &Client,
    node: &Option<Server>,
    call: &Call<'_>,
    name: &'static str,
    args: Vec<Value>,
) -> Result<T> {
    let command = CustomCommand::new_static(name, ClusterHash::Random, false);
    match node {
        Some(server) => {
            call.read(client.with_cluster_node(server.clone()).custom(command, args))
                .await
        }
        None => call.read(client.custom(command, args)).await,
    }
}

/// Whether a `CLIENT TRACKINGINFO` reply lists the `on` flag.
fn tracking_is_on(reply: &Value) -> bool {
    let Value::Map(map) = reply else {
        return false;
    };
    map.iter().any(|(key, value)| {
        key.as_str().is_some_and(|k| k == "flags")
            && matches!(value, Value::Array(flags) if flags.iter().any(|f| f.as_str().is_some_and(|f| f == "on")))
    })
}
