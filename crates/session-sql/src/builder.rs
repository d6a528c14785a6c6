//! Options for `SqlStore`, and connecting.

use std::sync::Arc;

use session_core::Error;
use session_core::backend::{BuilderOptions, within};

#[cfg(feature = "tower-sessions")]
use crate::TowerSessionsSource;
use crate::{
    Column, Layout, SqlStore,
    bounds::ServerBounds,
    connect::{PoolSettings, connect},
    db::Db,
    extra_columns::ColumnKind,
    ident::Ident,
    node::NodeColumns,
    pool::Pool,
    purge::Purger,
    schema::Shape,
    statements::Statements,
    store::Inner,
    time_zone,
};
#[cfg(feature = "mysql")]
use crate::{connect::is_mariadb, error::from_sqlx};

/// Builds a [`SqlStore`]. Every option has a default:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`url`](Self::url) or a pool | — (one is required) | `postgres://`, `mysql://` / `mariadb://`, `sqlite:path` or `sqlite::memory:`; or the app's own sqlx pool |
/// | [`layout`](Self::layout) | [`Layout::Native`] | this crate's table, or a Node store's (connect-pg-simple, connect-session-sequelize) |
/// | [`table`](Self::table) | `"sessions"` (a Node layout: its store's default) | table name: ASCII letters, digits, `_`; quoted |
/// | [`time_zone`](Self::time_zone) | connect-pg-simple: the database's default (warned); Sequelize on MySQL: UTC | the zone the Node store's wall-clock times are in |
/// | [`schema`](Self::schema) | none | schema (PostgreSQL) or database (MySQL) qualifying the table |
/// | [`create_table_if_missing`](Self::create_table_if_missing) | `true` | run [`SqlStore::migrate`] when building |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero deletes outright |
/// | [`clock`](Self::clock) | the system clock | where every expiry comparison takes "now" from |
/// | [`disable_touch`](Self::disable_touch) | `false` | make `touch` a no-op that reports success |
/// | [`codec`](Self::codec) | [`JsonCodec`](session_core::JsonCodec) | how session data is encoded |
/// | [`timeout`](Self::timeout) | 5 seconds | longest any call may take, retries and purges included; the database ends each statement after it, and each lock wait after a quarter of it (see [`SqlStore`]) |
/// | [`purge_interval`](Self::purge_interval) | 15 minutes, ±50 % jitter | background purge of expired rows; `None` turns it off |
/// | [`purge_batch`](Self::purge_batch) | 1000 | rows deleted per purge statement (and per `clear` statement where `TRUNCATE` is refused) |
/// | [`max_connections`](Self::max_connections) | 10 (1 for in-memory SQLite) | pool size for a [`url`](Self::url) |
/// | [`column`](Self::column) | none | extra indexed columns filled from session data (see [`Column`]) |
///
/// ```no_run
/// use std::time::Duration;
/// use session_sql::SqlStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = SqlStore::builder()
///     .url("postgres://127.0.0.1/app")
///     .schema("auth")
///     .table("web_sessions")
///     .purge_interval(Some(Duration::from_secs(600)))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SqlStoreBuilder {
    target: Option<Target>,
    layout: Layout,
    table: Option<String>,
    time_zone: Option<String>,
    schema: Option<String>,
    create_table_if_missing: bool,
    options: BuilderOptions,
    max_connections: u32,
    columns: Vec<Column>,
}

#[derive(Clone)]
enum Target {
    Url(String),
    Pool(Pool),
    #[cfg_attr(not(feature = "sea-orm"), allow(dead_code))]
    Unsupported(&'static str),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may hold a password: never print it.
        f.write_str(match self {
            Self::Url(_) => "Url(..)",
            Self::Pool(_) => "Pool",
            Self::Unsupported(_) => "Unsupported",
        })
    }
}

impl Default for SqlStoreBuilder {
    fn default() -> Self {
        Self {
            target: None,
            layout: Layout::Native,
            table: None,
            time_zone: None,
            schema: None,
            create_table_if_missing: true,
            options: BuilderOptions::default(),
            max_connections: 10,
            columns: Vec::new(),
        }
    }
}

impl SqlStoreBuilder {
    session_core::builder_options!(lifetimes, remote, purge);

    /// Connect to this URL when building.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.target = Some(Target::Url(url.into()));
        self
    }

    /// Use the app's own PostgreSQL pool.
    #[cfg(feature = "postgres")]
    pub fn pg_pool(mut self, pool: sqlx::PgPool) -> Self {
        self.target = Some(Target::Pool(Pool::Postgres(pool)));
        self
    }

    /// Use the app's own MySQL/MariaDB pool.
    #[cfg(feature = "mysql")]
    pub fn mysql_pool(mut self, pool: sqlx::MySqlPool) -> Self {
        self.target = Some(Target::Pool(Pool::MySql(pool)));
        self
    }

    /// Use the app's own SQLite pool.
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(mut self, pool: sqlx::SqlitePool) -> Self {
        self.target = Some(Target::Pool(Pool::Sqlite(pool)));
        self
    }

    /// Use the pool behind the app's own sea-orm connection: the same table,
    /// statements and guarantees as a store on a sqlx pool. The store takes
    /// a clone of the pool, so it shares the app's connections.
    ///
    /// Only sqlx-backed connections (PostgreSQL, MySQL/MariaDB, SQLite) carry
    /// a pool; `build` refuses others (mock, proxy, rusqlite) with
    /// [`Error::InvalidInput`].
    ///
    /// ```no_run
    /// use session_sql::SqlStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = sea_orm::Database::connect("postgres://127.0.0.1/app").await?;
    /// let store = SqlStore::builder().sea_orm(&db).build().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sea-orm")]
    pub fn sea_orm(mut self, db: &sea_orm::DatabaseConnection) -> Self {
        use sea_orm::DatabaseConnectionType as Connection;
        // Each getter is called only for its own variant, so none can panic.
        self.target = Some(match &db.inner {
            #[cfg(feature = "postgres")]
            Connection::SqlxPostgresPoolConnection(_) => {
                Target::Pool(Pool::Postgres(db.get_postgres_connection_pool().clone()))
            }
            #[cfg(feature = "mysql")]
            Connection::SqlxMySqlPoolConnection(_) => {
                Target::Pool(Pool::MySql(db.get_mysql_connection_pool().clone()))
            }
            #[cfg(feature = "sqlite")]
            Connection::SqlxSqlitePoolConnection(_) => {
                Target::Pool(Pool::Sqlite(db.get_sqlite_connection_pool().clone()))
            }
            #[allow(unreachable_patterns)]
            _ => Target::Unsupported("this sea-orm connection has no sqlx pool (mock, proxy or rusqlite)"),
        });
        self
    }

    /// Table name (default `"sessions"`; with a Node [`layout`](Self::layout),
    /// its store's default: `"session"`, `"Sessions"`).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// The table's layout: this crate's own (the default), or a Node
    /// store's, to share sessions with an Express app (see [`Layout`] for
    /// what each keeps of the contract). A Node layout has no tombstones
    /// (`tombstone_grace` does not apply), ignores the
    /// [`codec`](Self::codec) (the data is express-session's JSON) and takes
    /// no extra [`column`](Self::column)s.
    ///
    /// ```no_run
    /// use session_sql::{Layout, SqlStore};
    ///
    /// # async fn run() -> Result<(), session_core::Error> {
    /// let store = SqlStore::builder()
    ///     .url("mysql://root@127.0.0.1/app")
    ///     .layout(Layout::ConnectSessionSequelize)
    ///     .build()
    ///     .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The time zone the Node store writes its wall-clock times in.
    ///
    /// - connect-pg-simple stores `expire` in the zone of the Node app's
    ///   connections: give it here (an IANA name such as
    ///   `"America/New_York"`, or `"UTC"`). Without it the store assumes
    ///   the zone a connection that sets none gets (node-postgres sets
    ///   none) *for the store's own role*: that role's or the database's
    ///   `TimeZone` setting, else the server's configuration file, else UTC
    ///   when that file cannot be read. It logs a warning saying which zone
    ///   it assumed; set this whenever the Node app connects as another
    ///   role or sets its own zone (`options: '-c TimeZone=…'`).
    /// - connect-session-sequelize on MySQL/MariaDB writes `DATETIME`s in
    ///   Sequelize's `timezone` option: give the same value (`"+09:00"`,
    ///   or a name the server's time zone tables know). Without it, UTC
    ///   (Sequelize's default).
    /// - Sequelize on PostgreSQL stores an offset with every time, and on
    ///   SQLite it refuses any zone but UTC: the zone changes nothing there.
    ///
    /// `build` fails with [`Error::InvalidInput`] for a zone the server
    /// does not know, or for the native layout (unix milliseconds).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), session_core::Error> {
    /// // new Sequelize(url, { timezone: '+09:00' })
    /// let store = session_sql::SqlStore::builder()
    ///     .url("mysql://root@127.0.0.1/app")
    ///     .layout(session_sql::Layout::ConnectSessionSequelize)
    ///     .time_zone("+09:00")
    ///     .build()
    ///     .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }

    /// Schema (PostgreSQL) or database (MySQL) of the table.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Whether `build` creates the table if missing (default `true`).
    pub fn create_table_if_missing(mut self, create: bool) -> Self {
        self.create_table_if_missing = create;
        self
    }

    /// Adds an extra, indexed column filled from session data on every write
    /// (see [`Column`]). A table created without it needs the column added
    /// by hand: `migrate` only creates missing tables.
    pub fn column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Pool size for a URL (default 10).
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections;
        self
    }

    /// Checks the options, connects, creates the table if asked, starts the
    /// background purge, and builds the store.
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no target, an unknown URL scheme, a table
    ///   or schema name that is not a plain identifier, or an option out of
    ///   range.
    /// * [`Error::Unavailable`]: the database could not be reached within
    ///   the timeout.
    /// * [`Error::Backend`]: creating the table failed.
    pub async fn build(self) -> Result<SqlStore, Error> {
        let node = self.layout.is_node();
        if node && !self.columns.is_empty() {
            return Err(Error::InvalidInput(
                "extra columns need the native layout: a Node store's table has only its own".into(),
            ));
        }
        let mut options = self.options.clone();
        if node {
            // The Node tables have no tombstones: destroy deletes.
            options.tombstone_grace = std::time::Duration::ZERO;
        }
        let lifetimes = options.check()?;
        let table_name = self
            .table
            .clone()
            .unwrap_or_else(|| self.layout.default_table().into());
        let table = Ident::new("table name", &table_name)?;
        let schema = self
            .schema
            .as_deref()
            .map(|s| Ident::new("schema name", s))
            .transpose()?;
        let extras = self.extra_columns()?;
        let timeout = self.options.timeout;
        let (db, prefix) = self.open(false).await?;
        let dialect = db.dialect();
        self.layout.check(dialect)?;
        let zone = time_zone::resolve(&db.pool, self.layout, self.time_zone.as_deref(), timeout).await?;
        let node_columns =
            (self.layout != Layout::Native).then(|| NodeColumns::new(dialect, self.layout, zone.as_deref()));
        let statements = Statements::new(Shape {
            dialect,
            schema: schema.as_ref(),
            table: &table,
            extras: &extras,
            prefix: &prefix,
            node: node_columns.as_ref(),
        })?;
        let purger = Purger {
            db: db.clone(),
            statement: statements.purge.clone(),
            batch: self.options.purge_batch,
            clock: Arc::clone(&self.options.clock),
        };
        let purge_task = self
            .options
            .purge_interval
            .map(|interval| purger.clone().spawn(interval));
        let store = SqlStore::from_inner(Inner {
            db,
            statements,
            table: table_name,
            lifetimes,
            codec: self.options.codec,
            clock: self.options.clock,
            disable_touch: self.options.disable_touch,
            purge_batch: self.options.purge_batch,
            purger,
            purge_task,
            columns: self.columns,
            layout: self.layout,
        });
        if self.create_table_if_missing {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Builds a reader of the table tower-sessions-sqlx-store wrote,
    /// instead of a store, on the same connection options: the
    /// [`url`](Self::url) (SQLite's file is opened read-only) or the app's
    /// pool, [`timeout`](Self::timeout) (with the bounds the database puts
    /// on each statement), [`max_connections`](Self::max_connections), the
    /// [`clock`](Self::clock) records' expiries are judged by, and the
    /// [`table`](Self::table) and [`schema`](Self::schema), which default to
    /// tower-sessions' own names (see [`TowerSessionsSource`]). The options
    /// of a store alone (layout, lifetimes, codec, purging, columns, table
    /// creation) play no part: the reader never writes.
    ///
    /// ```no_run
    /// use session_core::migrate::Source as _;
    /// use session_sql::SqlStore;
    ///
    /// # async fn run() -> Result<(), session_core::Error> {
    /// let tower = SqlStore::builder()
    ///     .url("postgres://app@127.0.0.1/app") // table "tower_sessions"."session"
    ///     .build_tower_sessions_source()
    ///     .await?;
    /// println!("{} sessions to move", tower.count().await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// * [`Error::InvalidInput`]: no target, an unknown URL scheme, a schema
    ///   for SQLite, a table or schema name that is not a plain identifier,
    ///   or an option out of range.
    /// * [`Error::Unavailable`]: the database could not be reached within
    ///   the timeout.
    #[cfg(feature = "tower-sessions")]
    pub async fn build_tower_sessions_source(self) -> Result<TowerSessionsSource, Error> {
        self.options.check()?;
        // Checked before connecting: a bad name is never sent anywhere.
        let ident = |what, name: &Option<String>| name.as_deref().map(|n| Ident::new(what, n)).transpose();
        let (schema, table) = (
            ident("schema name", &self.schema)?,
            ident("table name", &self.table)?,
        );
        let (db, prefix) = self.open(true).await?;
        TowerSessionsSource::new(db, &prefix, schema, table, self.options.clock)
    }

    /// The database: the app's pool, or one of the store's own on the URL
    /// (`read_only`: opened to read another program's table), bounded by
    /// the timeout; and the text put before every statement (MariaDB's
    /// bounds, else nothing).
    async fn open(&self, read_only: bool) -> Result<(Db, String), Error> {
        if self.max_connections == 0 {
            return Err(Error::InvalidInput("max_connections must be positive".into()));
        }
        let timeout = self.options.timeout;
        let bounds = ServerBounds::for_timeout(timeout);
        // A pool of the store's own bounds statements as each connection
        // starts; the app's PostgreSQL pool is bounded per transaction.
        let (pool, bounded_begin) = match self.target.clone() {
            None => return Err(Error::InvalidInput("give the store a url or a pool".into())),
            Some(Target::Pool(pool)) => {
                let begin = bounds.begin_on_apps_pool(&pool);
                (pool, begin)
            }
            Some(Target::Unsupported(why)) => return Err(Error::InvalidInput(why.into())),
            Some(Target::Url(url)) => {
                let settings = PoolSettings {
                    max_connections: self.max_connections,
                    timeout,
                    bounds,
                    read_only,
                };
                let pool = within(timeout, connect(&url, settings))
                    .await
                    .map_err(|e| match e {
                        Error::Timeout(t) => Error::Unavailable(
                            format!("could not connect to the database within {t:?}").into(),
                        ),
                        other => other,
                    })?;
                (pool, None)
            }
        };
        // MariaDB's bounds go before every statement, so they hold on any
        // connection, the app's included. MySQL has no such prefix.
        let prefix = match &pool {
            #[cfg(feature = "mysql")]
            Pool::MySql(mysql) => within(timeout, mariadb_prefix(mysql, bounds)).await?,
            #[allow(unreachable_patterns)]
            _ => String::new(),
        };
        let db = Db {
            pool,
            bounded_begin,
            timeout,
        };
        Ok((db, prefix))
    }

    /// The extra columns' names and kinds, checked.
    fn extra_columns(&self) -> Result<Vec<(Ident, ColumnKind)>, Error> {
        let mut extras = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let name = column.validate()?;
            if extras.iter().any(|(seen, _): &(Ident, _)| seen == &name) {
                return Err(Error::InvalidInput(format!(
                    "column {:?} is configured twice",
                    column.name()
                )));
            }
            extras.push((name, column.kind));
        }
        Ok(extras)
    }
}

/// MariaDB's per-statement bounds, or nothing on MySQL.
#[cfg(feature = "mysql")]
async fn mariadb_prefix(pool: &sqlx::MySqlPool, bounds: ServerBounds) -> Result<String, Error> {
    let mariadb = is_mariadb(pool)
        .await
        .map_err(|e| from_sqlx(e, bounds.statement))?;
    Ok(if mariadb {
        bounds.mariadb_prefix()
    } else {
        String::new()
    })
}
