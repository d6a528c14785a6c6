//! connect-redis' layout at the storage level: exactly the keys, values and
//! TTLs Node's connect-redis writes and reads (its defaults: prefix `sess:`,
//! express-session's JSON, TTL from `cookie.expires`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{delete_at_end, raw_client, standalone_url, unique_prefix};
use fred::{
    interfaces::KeysInterface,
    types::{Expiration, SetOptions},
};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use session_core::backend::SessionParts;
use session_core::{Error, Session, SessionId, Store, backend::express};
use session_redis::{Layout, RedisStore};
use time::OffsetDateTime;

async fn store(prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(standalone_url())
        .layout(Layout::ConnectRedis)
        .prefix(prefix)
        .build()
        .await
        .unwrap()
}

/// What express-session hands connect-redis for a logged-in user whose
/// cookie expires at `expires`.
fn node_json(expires: OffsetDateTime, user: &str) -> String {
    json!({
        "cookie": {"originalMaxAge": 3_600_000, "expires": express::js_date(expires).unwrap(),
                   "secure": false, "httpOnly": true, "path": "/", "sameSite": "lax"},
        "user": user, "visits": 3
    })
    .to_string()
}

#[tokio::test]
async fn rust_writes_what_connect_redis_reads() {
    let prefix = unique_prefix("cr") + ":";
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store(&prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let expires =
        session_core::backend::truncate_to_millis(OffsetDateTime::now_utc() + time::Duration::hours(1));
    let mut session = Session::new().expiring_at(expires);
    session.insert("user", "ada").unwrap();
    store.set(&id, &session).await.unwrap();

    let key = format!("{prefix}{}", id.as_str());
    assert_eq!(store.key_of(&id), key);
    let value: String = raw.get(&key).await.unwrap();
    let value: Value = serde_json::from_str(&value).unwrap();
    assert_eq!(value["user"], json!("ada"));
    assert_eq!(
        value["cookie"]["expires"],
        json!(express::js_date(expires).unwrap())
    );
    assert_eq!(value["cookie"]["httpOnly"], json!(true));
    assert_eq!(value["cookie"]["path"], json!("/"));
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((3_590_000..=3_600_000).contains(&ttl), "{ttl}");

    // A touch moves the TTL and the cookie's date together.
    let later = expires + time::Duration::hours(1);
    store.touch(&id, Some(later)).await.unwrap();
    let value: String = raw.get(&key).await.unwrap();
    let value: Value = serde_json::from_str(&value).unwrap();
    assert_eq!(
        value["cookie"]["expires"],
        json!(express::js_date(later).unwrap())
    );
    assert_eq!(value["user"], json!("ada"), "touch keeps the data");
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((7_190_000..=7_200_000).contains(&ttl), "{ttl}");
    assert_eq!(store.get(&id).await.unwrap().unwrap().expires_at(), Some(later));

    // Logout is connect-redis' DEL: the key is gone, no marker left.
    store.destroy(&id).await.unwrap();
    let exists: i64 = raw.exists(&key).await.unwrap();
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn what_connect_redis_writes_rust_reads() {
    let prefix = unique_prefix("cr") + ":";
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store(&prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let id = SessionId::generate();
    let key = format!("{prefix}{}", id.as_str());
    let expires = OffsetDateTime::now_utc() + time::Duration::milliseconds(3_600_123);
    // connect-redis: SET key json EX ceil((expires - now) / 1000).
    raw.set::<(), _, _>(
        &key,
        node_json(expires, "bob"),
        Some(Expiration::EX(3601)),
        None,
        false,
    )
    .await
    .unwrap();
    let session = store.get(&id).await.unwrap().unwrap();
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("bob"));
    assert_eq!(session.get::<u64>("visits").unwrap(), Some(3));
    assert!(
        session.get::<Value>("cookie").unwrap().is_none(),
        "the cookie is not data"
    );
    assert_eq!(
        session.expires_at(),
        Some(express::parse_js_date(&express::js_date(expires).unwrap()).unwrap()),
        "the cookie's exact date, not the TTL rounded to seconds"
    );
    assert_eq!(
        session.express_cookie().and_then(|c| c.get("sameSite")),
        Some(&json!("lax"))
    );

    // Rust changes the data: every cookie key Node wrote is written back.
    let mut changed = session.clone();
    changed.insert("visits", 4).unwrap();
    store.set(&id, &changed).await.unwrap();
    let value: String = raw.get(&key).await.unwrap();
    let value: Value = serde_json::from_str(&value).unwrap();
    assert_eq!(value["visits"], json!(4));
    assert_eq!(value["cookie"]["sameSite"], json!("lax"));
    assert_eq!(value["cookie"]["originalMaxAge"], json!(3_600_000));

    // Node's touch moves only the TTL: the TTL is the truth.
    raw.expire::<(), _>(&key, 7200, None).await.unwrap();
    let touched = store.get(&id).await.unwrap().unwrap().expires_at().unwrap();
    let left = touched - OffsetDateTime::now_utc();
    assert!(left > time::Duration::seconds(7190), "{left}");
    assert_eq!(store.length().await.unwrap(), 1);
    assert_eq!(store.all().await.unwrap().len(), 1);
}

#[tokio::test]
async fn foreign_values_under_the_prefix_are_typed_errors_and_count_unread() {
    let prefix = unique_prefix("cr") + ":";
    let _deleted = delete_at_end(&standalone_url(), &prefix);
    let store = store(&prefix).await;
    let raw = raw_client(&standalone_url()).await;
    let foreign = SessionId::generate();
    let key = format!("{prefix}{}", foreign.as_str());
    raw.set::<(), _, _>(&key, "not json", None, Some(SetOptions::NX), false)
        .await
        .unwrap();
    let no_cookie = SessionId::generate();
    raw.set::<(), _, _>(
        format!("{prefix}{}", no_cookie.as_str()),
        r#"{"user":"x"}"#,
        None,
        None,
        false,
    )
    .await
    .unwrap();
    let live = SessionId::generate();
    store.set(&live, &Session::new()).await.unwrap();

    assert!(matches!(store.get(&foreign).await, Err(Error::Decode(_))));
    assert!(matches!(store.get(&no_cookie).await, Err(Error::Decode(_))));
    // Rule 6: they count, and the stream yields one Decode item for each.
    assert_eq!(store.length().await.unwrap(), 3);
    let decode = store
        .all_stream()
        .filter(|item| std::future::ready(matches!(item, Err(Error::Decode(_)))))
        .count()
        .await;
    assert_eq!(decode, 2);
    assert_eq!(store.all().await.unwrap().len(), 1);
    store.clear().await.unwrap();
    let left: Option<String> = raw.get(&key).await.unwrap();
    assert_eq!(
        left, None,
        "clear removes every key under the prefix, as connect-redis does"
    );
    assert_eq!(store.length().await.unwrap(), 0);
}

#[tokio::test]
async fn data_express_keeps_for_itself_is_refused() {
    let store = store(&(unique_prefix("cr") + ":")).await;
    let mut session = Session::new();
    session.insert("cookie", "mine").unwrap();
    assert!(matches!(
        store.set(&SessionId::generate(), &session).await,
        Err(Error::Encode(_))
    ));
    let near = RedisStore::builder()
        .url(standalone_url())
        .layout(Layout::ConnectRedis)
        .near_cache(session_redis::NearCacheOptions::new(10))
        .build()
        .await;
    assert!(matches!(near, Err(Error::InvalidInput(_))));
}
