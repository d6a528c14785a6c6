//! One browser, many requests at once (a page firing parallel XHRs), each
//! setting its own key: every key survives (rule 10), where a whole-session
//! save would keep only the last request's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    routing::get,
};
use common::{SECRET, cookie_for, send};
use session_core::{Session as Stored, SessionId, Store};
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
    let requests = (0..REQUESTS).map(|n| {
        let (app, cookie) = (app.clone(), cookie.clone());
        tokio::spawn(async move { send(&app, &format!("/put/key{n}"), Some(&cookie)).await })
    });
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
