//! `RedisStore`: the `Store` contract on Redis or Redis Cluster.

use std::{fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use fred::{
    clients::Client,
    interfaces::KeysInterface,
    types::{Expiration, Key, Value, scripts::Script},
};
use session_core::{
    Clock, Codec, Lifetimes, Result, Session, SessionId, SessionStream, Store, Version, Versioned, backend,
    backend::{Write, decide},
};
use time::OffsetDateTime;

use crate::{
    Durability, RedisStoreBuilder,
    call::Call,
    connection::Connection,
    keys::Namespace,
    layout::Layout,
    near_cache::NearCache,
    scripts::{self, Scripts},
};

/// A session store on Redis or Redis Cluster, through [`fred`].
///
/// * **Keys and values.** Each session is one string key: the prefix, a
///   space, the id (`sess 3kM…`). Ids and prefixes never contain a space, so
///   two stores with different prefixes never see each other's keys, and
///   keys other programs write under a similar prefix (connect-redis'
///   `sess:<id>`) are never mistaken for sessions. The value is a 9-byte
///   header (kind and expiry in unix ms) followed by the codec's bytes. `get`
///   is a single `GET`.
/// * **Atomic writes.** `set`, `create` and `touch` are Lua scripts (run by
///   SHA, reloaded on `NOSCRIPT`) that read only the header, so the
///   tombstone and liveness checks and the write happen in one step on the
///   server. They leave alone any key this store did not write (answering
///   [`Error::Decode`](session_core::Error::Decode)). `destroy` writes a tombstone with a single `SET`.
/// * **No lost updates** (rule 10). `get_versioned` hands out the whole
///   value it read as the version, and `set_if_unchanged` sends it back to
///   the `set` script, which compares it byte for byte with what the key
///   holds and writes in the same step, or answers
///   [`Error::Conflict`](session_core::Error::Conflict). Contents are
///   compared because the Node layouts keep no version: a write by an
///   Express app on the same key is caught like one of ours. The cost is
///   the value sent twice (once as the token) and one more `GET` inside the
///   script; still one round trip. A `touch` in between changes the value
///   too, and costs the update one more read.
/// * **One clock.** Every expiry comparison uses the application's clock
///   (the builder's [`clock`](RedisStoreBuilder::clock)), sent with each
///   script call. Redis' own expiry is set relative to the write (`PX`), so
///   a server whose clock runs ahead or behind never drops a session or a
///   tombstone before the application would; it only reclaims memory.
/// * **Writes are never replayed.** Each write is sent with fred's own
///   timeout (the time the call has left) and a single attempt, so a write
///   that answered [`Error::Timeout`](session_core::Error::Timeout) or [`Error::Unavailable`](session_core::Error::Unavailable) is not sent
///   again after a reconnect. (A write the server had already received
///   before it stalled may still be applied when it resumes: the outcome of
///   a timed-out write is unknown, as on any network.)
/// * **Cluster-safe bulk operations.** `all_stream`, `length` and `clear`
///   `SCAN` every primary (with an escaped `MATCH` pattern) and then send
///   single-key commands, so they never fail with `CROSSSLOT`. If the
///   cluster's slots move while they scan, they say so with [`Error::Unavailable`](session_core::Error::Unavailable) rather than
///   silently missing sessions.
/// * **Records it cannot read count** (rule 6 of the contract). Every key
///   of the namespace is a session's slot, whoever wrote it. One that is
///   neither a live session, a tombstone nor over (a payload the codec
///   refuses, a value without this store's header, JSON a Node layout
///   cannot read, a key of another Redis type) is live but unreadable:
///   `get` answers [`Error::Decode`](session_core::Error::Decode),
///   `length` counts it, `all_stream` yields one `Decode` item for it and
///   goes on, `all` skips it, and `clear` removes it. A key of the
///   namespace whose name is not a session id (another program's id
///   rules) counts the same way, as one
///   [`Error::InvalidId`](session_core::Error::InvalidId) item. `length`
///   counts exactly what `all_stream` yields, errors included, so it reads
///   every value as `all_stream` does. `set`, `create` and `touch` still
///   never write over a value without this store's header, or a key of
///   another type (they answer `Decode`).
/// * **Never hangs.** Every call ends within the configured timeout with
///   [`Error::Timeout`](session_core::Error::Timeout) or [`Error::Unavailable`](session_core::Error::Unavailable) while Redis is down; a
///   store built from a URL detects dead connections and reconnects by
///   itself.
///
/// Cloning is cheap and clones share the connection.
///
/// ```no_run
/// use session_core::{Session, SessionId, Store};
/// use session_redis::RedisStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// let id = SessionId::generate();
/// store.create(&id, &Session::new()).await?;
/// assert!(store.get(&id).await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) inner: Arc<Inner>,
}

/// Everything a store needs, checked by the builder.
pub(crate) struct Settings {
    pub(crate) connection: Connection,
    pub(crate) namespace: Namespace,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) scan_count: u32,
    pub(crate) disable_touch: bool,
    pub(crate) timeout: Duration,
    pub(crate) durability: Durability,
    pub(crate) near: Option<NearCache>,
    pub(crate) layout: Layout,
}

pub(crate) struct Inner {
    pub(crate) settings: Settings,
    scripts: Scripts,
}

impl RedisStore {
    /// The URL schemes [`connect`](Self::connect) and
    /// [`url`](RedisStoreBuilder::url) accept, as a URL starts; anything else
    /// is refused before connecting.
    ///
    /// ```
    /// let url = "rediss://cache.internal:6380";
    /// assert!(session_redis::RedisStore::URL_SCHEMES.iter().any(|s| url.starts_with(s)));
    /// ```
    pub const URL_SCHEMES: [&'static str; 6] = [
        "redis://",
        "rediss://",
        "redis-cluster://",
        "rediss-cluster://",
        "redis-sentinel://",
        "rediss-sentinel://",
    ];

    /// A builder for every option (see [`RedisStoreBuilder`]).
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// Connects to `url` with every option at its default.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::build`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder().url(url).build().await
    }

    pub(crate) fn from_settings(settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                scripts: settings.layout.scripts(),
                settings,
            }),
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The key prefix (the namespace).
    pub fn prefix(&self) -> &str {
        self.settings().namespace.prefix()
    }

    /// The TTL and tombstone grace this store applies.
    pub fn lifetimes(&self) -> Lifetimes {
        self.settings().lifetimes
    }

    /// The Redis key that holds session `id`: the prefix, a space, the id
    /// (for inspection and tests).
    pub fn key_of(&self, id: &SessionId) -> String {
        self.settings().namespace.key_string(id)
    }

    /// A call with the store's timeout on its connection.
    pub(crate) fn call(&self) -> Call<'_> {
        Call::start(&self.settings().connection, self.settings().timeout)
    }

    fn now(&self) -> OffsetDateTime {
        self.settings().clock.now()
    }

    /// Runs a write script on `id` and takes the answer from the rule table.
    async fn script(
        &self,
        write: Write,
        script: &Script,
        id: &SessionId,
        args: Vec<Value>,
        expired: bool,
    ) -> Result<()> {
        let settings = self.settings();
        let call = self.call();
        let client = settings.connection.client();
        let key = settings.namespace.key(id);
        let answer = call.script(client, script, key.clone(), args).await;
        // Whatever the answer. A `Conflict` included: its cause may be a
        // stale near-cache entry that `get_versioned` served, and `update`'s
        // next read would be served it again, conflicting each time until
        // Redis' invalidation arrived.
        self.forget(id);
        decide(write, scripts::occupant(answer?)?, expired).answer()?;
        self.confirm(&call, client, &key).await
    }

    /// The live session under `id` and the exact value it was read from
    /// (rule 1): through the near cache when there is one.
    async fn read(&self, id: &SessionId) -> Result<Option<(Session, Bytes)>> {
        let settings = self.settings();
        let call = self.call();
        if let Some(near) = &settings.near {
            return near
                .get(
                    id,
                    &settings.namespace,
                    &*settings.codec,
                    self.now(),
                    settings.timeout,
                )
                .await;
        }
        let client = settings.connection.client();
        let key = settings.namespace.key(id);
        let (value, ttl_ms): (Option<Bytes>, i64) = match settings.layout {
            // One plain GET: the expiry is in the value.
            Layout::Native => (call.read(client.get(key)).await?, 0),
            _ => {
                let script = &self.inner.scripts.get_with_ttl;
                call.read(script.evalsha_with_reload::<(Option<Bytes>, i64), _, _>(
                    client,
                    key,
                    Vec::<Value>::new(),
                ))
                .await?
            }
        };
        let Some(bytes) = value else { return Ok(None) };
        let session = settings.layout.session(
            &*settings.codec,
            &bytes,
            ttl_ms,
            self.now(),
            settings.lifetimes.default_ttl(),
        )?;
        Ok(session.map(|session| (session, bytes)))
    }

    /// Whether the near cache holds `id` (for tests of its invalidation);
    /// always `false` without a near cache.
    pub fn near_cache_holds(&self, id: &SessionId) -> bool {
        self.settings().near.as_ref().is_some_and(|near| near.holds(id))
    }

    /// Whether the near cache is serving reads right now: its connections
    /// were verified within its staleness bound. `false` without one.
    pub fn near_cache_trusted(&self) -> bool {
        self.settings().near.as_ref().is_some_and(NearCache::is_trusted)
    }

    /// Drops `id` from the near cache, if there is one: every write does,
    /// whatever its outcome, before it returns.
    fn forget(&self, id: &SessionId) {
        if let Some(near) = &self.settings().near {
            near.forget(id);
        }
    }

    /// With a durability of replicas, waits until they hold the write.
    async fn confirm(&self, call: &Call<'_>, client: &Client, key: &Key) -> Result<()> {
        match self.settings().durability {
            Durability::Primary => Ok(()),
            Durability::Replicas(count) => call.wait_for_replicas(client, key, count).await,
        }
    }

    /// Arguments of the `set` and `create` scripts (now, record, expiry),
    /// and whether the expiry is already past.
    fn write_args(&self, session: &Session) -> Result<(Vec<Value>, bool)> {
        let settings = self.settings();
        let now = self.now();
        let expires_at = settings.lifetimes.expiry_of(session, now);
        let record = settings
            .layout
            .value(&*settings.codec, session, expires_at, now)?;
        let args = vec![
            Value::from(backend::unix_millis(now)),
            Value::Bytes(record),
            Value::from(backend::unix_millis(expires_at)),
        ];
        Ok((args, expires_at <= now))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = self.settings();
        f.debug_struct("RedisStore")
            .field("prefix", &settings.namespace.prefix())
            .field("clustered", &settings.connection.is_clustered())
            .field("lifetimes", &settings.lifetimes)
            .field("codec", &settings.codec)
            .field("clock", &settings.clock)
            .field("scan_count", &settings.scan_count)
            .field("disable_touch", &settings.disable_touch)
            .field("timeout", &settings.timeout)
            .field("durability", &settings.durability)
            .field("near_cache", &settings.near.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        Ok(self.read(id).await?.map(|(session, _)| session))
    }

    /// The version is the whole value as stored, which
    /// [`set_if_unchanged`](Store::set_if_unchanged) compares byte for byte.
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        Ok(self.read(id).await?.map(|(session, stored)| Versioned {
            session,
            version: Version::from_token(&stored),
        }))
    }

    /// The `set` script with the value read as one more argument: compared
    /// with what the key holds and written in the same script.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        let Some(token) = seen.token() else {
            return self.set(id, session).await;
        };
        let (mut args, expired) = self.write_args(session)?;
        args.push(Value::Bytes(Bytes::copy_from_slice(token)));
        self.script(Write::Set, &self.inner.scripts.set, id, args, expired)
            .await
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (args, expired) = self.write_args(session)?;
        self.script(Write::Set, &self.inner.scripts.set, id, args, expired)
            .await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (args, expired) = self.write_args(session)?;
        self.script(Write::Create, &self.inner.scripts.create, id, args, expired)
            .await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.settings().disable_touch {
            return Ok(());
        }
        let now = self.now();
        let expires_at = self.settings().lifetimes.expiry_or_default(expires_at, now);
        let mut args = vec![
            Value::from(backend::unix_millis(now)),
            Value::from(backend::unix_millis(expires_at)),
        ];
        args.extend(self.settings().layout.touch_stamp(expires_at)?);
        self.script(
            Write::Touch,
            &self.inner.scripts.touch,
            id,
            args,
            expires_at <= now,
        )
        .await
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let settings = self.settings();
        let call = self.call();
        let client = settings.connection.client();
        let key = settings.namespace.key(id);
        let grace = settings.lifetimes.tombstone_grace();
        let tombstone = Some(grace)
            .filter(|grace| !grace.is_zero())
            .and_then(|grace| settings.layout.tombstone(self.now() + grace));
        let written = if let Some(tombstone) = tombstone {
            let expire = Some(Expiration::PX(
                i64::try_from(grace.as_millis()).unwrap_or(i64::MAX),
            ));
            call.write(client, async |c| {
                c.set::<(), _, _>(key.clone(), tombstone, expire, None, false)
                    .await
            })
            .await
        } else {
            call.write(client, async |c| c.del::<(), _>(key.clone()).await)
                .await
        };
        self.forget(id);
        written?;
        self.confirm(&call, client, &key).await
    }

    fn all_stream(&self) -> SessionStream<'_> {
        crate::bulk::all_stream(self)
    }

    async fn length(&self) -> Result<u64> {
        crate::bulk::length(self).await
    }

    async fn clear(&self) -> Result<()> {
        let cleared = crate::bulk::clear(self).await;
        if let Some(near) = &self.settings().near {
            near.forget_all();
        }
        cleared
    }
}
