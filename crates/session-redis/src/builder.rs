//! Options for `RedisStore`, and connecting.

use std::time::Duration;

use fred::{
    clients::{Client, Pool},
    interfaces::ClientLike,
    types::{
        Builder, RespVersion,
        config::{Config, ReconnectPolicy, UnresponsiveConfig},
    },
};
use session_core::Error;
use session_core::backend::{BuilderOptions, within};

#[cfg(feature = "tower-sessions")]
use crate::TowerSessionsSource;
use crate::{
    Durability, Layout, NearCacheOptions, RedisStore, connection::Connection, error::from_fred,
    keys::Namespace, near_cache::NearCache, store::Settings,
};

/// Builds a [`RedisStore`]. The option names follow connect-redis and
/// connect-redis-session, which many users know:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`url`](Self::url) / [`client`](Self::client) / [`pool`](Self::pool) | — (one is required) | where to connect: `redis://`, `rediss://` (TLS, rustls), `redis-cluster://host:port?node=host:port&...`; or a fred client or pool the app already owns and has initialised |
/// | [`prefix`](Self::prefix) | `"sess"` (`"sess:"` for connect-redis) | the namespace: keys are the prefix, a space, the id (connect-redis: prefix and id); 1 to 256 visible ASCII characters |
/// | [`scan_count`](Self::scan_count) | `100` | `COUNT` for `SCAN` in `all`, `length` and `clear` (keys per page) |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry (connect-redis' `ttl`) |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused (`concurrencyGraceSeconds`); zero means `destroy` deletes outright |
/// | [`disable_touch`](Self::disable_touch) | `false` | make `touch` a no-op that reports success (connect-redis' `disableTouch`) |
/// | [`codec`](Self::codec) | [`JsonCodec`](session_core::JsonCodec) | how session data is encoded (connect-redis' `serializer`) |
/// | [`clock`](Self::clock) | the system clock | the application's clock, which every expiry is computed and compared with |
/// | [`timeout`](Self::timeout) | 5 seconds | longest any call may take, including while Redis is down or reconnecting |
/// | [`durability`](Self::durability) | [`Durability::Primary`] | how many copies a write needs before it is done (`WAIT` for replicas) |
/// | [`near_cache`](Self::near_cache) | off | keep sessions in process, invalidated by Redis (client tracking) |
/// | [`layout`](Self::layout) | [`Layout::Native`] | how sessions are stored: this crate's records, or connect-redis' (shared with an Express app) |
/// | [`pool_size`](Self::pool_size) | `1` | connections opened for a [`url`](Self::url) (each is multiplexed) |
/// | [`reconnect_delay`](Self::reconnect_delay) | 200 ms | pause between reconnection attempts for a [`url`](Self::url); attempts never stop |
///
/// A store built from a [`url`](Self::url) also watches its connections: one
/// that leaves a command unanswered for a whole `timeout` (a peer that
/// vanished without closing, a failover that left the old address dropping
/// packets) is closed and replaced. For a [`client`](Self::client) or
/// [`pool`](Self::pool) the app passes in, that is the app's configuration
/// (fred's `UnresponsiveConfig`); every write is still sent with the
/// store's own timeout and a single attempt, so none is replayed late.
///
/// ```no_run
/// use std::time::Duration;
/// use session_redis::RedisStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = RedisStore::builder()
///     .url("redis://127.0.0.1:6379")
///     .prefix("myapp:sess") // keys `myapp:sess <id>`
///     .default_ttl(Duration::from_secs(3600))
///     .timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    target: Option<Target>,
    prefix: Option<String>,
    layout: Layout,
    scan_count: u32,
    options: BuilderOptions,
    pool_size: usize,
    reconnect_delay: Duration,
    durability: Durability,
    near_cache: Option<NearCacheOptions>,
}

#[derive(Clone)]
enum Target {
    Url(String),
    Client(Client),
    Pool(Pool),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may hold a password: never print it.
        f.write_str(match self {
            Self::Url(_) => "Url(..)",
            Self::Client(_) => "Client",
            Self::Pool(_) => "Pool",
        })
    }
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self {
            target: None,
            prefix: None,
            layout: Layout::Native,
            scan_count: 100,
            options: BuilderOptions::default(),
            pool_size: 1,
            reconnect_delay: Duration::from_millis(200),
            durability: Durability::Primary,
            near_cache: None,
        }
    }
}

impl RedisStoreBuilder {
    session_core::builder_options!(lifetimes, remote);

    /// Connect to this URL when building (`redis://`, `rediss://`,
    /// `redis-cluster://host:port?node=host:port`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.target = Some(Target::Url(url.into()));
        self
    }

    /// Use a client the app already owns and has initialised.
    pub fn client(mut self, client: Client) -> Self {
        self.target = Some(Target::Client(client));
        self
    }

    /// Use a pool the app already owns and has initialised.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.target = Some(Target::Pool(pool));
        self
    }

    /// The namespace (default `"sess"`, or `"sess:"` with
    /// [`Layout::ConnectRedis`]): keys are the prefix, a space and
    /// the id (with `ConnectRedis`: the prefix and the id). 1 to 256 visible ASCII characters; glob characters are
    /// escaped for `SCAN`. Because neither prefixes nor ids hold a space,
    /// stores on different prefixes never see each other's sessions, even
    /// when one prefix starts with the other.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// How sessions are stored (default [`Layout::Native`]); see [`Layout`]
    /// for sharing sessions with an Express app through connect-redis.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Keys per `SCAN` page (default 100). Must be at least 1.
    pub fn scan_count(mut self, count: u32) -> Self {
        self.scan_count = count;
        self
    }

    /// Connections to open for a URL (default 1). Must be at least 1.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// Pause between reconnection attempts for a URL (default 200 ms).
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect_delay = delay;
        self
    }

    /// How many copies of a write must exist before it is done (default
    /// [`Durability::Primary`]).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Keeps sessions in process, invalidated by Redis itself (client
    /// tracking, on a RESP3 connection of the cache's own): a `get` that
    /// hits costs no round trip. Off by default. See [`NearCacheOptions`] for what
    /// it guarantees and how stale a read can be.
    pub fn near_cache(mut self, near_cache: NearCacheOptions) -> Self {
        self.near_cache = Some(near_cache);
        self
    }

    /// Checks the options, connects if given a URL, and builds the store.
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no target given, a malformed URL, an empty
    ///   or spaced prefix, or an option out of range.
    /// * [`Error::Unavailable`] / [`Error::Timeout`]: the server could not
    ///   be reached within the timeout.
    pub async fn build(self) -> Result<RedisStore, Error> {
        let lifetimes = self.options.check()?;
        let prefix = self.prefix.as_deref().unwrap_or(self.layout.default_prefix());
        let namespace = self.layout.namespace(prefix)?;
        if self.near_cache.is_some() && self.layout != Layout::Native {
            return Err(Error::InvalidInput(
                "the near cache works with the native layout only".into(),
            ));
        }
        self.check_sizes()?;
        let connection = self.connection().await?;
        let near = match self.near_cache {
            Some(options) => Some(self.near(options, &connection, &namespace).await?),
            None => None,
        };
        Ok(RedisStore::from_settings(Settings {
            connection,
            namespace,
            lifetimes,
            codec: self.options.codec,
            clock: self.options.clock,
            scan_count: self.scan_count,
            disable_touch: self.options.disable_touch,
            timeout: self.options.timeout,
            durability: self.durability,
            near,
            layout: self.layout,
        }))
    }

    /// Builds a reader of the records tower-sessions-redis-store wrote,
    /// instead of a store, on the same connection options: the
    /// [`url`](Self::url), [`client`](Self::client) or [`pool`](Self::pool),
    /// [`timeout`](Self::timeout), [`scan_count`](Self::scan_count),
    /// [`pool_size`](Self::pool_size), [`reconnect_delay`](Self::reconnect_delay)
    /// and the [`clock`](Self::clock) records' expiries are judged by. The
    /// [`prefix`](Self::prefix) is taken as it is: keys are the prefix and
    /// the id, with nothing between (default none, as
    /// tower-sessions-redis-store 0.16 writes them). The options of a store
    /// alone (layout, lifetimes, codec, durability, near cache) play no
    /// part: the reader never writes. See [`TowerSessionsSource`] for what
    /// it reads.
    ///
    /// ```no_run
    /// use session_core::migrate::Source as _;
    /// use session_redis::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_core::Error> {
    /// let tower = RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379")
    ///     .build_tower_sessions_source()
    ///     .await?;
    /// println!("{} sessions to move", tower.count().await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no target given, a malformed URL, or an
    ///   option out of range.
    /// * [`Error::Unavailable`] / [`Error::Timeout`]: the server could not
    ///   be reached within the timeout.
    #[cfg(feature = "tower-sessions")]
    pub async fn build_tower_sessions_source(self) -> Result<TowerSessionsSource, Error> {
        self.options.check()?;
        self.check_sizes()?;
        let connection = self.connection().await?;
        Ok(TowerSessionsSource::new(
            connection,
            self.prefix.unwrap_or_default(),
            self.scan_count,
            self.options.timeout,
            self.options.clock,
        ))
    }

    /// Checks the sizes both a store and a reader use.
    fn check_sizes(&self) -> Result<(), Error> {
        if self.scan_count == 0 || self.pool_size == 0 {
            return Err(Error::InvalidInput(
                "scan_count and pool_size must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The connection to the target: the app's client or pool, or
    /// connections of the store's own to the URL.
    async fn connection(&self) -> Result<Connection, Error> {
        let connection = match self.target.clone() {
            None => {
                return Err(Error::InvalidInput(
                    "give the store a url, a client or a pool".into(),
                ));
            }
            Some(Target::Client(client)) => Connection::borrowed_client(client),
            Some(Target::Pool(pool)) => Connection::borrowed_pool(pool),
            Some(Target::Url(url)) => self.connect(&url).await?,
        };
        Ok(connection.with_patience(self.options.timeout))
    }

    async fn connect(&self, url: &str) -> Result<Connection, Error> {
        if !RedisStore::URL_SCHEMES
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
            return Err(Error::InvalidInput(format!(
                "a Redis URL starts with one of {}, not {scheme:?}",
                RedisStore::URL_SCHEMES.join(", ")
            )));
        }
        let config = Config::from_url(url).map_err(|e| Error::InvalidInput(format!("bad Redis URL: {e}")))?;
        self.open(config, self.pool_size).await
    }

    /// Opens `size` connections with `config` and the store's timeouts,
    /// dead-connection detection and reconnect policy, and waits for them.
    async fn open(&self, config: Config, size: usize) -> Result<Connection, Error> {
        let timeout = self.options.timeout;
        let delay = u32::try_from(self.reconnect_delay.as_millis()).unwrap_or(u32::MAX);
        let pool = Builder::from_config(config)
            .with_performance_config(|perf| perf.default_command_timeout = timeout)
            .with_connection_config(|conn| {
                conn.connection_timeout = timeout;
                conn.internal_command_timeout = timeout;
                // A command unanswered for a whole timeout means a dead
                // connection: close it and reconnect.
                conn.unresponsive = UnresponsiveConfig {
                    max_timeout: Some(timeout),
                    interval: (timeout / 4).max(Duration::from_millis(10)),
                };
            })
            .set_policy(ReconnectPolicy::new_constant(0, delay))
            .build_pool(size)
            .map_err(|e| from_fred(e, timeout))?;
        let tasks = pool.connect_pool();
        let connection = Connection::owned(pool, tasks);
        // On failure `connection` is dropped here, which stops its tasks.
        within(timeout, async {
            connection
                .wait_for_connect()
                .await
                .map_err(|e| from_fred(e, timeout))
        })
        .await
        .map_err(|e| match e {
            Error::Timeout(t) => {
                Error::Unavailable(format!("could not connect to Redis within {t:?}").into())
            }
            other => other,
        })?;
        Ok(connection)
    }

    /// Starts the near cache on a RESP3 connection of its own to the same
    /// servers as `connection`.
    async fn near(
        &self,
        options: NearCacheOptions,
        connection: &Connection,
        namespace: &Namespace,
    ) -> Result<NearCache, Error> {
        if options.capacity == 0 || options.staleness < Duration::from_millis(4) {
            return Err(Error::InvalidInput(
                "a near cache needs a positive capacity and a staleness of at least 4 ms".into(),
            ));
        }
        let mut config = connection.client().client_config();
        config.version = RespVersion::RESP3;
        let tracking = self.open(config, 1).await?.with_patience(self.options.timeout);
        within(
            self.options.timeout,
            NearCache::start(tracking, options, namespace.clone()),
        )
        .await
    }
}
