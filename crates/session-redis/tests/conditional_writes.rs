//! Rule 10 on Redis: `set_if_unchanged` compares the whole stored value,
//! so a write by anyone else (a Node app through a raw `SET`, another
//! store instance) between `get_versioned` and the write is caught, in
//! every layout, through the near cache, and on the cluster.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{cluster_url, delete_at_end, raw_client, standalone_url, unique_prefix};
use fred::{
    clients::Client,
    interfaces::{ClientLike, KeysInterface},
    types::{ClusterHash, CustomCommand, Expiration},
};
use serde_json::{Value, json};
use session_core::{Changes, Error, Session, SessionId, Store, Version};
use session_redis::{Layout, NearCacheOptions, RedisStore};
use time::OffsetDateTime;

const LAYOUTS: [Layout; 3] = [Layout::Native, Layout::ConnectRedis, Layout::ConnectRedisSession];

async fn store(url: &str, layout: Layout, prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .layout(layout)
        .prefix(prefix)
        .build()
        .await
        .unwrap()
}

async fn near_cached(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .near_cache(NearCacheOptions::new(1_000))
        .build()
        .await
        .unwrap()
}

fn session(data: Value) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(600));
    for (key, value) in data.as_object().unwrap() {
        session.insert(key, value.clone()).unwrap();
    }
    session
}

fn data_of(session: Option<Session>) -> Value {
    Value::Object(session.expect("a live session").into_data())
}

/// One request's change of one key, applied onto what it read.
fn request(read: &Session, key: &str, value: Value) -> (Session, Changes) {
    let mut changes = Changes::new();
    changes.set(key, value);
    (changes.applied_to(read), changes)
}

async fn raw_get(raw: &Client, key: &str) -> Option<Vec<u8>> {
    raw.get::<Option<Vec<u8>>, _>(key).await.unwrap()
}

/// What a Node app does to the session: reads its JSON, sets `key`, and
/// writes it back with a plain `SET` (keeping the TTL).
async fn node_sets(raw: &Client, key: &str, name: &str, value: Value) -> String {
    let stored = raw_get(raw, key).await.expect("a stored session");
    let mut json: Value = serde_json::from_slice(&stored).unwrap();
    json[name] = value;
    let json = json.to_string();
    raw.set::<(), _, _>(key, json.as_str(), Some(Expiration::PX(600_000)), None, false)
        .await
        .unwrap();
    json
}

async fn a_node_write_between_read_and_write_is_never_clobbered(layout: Layout) {
    let url = standalone_url();
    let prefix = unique_prefix("cw_node") + ":";
    let _deleted = delete_at_end(&url, &prefix);
    let (store, raw) = (store(&url, layout, &prefix).await, raw_client(&url).await);
    let id = SessionId::generate();
    let key = store.key_of(&id);
    store.set(&id, &session(json!({ "user": "ada" }))).await.unwrap();
    let read = store.get_versioned(&id).await.unwrap().unwrap();

    let node = node_sets(&raw, &key, "theme", json!("dark")).await;
    let (mine, changes) = request(&read.session, "cart", json!(["book"]));
    let written = store.set_if_unchanged(&id, &mine, &read.version).await;
    assert!(matches!(written, Err(Error::Conflict)), "{layout:?}: {written:?}");
    assert_eq!(
        raw_get(&raw, &key).await.as_deref(),
        Some(node.as_bytes()),
        "{layout:?}: Node's write stays, byte for byte"
    );

    // The update reads Node's write again and lands on top of it.
    store.update(&id, &mine, &changes, &read.version).await.unwrap();
    assert_eq!(
        data_of(store.get(&id).await.unwrap()),
        json!({ "user": "ada", "theme": "dark", "cart": ["book"] }),
        "{layout:?}"
    );
}

#[tokio::test]
async fn connect_redis_a_raw_node_write_makes_the_rust_write_conflict() {
    a_node_write_between_read_and_write_is_never_clobbered(Layout::ConnectRedis).await;
}

#[tokio::test]
async fn connect_redis_session_a_raw_node_write_makes_the_rust_write_conflict() {
    a_node_write_between_read_and_write_is_never_clobbered(Layout::ConnectRedisSession).await;
}

/// Reads `id` through `cached` until its near cache serves it.
async fn until_cached(cached: &RedisStore, id: &SessionId) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !cached.near_cache_holds(id) {
        assert!(Instant::now() < deadline, "no read was cached");
        cached.get_versioned(id).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_near_cache_updates_of_two_stores_keep_both_keys() {
    let url = standalone_url();
    let prefix = unique_prefix("cw_near");
    let _deleted = delete_at_end(&url, &prefix);
    let (mine, other) = (near_cached(&url, &prefix).await, near_cached(&url, &prefix).await);
    let id = SessionId::generate();
    other.set(&id, &session(json!({ "base": true }))).await.unwrap();
    until_cached(&mine, &id).await;
    let read = mine.get_versioned(&id).await.unwrap().unwrap();

    // Another process's store updates the session after this one read it.
    let theirs = other.get_versioned(&id).await.unwrap().unwrap();
    let (session, changes) = request(&theirs.session, "b", json!(2));
    other
        .update(&id, &session, &changes, &theirs.version)
        .await
        .unwrap();

    let (session, changes) = request(&read.session, "a", json!(1));
    mine.update(&id, &session, &changes, &read.version).await.unwrap();
    let expected = json!({ "base": true, "a": 1, "b": 2 });
    assert_eq!(data_of(other.get(&id).await.unwrap()), expected);
    assert_eq!(data_of(mine.get(&id).await.unwrap()), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_drops_the_near_cache_entry() {
    let url = standalone_url();
    let prefix = unique_prefix("cw_drop");
    let _deleted = delete_at_end(&url, &prefix);
    let cached = near_cached(&url, &prefix).await;
    let id = SessionId::generate();
    let stored = session(json!({ "n": 1 }));
    cached.set(&id, &stored).await.unwrap();
    until_cached(&cached, &id).await;
    // Nothing was written, so no invalidation comes from Redis: only the
    // store itself can drop the entry.
    let written = cached
        .set_if_unchanged(&id, &session(json!({ "n": 2 })), &Version::from_token(b"stale"))
        .await;
    assert!(matches!(written, Err(Error::Conflict)), "{written:?}");
    assert!(!cached.near_cache_holds(&id), "the conflict dropped the entry");
    assert_eq!(data_of(cached.get(&id).await.unwrap()), json!({ "n": 1 }));
}

#[tokio::test]
async fn a_token_the_store_never_handed_out_conflicts_in_every_layout() {
    let url = standalone_url();
    let raw = raw_client(&url).await;
    for layout in LAYOUTS {
        let prefix = unique_prefix("cw_garbage") + ":";
        let _deleted = delete_at_end(&url, &prefix);
        let store = store(&url, layout, &prefix).await;
        let (id, other) = (SessionId::generate(), SessionId::generate());
        store.set(&id, &session(json!({ "n": 1 }))).await.unwrap();
        store.set(&other, &session(json!({ "n": 2 }))).await.unwrap();
        let before = raw_get(&raw, &store.key_of(&id)).await;
        let elsewhere = store.get_versioned(&other).await.unwrap().unwrap().version;
        let garbage: [Version; 4] = [
            Version::from_token(b""),
            Version::from_token([0xff; 3]),
            Version::from_token(vec![7; 100_000]),
            elsewhere,
        ];
        for token in garbage {
            let written = store
                .set_if_unchanged(&id, &session(json!({ "n": 3 })), &token)
                .await;
            assert!(matches!(written, Err(Error::Conflict)), "{layout:?}: {written:?}");
            assert_eq!(raw_get(&raw, &store.key_of(&id)).await, before, "{layout:?}");
        }
        // Nothing stored under the id: no token matches either.
        let missing = SessionId::generate();
        let written = store
            .set_if_unchanged(&missing, &session(json!({})), &Version::from_token(b""))
            .await;
        assert!(matches!(written, Err(Error::Conflict)), "{layout:?}: {written:?}");
        assert_eq!(raw_get(&raw, &store.key_of(&missing)).await, None);
    }
}

#[tokio::test]
async fn a_value_of_another_redis_type_is_a_conflict_and_left_alone() {
    let url = standalone_url();
    let raw = raw_client(&url).await;
    for layout in LAYOUTS {
        let prefix = unique_prefix("cw_type") + ":";
        let _deleted = delete_at_end(&url, &prefix);
        let store = store(&url, layout, &prefix).await;
        let id = SessionId::generate();
        store.set(&id, &session(json!({ "n": 1 }))).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        let key = store.key_of(&id);
        raw.del::<(), _>(key.as_str()).await.unwrap();
        let hset = CustomCommand::new_static("HSET", ClusterHash::FirstKey, false);
        let _: i64 = raw
            .custom(hset, vec![key.as_str(), "field", "value"])
            .await
            .unwrap();
        let written = store.set_if_unchanged(&id, &read.session, &read.version).await;
        assert!(matches!(written, Err(Error::Conflict)), "{layout:?}: {written:?}");
        let kind: String = raw
            .custom(
                CustomCommand::new_static("TYPE", ClusterHash::FirstKey, false),
                vec![key],
            )
            .await
            .unwrap();
        assert_eq!(kind, "hash", "{layout:?}: left alone");
    }
}

#[tokio::test]
async fn conditional_writes_compare_on_the_cluster() {
    let url = cluster_url();
    let raw = raw_client(&url).await;
    for layout in LAYOUTS {
        let prefix = unique_prefix("cw_cluster") + ":";
        let _deleted = delete_at_end(&url, &prefix);
        let store = store(&url, layout, &prefix).await;
        // Ids over many slots, so every primary runs the script.
        for n in 0..12 {
            let id = SessionId::generate();
            store.set(&id, &session(json!({ "n": n }))).await.unwrap();
            let read = store.get_versioned(&id).await.unwrap().unwrap();
            let next = session(json!({ "n": n + 100 }));
            store.set_if_unchanged(&id, &next, &read.version).await.unwrap();
            let stale = store.set_if_unchanged(&id, &read.session, &read.version).await;
            assert!(matches!(stale, Err(Error::Conflict)), "{layout:?}: {stale:?}");
            assert_eq!(data_of(store.get(&id).await.unwrap()), json!({ "n": n + 100 }));
            if layout != Layout::Native {
                // A Node app's write on the cluster is caught the same way.
                let current = store.get_versioned(&id).await.unwrap().unwrap();
                node_sets(&raw, &store.key_of(&id), "node", json!(true)).await;
                let (mine, changes) = request(&current.session, "rust", json!(true));
                store
                    .update(&id, &mine, &changes, &current.version)
                    .await
                    .unwrap();
                assert_eq!(
                    data_of(store.get(&id).await.unwrap()),
                    json!({ "n": n + 100, "node": true, "rust": true }),
                    "{layout:?}"
                );
            }
        }
    }
}
