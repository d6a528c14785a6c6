//! The SQL store on PostgreSQL, MariaDB and SQLite against raw sqlx
//! prepared statements (the reference) and tower-sessions-sqlx-store (which
//! uses sqlx 0.8; on PostgreSQL raw sqlx 0.8 rides along, see `sqlx_versions`).

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use session_core::{SessionData, backend::unix_millis};
use session_sql::SqlStore;
use sqlx::{
    MySqlPool, PgPool, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};
use time::OffsetDateTime;

use crate::{
    sqlx_versions,
    subject::{Ours, Outcome, Subject, Subjects, Tower, data, found, ids_and_session, later, records},
};

/// The databases the SQL store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Postgres,
    Mariadb,
    Sqlite,
}

impl Db {
    pub const ALL: [Db; 3] = [Db::Postgres, Db::Mariadb, Db::Sqlite];

    /// The backend's name in the results.
    pub fn name(self) -> &'static str {
        match self {
            Db::Postgres => "postgres",
            Db::Mariadb => "mariadb",
            Db::Sqlite => "sqlite",
        }
    }

    /// The URL of `table`'s database: the server's for PostgreSQL and
    /// MariaDB, a file of its own for SQLite (so writers of different
    /// subjects never wait for each other's lock).
    pub fn url(self, table: &str) -> String {
        let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        match self {
            // Plain TCP for every subject: the peer's sqlx 0.8 has no TLS
            // and would otherwise be compared, unencrypted, with our sqlx 0.9
            // over TLS (see `sqlx_versions`). TLS gets a context row.
            Db::Postgres => sslmode_or(&postgres_url(), "disable"),
            Db::Mariadb => env("MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
            Db::Sqlite => format!("sqlite://{}/{table}.db", scratch_dir().display()),
        }
    }
}

/// The PostgreSQL server's URL as given.
fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with `sslmode=mode` unless it names one already.
fn sslmode_or(url: &str, mode: &str) -> String {
    if url.contains("sslmode=") {
        url.to_owned()
    } else {
        sqlx_versions::with_sslmode(url, mode)
    }
}

/// Where the SQLite files live (removed and recreated by every run).
pub fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("BENCH_SCRATCH_DIR")
        .map_or_else(|| "/var/tmp/session-bench".into(), std::path::PathBuf::from);
    // A missing folder shows up later as SQLite's "unable to open database file".
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Removes a SQLite file and its WAL companions; other databases keep nothing on disk here.
pub fn remove_sqlite_files(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

/// SQLite the way our store opens a file: WAL, a busy timeout, 10 connections.
fn sqlite_options(url: &str) -> Result<(SqliteConnectOptions, SqlitePoolOptions), String> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| e.to_string())?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    Ok((options, SqlitePoolOptions::new().max_connections(10)))
}

enum RawPool {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// The same code on whichever pool: `$pool` names it in `$body`.
macro_rules! on_pool {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            RawPool::Postgres($pool) => $body,
            RawPool::MySql($pool) => $body,
            RawPool::Sqlite($pool) => $body,
        }
    };
}

/// Raw sqlx: the same row shape as ours, one prepared statement per operation.
pub struct RawSqlx {
    pool: RawPool,
    keys: Vec<String>,
    value: Vec<u8>,
    get: &'static str,
    set: &'static str,
    touch: &'static str,
}

impl RawSqlx {
    /// The live row's data under `key`.
    async fn data(&self, key: usize) -> Result<Option<Vec<u8>>, String> {
        let now = unix_millis(OffsetDateTime::now_utc());
        let row: Option<(Vec<u8>, i64)> = on_pool!(&self.pool, |pool| sqlx::query_as(self.get)
            .bind(&self.keys[key])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(|e| e.to_string())?);
        Ok(row.map(|(data, _)| data))
    }
}

#[async_trait]
impl Subject for RawSqlx {
    async fn get(&self, key: usize) -> Outcome {
        found(self.data(key).await?)
    }
    async fn set(&self, key: usize) -> Outcome {
        let expires = unix_millis(later());
        on_pool!(&self.pool, |pool| sqlx::query(self.set)
            .bind(&self.keys[key])
            .bind(&self.value)
            .bind(expires)
            .execute(pool)
            .await
            .map(drop)
            .map_err(|e| e.to_string()))
    }
    async fn touch(&self, key: usize) -> Outcome {
        let expires = unix_millis(later());
        let updated = on_pool!(&self.pool, |pool| sqlx::query(self.touch)
            .bind(expires)
            .bind(&self.keys[key])
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())?);
        if updated == 0 {
            Err("no such row".into())
        } else {
            Ok(())
        }
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        match self.data(key).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}

impl RawSqlx {
    /// The same statements on the same table through a PostgreSQL pool at
    /// `url`, if the connection there is encrypted (else `None`).
    async fn over_tls(&self, url: &str) -> Result<Option<Self>, String> {
        let unreachable = |e: sqlx::Error| format!("postgres at {url}: {e}");
        let pool = PgPool::connect(url).await.map_err(unreachable)?;
        let (encrypted,): (bool,) =
            sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&pool)
                .await
                .map_err(unreachable)?;
        Ok(encrypted.then(|| Self {
            pool: RawPool::Postgres(pool),
            keys: self.keys.clone(),
            value: self.value.clone(),
            get: self.get,
            set: self.set,
            touch: self.touch,
        }))
    }

    async fn pool(db: Db, url: &str) -> Result<RawPool, String> {
        let unreachable = |e: sqlx::Error| format!("{} at {url} must be reachable: {e}", db.name());
        Ok(match db {
            Db::Postgres => RawPool::Postgres(PgPool::connect(url).await.map_err(unreachable)?),
            Db::Mariadb => RawPool::MySql(MySqlPool::connect(url).await.map_err(unreachable)?),
            Db::Sqlite => {
                let (options, pool) = sqlite_options(url)?;
                RawPool::Sqlite(pool.connect_with(options).await.map_err(unreachable)?)
            }
        })
    }

    async fn connect(db: Db, url: &str) -> Result<Self, String> {
        let pool = Self::pool(db, url).await?;
        let (ddl, get, set, touch) = match db {
            Db::Postgres => (
                "CREATE TABLE bench_raw (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, expires_at BIGINT NOT NULL)",
                "SELECT data, expires_at FROM bench_raw WHERE id = $1 AND expires_at > $2",
                "INSERT INTO bench_raw (id, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                "UPDATE bench_raw SET expires_at = $1 WHERE id = $2",
            ),
            Db::Mariadb => (
                "CREATE TABLE bench_raw (id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, \
                 data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL) ENGINE=InnoDB",
                "SELECT data, expires_at FROM bench_raw WHERE id = ? AND expires_at > ?",
                "INSERT INTO bench_raw (id, data, expires_at) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at)",
                "UPDATE bench_raw SET expires_at = ? WHERE id = ?",
            ),
            Db::Sqlite => (
                "CREATE TABLE bench_raw (id TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL, expires_at INTEGER NOT NULL)",
                "SELECT data, expires_at FROM bench_raw WHERE id = ? AND expires_at > ?",
                "INSERT INTO bench_raw (id, data, expires_at) VALUES (?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                "UPDATE bench_raw SET expires_at = ? WHERE id = ?",
            ),
        };
        for statement in ["DROP TABLE IF EXISTS bench_raw", ddl] {
            on_pool!(&pool, |pool| sqlx::query(statement).execute(pool).await.map(drop))
                .map_err(|e| e.to_string())?;
        }
        Ok(RawSqlx {
            pool,
            keys: Vec::new(),
            value: serde_json::to_vec(&data()).map_err(|e| e.to_string())?,
            get,
            set,
            touch,
        })
    }
}

/// The tower-sessions-sqlx-store peer on `db`, its table created.
async fn peer(db: Db, url: &str, keys: usize) -> Result<Arc<dyn Subject>, String> {
    use tower_sessions_sqlx_store::{MySqlStore, PostgresStore, SqliteStore, sqlx as tower_sqlx};
    let records = records!(tower_sessions_core_014, data(), keys);
    let error = |e: tower_sqlx::Error| e.to_string();
    Ok(match db {
        Db::Postgres => {
            let pool = tower_sqlx::PgPool::connect(url).await.map_err(error)?;
            tower_sqlx::query("DROP TABLE IF EXISTS bench_tower")
                .execute(&pool)
                .await
                .map_err(error)?;
            let store = PostgresStore::new(pool).with_table_name("bench_tower")?;
            store.migrate().await.map_err(error)?;
            Arc::new(Tower { store, records })
        }
        Db::Mariadb => {
            let pool = tower_sqlx::MySqlPool::connect(url).await.map_err(error)?;
            tower_sqlx::query("DROP TABLE IF EXISTS bench_tower")
                .execute(&pool)
                .await
                .map_err(error)?;
            let store = MySqlStore::new(pool).with_table_name("bench_tower")?;
            store.migrate().await.map_err(error)?;
            Arc::new(Tower { store, records })
        }
        Db::Sqlite => {
            let options = tower_sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(error)?
                .create_if_missing(true)
                .journal_mode(tower_sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = tower_sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(10)
                .connect_with(options)
                .await
                .map_err(error)?;
            let store = SqliteStore::new(pool).with_table_name("bench_tower")?;
            store.migrate().await.map_err(error)?;
            Arc::new(Tower { store, records })
        }
    })
}

/// Our store on `db`, in a fresh `table`, with no background purge and
/// the given per-call timeout.
pub async fn ours(db: Db, table: &str, timeout: Duration) -> Result<SqlStore, String> {
    let url = db.url(table);
    execute(db, &url, &format!("DROP TABLE IF EXISTS {table}")).await?;
    SqlStore::builder()
        .url(&url)
        .table(table)
        .timeout(timeout)
        .purge_interval(None)
        .build()
        .await
        .map_err(|e| format!("{} at {url}: {e}", db.name()))
}

/// Runs one statement on a connection of its own (DDL and bulk fills).
pub async fn execute(db: Db, url: &str, statement: &str) -> Result<(), String> {
    if db == Db::Sqlite && statement.starts_with("DROP TABLE") {
        remove_sqlite_files(url);
        return Ok(());
    }
    let pool = RawSqlx::pool(db, url).await?;
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    on_pool!(&pool, |pool| sqlx::query(statement).execute(pool).await.map(drop))
        .map_err(|e| format!("{}: {e}", db.name()))
}

/// `db`'s subjects for `keys` sessions (not yet filled); raw sqlx first.
pub async fn subjects(db: Db, keys: usize) -> Result<Subjects, String> {
    for table in ["bench_raw", "bench_ours", "bench_tower"] {
        remove_sqlite_files(&db.url(table));
    }
    let (ids, session) = ids_and_session(keys);
    let mut raw = RawSqlx::connect(db, &db.url("bench_raw")).await?;
    raw.keys = ids.iter().map(|id| id.as_str().to_owned()).collect();
    let raw_keys = raw.keys.clone();
    let tls = match db {
        Db::Postgres => raw.over_tls(&sslmode_or(&postgres_url(), "prefer")).await?,
        _ => None,
    };
    let ours = Ours {
        store: ours(db, "bench_ours", Duration::from_secs(5)).await?,
        ids,
        session,
    };
    let mut subjects: Subjects = vec![
        ("raw sqlx (reference)".into(), Arc::new(raw)),
        ("session-sql (ours)".into(), Arc::new(ours)),
        (
            "tower-sessions-sqlx-store".into(),
            peer(db, &db.url("bench_tower"), keys).await?,
        ),
    ];
    if db == Db::Postgres {
        subjects.extend(sqlx_versions::subjects(&db.url("bench_raw08"), raw_keys).await?);
        match tls {
            Some(tls) => subjects.push((
                "raw sqlx over TLS, sslmode=prefer (context)".into(),
                Arc::new(tls),
            )),
            None => println!("postgres: the server offers no TLS, so no TLS context row"),
        }
    }
    Ok(subjects)
}

/// Inserts sessions `b<first>`..=`b<last>` (1 KiB, expiring at `expires_at`,
/// unix ms) into our `table` in one statement, the way the store writes them.
pub async fn bulk_fill(db: Db, table: &str, first: u64, last: u64, expires_at: i64) -> Result<(), String> {
    let pool = RawSqlx::pool(db, &db.url(table)).await?;
    let value = serde_json::to_vec(&data()).map_err(|e| e.to_string())?;
    let (first, last) = (first as i64, last as i64);
    let done = match &pool {
        RawPool::Postgres(pool) => {
            let sql = format!(
                "INSERT INTO {table} (id, data, expires_at, destroyed) \
                 SELECT 'b' || g, $1, $2, FALSE FROM generate_series($3::bigint, $4::bigint) g"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .bind(expires_at)
                .bind(first)
                .bind(last)
                .execute(pool)
                .await
                .map(drop)
        }
        RawPool::MySql(pool) => {
            // MariaDB's sequence engine: seq_<first>_to_<last> is a table of those numbers.
            let sql = format!(
                "INSERT INTO {table} (id, data, expires_at, destroyed) \
                 SELECT CONCAT('b', seq), ?, ?, FALSE FROM seq_{first}_to_{last}"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(drop)
        }
        RawPool::Sqlite(pool) => {
            let sql = format!(
                "WITH RECURSIVE n(x) AS (SELECT ?3 UNION ALL SELECT x + 1 FROM n WHERE x < ?4) \
                 INSERT INTO {table} (id, data, expires_at, destroyed) SELECT 'b' || x, ?1, ?2, FALSE FROM n"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .bind(expires_at)
                .bind(first)
                .bind(last)
                .execute(pool)
                .await
                .map(drop)
        }
    };
    done.map_err(|e| format!("{}: bulk insert: {e}", db.name()))
}
