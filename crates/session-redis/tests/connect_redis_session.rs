//! connect-redis-session's layout at the storage level, as its source
//! defines it (it is not in the npm registry reachable here, so no Node
//! process runs): keys `sessions:` + id, `cookie.expires` and `lastModified`
//! in unix ms, expiry as a millisecond TTL, and `TOMBSTONE` on logout,
//! refused by every write and read as absent, whichever side wrote it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{delete_at_end, raw_client, standalone_url, unique_prefix};
use fred::{interfaces::KeysInterface, types::Expiration};
use serde_json::{Value, json};
use session_core::{Error, Session, SessionId, Store, backend};
use session_redis::{Layout, RedisStore};
use time::OffsetDateTime;

async fn store(prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(standalone_url())
        .layout(Layout::ConnectRedisSession)
        .prefix(prefix)
        .tombstone_grace(Duration::from_secs(300))
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_default_prefix_is_connect_redis_sessions() {
    let store = RedisStore::builder()
        .url(standalone_url())
        .layout(Layout::ConnectRedisSession)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    assert_eq!(store.key_of(&id), format!("sessions:{}", id.as_str()));
}

#[tokio::test]
async fn values_keys_and_ttls_are_connect_redis_sessions() {
    let prefix = unique_prefix("crs") + ":";
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store(&prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let key = format!("{prefix}{}", id.as_str());
    let expires = backend::truncate_to_millis(OffsetDateTime::now_utc() + time::Duration::minutes(30));
    let mut session = Session::new().expiring_at(expires);
    session.insert("n", 1).unwrap();
    let before = backend::unix_millis(OffsetDateTime::now_utc());
    store.set(&id, &session).await.unwrap();

    let value: String = raw.get(&key).await.unwrap();
    let value: Value = serde_json::from_str(&value).unwrap();
    assert_eq!(value["cookie"]["expires"], json!(backend::unix_millis(expires)));
    let stamp = value["lastModified"].as_i64().unwrap();
    assert!(stamp >= before && stamp <= before + 5_000, "{stamp}");
    assert_eq!(value["n"], json!(1));
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((1_790_000..=1_800_000).contains(&ttl), "{ttl}");

    // Logout leaves connect-redis-session's own marker for the grace window.
    store.destroy(&id).await.unwrap();
    let marker: String = raw.get(&key).await.unwrap();
    assert_eq!(marker, "TOMBSTONE");
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((299_000..=300_000).contains(&ttl), "{ttl}");
    assert!(store.get(&id).await.unwrap().is_none());
    assert!(matches!(store.set(&id, &session).await, Err(Error::Destroyed)));
    assert!(matches!(store.touch(&id, None).await, Err(Error::Destroyed)));
    let marker: String = raw.get(&key).await.unwrap();
    assert_eq!(marker, "TOMBSTONE", "a late write changes nothing");
}

#[tokio::test]
async fn what_node_writes_is_read_and_its_tombstone_honoured() {
    let prefix = unique_prefix("crs") + ":";
    let store = store(&prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let key = format!("{prefix}{}", id.as_str());
    let expires = backend::truncate_to_millis(OffsetDateTime::now_utc() + time::Duration::minutes(10));
    let ms = backend::unix_millis(expires);
    // Its serializer spreads the Cookie's own properties, `_expires` included.
    let node = json!({
        "cookie": {"path": "/", "_expires": session_core::backend::express::js_date(expires).unwrap(),
                   "originalMaxAge": 600_000, "httpOnly": true, "secure": true, "sameSite": "lax",
                   "expires": ms},
        "lastModified": ms - 600_000, "user": "ada"
    });
    raw.set::<(), _, _>(&key, node.to_string(), Some(Expiration::PX(600_000)), None, false)
        .await
        .unwrap();
    let session = store.get(&id).await.unwrap().unwrap();
    assert_eq!(session.expires_at(), Some(expires));
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ada"));
    assert_eq!(session.data().len(), 1, "lastModified is the store's, not data");

    // A Rust touch moves both dates Node reads, and the TTL.
    let later = expires + time::Duration::minutes(10);
    store.touch(&id, Some(later)).await.unwrap();
    let value: Value = serde_json::from_str(&raw.get::<String, _>(&key).await.unwrap()).unwrap();
    assert_eq!(value["cookie"]["expires"], json!(backend::unix_millis(later)));
    assert_eq!(
        value["cookie"]["_expires"],
        json!(session_core::backend::express::js_date(later).unwrap())
    );
    assert_eq!(value["cookie"]["sameSite"], json!("lax"));
    assert_eq!(store.get(&id).await.unwrap().unwrap().expires_at(), Some(later));

    // Node logs out: its TOMBSTONE keeps Rust's late writes out.
    raw.set::<(), _, _>(&key, "TOMBSTONE", Some(Expiration::EX(300)), None, false)
        .await
        .unwrap();
    assert!(store.get(&id).await.unwrap().is_none());
    assert!(matches!(store.set(&id, &session).await, Err(Error::Destroyed)));
    assert!(matches!(store.create(&id, &session).await, Err(Error::Destroyed)));
    assert_eq!(store.length().await.unwrap(), 0);
    assert!(store.all().await.unwrap().is_empty());
    store.clear().await.unwrap();
    let exists: i64 = raw.exists(&key).await.unwrap();
    assert_eq!(exists, 0, "clear removes tombstones too");
}
