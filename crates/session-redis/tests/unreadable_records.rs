//! Rule 6 of the contract on Redis, in every layout, standalone and
//! cluster: a record the store holds but cannot read counts as live. `get`
//! answers `Decode`, `length` counts it, `all_stream` yields one error item
//! for it and goes on, `all` skips it; readable sessions around it are
//! untouched. The values are written raw, as another program would.
//!
//! What counts, as `RedisStore` documents it: every key of the namespace
//! that is neither a tombstone nor over. A value the layout cannot read, a
//! key of another Redis type, and a key whose name after the prefix is not
//! a session id (an `InvalidId` item) all count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{cluster_url, delete_at_end, raw_client, standalone_url, unique_prefix};
use fred::{
    clients::Client,
    interfaces::{ClientLike, KeysInterface},
    types::{ClusterHash, CustomCommand, Expiration},
};
use futures_util::StreamExt as _;
use session_conformance::Cleanup;
use session_core::{Error, Session, SessionId, Store, backend::express};
use session_redis::{Layout, RedisStore};
use time::{Duration, OffsetDateTime};

/// What a test planted under one store's prefix, and so what it must see.
#[derive(Default)]
struct Planted {
    /// Readable sessions, by the number each holds under `n`.
    good: Vec<(SessionId, u64)>,
    /// Ids whose key holds something the store cannot read.
    unreadable: Vec<SessionId>,
    /// Ids whose key holds nothing live (a tombstone, an expired record).
    not_live: Vec<SessionId>,
    /// Keys of the namespace whose name is not a session id, holding
    /// something that would be live: one `InvalidId` item each.
    badly_named: usize,
}

impl Planted {
    fn counted(&self) -> u64 {
        (self.good.len() + self.unreadable.len() + self.badly_named) as u64
    }
}

/// A store in `layout` on `url`, with `scan_count` keys a SCAN page, and the
/// deletion of every key under its prefix at the end of the test.
async fn store(layout: Layout, url: &str, label: &str, scan_count: u32) -> (RedisStore, Cleanup) {
    let prefix = unique_prefix(label);
    let deleted = delete_at_end(url, &prefix);
    let store = RedisStore::builder()
        .url(url)
        .layout(layout)
        .prefix(prefix)
        .scan_count(scan_count)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    (store, deleted)
}

fn numbered(n: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::hours(1));
    session.insert("n", n).unwrap();
    session
}

/// A key of the store's namespace with any name after the prefix.
fn key_named(store: &RedisStore, name: &str) -> String {
    let key = store.key_of(&SessionId::parse("x").unwrap());
    format!("{}{name}", key.strip_suffix('x').unwrap())
}

/// Writes `value` under `key` raw, expiring in an hour as Node would.
async fn put(raw: &Client, key: &str, value: impl Into<Vec<u8>>) {
    let value = bytes::Bytes::from(value.into());
    raw.set::<(), _, _>(key, value, Some(Expiration::PX(3_600_000)), None, false)
        .await
        .unwrap();
}

/// A hash under `key`: a key of another Redis type.
async fn put_hash(raw: &Client, key: &str) {
    let hset = CustomCommand::new_static("HSET", ClusterHash::FirstKey, false);
    let _: i64 = raw.custom(hset, vec![key, "field", "value"]).await.unwrap();
}

/// A native record's header: the kind byte and an instant in unix ms.
fn header(kind: u8, at: OffsetDateTime) -> Vec<u8> {
    let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap();
    let mut bytes = vec![kind];
    bytes.extend_from_slice(&millis.to_be_bytes());
    bytes
}

fn with(mut head: Vec<u8>, tail: &[u8]) -> Vec<u8> {
    head.extend_from_slice(tail);
    head
}

/// express-session's JSON for a session expiring in an hour holding `user`
/// (raw JSON text, so it can hold what serde_json refuses).
fn express_json(user_json: &str) -> String {
    let expires = express::js_date(OffsetDateTime::now_utc() + Duration::hours(1)).unwrap();
    format!(
        r#"{{"cookie":{{"originalMaxAge":3600000,"expires":"{expires}","httpOnly":true,"path":"/"}},"user":{user_json}}}"#
    )
}

/// `count` readable sessions written by the store itself.
async fn plant_good(store: &RedisStore, planted: &mut Planted, count: u64) {
    for n in 0..count {
        let id = SessionId::generate();
        store.set(&id, &numbered(n)).await.unwrap();
        planted.good.push((id, n));
    }
}

/// Native records this store cannot read, and some that are not live.
async fn plant_native(store: &RedisStore, raw: &Client, planted: &mut Planted) {
    let later = OffsetDateTime::now_utc() + Duration::hours(1);
    let earlier = OffsetDateTime::now_utc() - Duration::hours(1);
    let unreadable: [Vec<u8>; 6] = [
        // A sound header over a payload the codec refuses.
        with(header(1, later), b"{not json"),
        // A lone surrogate, which serde_json refuses.
        with(header(1, later), br#"{"k":"\ud800"}"#),
        // A far-future expiry no date can hold.
        with(with(vec![1], &[0x7f; 8]), b"{}"),
        // Another program's value, a too-short record, a tombstone with a payload.
        b"plain text".to_vec(),
        b"\x01abc".to_vec(),
        with(header(2, later), b"extra"),
    ];
    for value in unreadable {
        let id = SessionId::generate();
        put(raw, &store.key_of(&id), value).await;
        planted.unreadable.push(id);
    }
    let id = SessionId::generate();
    put_hash(raw, &store.key_of(&id)).await;
    planted.unreadable.push(id);

    // Over: an expired record (its payload never read), a tombstone.
    for value in [with(header(1, earlier), b"{not json"), header(2, later)] {
        let id = SessionId::generate();
        put(raw, &store.key_of(&id), value).await;
        planted.not_live.push(id);
    }
    // A name that is no id: counted when it holds something live...
    put(raw, &key_named(store, "caf\u{e9}"), with(header(1, later), b"{}")).await;
    planted.badly_named += 1;
    // ...and not when it holds a tombstone.
    put(raw, &key_named(store, "caf\u{e8}"), header(2, later)).await;
    // A second space: the key names no namespace, so it is not this store's.
    put(raw, &key_named(store, "a b"), with(header(1, later), b"{}")).await;
}

/// Node-layout values this store cannot read, and some that are not live.
async fn plant_node(store: &RedisStore, raw: &Client, planted: &mut Planted) {
    let unreadable = [
        "not json".to_owned(),
        express_json(r#""\ud800""#),
        r#"{"cookie":{"originalMaxAge":null,"expires":"yesterday"},"user":"x"}"#.to_owned(),
        r#"{"cookie":"a string","user":"x"}"#.to_owned(),
        r#"{"user":"no cookie"}"#.to_owned(),
        String::new(),
    ];
    for value in unreadable {
        let id = SessionId::generate();
        put(raw, &store.key_of(&id), value).await;
        planted.unreadable.push(id);
    }
    let id = SessionId::generate();
    put_hash(raw, &store.key_of(&id)).await;
    planted.unreadable.push(id);

    let tombstone = SessionId::generate();
    put(raw, &store.key_of(&tombstone), "TOMBSTONE").await;
    planted.not_live.push(tombstone);
    // Names that are no id (a space, a byte past ASCII): live sessions of Node's.
    for name in ["two words", "caf\u{e9}"] {
        put(raw, &key_named(store, name), express_json(r#""ada""#)).await;
        planted.badly_named += 1;
    }
    put(raw, &key_named(store, "gone id"), "TOMBSTONE").await;
}

async fn plant(layout: Layout, store: &RedisStore, raw: &Client, planted: &mut Planted) {
    match layout {
        Layout::Native => plant_native(store, raw, planted).await,
        _ => plant_node(store, raw, planted).await,
    }
}

/// Every read of rule 6 over what was planted.
async fn check_reads(store: &RedisStore, planted: &Planted) {
    for id in &planted.unreadable {
        let read = store.get(id).await;
        assert!(
            matches!(read, Err(Error::Decode(_))),
            "get of an unreadable record: {read:?}"
        );
    }
    for id in &planted.not_live {
        assert!(store.get(id).await.unwrap().is_none(), "nothing live");
    }
    for (id, n) in &planted.good {
        let session = store.get(id).await.unwrap().expect("a readable session");
        assert_eq!(session.get::<u64>("n").unwrap(), Some(*n));
    }
    assert_eq!(store.length().await.unwrap(), planted.counted(), "length");
    check_stream(store, planted).await;
    let all = store.all().await.unwrap();
    assert_eq!(numbers(all.into_iter().map(Ok)), expected_numbers(planted), "all");
}

/// `all_stream`: the readable sessions, one error per unreadable record.
async fn check_stream(store: &RedisStore, planted: &Planted) {
    let items: Vec<_> = store.all_stream().collect().await;
    assert_eq!(items.len() as u64, planted.counted(), "items, errors included");
    let decode = items
        .iter()
        .filter(|i| matches!(i, Err(Error::Decode(_))))
        .count();
    let invalid = items
        .iter()
        .filter(|i| matches!(i, Err(Error::InvalidId(_))))
        .count();
    assert_eq!(
        decode,
        planted.unreadable.len(),
        "one Decode item per unreadable record"
    );
    assert_eq!(
        invalid, planted.badly_named,
        "one InvalidId item per badly named key"
    );
    assert_eq!(
        numbers(items.into_iter()),
        expected_numbers(planted),
        "readable sessions"
    );
}

/// The ids and numbers of the readable items.
fn numbers(items: impl Iterator<Item = Result<(SessionId, Session), Error>>) -> BTreeSet<(String, u64)> {
    items
        .filter_map(Result::ok)
        .map(|(id, s)| (id.as_str().to_owned(), s.get::<u64>("n").unwrap().unwrap()))
        .collect()
}

fn expected_numbers(planted: &Planted) -> BTreeSet<(String, u64)> {
    planted
        .good
        .iter()
        .map(|(id, n)| (id.as_str().to_owned(), *n))
        .collect()
}

/// `clear` removes what `length` counted, and nothing of a neighbour.
async fn check_clear(store: &RedisStore, neighbour: &RedisStore) {
    let id = SessionId::generate();
    neighbour.set(&id, &numbered(7)).await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(
        store.length().await.unwrap(),
        0,
        "clear removes every counted record"
    );
    assert_eq!(store.all_stream().count().await, 0);
    assert_eq!(neighbour.length().await.unwrap(), 1, "the neighbour is untouched");
    assert!(neighbour.get(&id).await.unwrap().is_some());
}

/// A few sessions, every kind of unreadable record, then the reads and a clear.
async fn a_few_of_each(layout: Layout, url: &str) {
    let (store, _deleted) = store(layout, url, "unread", 100).await;
    let (neighbour, _deleted_too) = self::store(layout, url, "unread_nb", 100).await;
    let raw = raw_client(url).await;
    let mut planted = Planted::default();
    plant_good(&store, &mut planted, 3).await;
    plant(layout, &store, &raw, &mut planted).await;
    check_reads(&store, &planted).await;
    check_clear(&store, &neighbour).await;
    let _ = raw.quit().await;
}

/// Many more keys than a SCAN page, unreadable ones spread among them: no
/// bad record stops a page or the read.
async fn across_pages(layout: Layout, url: &str) {
    let (store, _deleted) = store(layout, url, "unread_pages", 5).await;
    let raw = raw_client(url).await;
    let mut planted = Planted::default();
    for _ in 0..6 {
        plant_good(&store, &mut planted, 10).await;
        let id = SessionId::generate();
        let value: &[u8] = match layout {
            Layout::Native => b"\x01short",
            _ => b"{\"cookie\":",
        };
        put(&raw, &store.key_of(&id), value).await;
        planted.unreadable.push(id);
    }
    check_reads(&store, &planted).await;
    let _ = raw.quit().await;
}

macro_rules! per_layout {
    ($($name:ident: $layout:expr;)+) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn standalone_counts_and_yields_unreadable_records() {
                a_few_of_each($layout, &standalone_url()).await;
            }

            #[tokio::test]
            async fn cluster_counts_and_yields_unreadable_records() {
                a_few_of_each($layout, &cluster_url()).await;
            }

            #[tokio::test]
            async fn standalone_bad_records_stop_no_page() {
                across_pages($layout, &standalone_url()).await;
            }

            #[tokio::test]
            async fn cluster_bad_records_stop_no_page() {
                across_pages($layout, &cluster_url()).await;
            }
        }
    )+};
}

per_layout! {
    native: Layout::Native;
    connect_redis: Layout::ConnectRedis;
    connect_redis_session: Layout::ConnectRedisSession;
}
