//! A Rust app and an Express app (express-session + connect-redis 10 on
//! node-redis 5) on one Redis, one cookie jar between them (see
//! `express_interop::two_way`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use express_interop::{
    ExpressApp, start_rust_app,
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};
use session_core::SessionId;
use session_redis::{Layout, RedisStore};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
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
    let store = Arc::new(store);
    let rust = start_rust_app(store.clone()).await.unwrap();
    let express = ExpressApp::start(
        "connect-redis",
        &[("REDIS_URL", &redis_url()), ("PREFIX", &prefix)],
    )
    .await
    .unwrap();
    share_logins_data_and_logouts(store, express.address, rust, NodeExpiry::Ends).await;
}
