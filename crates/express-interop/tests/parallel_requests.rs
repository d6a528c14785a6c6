//! [`REQUESTS`](express_interop::parallel::REQUESTS) requests of one
//! browser at once, each setting its own key, keep every key on every
//! native store (the Node layouts run the same in their pairing's test):
//! memory, Redis (standalone, Cluster, near cache, the connect-redis-session
//! layout, which has no Node app here), PostgreSQL, MariaDB, SQLite, a
//! sea-orm connection, CouchDB with and without its synced cache.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;

use express_interop::{
    pairings::{couch_url, drop_table, fresh, mysql_url, postgres_url, redis_url, sqlite_url},
    parallel::{REQUESTS, keys_kept, parallel_requests_keep_every_key},
    start_rust_app,
};
use session_core::{Result, Session, SessionId, SessionStream, Store};
use session_couch::CouchStore;
use session_memory::MemoryStore;
use session_redis::{Layout as RedisLayout, NearCacheOptions, RedisStore, RedisStoreBuilder};
use session_sql::SqlStore;

/// Runs the parallel requests through a Rust app on `store`.
async fn run(store: Arc<dyn Store>) {
    let app = start_rust_app(Arc::clone(&store), |layer| layer).await.unwrap();
    parallel_requests_keep_every_key(&*store, app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_memory() {
    run(Arc::new(MemoryStore::new())).await;
}

/// A memory store without `get_versioned` and `set_if_unchanged` of its
/// own: the provided ones, which cannot compare, so a save replaces the
/// whole session.
#[derive(Debug)]
struct WholeSessionSaves(MemoryStore);

#[async_trait]
impl Store for WholeSessionSaves {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        self.0.get(id).await
    }
    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.0.set(id, session).await
    }
    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.0.create(id, session).await
    }
    async fn touch(&self, id: &SessionId, expires_at: Option<time::OffsetDateTime>) -> Result<()> {
        self.0.touch(id, expires_at).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<()> {
        self.0.destroy(id).await
    }
    fn all_stream(&self) -> SessionStream<'_> {
        self.0.all_stream()
    }
    async fn length(&self) -> Result<u64> {
        self.0.length().await
    }
    async fn clear(&self) -> Result<()> {
        self.0.clear().await
    }
}

/// The run can fail: where saves replace the whole session, most keys go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_session_saves_lose_keys() {
    let store: Arc<dyn Store> = Arc::new(WholeSessionSaves(MemoryStore::new()));
    let app = start_rust_app(Arc::clone(&store), |layer| layer).await.unwrap();
    let (kept, _) = keys_kept(&*store, app).await;
    assert!(
        kept.len() < REQUESTS / 2,
        "whole-session saves of {REQUESTS} parallel requests kept {kept:?}"
    );
}

fn cluster_url() -> String {
    std::env::var("REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| "redis-cluster://127.0.0.1:7101?node=127.0.0.1:7102&node=127.0.0.1:7103".into())
}

/// A Redis store under a fresh prefix, as `configure` sets it up; cleared after.
async fn on_redis(url: String, configure: fn(RedisStoreBuilder) -> RedisStoreBuilder) {
    let builder = RedisStore::builder()
        .url(&url)
        .prefix(format!("{}:", fresh("par")));
    let store: Arc<dyn Store> = Arc::new(
        configure(builder)
            .build()
            .await
            .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}")),
    );
    run(Arc::clone(&store)).await;
    store.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_standalone() {
    on_redis(redis_url(), |builder| builder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_cluster() {
    on_redis(cluster_url(), |builder| builder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_with_its_near_cache() {
    on_redis(redis_url(), |builder| {
        builder.near_cache(NearCacheOptions::new(1_000))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_cluster_with_its_near_cache() {
    on_redis(cluster_url(), |builder| {
        builder.near_cache(NearCacheOptions::new(1_000))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_in_connect_redis_session_layout() {
    on_redis(redis_url(), |builder| {
        builder.layout(RedisLayout::ConnectRedisSession)
    })
    .await;
}

/// The native SQL layout on a fresh table at `url`; dropped after.
async fn on_sql(url: &str) {
    let table = fresh("par");
    let store = SqlStore::builder()
        .url(url)
        .table(&table)
        .purge_interval(None)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"));
    run(Arc::new(store)).await;
    drop_table(url, &table).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    on_sql(&postgres_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mariadb() {
    on_sql(&mysql_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    on_sql(&sqlite_url("par").unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_sea_orm_connection() {
    let (url, table) = (postgres_url(), fresh("par"));
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let store = SqlStore::builder()
        .sea_orm(&db)
        .table(&table)
        .purge_interval(None)
        .build()
        .await
        .unwrap();
    run(Arc::new(store)).await;
    db.close().await.unwrap();
    drop_table(&url, &table).await.unwrap();
}

/// The native CouchDB layout in a fresh database; deleted after.
async fn on_couch(cache: bool) {
    let database = fresh("par");
    let store = CouchStore::builder()
        .url(couch_url())
        .database(&database)
        .cache(cache)
        .purge_interval(None)
        .build()
        .await
        .unwrap_or_else(|e| panic!("the CouchDB server must be reachable (run ./scripts/test): {e}"));
    run(Arc::new(store)).await;
    let deleted = reqwest::Client::new()
        .delete(format!("{}/{database}", couch_url()))
        .send()
        .await
        .unwrap();
    assert!(
        deleted.status().is_success(),
        "deleting {database}: {}",
        deleted.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_couch_without_its_cache() {
    on_couch(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_couch_with_its_synced_cache() {
    on_couch(true).await;
}
