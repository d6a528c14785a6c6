//! Options for `CouchStore`, and connecting.

use std::{sync::Arc, time::Duration};

use session_core::{Error, backend::BuilderOptions};
use tokio::sync::watch;

use crate::{CouchStore, cache, http::Couch, purge, store::Inner};

/// Builds a [`CouchStore`]. Every option has a default (names follow
/// session-pouchdb-store where it had one):
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`url`](Self::url) / [`client`](Self::client) | — (one is required) | the server, e.g. `http://127.0.0.1:5984`, or a `couch_rs::Client` the app owns |
/// | [`credentials`](Self::credentials) | none | user name and password for a [`url`](Self::url) |
/// | [`database`](Self::database) | `"sessions"` | database name (CouchDB's rules: `[a-z][a-z0-9_$()+/-]*`) |
/// | [`create_database`](Self::create_database) | `true` | create the database if it is missing |
/// | [`cache`](Self::cache) | `false` | keep live sessions in process, synced through `_changes` |
/// | [`max_idle`](Self::max_idle) | 10 minutes | cache entries unused this long are released (scavenged) |
/// | [`cache_capacity`](Self::cache_capacity) | 100 000 | most cache entries; least recently used go first |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero deletes outright |
/// | [`disable_touch`](Self::disable_touch) | `false` | make `touch` a no-op that reports success |
/// | [`codec`](Self::codec) | [`JsonCodec`] | how session data is encoded (JSON is stored as a JSON object) |
/// | [`timeout`](Self::timeout) | 5 seconds | longest any request may take |
/// | [`purge_interval`](Self::purge_interval) | 15 minutes, ±50 % jitter | background purge; `None` turns it off |
/// | [`purge_batch`](Self::purge_batch) | 1000 | documents deleted per `_bulk_docs` request |
/// | [`heartbeat`](Self::heartbeat) | 5 seconds | `_changes` heartbeat; three missed ones mean reconnect |
#[derive(Clone)]
#[must_use]
pub struct CouchStoreBuilder {
    url: Option<String>,
    credentials: Option<(String, String)>,
    client: Option<couch_rs::Client>,
    database: String,
    create_database: bool,
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
            cache: false,
            max_idle: Duration::from_secs(600),
            cache_capacity: 100_000,
            options: BuilderOptions::default(),
            heartbeat: Duration::from_secs(5),
        }
    }
}

impl CouchStoreBuilder {
    session_core::builder_options!(lifetimes, remote, purge);

    /// The server's URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// User name and password for [`url`](Self::url).
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

    /// Keep a synced in-process cache of live sessions (default `false`).
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

    /// `_changes` heartbeat (default 5 s).
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Checks the options, creates the database and the expiry index if
    /// needed, starts the feed (with a cache) and the purge, and builds.
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no server, a bad URL or database name, an
    ///   option out of range, or a missing database with `create_database(false)`.
    /// * [`Error::Unavailable`] / [`Error::Timeout`]: the server did not answer.
    pub async fn build(self) -> Result<CouchStore, Error> {
        let lifetimes = self.options.check()?;
        validate_database_name(&self.database)?;
        if self.heartbeat.is_zero() || self.cache_capacity == 0 || self.max_idle.is_zero() {
            return Err(Error::InvalidInput(
                "heartbeat, cache_capacity and max_idle must be positive".into(),
            ));
        }
        let purge_batch = self.options.purge_batch as usize;
        let client = match (self.client.clone(), &self.url) {
            (Some(client), _) => client,
            (None, Some(url)) => {
                let (user, password) = match &self.credentials {
                    Some((user, password)) => (Some(user.as_str()), Some(password.as_str())),
                    None => (None, None),
                };
                // No client-wide timeout: it would cut the long-lived feed;
                // every other request gets the store's own timeout.
                couch_rs::Client::new_with_timeout(url, user, password, None)
                    .map_err(|e| Error::InvalidInput(format!("bad CouchDB URL: {e}")))?
            }
            (None, None) => return Err(Error::InvalidInput("give the store a url or a client".into())),
        };
        let couch = Couch {
            client,
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
        purge::ensure_index(&couch).await?;

        let (stop, stopped) = watch::channel(());
        let cache = self
            .cache
            .then(|| cache::Cache::new(self.cache_capacity, self.max_idle));
        if let Some(cache) = &cache {
            cache::follow(
                couch.clone(),
                cache.clone(),
                Arc::clone(&self.options.codec),
                self.heartbeat,
                stopped.clone(),
            );
        }
        if let Some(interval) = self.options.purge_interval {
            purge::spawn(couch.clone(), purge_batch, interval, stopped);
        }
        Ok(CouchStore::from_inner(Inner {
            couch,
            lifetimes,
            codec: self.options.codec,
            disable_touch: self.options.disable_touch,
            cache,
            purge_batch,
            _stop: stop,
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
