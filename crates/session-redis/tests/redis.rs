//! Redis-specific behaviour, checked against real servers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use common::{
    cluster_url, delete_at_end, raw_client, standalone_url, store_with_prefix, throwaway::spare_port,
    unique_prefix,
};
use fred::interfaces::KeysInterface;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use session_conformance::Cleanup;
use session_core::{Codec, Error, JsonCodec, Session, SessionData, SessionId, Store};
use session_redis::RedisStore;
use time::OffsetDateTime;

/// A builder on the standalone server with a prefix no other test uses,
/// and the deletion of its keys at the end of the test.
fn standalone_builder(label: &str) -> (session_redis::RedisStoreBuilder, Cleanup) {
    let prefix = unique_prefix(label);
    let deleted = delete_at_end(&standalone_url(), &prefix);
    (
        RedisStore::builder().url(standalone_url()).prefix(prefix),
        deleted,
    )
}

fn session_expiring_in(seconds: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(seconds));
    session.insert("user", "ada").unwrap();
    session
}

#[tokio::test]
async fn key_value_and_pttl_are_as_documented() {
    let prefix = unique_prefix("layout");
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store_with_prefix(&standalone_url(), &prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let session = session_expiring_in(60);
    store.set(&id, &session).await.unwrap();

    let key = store.key_of(&id);
    assert_eq!(
        key,
        format!("{} {}", store.prefix(), id.as_str()),
        "prefix, a space, the id"
    );
    let pttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(
        (58_000..=60_000).contains(&pttl),
        "PTTL {pttl} for a session 60 s from expiry"
    );
    let value: Bytes = raw.get(&key).await.unwrap();
    assert_eq!(value[0], 1, "live record tag");
    let expiry_ms = i64::from_be_bytes(value[1..9].try_into().unwrap());
    assert_eq!(
        expiry_ms,
        session_core::backend::unix_millis(session.expires_at().unwrap())
    );
    assert_eq!(
        &value[9..],
        br#"{"user":"ada"}"#,
        "the payload is the codec's JSON"
    );

    store
        .touch(&id, Some(OffsetDateTime::now_utc() + Duration::from_secs(600)))
        .await
        .unwrap();
    let pttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(
        (598_000..=600_000).contains(&pttl),
        "PTTL {pttl} after touching to 600 s"
    );
}

#[tokio::test]
async fn tombstone_lives_for_the_grace_window_then_goes() {
    let (builder, _deleted) = standalone_builder("tomb");
    let store = builder
        .tombstone_grace(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    store.set(&id, &session_expiring_in(60)).await.unwrap();
    store.destroy(&id).await.unwrap();

    let key = store.key_of(&id);
    let value: Bytes = raw.get(&key).await.unwrap();
    assert_eq!((value.len(), value[0]), (9, 2), "a tombstone is a bare header");
    let pttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((1..=1_000).contains(&pttl), "tombstone PTTL {pttl}");
    assert!(matches!(
        store.set(&id, &session_expiring_in(60)).await,
        Err(Error::Destroyed)
    ));

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let exists: i64 = raw.exists(&key).await.unwrap();
    assert_eq!(exists, 0, "Redis removed the tombstone when its grace ended");
    store.set(&id, &session_expiring_in(60)).await.unwrap();
}

#[tokio::test]
async fn hard_delete_leaves_no_key() {
    let (builder, _deleted) = standalone_builder("hard");
    let store = builder.tombstone_grace(Duration::ZERO).build().await.unwrap();
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    store.set(&id, &session_expiring_in(60)).await.unwrap();
    store.destroy(&id).await.unwrap();
    let exists: i64 = raw.exists(store.key_of(&id)).await.unwrap();
    assert_eq!(exists, 0);
    store.set(&id, &session_expiring_in(60)).await.unwrap();
}

#[tokio::test]
async fn glob_characters_in_the_prefix_match_only_themselves() {
    let tag = unique_prefix("glob");
    let _deleted = delete_at_end(&standalone_url(), &tag);
    let star = store_with_prefix(&standalone_url(), &format!("{tag}a*")).await;
    let plain = store_with_prefix(&standalone_url(), &format!("{tag}ab")).await;
    let bracket = store_with_prefix(&standalone_url(), &format!("{tag}[ab]?\\")).await;
    for store in [&star, &plain, &bracket] {
        for _ in 0..3 {
            store
                .set(&SessionId::generate(), &session_expiring_in(60))
                .await
                .unwrap();
        }
    }
    assert_eq!(star.length().await.unwrap(), 3);
    assert_eq!(bracket.all().await.unwrap().len(), 3);
    star.clear().await.unwrap();
    bracket.clear().await.unwrap();
    assert_eq!(star.length().await.unwrap(), 0);
    assert_eq!(
        plain.length().await.unwrap(),
        3,
        "clearing prefix `a*` must not touch prefix `ab`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bulk_operations_over_ten_thousand_sessions_on_the_cluster() {
    let store = Arc::new(store_with_prefix(&cluster_url(), &unique_prefix("bulk")).await);
    let ids: Vec<SessionId> = (0..10_000).map(|_| SessionId::generate()).collect();
    stream::iter(ids.iter().cloned())
        .map(|id| {
            let store = Arc::clone(&store);
            async move { store.set(&id, &session_expiring_in(600)).await }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    for id in &ids[..100] {
        store.destroy(id).await.unwrap();
    }
    assert_eq!(store.length().await.unwrap(), 9_900, "tombstones do not count");
    let mut listed = std::collections::HashSet::new();
    let mut sessions = store.all_stream();
    while let Some(item) = sessions.next().await {
        let (id, session) = item.unwrap();
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ada"));
        assert!(listed.insert(id), "no id twice");
    }
    drop(sessions);
    assert_eq!(listed.len(), 9_900);
    store.clear().await.unwrap();
    assert_eq!(store.length().await.unwrap(), 0);
    assert!(store.all().await.unwrap().is_empty());
}

#[tokio::test]
async fn foreign_values_under_the_prefix_are_never_written_over_and_count_unread() {
    let prefix = unique_prefix("foreign");
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store_with_prefix(&standalone_url(), &prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let (json, short, hash, good) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    store.set(&good, &session_expiring_in(60)).await.unwrap();
    // A connect-redis session (JSON, long enough to pass for a header), a
    // short string, and a key of another type, all under our namespace.
    let connect_redis =
        r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"user":"u1"}"#;
    let _: () = raw
        .set(store.key_of(&json), connect_redis, None, None, false)
        .await
        .unwrap();
    let _: () = raw
        .set(store.key_of(&short), "x", None, None, false)
        .await
        .unwrap();
    let hset = fred::types::CustomCommand::new_static("HSET", fred::types::ClusterHash::FirstKey, false);
    let _: i64 = fred::interfaces::ClientLike::custom(
        &raw,
        hset,
        vec![store.key_of(&hash), "field".into(), "value".into()],
    )
    .await
    .unwrap();

    for id in [&json, &short, &hash] {
        let later = OffsetDateTime::now_utc() + Duration::from_secs(600);
        let writes = [
            ("touch", store.touch(id, Some(later)).await),
            ("set", store.set(id, &session_expiring_in(60)).await),
            ("create", store.create(id, &session_expiring_in(60)).await),
        ];
        for (write, answer) in writes {
            assert!(
                matches!(answer, Err(Error::Decode(_))),
                "{write} over a foreign value: {answer:?}"
            );
        }
        let read = store.get(id).await;
        assert!(
            matches!(read, Err(Error::Decode(_))),
            "get of a foreign value: {read:?}"
        );
    }
    let unchanged: String = raw.get(store.key_of(&json)).await.unwrap();
    assert_eq!(
        unchanged, connect_redis,
        "nothing was written over the foreign value"
    );
    let ttl: i64 = raw.pttl(store.key_of(&json)).await.unwrap();
    assert_eq!(ttl, -1, "touch did not give the foreign key an expiry");

    // Rule 6: records the store cannot read count, as one error item each.
    assert_eq!(store.length().await.unwrap(), 4, "foreign values count unread");
    let listed: Vec<_> = store.all_stream().collect().await;
    assert_eq!(listed.len(), 4);
    let sessions: Vec<_> = listed.iter().filter_map(|item| item.as_ref().ok()).collect();
    assert!(
        matches!(sessions[..], [(id, _)] if *id == good),
        "only our session reads"
    );
    assert!(
        listed
            .iter()
            .filter(|item| item.is_err())
            .all(|item| matches!(item, Err(Error::Decode(_))))
    );
    assert_eq!(store.all().await.unwrap().len(), 1);
    store.clear().await.unwrap();
    let left: i64 = raw
        .exists(vec![
            store.key_of(&json),
            store.key_of(&short),
            store.key_of(&hash),
        ])
        .await
        .unwrap();
    assert_eq!(left, 0, "clear removes every key of the namespace");
    assert!(store.get(&good).await.unwrap().is_none());
}

#[tokio::test]
async fn nested_prefixes_are_separate_namespaces() {
    let tag = unique_prefix("nest");
    let _deleted = delete_at_end(&standalone_url(), &tag);
    let outer = store_with_prefix(&standalone_url(), &tag).await;
    let inner = store_with_prefix(&standalone_url(), &format!("{tag}admin:")).await;
    let raw = raw_client(&standalone_url()).await;
    let ids: Vec<SessionId> = (0..5).map(|_| SessionId::generate()).collect();
    for id in &ids {
        inner.set(id, &session_expiring_in(60)).await.unwrap();
    }
    // An id the outer store could be given that spells the inner store's key.
    let spelled = SessionId::parse(&format!("admin:{}", ids[0].as_str())).unwrap();
    assert!(outer.get(&spelled).await.unwrap().is_none());
    assert_ne!(outer.key_of(&spelled), inner.key_of(&ids[0]));
    assert_eq!(
        outer.length().await.unwrap(),
        0,
        "the outer store counts none of the inner's"
    );
    assert!(outer.all().await.unwrap().is_empty());
    outer.clear().await.unwrap();
    assert_eq!(
        inner.length().await.unwrap(),
        5,
        "clearing the outer store leaves the inner's"
    );
    outer.set(&ids[1], &session_expiring_in(60)).await.unwrap();
    outer.destroy(&ids[1]).await.unwrap();
    assert!(
        inner.get(&ids[1]).await.unwrap().is_some(),
        "a destroy in one namespace only"
    );
    inner.clear().await.unwrap();
    assert_eq!(outer.length().await.unwrap(), 0);
    let key: Option<String> = raw.get(inner.key_of(&ids[1])).await.unwrap();
    assert!(key.is_none());
}

#[tokio::test]
async fn empty_and_spaced_prefixes_are_refused() {
    for prefix in ["", "two words", "tab\there"] {
        let built = RedisStore::builder()
            .url(standalone_url())
            .prefix(prefix)
            .build()
            .await;
        assert!(
            matches!(built, Err(Error::InvalidInput(_))),
            "prefix {prefix:?}: {built:?}"
        );
    }
}

#[tokio::test]
async fn disable_touch_makes_touch_a_successful_no_op() {
    let (builder, _deleted) = standalone_builder("notouch");
    let store = builder.disable_touch(true).build().await.unwrap();
    let id = SessionId::generate();
    let session = session_expiring_in(60);
    store.set(&id, &session).await.unwrap();
    let later = OffsetDateTime::now_utc() + Duration::from_secs(3600);
    store.touch(&id, Some(later)).await.unwrap();
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.expires_at(), session.expires_at(), "expiry unchanged");
    store.touch(&SessionId::generate(), None).await.unwrap();
    assert_eq!(store.length().await.unwrap(), 1, "touch created nothing");
}

/// Wraps JSON in a marker, to see that the store really uses the codec.
#[derive(Debug)]
struct Marked;

impl Codec for Marked {
    fn encode(&self, data: &SessionData) -> Result<Vec<u8>, Error> {
        let mut bytes = b"MARK".to_vec();
        bytes.extend(JsonCodec.encode(data)?);
        Ok(bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<SessionData, Error> {
        let json = bytes
            .strip_prefix(b"MARK")
            .ok_or_else(|| Error::Decode("no marker".into()))?;
        JsonCodec.decode(json)
    }
}

#[tokio::test]
async fn the_configured_codec_encodes_and_decodes() {
    let (builder, _deleted) = standalone_builder("codec");
    let store = builder.codec(Arc::new(Marked)).build().await.unwrap();
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let mut session = session_expiring_in(60);
    session.insert("nested", json!({"a": [1, 2]})).unwrap();
    store.set(&id, &session).await.unwrap();
    let value: Bytes = raw.get(store.key_of(&id)).await.unwrap();
    assert!(value[9..].starts_with(b"MARK{"), "stored through the codec");
    assert_eq!(store.get(&id).await.unwrap().unwrap().data(), session.data());
}

#[tokio::test]
async fn construction_errors_are_clear_and_bounded() {
    let bad = RedisStore::builder().url("http://nope").build().await;
    assert!(matches!(bad, Err(Error::InvalidInput(_))), "{bad:?}");
    let none = RedisStore::builder().build().await;
    assert!(matches!(none, Err(Error::InvalidInput(_))), "{none:?}");
    let zero = RedisStore::builder()
        .url(standalone_url())
        .scan_count(0)
        .build()
        .await;
    assert!(matches!(zero, Err(Error::InvalidInput(_))), "{zero:?}");

    let port = spare_port();
    let started = Instant::now();
    let unreachable = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}"))
        .timeout(Duration::from_millis(500))
        .build()
        .await;
    assert!(
        matches!(unreachable, Err(Error::Unavailable(_))),
        "{unreachable:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn debug_output_shows_no_url_or_password() {
    let builder = RedisStore::builder().url("redis://user:hunter2@127.0.0.1:6379");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let store = store_with_prefix(&standalone_url(), "dbg").await;
    let shown = format!("{store:?}");
    assert!(
        shown.contains("prefix: \"dbg\"") && !shown.contains("redis://"),
        "{shown}"
    );
}
