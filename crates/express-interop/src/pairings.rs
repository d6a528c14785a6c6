//! The pairings under test: for each Node store, the Express app and the
//! Rust app started on one fresh namespace of the same server.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use session_core::{SessionId, Store};
use session_couch::CouchStore;
use session_middleware::SessionLayerBuilder;
use session_redis::RedisStore;
use session_sql::{Layout, SqlStore};

use crate::{ExpressApp, start_rust_app};

/// Both apps on one store; the Express app stops when this is dropped.
pub struct Pairing {
    /// The Rust side's store, alone in its namespace.
    pub store: Arc<dyn Store>,
    /// The Express app.
    pub express: ExpressApp,
    /// The Rust app's address.
    pub rust: SocketAddr,
    /// What the pairing sets on the Rust app's session layer (beside the
    /// secrets and lifetime both apps share).
    configure: Configure,
    /// What the pairing made on the server, removed by [`finish`](Self::finish).
    made: Made,
}

/// A pairing's settings of the Rust app's session layer.
type Configure = fn(SessionLayerBuilder) -> SessionLayerBuilder;

/// What a pairing made on its server.
enum Made {
    /// Redis keys under `prefix`: the store's `clear` removes them.
    Keys { prefix: String },
    /// The SQL table `table` at `url` (for SQLite, the file).
    Table { url: String, table: String },
    /// The CouchDB database at this URL.
    Database(String),
}

impl Pairing {
    /// Another Rust app on the pairing's store, set up as
    /// [`rust`](Self::rust) is and then by `configure` (e.g. `rolling`, or
    /// other cookie attributes).
    ///
    /// # Errors
    /// As [`start_rust_app`].
    pub async fn start_rust_app(
        &self,
        configure: impl FnOnce(SessionLayerBuilder) -> SessionLayerBuilder,
    ) -> Result<SocketAddr, Failure> {
        let pairing = self.configure;
        start_rust_app(Arc::clone(&self.store), |layer| configure(pairing(layer))).await
    }

    /// How long the session `id` has left as the server itself holds it,
    /// where that is more than what the Rust store reads: the Redis key's
    /// TTL (`PTTL`; [`Duration::MAX`] for a key without one). `None` for a
    /// pairing whose store reads the expiry straight from the row or
    /// document Node wrote.
    ///
    /// # Errors
    /// When the server cannot be asked, or the key is missing.
    pub async fn raw_ttl(&self, id: &SessionId) -> Result<Option<Duration>, Failure> {
        let Made::Keys { prefix } = &self.made else {
            return Ok(None);
        };
        match redis_pttl(&redis_url(), &format!("{prefix}{}", id.as_str())).await? {
            -2 => Err(format!("no Redis key for session {}", id.redacted()).into()),
            -1 => Ok(Some(Duration::MAX)),
            ms => Ok(Some(Duration::from_millis(u64::try_from(ms).unwrap_or_default()))),
        }
    }

    /// Stops the Express app and removes what both apps made on the server:
    /// the sessions, and the table or database made for the pairing.
    ///
    /// # Errors
    /// When any of it cannot be removed.
    pub async fn finish(self) -> Result<(), Failure> {
        // Node first, so that it writes nothing after the removal.
        drop(self.express);
        match self.made {
            Made::Keys { .. } => self.store.clear().await?,
            Made::Table { url, table } => drop_table(&url, &table).await?,
            Made::Database(database) => {
                let response = reqwest::Client::new().delete(&database).send().await?;
                if !response.status().is_success() {
                    return Err(format!("deleting {database}: {}", response.status()).into());
                }
            }
        }
        Ok(())
    }
}

/// Drops `table` at `url`; for SQLite, deletes the database file and the
/// files beside it.
///
/// # Errors
/// When the database cannot be reached or the files cannot be removed.
pub async fn drop_table(url: &str, table: &str) -> Result<(), Failure> {
    use sqlx::{AssertSqlSafe, Executor as _};
    let drop = AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"));
    if let Some(path) = url.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            match std::fs::remove_file(format!("{path}{suffix}")) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
    } else if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await?;
        pool.execute(drop).await?;
        pool.close().await;
    } else {
        let pool = sqlx::MySqlPool::connect(url).await?;
        pool.execute(drop).await?;
        pool.close().await;
    }
    Ok(())
}

type Failure = Box<dyn std::error::Error>;

/// `PTTL key` on the Redis at `url` (`redis://host:port`), in RESP by hand:
/// the answer in milliseconds, -1 for no TTL, -2 for no key.
async fn redis_pttl(url: &str, key: &str) -> Result<i64, Failure> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let address = url
        .strip_prefix("redis://")
        .ok_or_else(|| format!("not a redis:// URL: {url}"))?;
    let address = address.rsplit_once('@').map_or(address, |(_, host)| host);
    let address = address.split('/').next().unwrap_or(address);
    let mut connection = tokio::io::BufReader::new(tokio::net::TcpStream::connect(address).await?);
    let command = format!("*2\r\n$4\r\nPTTL\r\n${}\r\n{key}\r\n", key.len());
    connection.get_mut().write_all(command.as_bytes()).await?;
    let mut reply = String::new();
    connection.read_line(&mut reply).await?;
    reply
        .trim_end()
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("PTTL {key}: {reply:?}").into())
}

/// Redis; `./scripts/test` starts it and sets `REDIS_URL`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// PostgreSQL; `./scripts/test` starts it and sets `POSTGRES_URL`.
pub fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// MariaDB; `./scripts/test` starts it and sets `MYSQL_URL`.
pub fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// The CouchDB-compatible server; `./scripts/test` starts it and sets `COUCH_URL`.
pub fn couch_url() -> String {
    std::env::var("COUCH_URL").unwrap_or_else(|_| "http://127.0.0.1:5984".into())
}

/// A fresh SQLite file.
///
/// # Errors
/// When the temporary folder cannot be made.
pub fn sqlite_url(label: &str) -> Result<String, Failure> {
    let dir = std::env::temp_dir().join("express-interop");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.db", fresh(label)));
    let _ = std::fs::remove_file(&path);
    Ok(format!("sqlite:{}", path.display()))
}

/// A fresh name: `label` and ten random lowercase letters or digits.
pub fn fresh(label: &str) -> String {
    let random = SessionId::generate()
        .as_str()
        .to_lowercase()
        .replace(['-', '_'], "");
    format!("interop_{label}_{}", random.get(..10).unwrap_or_default())
}

/// connect-redis 10 and [`session_redis::Layout::ConnectRedis`], under a
/// fresh prefix.
///
/// # Errors
/// When Redis or Node cannot be reached.
pub async fn connect_redis() -> Result<Pairing, Failure> {
    let prefix = format!("{}:", fresh("redis"));
    let store = RedisStore::builder()
        .url(redis_url())
        .layout(session_redis::Layout::ConnectRedis)
        .prefix(&prefix)
        .build()
        .await
        .map_err(|e| format!("Redis must be reachable (run ./scripts/test): {e}"))?;
    let express = ExpressApp::start(
        "connect-redis",
        &[("REDIS_URL", &redis_url()), ("PREFIX", &prefix)],
    )
    .await?;
    pair(Arc::new(store), express, |layer| layer, Made::Keys { prefix }).await
}

/// session-pouchdb-store 0.4 and [`session_couch::Layout::PouchDbStore`],
/// in a fresh database, both sides making ids CouchDB can hold
/// ([`session_couch::node_shareable_id`]). The Rust side touches at most
/// once a minute: Node's store stops committing for good after one write
/// conflict, so Rust writes only what a request changes.
///
/// # Errors
/// When the server or Node cannot be reached.
pub async fn pouchdb_store() -> Result<Pairing, Failure> {
    let database = fresh("pouch");
    let store = CouchStore::builder()
        .url(couch_url())
        .database(&database)
        .layout(session_couch::Layout::PouchDbStore)
        .purge_interval(None)
        .build()
        .await
        .map_err(|e| format!("the CouchDB server must be reachable (run ./scripts/test): {e}"))?;
    let url = format!("{}/{database}", couch_url());
    let express = ExpressApp::start("session-pouchdb-store", &[("COUCH_DB_URL", &url)]).await?;
    pair(
        Arc::new(store),
        express,
        |layer| {
            layer
                .generate_id(session_couch::node_shareable_id)
                .touch_after(Duration::from_secs(60))
        },
        Made::Database(url),
    )
    .await
}

/// A Node SQL store (`connect-pg-simple`, `connect-session-sequelize`) and
/// `layout`, on a fresh table at `url`, which the Node store creates first,
/// as an app already running it would have.
///
/// # Errors
/// When the database or Node cannot be reached.
pub async fn sql(node_store: &str, layout: Layout, url: &str) -> Result<Pairing, Failure> {
    sql_in_zone(node_store, layout, url, None).await
}

/// [`sql`], the Node app writing its times in `zone` (connect-pg-simple:
/// its connections' `TimeZone`; Sequelize: its `timezone` option) and the
/// Rust store told so ([`SqlStoreBuilder::time_zone`](session_sql::SqlStoreBuilder::time_zone)).
///
/// # Errors
/// When the database or Node cannot be reached, or the database does not
/// know the zone.
pub async fn sql_in_zone(
    node_store: &str,
    layout: Layout,
    url: &str,
    zone: Option<&str>,
) -> Result<Pairing, Failure> {
    let table = fresh("t");
    let mut env = vec![("DATABASE_URL", url), ("TABLE", table.as_str())];
    env.extend(zone.map(|zone| ("TIME_ZONE", zone)));
    let express = ExpressApp::start(node_store, &env).await?;
    let mut builder = SqlStore::builder()
        .url(url)
        .layout(layout)
        .table(&table)
        .purge_interval(None);
    if let Some(zone) = zone {
        builder = builder.time_zone(zone);
    }
    let store = builder
        .build()
        .await
        .map_err(|e| format!("the database at {url} must be reachable (run ./scripts/test): {e}"))?;
    let made = Made::Table {
        url: url.to_owned(),
        table,
    };
    pair(Arc::new(store), express, |layer| layer, made).await
}

async fn pair(
    store: Arc<dyn Store>,
    express: ExpressApp,
    configure: Configure,
    made: Made,
) -> Result<Pairing, Failure> {
    let rust = start_rust_app(Arc::clone(&store), configure).await?;
    Ok(Pairing {
        store,
        express,
        rust,
        configure,
        made,
    })
}
