//! One browser, many requests at once (a page firing parallel XHRs), each
//! setting its own key: every key survives (rule 10), where a whole-session
//! save would keep only the last request's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use common::{SECRET, cookie_for, send};
use session_core::{Error, Session as Stored, SessionId, SessionStream, Store, Version, Versioned};
use session_memory::MemoryStore;
use session_middleware::{Session, SessionError, SessionLayer};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

/// Requests of one session at once.
const REQUESTS: usize = 32;

/// Sets `key`, then waits until every request has read the session, so
/// that all of them save over a session changed since they read it.
async fn put(
    State(everyone_read): State<Arc<Barrier>>,
    Path(key): Path<String>,
    session: Session,
) -> Result<&'static str, SessionError> {
    session.insert(key, true).await?;
    everyone_read.wait().await;
    Ok("ok")
}

fn app(store: Arc<dyn Store>) -> Router {
    let layer = SessionLayer::builder(store).secret(SECRET).build().unwrap();
    Router::new()
        .route("/put/{key}", get(put))
        .with_state(Arc::new(Barrier::new(REQUESTS)))
        .layer(layer)
}

/// Fires [`REQUESTS`] requests with one cookie, each setting its own key;
/// answers the keys the store then holds besides `visits`.
pub async fn keys_kept(store: Arc<dyn Store>) -> usize {
    let id = SessionId::generate();
    let mut seeded = Stored::new();
    seeded.insert("visits", 1).unwrap();
    seeded.set_expires_at(Some(OffsetDateTime::now_utc() + Duration::hours(1)));
    store.set(&id, &seeded).await.unwrap();
    let (app, cookie) = (app(Arc::clone(&store)), cookie_for(&id, SECRET));
    // Collected, so that every request is under way before any is awaited.
    let requests: Vec<_> = (0..REQUESTS)
        .map(|n| {
            let (app, cookie) = (app.clone(), cookie.clone());
            tokio::spawn(async move { send(&app, &format!("/put/key{n}"), Some(&cookie)).await })
        })
        .collect();
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.body, "ok", "{reply:?}");
    }
    let stored = store.get(&id).await.unwrap().expect("the session");
    assert_eq!(
        stored.get::<u64>("visits").unwrap(),
        Some(1),
        "a key no request changed"
    );
    (0..REQUESTS)
        .filter(|n| stored.get::<bool>(&format!("key{n}")).unwrap() == Some(true))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_key_of_parallel_requests_survives_on_memory() {
    assert_eq!(keys_kept(Arc::new(MemoryStore::new())).await, REQUESTS);
}

/// A memory store on which every conditional write finds the session
/// changed, as when other writers keep landing first; counts the tries.
#[derive(Debug, Default)]
struct AlwaysChanged {
    inner: MemoryStore,
    tries: AtomicUsize,
}

#[async_trait]
impl Store for AlwaysChanged {
    async fn get(&self, id: &SessionId) -> session_core::Result<Option<Stored>> {
        self.inner.get(id).await
    }
    async fn set(&self, id: &SessionId, session: &Stored) -> session_core::Result<()> {
        self.inner.set(id, session).await
    }
    async fn create(&self, id: &SessionId, session: &Stored) -> session_core::Result<()> {
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
    async fn get_versioned(&self, id: &SessionId) -> session_core::Result<Option<Versioned>> {
        self.inner.get_versioned(id).await
    }
    async fn set_if_unchanged(&self, _: &SessionId, _: &Stored, _: &Version) -> session_core::Result<()> {
        self.tries.fetch_add(1, Ordering::SeqCst);
        Err(Error::Conflict)
    }
}

/// A save that keeps losing is bounded and fails the request; nothing is
/// overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_keeps_conflicting_fails_the_request_and_overwrites_nothing() {
    let store = Arc::new(AlwaysChanged::default());
    let id = SessionId::generate();
    let mut seeded = Stored::new();
    seeded.insert("visits", 1).unwrap();
    seeded.set_expires_at(Some(OffsetDateTime::now_utc() + Duration::hours(1)));
    store.set(&id, &seeded).await.unwrap();
    let layer = SessionLayer::builder(Arc::clone(&store) as Arc<dyn Store>)
        .secret(SECRET)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/put/{key}",
            get(|Path(key): Path<String>, session: Session| async move {
                session.insert(key, true).await.map(|()| "ok")
            }),
        )
        .layer(layer);
    let reply = send(&app, "/put/k", Some(&cookie_for(&id, SECRET))).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{reply:?}");
    assert_eq!(reply.body, "Internal Server Error", "no detail");
    let tries = store.tries.load(Ordering::SeqCst);
    assert_eq!(tries, 101, "one write, then a bounded number of retries");
    assert_eq!(store.get(&id).await.unwrap(), Some(seeded), "nothing overwritten");
}
