//! `RedisStore`: the `Store` contract on Redis or Redis Cluster.

use std::{collections::VecDeque, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use fred::{
    error::Error as FredError,
    interfaces::KeysInterface,
    types::{Expiration, Key, Value, scripts::Script},
};
use futures_util::{future::try_join_all, stream};
use session_core::backend::within;
use session_core::{Codec, Error, Lifetimes, Result, Session, SessionId, SessionStream, Store, expiry};
use time::OffsetDateTime;

use crate::{
    RedisStoreBuilder,
    connection::Connection,
    error::from_fred,
    keys::Prefix,
    record,
    scan::KeyScan,
    scripts::{self, Scripts},
};

/// A session store on Redis or Redis Cluster, through [`fred`].
///
/// * **Keys and values.** Each session is one string key, `prefix + id`. The
///   value is a 9-byte header (kind and expiry in unix ms) followed by the
///   codec's bytes; Redis expires the key at the same instant (`PXAT`).
///   `get` is a single `GET`.
/// * **Atomic writes.** `set`, `create` and `touch` are Lua scripts (run by
///   SHA, reloaded on `NOSCRIPT`) that read only the header, so the
///   tombstone and liveness checks and the write happen in one step on the
///   server. `destroy` writes a tombstone with a single `SET ... PXAT`.
/// * **One clock.** Every expiry comparison uses the application's clock,
///   sent with each script call; Redis' own expiry only reclaims memory.
/// * **Cluster-safe bulk operations.** `all_stream`, `length` and `clear`
///   `SCAN` every primary with an escaped `MATCH` pattern and then send
///   single-key commands, so they never fail with `CROSSSLOT`.
/// * **Never hangs.** Every call ends within the configured timeout with
///   [`Error::Timeout`] or [`Error::Unavailable`] while Redis is down; a
///   store built from a URL reconnects by itself when Redis returns.
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
    inner: Arc<Inner>,
}

/// Everything a store needs, checked by the builder.
pub(crate) struct Settings {
    pub(crate) connection: Connection,
    pub(crate) prefix: String,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn session_core::Clock>,
    pub(crate) scan_count: u32,
    pub(crate) disable_touch: bool,
    pub(crate) timeout: Duration,
}

struct Inner {
    connection: Connection,
    prefix: Prefix,
    lifetimes: Lifetimes,
    codec: Arc<dyn Codec>,
    clock: Arc<dyn session_core::Clock>,
    scan_count: u32,
    disable_touch: bool,
    timeout: Duration,
    scripts: Scripts,
}

impl RedisStore {
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
                prefix: Prefix::new(&settings.prefix),
                connection: settings.connection,
                lifetimes: settings.lifetimes,
                codec: settings.codec,
                clock: settings.clock,
                scan_count: settings.scan_count,
                disable_touch: settings.disable_touch,
                timeout: settings.timeout,
                scripts: Scripts::new(),
            }),
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        self.inner.prefix.as_str()
    }

    /// The TTL and tombstone grace this store applies.
    pub fn lifetimes(&self) -> Lifetimes {
        self.inner.lifetimes
    }

    /// The Redis key that holds session `id` (for inspection and tests).
    pub fn key_of(&self, id: &SessionId) -> String {
        format!("{}{}", self.prefix(), id.as_str())
    }

    /// Runs one fred call with the timeout and error mapping every call gets.
    async fn run<T>(&self, call: impl Future<Output = Result<T, FredError>>) -> Result<T> {
        let timeout = self.inner.timeout;
        within(timeout, async { call.await.map_err(|e| from_fred(e, timeout)) }).await
    }

    /// Runs a write script on `id` and turns its answer into the contract's.
    async fn script(&self, script: &Script, id: &SessionId, args: Vec<Value>) -> Result<()> {
        let client = self.inner.connection.client();
        let answer: i64 = self
            .run(script.evalsha_with_reload(client, self.inner.prefix.key(id), args))
            .await?;
        match answer {
            scripts::DONE => Ok(()),
            scripts::DESTROYED => Err(Error::Destroyed),
            scripts::EXISTS => Err(Error::AlreadyExists),
            scripts::MISSING => Err(Error::NotFound),
            other => Err(Error::Backend(
                format!("unexpected answer {other} from a store script").into(),
            )),
        }
    }

    /// Arguments of the `set` and `create` scripts: now, record, expiry.
    fn write_args(&self, session: &Session) -> Result<Vec<Value>> {
        let now = OffsetDateTime::now_utc();
        let expires_at = self.inner.lifetimes.expiry_of(session, now);
        let record = record::live(&*self.inner.codec, session.data(), expires_at)?;
        Ok(vec![
            Value::from(expiry::unix_millis(now)),
            Value::Bytes(record),
            Value::from(expiry::unix_millis(expires_at)),
        ])
    }

    fn scan(&self) -> Result<KeyScan> {
        let inner = &self.inner;
        KeyScan::new(
            inner.connection.client().clone(),
            inner.prefix.pattern(),
            inner.scan_count,
            inner.timeout,
        )
    }

    /// Runs `per_key` on every key of a page at once (fred pipelines them).
    async fn each_key<T, F>(&self, keys: &[Key], per_key: impl Fn(Key) -> F) -> Result<Vec<T>>
    where
        F: Future<Output = Result<T, FredError>>,
    {
        self.run(try_join_all(keys.iter().cloned().map(per_key))).await
    }

    /// The next page of sessions for `all_stream`, or `None` at the end.
    async fn next_sessions(
        &self,
        scan: &mut KeyScan,
    ) -> Result<Option<VecDeque<Result<(SessionId, Session)>>>> {
        let Some(keys) = scan.next_page().await? else {
            return Ok(None);
        };
        let client = self.inner.connection.client();
        let values: Vec<Option<Bytes>> = self.each_key(&keys, |key| client.get(key)).await?;
        let now = OffsetDateTime::now_utc();
        let sessions = keys
            .iter()
            .zip(values)
            .filter_map(|(key, value)| {
                let session = record::session_at(&*self.inner.codec, &value?, now).transpose()?;
                Some(session.and_then(|session| Ok((self.inner.prefix.id_of(key)?, session))))
            })
            .collect();
        Ok(Some(sessions))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("RedisStore")
            .field("prefix", &inner.prefix.as_str())
            .field("clustered", &inner.connection.is_clustered())
            .field("lifetimes", &inner.lifetimes)
            .field("codec", &inner.codec)
            .field("scan_count", &inner.scan_count)
            .field("disable_touch", &inner.disable_touch)
            .field("timeout", &inner.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let client = self.inner.connection.client();
        let value: Option<Bytes> = self.run(client.get(self.inner.prefix.key(id))).await?;
        match value {
            Some(bytes) => record::session_at(&*self.inner.codec, &bytes, OffsetDateTime::now_utc()),
            None => Ok(None),
        }
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let args = self.write_args(session)?;
        self.script(&self.inner.scripts.set, id, args).await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        let args = self.write_args(session)?;
        self.script(&self.inner.scripts.create, id, args).await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.inner.disable_touch {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let expires_at = self.inner.lifetimes.expiry_or_default(expires_at, now);
        let header = Bytes::copy_from_slice(&record::millis_bytes(expires_at));
        let args = vec![
            Value::from(expiry::unix_millis(now)),
            Value::from(expiry::unix_millis(expires_at)),
            Value::Bytes(header),
        ];
        self.script(&self.inner.scripts.touch, id, args).await
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let client = self.inner.connection.client();
        let key = self.inner.prefix.key(id);
        match self.inner.lifetimes.tombstone_until(OffsetDateTime::now_utc()) {
            Some(until) => {
                let expire = Some(Expiration::PXAT(expiry::unix_millis(until)));
                self.run(client.set::<(), _, _>(key, record::tombstone(until), expire, None, false))
                    .await
            }
            None => self.run(client.del::<(), _>(key)).await,
        }
    }

    fn all_stream(&self) -> SessionStream<'_> {
        let start = self.scan().map(|scan| (scan, VecDeque::new()));
        Box::pin(stream::unfold(Some(start), move |state| async move {
            let (mut scan, mut batch) = match state? {
                Ok(state) => state,
                Err(error) => return Some((Err(error), None)),
            };
            loop {
                if let Some(item) = batch.pop_front() {
                    return Some((item, Some(Ok((scan, batch)))));
                }
                match self.next_sessions(&mut scan).await {
                    Ok(Some(page)) => batch = page,
                    Ok(None) => return None,
                    Err(error) => return Some((Err(error), None)),
                }
            }
        }))
    }

    async fn length(&self) -> Result<u64> {
        let mut scan = self.scan()?;
        let client = self.inner.connection.client();
        let mut live = 0;
        while let Some(keys) = scan.next_page().await? {
            let headers: Vec<Bytes> = self
                .each_key(&keys, |key| client.getrange(key, 0, record::HEADER_LEN - 1))
                .await?;
            let now = OffsetDateTime::now_utc();
            live += headers
                .iter()
                .filter(|header| record::is_live_at(header, now))
                .count() as u64;
        }
        Ok(live)
    }

    async fn clear(&self) -> Result<()> {
        let mut scan = self.scan()?;
        let client = self.inner.connection.client();
        while let Some(keys) = scan.next_page().await? {
            self.each_key::<(), _>(&keys, |key| client.unlink(key)).await?;
        }
        Ok(())
    }
}
