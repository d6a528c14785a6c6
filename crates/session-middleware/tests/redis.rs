//! The layer on a real backend: session-redis's `RedisStore` on the local
//! Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`). Fails, never
//! skips, when Redis cannot be reached.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{app, send};
use session_core::{Error, SessionId, Store};
use session_redis::RedisStore;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn a_whole_session_on_redis() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    // A prefix of its own, so parallel runs never meet.
    let prefix = format!("mw_{}", &SessionId::generate().as_str()[..12]);
    let store = RedisStore::builder()
        .url(&url)
        .prefix(prefix)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    let app = app(store.clone());

    let first = send(&app, "/count", None).await;
    assert_eq!(first.body, "1");
    let cookie = first.cookie();
    assert_eq!(send(&app, "/count", Some(&cookie)).await.body, "2");
    assert_eq!(send(&app, "/read", Some(&cookie)).await.body, "2");
    let stored = store.get(&first.id()).await.unwrap().expect("saved in Redis");
    assert_eq!(stored.get::<u64>("visits").unwrap(), Some(2));
    let expires_at = stored.expires_at().unwrap();
    let expected = OffsetDateTime::now_utc() + Duration::days(1);
    assert!(
        (expires_at - expected).abs() < Duration::seconds(5),
        "{expires_at}"
    );

    let login = send(&app, "/login-keeping-data", Some(&cookie)).await;
    assert_ne!(login.id(), first.id());
    assert_eq!(store.get(&first.id()).await.unwrap(), None, "the old id is gone");
    assert!(matches!(
        store.set(&first.id(), &stored).await,
        Err(Error::Destroyed)
    ));
    assert_eq!(send(&app, "/read", Some(&login.cookie())).await.body, "2");

    let out = send(&app, "/logout", Some(&login.cookie())).await;
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(store.length().await.unwrap(), 0);
    assert_eq!(send(&app, "/read", Some(&login.cookie())).await.body, "none");
    store.clear().await.unwrap();
}
