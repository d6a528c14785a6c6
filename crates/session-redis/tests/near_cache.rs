//! The near cache, across stores that share a namespace: invalidated by
//! Redis within milliseconds, and never trusted when its connection fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    cluster_url, delete_at_end,
    proxy::Proxy,
    standalone_url,
    throwaway::{Throwaway, spare_port},
    unique_prefix,
};
use session_core::{Session, SessionId, Store};
use session_redis::{NearCacheOptions, RedisStore};
use time::OffsetDateTime;

fn version(n: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(600));
    session.insert("version", n).unwrap();
    session
}

fn version_of(session: Option<Session>) -> Option<u64> {
    session.and_then(|s| s.get::<u64>("version").ok().flatten())
}

async fn pair(url: &str, prefix: &str, staleness: Duration) -> (RedisStore, RedisStore) {
    let cached = RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .timeout(Duration::from_millis(500))
        .near_cache(NearCacheOptions::new(10_000).staleness(staleness))
        .build()
        .await
        .unwrap();
    let writer = RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .build()
        .await
        .unwrap();
    (cached, writer)
}

/// A cached store that reaches `server` through a proxy of the test's own,
/// and a writer that reaches it directly.
async fn behind_proxy(
    server: &Throwaway,
    name: &str,
    staleness: Duration,
) -> (Proxy, RedisStore, RedisStore) {
    let proxy = Proxy::start(server.addr()).await;
    let prefix = unique_prefix(name);
    let (cached, _) = pair(&proxy.url(), &prefix, staleness).await;
    let writer = RedisStore::builder()
        .url(server.url())
        .prefix(&prefix)
        .build()
        .await
        .unwrap();
    (proxy, cached, writer)
}

/// Polls `cached` until `done` holds for what it reads; returns how long that took.
async fn until(
    cached: &RedisStore,
    id: &SessionId,
    limit: Duration,
    done: impl Fn(Option<u64>) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(read) = cached.get(id).await
            && done(version_of(read))
        {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not seen within {limit:?}");
        tokio::task::yield_now().await;
    }
}

async fn invalidations_reach_the_cache(url: &str) {
    let prefix = unique_prefix("near");
    let _deleted = delete_at_end(url, &prefix);
    let (cached, writer) = pair(url, &prefix, Duration::from_millis(100)).await;
    let mut delays = Vec::new();
    for round in 0..100u64 {
        let id = SessionId::generate();
        writer.set(&id, &version(round)).await.unwrap();
        assert_eq!(version_of(cached.get(&id).await.unwrap()), Some(round));
        // Later reads are hits, once the cache is trusted: a loaded machine
        // can pause the invalidation connection past the 100 ms staleness
        // bound, and the cache is then bypassed until it hears again.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            assert_eq!(version_of(cached.get(&id).await.unwrap()), Some(round), "a hit");
            if cached.near_cache_holds(&id) {
                break;
            }
            assert!(Instant::now() < deadline, "no read was served from the cache");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let changed = Instant::now();
        if round % 2 == 0 {
            writer.set(&id, &version(round + 1000)).await.unwrap();
            until(&cached, &id, Duration::from_secs(1), |v| v == Some(round + 1000)).await;
        } else {
            writer.destroy(&id).await.unwrap();
            until(&cached, &id, Duration::from_secs(1), |v| v.is_none()).await;
        }
        delays.push(changed.elapsed());
    }
    delays.sort();
    let p99 = delays[delays.len() * 99 / 100 - 1];
    println!(
        "invalidation after another store's write: p50 {:?}, p99 {p99:?}",
        delays[delays.len() / 2]
    );
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_writes_invalidate_within_milliseconds() {
    invalidations_reach_the_cache(&standalone_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_writes_invalidate_on_the_cluster() {
    invalidations_reach_the_cache(&cluster_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_racing_a_write_never_caches_the_old_value() {
    let prefix = unique_prefix("race");
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let (cached, writer) = pair(&standalone_url(), &prefix, Duration::from_millis(100)).await;
    for round in 0..200u64 {
        let id = SessionId::generate();
        writer.set(&id, &version(0)).await.unwrap();
        let one = version(1);
        let (read, wrote) = tokio::join!(cached.get(&id), writer.set(&id, &one));
        read.unwrap();
        wrote.unwrap();
        until(&cached, &id, Duration::from_secs(1), |v| v == Some(1)).await;
        // Once the new value was seen, the old one never comes back.
        for _ in 0..3 {
            assert_eq!(
                version_of(cached.get(&id).await.unwrap()),
                Some(1),
                "round {round}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_tracking_connection_stops_the_cache_within_its_staleness() {
    let staleness = Duration::from_millis(100);
    let server = Throwaway::start(spare_port()).await;
    let (proxy, cached, writer) = behind_proxy(&server, "dead", staleness).await;
    let id = SessionId::generate();
    writer.set(&id, &version(1)).await.unwrap();
    cached.get(&id).await.unwrap();
    assert!(cached.near_cache_holds(&id) && cached.near_cache_trusted());

    // Invalidations are lost from now on; the cache must stop being used.
    proxy.blackhole_open_connections();
    writer.set(&id, &version(2)).await.unwrap();
    let blackholed = Instant::now();
    while cached.near_cache_trusted() {
        assert!(
            blackholed.elapsed() < staleness + Duration::from_millis(40),
            "still trusted past the bound"
        );
        let read = cached.get(&id).await.unwrap();
        assert_eq!(version_of(read), Some(1), "the cached value, while trusted");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let distrusted = blackholed.elapsed();
    println!("cache bypassed {distrusted:?} after its connection went silent");
    assert!(
        !matches!(version_of(cached.get(&id).await.ok().flatten()), Some(1)),
        "once distrusted, the stale value is never served"
    );
    // The watchdog replaces the dead connection; reads are fresh again.
    until(&cached, &id, Duration::from_secs(5), |v| v == Some(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_connection_flushes_what_it_cached() {
    let server = Throwaway::start(spare_port()).await;
    let (proxy, cached, writer) = behind_proxy(&server, "reset", Duration::from_millis(100)).await;
    let id = SessionId::generate();
    writer.set(&id, &version(1)).await.unwrap();
    cached.get(&id).await.unwrap();
    // The tracking connection is reset: a new one has no tracking state,
    // and the write below happens while nothing would tell this cache.
    proxy.reset_open_connections();
    writer.set(&id, &version(2)).await.unwrap();
    until(&cached, &id, Duration::from_secs(5), |v| v == Some(2)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    writer.set(&id, &version(3)).await.unwrap();
    until(&cached, &id, Duration::from_secs(1), |v| v == Some(3)).await;
    assert!(proxy.connections() >= 3, "the cache reconnected");
}
