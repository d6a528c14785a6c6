//! Options for `CouchStore`, and connecting.

use std::{sync::Arc, time::Duration};

use session_core::{Error, backend::BuilderOptions};

use crate::{
    CouchStore, Layout, address,
    cache::{self, Cache},
    documents::Documents,
    feed::{self, Feed},
    http::Couch,
    native::Native,
    pouch::Pouch,
    store::Inner,
};

/// Builds a [`CouchStore`]. Every option has a default (names follow
/// session-pouchdb-store where it had one):
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`url`](Self::url) / [`client`](Self::client) | — (one is required) | the server, `http(s)://host:port`, or a `couch_rs::Client` the app owns |
/// | [`credentials`](Self::credentials) | none | user name and password (or give them in the URL) |
/// | [`database`](Self::database) | `"sessions"` | database name (CouchDB's rules: `[a-z][a-z0-9_$()+/-]*`) |
/// | [`create_database`](Self::create_database) | `true` | create the database if it is missing |
/// | [`layout`](Self::layout) | [`Layout::Native`] | how sessions are stored: this crate's documents, or session-pouchdb-store's (shared with an Express app) |
/// | [`cache`](Self::cache) | `false` | keep live sessions in process, synced through `_changes` (native layout only) |
/// | [`max_idle`](Self::max_idle) | 10 minutes | cache entries unused this long are released (scavenged) |
/// | [`cache_capacity`](Self::cache_capacity) | 100 000 | most cache entries; least recently used go first |
/// | [`heartbeat`](Self::heartbeat) | 1 second | `_changes` heartbeat; the cache answers only while the feed was heard from within twice this |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero deletes outright |
/// | [`clock`](Self::clock) | the system clock | the clock every expiry is computed and compared with |
/// | [`disable_touch`](Self::disable_touch) | `false` | make `touch` a no-op that reports success |
/// | [`codec`](Self::codec) | [`JsonCodec`](session_core::JsonCodec) | how session data is encoded (JSON is stored as a JSON string; unused by [`Layout::PouchDbStore`]) |
/// | [`timeout`](Self::timeout) | 5 seconds | longest any call may take, retries included; `clear` and purges bound each batch instead |
/// | [`purge_interval`](Self::purge_interval) | 15 minutes, ±50 % jitter | background purge; `None` turns it off |
/// | [`purge_batch`](Self::purge_batch) | 1000 | documents deleted per `_bulk_docs` request |
///
/// ```no_run
/// use std::time::Duration;
/// use session_couch::CouchStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = CouchStore::builder()
///     .url("https://couch.internal:6984")
///     .credentials("sessions", "secret")
///     .cache(true)
///     .heartbeat(Duration::from_millis(500)) // a destroy elsewhere is served here for 1 s at most
///     .build()
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct CouchStoreBuilder {
    url: Option<String>,
    credentials: Option<(String, String)>,
    client: Option<couch_rs::Client>,
    database: String,
    create_database: bool,
    layout: Layout,
    cache: bool,
    max_idle: Duration,
    cache_capacity: u64,
    options: BuilderOptions,
    heartbeat: Duration,
}

impl std::fmt::Debug for CouchStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the URL or the credentials.
        f.debug_struct("CouchStoreBuilder")
            .field("database", &self.database)
            .field("layout", &self.layout)
            .field("cache", &self.cache)
            .field("timeout", &self.options.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for CouchStoreBuilder {
    fn default() -> Self {
        Self {
            url: None,
            credentials: None,
            client: None,
            database: "sessions".into(),
            create_database: true,
            layout: Layout::Native,
            cache: false,
            max_idle: Duration::from_secs(600),
            cache_capacity: 100_000,
            options: BuilderOptions::default(),
            heartbeat: Duration::from_secs(1),
        }
    }
}

impl CouchStore {
    /// A builder for every option (see [`CouchStoreBuilder`]).
    pub fn builder() -> CouchStoreBuilder {
        CouchStoreBuilder::default()
    }
}

impl CouchStoreBuilder {
    session_core::builder_options!(lifetimes, remote, purge);

    /// The server's URL: `http://host:port` or `https://host:port`, with no
    /// path. Credentials in it (`http://user:password@host:port`,
    /// percent-encoded) are taken out and sent as basic auth, never as part
    /// of a URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// User name and password for [`url`](Self::url), sent as basic auth;
    /// they take the place of any given in the URL.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// Use a client the app already owns (its URL and credentials).
    pub fn client(mut self, client: couch_rs::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Database name (default `"sessions"`).
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = name.into();
        self
    }

    /// Create the database if missing (default `true`).
    pub fn create_database(mut self, create: bool) -> Self {
        self.create_database = create;
        self
    }

    /// How sessions are stored (default [`Layout::Native`]); see [`Layout`]
    /// for session-pouchdb-store's layout, shared with an Express app.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Keep a synced in-process cache of live sessions (default `false`).
    /// It works with [`Layout::Native`] only: `build` refuses it with any
    /// other layout.
    pub fn cache(mut self, cache: bool) -> Self {
        self.cache = cache;
        self
    }

    /// Release cache entries unused this long (default 10 minutes).
    pub fn max_idle(mut self, idle: Duration) -> Self {
        self.max_idle = idle;
        self
    }

    /// Most cache entries (default 100 000).
    pub fn cache_capacity(mut self, entries: u64) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// How often the server is asked to show the `_changes` feed is alive
    /// when nothing changes (default 1 s). The cache answers reads only
    /// while the feed was heard from within twice this, which bounds how
    /// long a session changed or destroyed by another process can be served
    /// from this one's cache; a feed silent that long is reopened.
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// The client for [`url`](Self::url), or the app's own.
    fn connection(&self) -> Result<couch_rs::Client, Error> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let Some(url) = &self.url else {
            return Err(Error::InvalidInput("give the store a url or a client".into()));
        };
        let address = address::parse(url)?;
        let credentials = self.credentials.clone().or(address.credentials);
        let (user, password) = match &credentials {
            Some((user, password)) => (Some(user.as_str()), Some(password.as_str())),
            None => (None, None),
        };
        // No client-wide timeout: it would cut the long-lived feed; every
        // call gets the store's own timeout instead.
        couch_rs::Client::new_with_timeout(&address.base, user, password, None)
            .map_err(|_| Error::InvalidInput("bad CouchDB URL: couch_rs refused it".into()))
    }

    /// Checks the options, creates the database and the expiry index if
    /// needed, starts the feed (with a cache) and the purge, and builds.
    /// Every request here is bounded by the timeout.
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no server, a URL that is not
    ///   `http(s)://host[:port]`, a bad database name, an option out of
    ///   range, the cache with a layout other than [`Layout::Native`], or a
    ///   missing database with `create_database(false)`.
    /// * [`Error::Unavailable`] / [`Error::Timeout`] / [`Error::Backend`]:
    ///   the server did not answer, or refused.
    pub async fn build(self) -> Result<CouchStore, Error> {
        let lifetimes = self.options.check()?;
        validate_database_name(&self.database)?;
        if self.heartbeat.is_zero() || self.cache_capacity == 0 || self.max_idle.is_zero() {
            return Err(Error::InvalidInput(
                "heartbeat, cache_capacity and max_idle must be positive".into(),
            ));
        }
        if self.cache && self.layout != Layout::Native {
            return Err(Error::InvalidInput(
                "the cache works with the native layout only: PouchDbStore documents are shared with Node, \
                 whose writes the cache does not follow"
                    .into(),
            ));
        }
        let couch = Couch {
            client: self.connection()?,
            db: self.database.clone(),
            timeout: self.options.timeout,
        };
        if self.create_database {
            couch.ensure_database().await?;
        } else if !couch.database_exists().await? {
            return Err(Error::InvalidInput(format!(
                "the database {:?} does not exist",
                self.database
            )));
        }

        let options = self.options;
        let purge_batch = options.purge_batch as usize;
        let mut tasks = Vec::new();
        let cache = self.cache.then(|| {
            let limits = cache::Limits {
                capacity: self.cache_capacity,
                max_idle: self.max_idle,
                silence: feed::silence_bound(self.heartbeat),
                round_trip: options.timeout,
            };
            Cache::new(&limits, Arc::clone(&options.clock))
        });
        // The one place the layout is looked at: from here on the store
        // calls its documents.
        let documents: Arc<dyn Documents> = match self.layout {
            Layout::Native => Arc::new(Native {
                couch: couch.clone(),
                codec: Arc::clone(&options.codec),
                clock: Arc::clone(&options.clock),
                lifetimes,
                cache: cache.clone(),
            }),
            Layout::PouchDbStore => Arc::new(Pouch {
                couch: couch.clone(),
                clock: Arc::clone(&options.clock),
                lifetimes,
            }),
        };
        documents.ensure_index().await?;
        if let Some(cache) = &cache {
            tasks.push(feed::follow(Feed {
                couch: couch.clone(),
                cache: cache.clone(),
                codec: Arc::clone(&options.codec),
                clock: Arc::clone(&options.clock),
                heartbeat: self.heartbeat,
            }));
        }
        if let Some(interval) = options.purge_interval {
            let documents = Arc::clone(&documents);
            // A run may take at most one interval: the next one is due then.
            tasks.push(session_core::backend::spawn_purge(
                interval,
                interval,
                move || {
                    let documents = Arc::clone(&documents);
                    async move { documents.purge(purge_batch).await }
                },
            ));
        }
        Ok(CouchStore::from_inner(Inner {
            documents,
            couch,
            layout: self.layout,
            lifetimes,
            codec: options.codec,
            clock: options.clock,
            disable_touch: options.disable_touch,
            cache,
            purge_batch,
            _tasks: tasks,
        }))
    }
}

/// CouchDB's rule for database names.
fn validate_database_name(name: &str) -> Result<(), Error> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_$()+-/".contains(c));
    if first_ok && rest_ok && name.len() <= 238 {
        Ok(())
    } else {
        Err(Error::InvalidInput(
            "a CouchDB database name is a lowercase letter followed by lowercase letters, digits and _$()+-/"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_follow_couchdb_rules() {
        for good in ["sessions", "sc_0a1b", "a$()+-/_9"] {
            assert!(validate_database_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Sessions", "_users", "9abc", "a b", "a.b"] {
            assert!(validate_database_name(bad).is_err(), "{bad}");
        }
    }
}
