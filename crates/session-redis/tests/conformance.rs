//! The whole conformance suite against standalone Redis and a 3-primary
//! Redis Cluster. After each check every key left under its prefix is
//! deleted.

mod common;

use session_conformance::{Capabilities, Settings};

/// One suite on `$url()`, each store built by `$build(url, settings)`.
macro_rules! redis_suite {
    ($build:expr, $url:path $(, capabilities: $capabilities:expr)?) => {
        session_conformance::suite!(
            |settings: super::Settings| $build($url(), settings),
            $(capabilities: $capabilities,)?
            teardown: |settings: super::Settings| super::common::delete_prefix($url(), settings),
        );
    };
}

mod standalone {
    redis_suite!(super::common::store_for, super::common::standalone_url);
}

mod cluster {
    redis_suite!(super::common::store_for, super::common::cluster_url);
}

/// The suite again with the near cache on: it must not change any answer.
mod standalone_near_cache {
    redis_suite!(
        super::common::near_cached_store_for,
        super::common::standalone_url
    );
}

mod cluster_near_cache {
    redis_suite!(super::common::near_cached_store_for, super::common::cluster_url);
}

/// connect-redis' layout, shared with Express apps: it deletes on destroy
/// and keeps no tombstone (so a late write after a logout lands, as with
/// Node's connect-redis), and express-session keeps the key `cookie`.
fn connect_redis() -> Capabilities {
    Capabilities::full()
        .without_tombstones()
        .reserving_keys([session_core::backend::express::COOKIE_KEY])
}

/// connect-redis-session's layout keeps every rule (its `TOMBSTONE` is a
/// tombstone); only its own keys cannot be data.
fn connect_redis_session() -> Capabilities {
    Capabilities::full().reserving_keys([
        session_core::backend::express::COOKIE_KEY,
        session_core::backend::express::LAST_MODIFIED_KEY,
    ])
}

async fn connect_redis_store(url: String, settings: Settings) -> session_redis::RedisStore {
    common::node_layout_store_for(session_redis::Layout::ConnectRedis, url, settings).await
}

async fn connect_redis_session_store(url: String, settings: Settings) -> session_redis::RedisStore {
    common::node_layout_store_for(session_redis::Layout::ConnectRedisSession, url, settings).await
}

mod connect_redis {
    redis_suite!(super::connect_redis_store, super::common::standalone_url,
        capabilities: super::connect_redis());
}

mod connect_redis_cluster {
    redis_suite!(super::connect_redis_store, super::common::cluster_url,
        capabilities: super::connect_redis());
}

mod connect_redis_session {
    redis_suite!(super::connect_redis_session_store, super::common::standalone_url,
        capabilities: super::connect_redis_session());
}

mod connect_redis_session_cluster {
    redis_suite!(super::connect_redis_session_store, super::common::cluster_url,
        capabilities: super::connect_redis_session());
}
