//! Options for `SqlStore`, and connecting.

use std::time::Duration;

use session_core::Error;
use session_core::backend::{BuilderOptions, within};

use crate::{
    Column, SqlStore, dialect::Statements, error::from_sqlx, ident::Ident, pool::Pool, purge, store::Inner,
};

/// Builds a [`SqlStore`]. Every option has a default:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`url`](Self::url) or a pool | — (one is required) | `postgres://`, `mysql://` / `mariadb://`, `sqlite:path` or `sqlite::memory:`; or the app's own sqlx pool |
/// | [`table`](Self::table) | `"sessions"` | table name: ASCII letters, digits, `_`; quoted |
/// | [`schema`](Self::schema) | none | schema (PostgreSQL) or database (MySQL) qualifying the table |
/// | [`create_table_if_missing`](Self::create_table_if_missing) | `true` | run [`SqlStore::migrate`] when building |
/// | [`default_ttl`](Self::default_ttl) | 24 hours | lifetime of sessions written without an expiry |
/// | [`tombstone_grace`](Self::tombstone_grace) | 300 seconds | how long writes to a destroyed id are refused; zero deletes outright |
/// | [`disable_touch`](Self::disable_touch) | `false` | make `touch` a no-op that reports success |
/// | [`codec`](Self::codec) | [`JsonCodec`] | how session data is encoded |
/// | [`timeout`](Self::timeout) | 5 seconds | longest any call may take |
/// | [`purge_interval`](Self::purge_interval) | 15 minutes, ±50 % jitter | background purge of expired rows; `None` turns it off |
/// | [`purge_batch`](Self::purge_batch) | 1000 | rows deleted per purge statement |
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
    table: String,
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
            table: "sessions".into(),
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

    /// Table name (default `"sessions"`).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
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
        let lifetimes = self.options.check()?;
        let table = Ident::new("table name", &self.table)?;
        let schema = self
            .schema
            .as_deref()
            .map(|s| Ident::new("schema name", s))
            .transpose()?;
        let mut extra = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let name = column.validate()?;
            if extra.iter().any(|(seen, _): &(Ident, _)| seen == &name) {
                return Err(Error::InvalidInput(format!(
                    "column {:?} is configured twice",
                    column.name()
                )));
            }
            extra.push((name, column.kind));
        }
        if self.max_connections == 0 {
            return Err(Error::InvalidInput("max_connections must be positive".into()));
        }
        let timeout = self.options.timeout;
        let pool = match self.target.clone() {
            None => return Err(Error::InvalidInput("give the store a url or a pool".into())),
            Some(Target::Pool(pool)) => pool,
            Some(Target::Unsupported(why)) => return Err(Error::InvalidInput(why.into())),
            Some(Target::Url(url)) => within(timeout, self.connect(&url)).await.map_err(|e| match e {
                Error::Timeout(t) => {
                    Error::Unavailable(format!("could not connect to the database within {t:?}").into())
                }
                other => other,
            })?,
        };
        let statements = Statements::new(pool.dialect(), schema.as_ref(), &table, &extra);
        let purge_task = self.options.purge_interval.map(|interval| {
            purge::spawn(
                pool.clone(),
                statements.purge.clone(),
                self.options.purge_batch,
                interval,
                timeout,
            )
        });
        let store = SqlStore::from_inner(Inner {
            pool,
            statements,
            table: self.table,
            lifetimes,
            codec: self.options.codec,
            clock: self.options.clock,
            disable_touch: self.options.disable_touch,
            timeout,
            purge_batch: self.options.purge_batch,
            purge_task,
            columns: self.columns,
        });
        if self.create_table_if_missing {
            store.migrate().await?;
        }
        Ok(store)
    }

    async fn connect(&self, url: &str) -> Result<Pool, Error> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let timeout = self.options.timeout;
        let fail = |e| match from_sqlx(e, timeout) {
            Error::Backend(source) => Error::Unavailable(source),
            other => other,
        };
        match scheme {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => sqlx::postgres::PgPoolOptions::new()
                .max_connections(self.max_connections)
                .acquire_timeout(timeout)
                .connect(url)
                .await
                .map(Pool::Postgres)
                .map_err(fail),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(self.max_connections)
                    .acquire_timeout(timeout)
                    .connect(&url)
                    .await
                    .map(Pool::MySql)
                    .map_err(fail)
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => self.connect_sqlite(url).await.map_err(fail),
            other => Err(Error::InvalidInput(format!(
                "unsupported database URL scheme {other:?}; this build supports: {}",
                supported_schemes().join(", ")
            ))),
        }
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(&self, url: &str) -> Result<Pool, sqlx::Error> {
        use std::str::FromStr;

        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(url)?.busy_timeout(self.options.timeout);
        let mut pool = SqlitePoolOptions::new().acquire_timeout(self.options.timeout);
        if in_memory {
            // Each connection would see its own empty database: keep one, forever.
            pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            // WAL lets readers and a writer work at once; busy_timeout waits out the rest.
            options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            pool = pool.max_connections(self.max_connections);
        }
        // Processes opening one new file at once race to switch it to WAL, and
        // SQLite reports that as "database is locked" without waiting: retry
        // until the timeout (the caller's deadline) ends it.
        loop {
            match pool.clone().connect_with(options.clone()).await {
                Err(error) if is_busy(&error) => tokio::time::sleep(Duration::from_millis(20)).await,
                result => return result.map(Pool::Sqlite),
            }
        }
    }
}

/// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6).
#[cfg(feature = "sqlite")]
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("5" | "6")))
}

fn supported_schemes() -> Vec<&'static str> {
    let mut schemes = Vec::new();
    if cfg!(feature = "postgres") {
        schemes.extend(["postgres://", "postgresql://"]);
    }
    if cfg!(feature = "mysql") {
        schemes.extend(["mysql://", "mariadb://"]);
    }
    if cfg!(feature = "sqlite") {
        schemes.push("sqlite:");
    }
    schemes
}
