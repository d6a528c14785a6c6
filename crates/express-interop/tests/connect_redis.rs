//! A Rust app and an Express app (express-session + connect-redis 10 on
//! node-redis 5) on one Redis, one cookie jar between them: log in on one,
//! be logged in on the other; change data on one, see it on the other; log
//! out on either, be logged out on both; the expiry agrees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, sync::Arc};

use express_interop::{ExpressApp, MAX_AGE, start_rust_app};
use serde_json::Value;
use session_core::{SessionId, Store};
use session_redis::{Layout, RedisStore};
use time::OffsetDateTime;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Browser {
    client: reqwest::Client,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder().cookie_store(true).build().unwrap(),
        }
    }

    async fn post(&self, app: SocketAddr, path: &str) -> Value {
        let response = self
            .client
            .post(format!("http://{app}{path}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST {path} on {app}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn whoami(&self, app: SocketAddr) -> Value {
        let response = self
            .client
            .get(format!("http://{app}/whoami"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET /whoami on {app}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

/// The one session in the namespace expires about `MAX_AGE` from now, as
/// both apps set it (Node in whole seconds, rounded up; a minute of slack
/// for a loaded machine).
async fn expiry_is_fresh(store: &RedisStore, after: &str) {
    let all = store.all().await.unwrap();
    assert_eq!(all.len(), 1, "{after}: one session");
    let left = all[0].1.expires_at().unwrap() - OffsetDateTime::now_utc();
    let max_age = time::Duration::try_from(MAX_AGE).unwrap();
    assert!(
        left > max_age - time::Duration::seconds(60) && left <= max_age + time::Duration::seconds(2),
        "{after}: {left} left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_and_rust_share_logins_data_and_logouts() {
    let prefix = format!("interop:{}:", SessionId::generate().as_str().get(..8).unwrap());
    let store = RedisStore::builder()
        .url(redis_url())
        .layout(Layout::ConnectRedis)
        .prefix(&prefix)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis must be reachable (run ./scripts/test): {e}"));
    let rust = start_rust_app(Arc::new(store.clone())).await.unwrap();
    let express = ExpressApp::start(
        "connect-redis",
        &[("REDIS_URL", &redis_url()), ("PREFIX", &prefix)],
    )
    .await
    .unwrap();
    let node = express.address;
    let browser = Browser::new();

    // Log in on Express: the Rust app knows the user.
    browser.post(node, "/login?user=ada").await;
    expiry_is_fresh(&store, "login on Express").await;
    assert_eq!(browser.whoami(rust).await["user"], "ada");
    expiry_is_fresh(&store, "a read on Rust (touch)").await;

    // Data changed on either side is seen on the other.
    browser.post(rust, "/set?key=color&value=blue").await;
    assert_eq!(browser.whoami(node).await["data"]["color"], "blue");
    browser.post(node, "/set?key=visits&value=3").await;
    let seen = browser.whoami(rust).await;
    assert_eq!(seen["data"]["visits"], "3");
    assert_eq!(seen["data"]["color"], "blue");
    expiry_is_fresh(&store, "writes on both sides").await;

    // Log out on Rust: logged out on Express too.
    browser.post(rust, "/logout").await;
    assert_eq!(store.length().await.unwrap(), 0);
    assert_eq!(browser.whoami(node).await["user"], Value::Null);
    assert_eq!(browser.whoami(rust).await["user"], Value::Null);

    // And the other way round: log in on Rust, log out on Express.
    browser.post(rust, "/login?user=bob").await;
    assert_eq!(browser.whoami(node).await["user"], "bob");
    expiry_is_fresh(&store, "login on Rust").await;
    browser.post(node, "/logout").await;
    assert_eq!(browser.whoami(rust).await["user"], Value::Null);
    assert_eq!(store.length().await.unwrap(), 0);
}
