//! tower-sessions' own middleware, in an axum app, against every store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::Request,
    routing::get,
};
use common::{delete_database_at_end, delete_keys_at_end, drop_table_at_end};
use http_body_util::BodyExt as _;
use session_conformance::Cleanup;
use session_core::{Error, Session, SessionId, SessionStream, Store};
use session_tower::TowerStore;
use time::OffsetDateTime;
use tower::ServiceExt as _;
use tower_sessions::{ExpiredDeletion, SessionManagerLayer};

async fn count(session: tower_sessions::Session) -> String {
    let n: u64 = session.get("count").await.unwrap().unwrap_or(0) + 1;
    session.insert("count", n).await.unwrap();
    n.to_string()
}

async fn logout(session: tower_sessions::Session) -> &'static str {
    session.flush().await.unwrap();
    "bye"
}

/// A re-login in one request: the old session ends, a new one starts.
async fn relogin(session: tower_sessions::Session) -> &'static str {
    session.flush().await.unwrap();
    session.insert("user", "ada").await.unwrap();
    "welcome back"
}

/// Requests of one browser at once, each setting its own key.
const PARALLEL: usize = 32;

/// Sets `key`, then waits until every parallel request has loaded the
/// session, so that each saves over a session others changed since.
async fn put(
    State(everyone_loaded): State<Arc<tokio::sync::Barrier>>,
    Path(key): Path<String>,
    session: tower_sessions::Session,
) -> &'static str {
    session.insert(&key, true).await.unwrap();
    everyone_loaded.wait().await;
    "ok"
}

fn app<S: Store + Clone + 'static>(store: S) -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/logout", get(logout))
        .route("/relogin", get(relogin))
        .route("/put/{key}", get(put))
        .with_state(Arc::new(tokio::sync::Barrier::new(PARALLEL)))
        .layer(SessionManagerLayer::new(TowerStore::new(store)).with_secure(false))
}

/// GETs `path` with the cookie, if any; returns the body and any new cookie.
async fn visit(app: &Router, path: &str, cookie: Option<&str>) -> (String, Option<String>) {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (String::from_utf8(body.to_vec()).unwrap(), cookie)
}

/// Counting visits, then logging out, through the real middleware.
async fn scenario<S: Store + Clone + 'static>(store: S) {
    let app = app(store.clone());
    let (body, cookie) = visit(&app, "/count", None).await;
    let cookie = cookie.expect("a new session sets a cookie");
    assert_eq!(body, "1");
    assert_eq!(visit(&app, "/count", Some(&cookie)).await.0, "2");
    assert_eq!(visit(&app, "/count", Some(&cookie)).await.0, "3");

    let id = SessionId::parse(cookie.split_once('=').unwrap().1).unwrap();
    let stored = store
        .get(&id)
        .await
        .unwrap()
        .expect("the middleware saved through our store");
    assert_eq!(stored.get::<u64>("count").unwrap(), Some(3));
    assert_eq!(store.length().await.unwrap(), 1);
    let kept = parallel_puts(&app, &store, &id, &cookie).await;
    assert_eq!(kept, PARALLEL, "keys of {PARALLEL} parallel requests kept");

    visit(&app, "/logout", Some(&cookie)).await;
    assert!(
        store.get(&id).await.unwrap().is_none(),
        "logout destroyed the session"
    );
    assert!(
        matches!(store.set(&id, &stored).await, Err(Error::Destroyed)),
        "and left a tombstone"
    );
    let (body, new_cookie) = visit(&app, "/count", Some(&cookie)).await;
    assert_eq!(body, "1", "the old cookie starts over");
    assert_ne!(new_cookie.as_deref(), Some(cookie.as_str()), "with a new id");
}

/// [`PARALLEL`] requests with one cookie, each setting its own key through
/// tower-sessions' whole-record saves; answers how many keys `store` kept.
/// The adapter lands only what each request changed, so every key is kept
/// on a store that compares versions.
async fn parallel_puts<S: Store>(app: &Router, store: &S, id: &SessionId, cookie: &str) -> usize {
    let requests: Vec<_> = (0..PARALLEL)
        .map(|n| {
            let (app, cookie) = (app.clone(), cookie.to_owned());
            tokio::spawn(async move { visit(&app, &format!("/put/k{n}"), Some(&cookie)).await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().0, "ok");
    }
    let stored = store.get(id).await.unwrap().expect("the session");
    assert_eq!(
        stored.get::<u64>("count").unwrap(),
        Some(3),
        "the key none changed"
    );
    (0..PARALLEL)
        .filter(|n| stored.get::<bool>(&format!("k{n}")).unwrap() == Some(true))
        .count()
}

/// The parallel run can fail: on a store that cannot compare versions the
/// adapter has nothing to update against, and whole records replace each
/// other.
#[tokio::test]
async fn parallel_saves_on_a_store_without_versions_lose_keys() {
    let store = Colliding {
        inner: session_memory::MemoryStore::new(),
        collisions_left: Arc::new(AtomicUsize::new(0)),
    };
    let app = app(store.clone());
    let (_, cookie) = visit(&app, "/count", None).await;
    let cookie = cookie.expect("a new session sets a cookie");
    for _ in 0..2 {
        visit(&app, "/count", Some(&cookie)).await;
    }
    let id = SessionId::parse(cookie.split_once('=').unwrap().1).unwrap();
    let kept = parallel_puts(&app, &store, &id, &cookie).await;
    assert!(
        kept < PARALLEL / 2,
        "whole-record saves kept {kept} of {PARALLEL} keys"
    );
}

/// `flush()` then `insert` in one request must create the new session
/// under a fresh id, even where nothing stops reusing the old one (no
/// tombstones).
async fn relogin_gets_a_fresh_id<S: Store + Clone + 'static>(store: S) {
    let app = app(store.clone());
    let (_, cookie) = visit(&app, "/count", None).await;
    let old = cookie.expect("a new session sets a cookie");
    let (_, new) = visit(&app, "/relogin", Some(&old)).await;
    let new = new.expect("the re-login sets a cookie");
    assert_ne!(new, old, "the re-login kept the old session id");
    let (old_id, new_id) = [&old, &new]
        .map(|c| SessionId::parse(c.split_once('=').unwrap().1).unwrap())
        .into();
    assert!(
        store.get(&old_id).await.unwrap().is_none(),
        "the old id holds no session"
    );
    let session = store
        .get(&new_id)
        .await
        .unwrap()
        .expect("the new session was saved");
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ada"));
}

#[tokio::test]
async fn relogin_on_a_store_without_tombstones() {
    let memory = session_memory::MemoryStore::builder()
        .tombstone_grace(Duration::ZERO)
        .build()
        .unwrap();
    relogin_gets_a_fresh_id(memory).await;
    let url = env("REDIS_URL", "redis://127.0.0.1:6379");
    let prefix = unique("relogin");
    let _deleted = delete_keys_at_end(&url, &prefix);
    let redis = session_redis::RedisStore::builder()
        .url(&url)
        .prefix(&prefix)
        .tombstone_grace(std::time::Duration::ZERO)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    relogin_gets_a_fresh_id(redis).await;
}

fn unique(label: &str) -> String {
    format!(
        "tw_{label}_{}",
        SessionId::generate()
            .as_str()
            .to_lowercase()
            .replace(['-', '_'], "")[..10]
            .to_owned()
    )
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

#[tokio::test]
async fn memory() {
    scenario(session_memory::MemoryStore::new()).await;
}

#[tokio::test]
async fn redis() {
    let url = env("REDIS_URL", "redis://127.0.0.1:6379");
    let prefix = format!("{}:", unique("r"));
    let _deleted = delete_keys_at_end(&url, &prefix);
    let store = session_redis::RedisStore::builder()
        .url(&url)
        .prefix(&prefix)
        .build()
        .await;
    scenario(store.unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"))).await;
}

#[tokio::test]
async fn redis_cluster() {
    let url = env(
        "REDIS_CLUSTER_URL",
        "redis-cluster://127.0.0.1:7101?node=127.0.0.1:7102&node=127.0.0.1:7103",
    );
    let prefix = format!("{}:", unique("rc"));
    let _deleted = delete_keys_at_end(&url, &prefix);
    let store = session_redis::RedisStore::builder()
        .url(&url)
        .prefix(&prefix)
        .build()
        .await;
    scenario(store.unwrap_or_else(|e| panic!("the Redis cluster at {url} must be reachable: {e}"))).await;
}

/// A store on a fresh table at `url`, and the table's removal.
async fn sql(url: &str) -> (session_sql::SqlStore, Cleanup) {
    let table = unique("s");
    let dropped = drop_table_at_end(url, &table);
    let store = session_sql::SqlStore::builder()
        .url(url)
        .table(table)
        .purge_interval(None)
        .build()
        .await;
    let store = store.unwrap_or_else(|e| panic!("the database at {url} must be reachable: {e}"));
    (store, dropped)
}

#[tokio::test]
async fn postgres() {
    let (store, _dropped) = sql(&env("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")).await;
    scenario(store).await;
}

#[tokio::test]
async fn mariadb() {
    let (store, _dropped) = sql(&env("MYSQL_URL", "mysql://root@127.0.0.1:3306/test")).await;
    scenario(store).await;
}

#[tokio::test]
async fn sqlite() {
    scenario(sql("sqlite::memory:").await.0).await;
}

#[tokio::test]
async fn couch_with_cache() {
    let url = env("COUCH_URL", "http://127.0.0.1:5984");
    let database = unique("c");
    let _deleted = delete_database_at_end(&url, &database);
    let store = session_couch::CouchStore::builder()
        .url(&url)
        .database(&database)
        .cache(true)
        .purge_interval(None)
        .build()
        .await;
    scenario(store.unwrap_or_else(|e| panic!("CouchDB at {url} must be reachable: {e}"))).await;
}

#[tokio::test]
async fn expired_deletion_purges_the_backend() {
    let (store, _) = sql("sqlite::memory:").await;
    for _ in 0..2 {
        let session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_millis(100));
        store.set(&SessionId::generate(), &session).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    TowerStore::new(store.clone()).delete_expired().await.unwrap();
    assert_eq!(
        store.purge_expired().await.unwrap(),
        0,
        "delete_expired already removed both"
    );
}

/// A memory store whose first `create`s find their id taken.
#[derive(Debug, Clone)]
struct Colliding {
    inner: session_memory::MemoryStore,
    collisions_left: Arc<AtomicUsize>,
}

#[async_trait]
impl Store for Colliding {
    async fn get(&self, id: &SessionId) -> session_core::Result<Option<Session>> {
        self.inner.get(id).await
    }
    async fn set(&self, id: &SessionId, session: &Session) -> session_core::Result<()> {
        self.inner.set(id, session).await
    }
    async fn create(&self, id: &SessionId, session: &Session) -> session_core::Result<()> {
        if self
            .collisions_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Error::AlreadyExists);
        }
        self.inner.create(id, session).await
    }
    async fn touch(&self, id: &SessionId, at: Option<OffsetDateTime>) -> session_core::Result<()> {
        self.inner.touch(id, at).await
    }
    async fn destroy(&self, id: &SessionId) -> session_core::Result<()> {
        self.inner.destroy(id).await
    }
    fn all_stream(&self) -> SessionStream<'_> {
        self.inner.all_stream()
    }
    async fn length(&self) -> session_core::Result<u64> {
        self.inner.length().await
    }
    async fn clear(&self) -> session_core::Result<()> {
        self.inner.clear().await
    }
}

#[tokio::test]
async fn create_retries_with_a_fresh_id_on_collision() {
    let store = Colliding {
        inner: session_memory::MemoryStore::new(),
        collisions_left: Arc::new(AtomicUsize::new(3)),
    };
    let (body, cookie) = visit(&app(store.clone()), "/count", None).await;
    assert_eq!(body, "1");
    assert!(cookie.is_some());
    assert_eq!(
        store.collisions_left.load(Ordering::SeqCst),
        0,
        "three collisions were retried"
    );
    assert_eq!(store.length().await.unwrap(), 1);

    let hopeless = Colliding {
        inner: session_memory::MemoryStore::new(),
        collisions_left: Arc::new(AtomicUsize::new(100)),
    };
    let request = Request::get("/count").body(Body::empty()).unwrap();
    let response = app(hopeless).oneshot(request).await.unwrap();
    assert!(
        response.status().is_server_error(),
        "gives up with an error, never overwrites"
    );
}
