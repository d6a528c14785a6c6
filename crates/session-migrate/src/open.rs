//! Opening each side of a migration from its [`Endpoint`].

use std::time::Duration;

use session_core::{Error, Result, Store, migrate::Source};
use session_couch::CouchStore;
use session_redis::{RedisStore, RedisStoreBuilder};
use session_sql::{SqlStore, SqlStoreBuilder};

use crate::{Backend, Endpoint, Layout};

/// How the stores of a migration are opened.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Longest a connection or a call may take (default 10 s).
    pub timeout: Duration,
    /// Connections a SQL store opens (default 16: one per create in flight).
    pub connections: u32,
    /// Create nothing: no table or database is made for the target (a
    /// dry run).
    pub read_only: bool,
    /// The apps are stopped while the copy runs, so no session can be
    /// written or destroyed meanwhile. Only then does [`open_target`] take a
    /// layout that keeps no tombstones (default `false`).
    pub offline: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connections: 16,
            read_only: false,
            offline: false,
        }
    }
}

/// Opens the side to read from.
///
/// | layout | Redis | SQL | CouchDB |
/// |---|---|---|---|
/// | [`Native`](Layout::Native) | [`RedisStore`], prefix default `sess` | [`SqlStore`], table default `sessions`, never created | [`CouchStore`], database default `sessions`, never created |
/// | [`TowerSessions`](Layout::TowerSessions) | [`session_redis::TowerSessionsSource`], prefix default none | [`session_sql::TowerSessionsSource`], tower-sessions' table names | — |
/// | an Express store's | `ConnectRedis`, `ConnectRedisSession`: [`RedisStore`] in that layout, the Node store's prefix by default | `ConnectPgSimple`, `ConnectSessionSequelize`: [`SqlStore`] in that layout, the Node store's table by default | `SessionPouchDbStore`: [`CouchStore`] in that layout |
///
/// Background purges are off: a migration only reads.
///
/// # Errors
/// [`Error::InvalidInput`] for a bad URL or an option that does not apply;
/// [`Error::Unavailable`] / [`Error::Timeout`] when the server cannot be
/// reached. Messages never hold the URL's password.
///
/// ```no_run
/// use session_migrate::{Endpoint, Layout, OpenOptions, open_source};
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let tower = Endpoint::new("postgres://app@db/app").layout(Layout::TowerSessions);
/// let source = open_source(&tower, &OpenOptions::default()).await?;
/// println!("{} sessions to move", source.count().await?);
/// # Ok(()) }
/// ```
pub async fn open_source(side: &Endpoint, options: &OpenOptions) -> Result<Box<dyn Source>> {
    let backend = side.backend()?;
    match (side.layout, backend) {
        (Layout::TowerSessions, Backend::Redis) => {
            let builder = redis_builder(side, options);
            Ok(Box::new(builder.build_tower_sessions_source().await?))
        }
        (Layout::TowerSessions, Backend::Sql) => {
            let builder = sql_builder(side, options);
            Ok(Box::new(builder.build_tower_sessions_source().await?))
        }
        (Layout::TowerSessions, Backend::Couch) => Err(Error::InvalidInput(
            "tower-sessions has no CouchDB store: its records are read from Redis or SQL".into(),
        )),
        (layout, _) if !layout.on(backend) => Err(elsewhere(layout, backend)),
        _ => Ok(into_source(open_native(side, backend, options, false).await?)),
    }
}

/// Opens the side to write to. The SQL table or CouchDB database is created
/// if missing, unless [`read_only`](OpenOptions::read_only); tombstones keep
/// their default grace (300 s), which is what makes a logout during the copy
/// stick.
///
/// A layout that keeps no tombstones (connect-redis, connect-redis-session,
/// connect-pg-simple, connect-session-sequelize) cannot keep that promise:
/// a session the copy read just before its user logged out would be
/// written again afterwards. Such a target is refused unless the apps are
/// stopped for the copy ([`offline`](OpenOptions::offline)).
/// session-pouchdb-store's layout keeps them.
///
/// # Errors
/// As [`open_source`], and [`Error::InvalidInput`] for a tower-sessions
/// layout (only read) or a layout without tombstones while not offline.
pub async fn open_target(side: &Endpoint, options: &OpenOptions) -> Result<Box<dyn Store>> {
    let backend = side.backend()?;
    match (side.layout, backend) {
        (Layout::TowerSessions, _) => Err(Error::InvalidInput(
            "tower-sessions records can only be read: the target is one of our stores".into(),
        )),
        (layout, _) if !layout.keeps_tombstones() && !options.offline => Err(Error::InvalidInput(format!(
            "the {layout:?} layout keeps no tombstones, so a user who logs out while the copy runs \
             could be logged in again by it: copy into the native layout, or stop the apps and \
             copy offline (--offline)"
        ))),
        (layout, _) if !layout.on(backend) => Err(elsewhere(layout, backend)),
        _ => open_native(side, backend, options, !options.read_only).await,
    }
}

fn elsewhere(layout: Layout, backend: Backend) -> Error {
    Error::InvalidInput(format!(
        "the {layout:?} layout is not on {backend:?}: give the URL of the server that Node store uses"
    ))
}

async fn open_native(
    side: &Endpoint,
    backend: Backend,
    options: &OpenOptions,
    create: bool,
) -> Result<Box<dyn Store>> {
    Ok(match backend {
        Backend::Redis => {
            let builder = redis_builder(side, options).layout(side.layout.redis().unwrap_or_default());
            Box::new(builder.build().await?)
        }
        Backend::Sql => {
            let builder = sql_builder(side, options)
                .purge_interval(None)
                .layout(side.layout.sql().unwrap_or_default())
                .create_table_if_missing(create);
            Box::new(builder.build().await?)
        }
        Backend::Couch => {
            let mut builder = CouchStore::builder()
                .url(&side.url)
                .timeout(options.timeout)
                .purge_interval(None)
                .layout(side.layout.couch().unwrap_or_default())
                .create_database(create);
            if let Some(database) = &side.database {
                builder = builder.database(database);
            }
            Box::new(builder.build().await?)
        }
    })
}

/// The Redis side's connection, prefix and paging, whatever it reads.
fn redis_builder(side: &Endpoint, options: &OpenOptions) -> RedisStoreBuilder {
    let builder = RedisStore::builder()
        .url(&side.url)
        .timeout(options.timeout)
        // Bigger pages than an app's: fewer round trips per session read.
        .scan_count(1000);
    match &side.prefix {
        Some(prefix) => builder.prefix(prefix),
        None => builder,
    }
}

/// The SQL side's connection, table and schema, whatever it reads.
fn sql_builder(side: &Endpoint, options: &OpenOptions) -> SqlStoreBuilder {
    let mut builder = SqlStore::builder()
        .url(&side.url)
        .timeout(options.timeout)
        .max_connections(options.connections.max(1));
    if let Some(table) = &side.table {
        builder = builder.table(table);
    }
    if let Some(schema) = &side.schema {
        builder = builder.schema(schema);
    }
    if let Some(zone) = &side.time_zone {
        builder = builder.time_zone(zone);
    }
    builder
}

/// A store, seen as what it is read through.
fn into_source(store: Box<dyn Store>) -> Box<dyn Source> {
    // `Box<dyn Store>` is a store, so a source.
    Box::new(store)
}
