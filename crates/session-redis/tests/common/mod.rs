//! Shared by the Redis test files: server addresses and store construction.

#![allow(dead_code, clippy::expect_used, clippy::panic)]

pub(crate) mod proxy;
pub(crate) mod throwaway;

use session_conformance::{Cleanup, Settings};
use session_redis::RedisStore;

/// Standalone Redis; `./scripts/test` starts it and sets `REDIS_URL`.
pub(crate) fn standalone_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The 3-primary test cluster; `./scripts/test` creates it.
pub(crate) fn cluster_url() -> String {
    std::env::var("REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| "redis-cluster://127.0.0.1:7101?node=127.0.0.1:7102&node=127.0.0.1:7103".into())
}

/// A store for one conformance check: the namespace becomes the key prefix.
/// Panics (failing the test) when the server cannot be reached.
pub(crate) async fn store_for(url: String, settings: Settings) -> RedisStore {
    RedisStore::builder()
        .url(&url)
        .prefix(format!("{}:", settings.namespace))
        .lifetimes(settings.lifetimes)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Like [`store_for`], in one of Node's layouts (keys `<namespace>:<id>`).
pub(crate) async fn node_layout_store_for(
    layout: session_redis::Layout,
    url: String,
    settings: Settings,
) -> RedisStore {
    RedisStore::builder()
        .url(&url)
        .layout(layout)
        .prefix(format!("{}:", settings.namespace))
        .lifetimes(settings.lifetimes)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Like [`store_for`], with a near cache.
pub(crate) async fn near_cached_store_for(url: String, settings: Settings) -> RedisStore {
    RedisStore::builder()
        .url(&url)
        .prefix(format!("{}:", settings.namespace))
        .lifetimes(settings.lifetimes)
        .near_cache(session_redis::NearCacheOptions::new(10_000))
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}"))
}

/// A raw fred client on `url`, for inspecting what the store wrote.
pub(crate) async fn raw_client(url: &str) -> fred::clients::Client {
    use fred::interfaces::ClientLike;
    let config = fred::types::config::Config::from_url(url).expect("valid URL");
    let client = fred::types::Builder::from_config(config).build().expect("client");
    client
        .init()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    client
}

/// A store on `url` with `prefix`, default options otherwise.
pub(crate) async fn store_with_prefix(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"))
}

/// A prefix no other test uses.
pub(crate) fn unique_prefix(label: &str) -> String {
    format!(
        "t_{label}_{}:",
        session_core::SessionId::generate()
            .as_str()
            .to_lowercase()
            .replace(['-', '_'], "")
    )
}

/// The conformance suite's teardown: deletes every key, of any type, left
/// under the check's prefix on every primary (none is expected once the
/// store is cleared; this removes what a failed check left).
pub(crate) async fn delete_prefix(url: String, settings: Settings) {
    delete_matching(url, format!("{}:*", settings.namespace)).await;
}

/// Deletes every key matching `pattern` on every primary.
async fn delete_matching(url: String, pattern: String) {
    use fred::{
        interfaces::{ClientLike, ClusterInterface, KeysInterface},
        types::Key,
    };
    let client = raw_client(&url).await;
    let nodes = if client.is_clustered() {
        let state = client
            .cached_cluster_state()
            .expect("the cluster's state is known");
        state.unique_primary_nodes().into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    for node in nodes {
        let mut cursor = "0".to_string();
        loop {
            let page = match &node {
                Some(server) => {
                    client
                        .with_cluster_node(server.clone())
                        .scan_page(cursor, pattern.clone(), Some(1000), None)
                        .await
                }
                None => client.scan_page(cursor, pattern.clone(), Some(1000), None).await,
            };
            let (next, keys): (String, Vec<Key>) = page.unwrap_or_else(|e| panic!("SCAN {pattern}: {e}"));
            for key in keys {
                let _: i64 = client.del(key).await.unwrap_or_else(|e| panic!("DEL: {e}"));
            }
            if next == "0" {
                break;
            }
            cursor = next;
        }
    }
    let _ = client.quit().await;
}

/// Deletes every key under `prefix` (from [`unique_prefix`]: no glob
/// characters) at `url` when the value returned goes out of scope: at the
/// end of the test, passed or failed.
pub(crate) fn delete_at_end(url: &str, prefix: &str) -> Cleanup {
    Cleanup::new(delete_matching(url.to_owned(), format!("{prefix}*")))
}
