//! `TowerSessionsSource`: tower-sessions-redis-store's records read as the
//! same sessions, checked against real servers. Records are written by the
//! real crate (tower-sessions-redis-store 0.16, which has no prefix) or,
//! where a test needs a prefix or a fault, byte for byte in its format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::{HashMap, HashSet},
    time::Duration as StdDuration,
};

use common::{
    cluster_url, delete_at_end, raw_client, standalone_url,
    throwaway::{Throwaway, spare_port},
    unique_prefix,
};
use fred::{
    clients::Client,
    interfaces::{ClientLike as _, KeysInterface as _},
    types::Key,
};
use futures_util::StreamExt as _;
use session_conformance::Cleanup;
use session_core::{Error, Session, SessionId, migrate::Source};
use session_redis::{RedisStore, TowerSessionsSource};
use time::{Duration, OffsetDateTime};
use tower_sessions_core_014::{
    SessionStore as _,
    session::{Id, Record},
};

/// `count` records with nested data, expiring over the next hours at
/// sub-millisecond instants (the reader keeps the millisecond).
fn records(count: usize) -> Vec<Record> {
    let now = OffsetDateTime::now_utc();
    (0..count)
        .map(|n| Record {
            id: Id::default(),
            data: HashMap::from([
                ("user_id".to_owned(), serde_json::json!(n)),
                (
                    "profile".to_owned(),
                    serde_json::json!({"name": format!("user {n}"), "tags": ["a", "b"], "score": 0.25}),
                ),
            ]),
            expiry_date: now + Duration::minutes(30 + n as i64) + Duration::nanoseconds(123_456_789),
        })
        .collect()
}

/// The session the reader should yield for `record`.
fn expected(record: &Record) -> (SessionId, Session) {
    let data = record.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    (
        SessionId::parse(&record.id.to_string()).unwrap(),
        Session::from_data(data).expiring_at(record.expiry_date),
    )
}

/// Writes `records` under `prefix` as tower-sessions-redis-store would
/// (it writes no prefix; later versions can).
async fn write(client: &Client, prefix: &str, records: &[Record]) {
    for record in records {
        let key = format!("{prefix}{}", record.id);
        let _: () = client
            .set(key, rmp_serde::to_vec(record).unwrap(), None, None, false)
            .await
            .unwrap();
    }
}

/// Deletes `keys` at `url` when the value returned goes out of scope: at
/// the end of the test, passed or failed.
fn delete_keys_at_end(url: &str, keys: Vec<String>) -> Cleanup {
    let url = url.to_owned();
    // The cleanup runs on a runtime of its own: its client is made there.
    Cleanup::new(async move {
        let client = raw_client(&url).await;
        let _: i64 = client.del(keys).await.unwrap();
        let _: () = client.quit().await.unwrap();
    })
}

/// Sends a command the client's interfaces may not have.
async fn command(client: &Client, name: &'static str, args: Vec<String>) {
    let command = fred::types::CustomCommand::new_static(name, fred::types::ClusterHash::FirstKey, false);
    let _: fred::types::Value = client.custom(command, args).await.unwrap();
}

/// A reader on `url` under `prefix`.
async fn source(url: &str, prefix: &str) -> TowerSessionsSource {
    RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .build_tower_sessions_source()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Everything `source` yields: its sessions by id (failing the test if
/// one comes twice) and its failed items.
async fn read_all(source: &TowerSessionsSource) -> (HashMap<SessionId, Session>, Vec<Error>) {
    let (mut sessions, mut failed) = (HashMap::new(), Vec::new());
    let mut stream = source.sessions();
    while let Some(item) = stream.next().await {
        match item {
            Ok((id, session)) => {
                let redacted = id.redacted().to_string();
                assert!(sessions.insert(id, session).is_none(), "{redacted} read twice");
            }
            Err(error) => failed.push(error),
        }
    }
    (sessions, failed)
}

/// Checks that `read` holds each of `records` as the same session.
fn assert_read(read: &HashMap<SessionId, Session>, records: &[Record]) {
    for record in records {
        let (id, session) = expected(record);
        let got = read
            .get(&id)
            .unwrap_or_else(|| panic!("{:?} was not read", id.redacted()));
        assert_eq!(got.data(), session.data());
        assert_eq!(got.expires_at(), session.expires_at(), "to the millisecond");
    }
}

#[tokio::test]
async fn records_of_tower_sessions_redis_store_are_read_as_the_same_sessions() {
    let url = standalone_url();
    let client = raw_client(&url).await;
    let mut written = records(300);
    // Unprefixed keys: each one this test writes goes, passed or failed.
    let _deleted = delete_keys_at_end(&url, written.iter().map(|r| r.id.to_string()).collect());
    let tower = tower_sessions_redis_store::RedisStore::new(client.clone());
    for record in &mut written {
        tower.create(record).await.unwrap();
    }
    let logged_out = written.pop().unwrap();
    tower.delete(&logged_out.id).await.unwrap();

    let source = source(&url, "").await;
    // Records other tests left on this server may be read too; ours all are.
    assert!(source.count().await.unwrap() >= 299);
    let (read, failed) = read_all(&source).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_read(&read, &written);
    assert!(
        !read.contains_key(&expected(&logged_out).0),
        "a deleted record is not read"
    );
}

#[tokio::test]
async fn keys_of_other_programs_are_skipped_and_a_broken_record_fails_alone() {
    let url = standalone_url();
    let prefix = unique_prefix("tower_foreign");
    let _deleted = delete_at_end(&url, &prefix);
    let client = raw_client(&url).await;
    let written = records(5);
    write(&client, &prefix, &written).await;
    let misplaced = records(1);
    for (key, value) in [
        (format!("{prefix}not-an-id"), b"x".to_vec()),
        (format!("{prefix}{}", Id::default()), b"not messagepack".to_vec()),
        // Another id's record: never copied under this key's id.
        (
            format!("{prefix}{}", Id::default()),
            rmp_serde::to_vec(&misplaced[0]).unwrap(),
        ),
    ] {
        let _: () = client.set(key, value, None, None, false).await.unwrap();
    }
    // A key of another type, named like an id: SCAN's type filter skips it.
    command(
        &client,
        "RPUSH",
        vec![format!("{prefix}{}", Id::default()), "item".into()],
    )
    .await;

    let source = source(&url, &prefix).await;
    assert_eq!(source.count().await.unwrap(), 7, "the string keys named by an id");
    let (read, failed) = read_all(&source).await;
    assert_eq!(read.len(), 5);
    assert_read(&read, &written);
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|e| matches!(e, Error::Decode(_))), "{failed:?}");
}

#[tokio::test]
async fn glob_characters_in_the_prefix_match_only_themselves() {
    let url = standalone_url();
    let tag = unique_prefix("tower_glob");
    let _deleted = delete_at_end(&url, &tag);
    let client = raw_client(&url).await;
    // Unescaped, `[ab]?\:` and `x\` would miss their own keys, and `a*:`
    // and `[ab]?\:` would match `ab:`'s.
    let prefixes = ["a*:", "ab:", "[ab]?\\:", "x\\"].map(|p| format!("{tag}{p}"));
    let mut written = Vec::new();
    for prefix in &prefixes {
        let records = records(3);
        write(&client, prefix, &records).await;
        written.push(records);
    }
    for (prefix, records) in prefixes.iter().zip(&written) {
        let source = source(&url, prefix).await;
        assert_eq!(source.count().await.unwrap(), 3, "{prefix}");
        let (read, failed) = read_all(&source).await;
        assert!(failed.is_empty(), "{prefix}: {failed:?}");
        assert_eq!(read.len(), 3, "{prefix} reads its own records and no others");
        assert_read(&read, records);
    }
}

#[tokio::test]
async fn every_primary_of_a_cluster_is_read() {
    let url = cluster_url();
    let prefix = unique_prefix("tower_cluster");
    let _deleted = delete_at_end(&url, &prefix);
    let client = raw_client(&url).await;
    let written = records(200); // spread over every primary's slots
    write(&client, &prefix, &written).await;
    let source = source(&url, &prefix).await;
    assert_eq!(source.count().await.unwrap(), 200);
    let (read, failed) = read_all(&source).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(read.len(), 200);
    assert_read(&read, &written);
}

/// Sessions in the repeated-keys test.
const SESSIONS: usize = 100;
/// Keys of another program that grow the table until the sessions fill
/// less than a tenth of it, so that deleting them makes Redis shrink it.
const FILLERS: usize = 2_000;

/// `SCAN` returns a key again when Redis shrinks its table between two
/// calls: the bucket the cursor stands on then gathers keys of buckets
/// already visited. The table is grown and shrunk again and again while
/// the reader pages through it (on a server of the test's own: it churns
/// the whole keyspace), and a plain `SCAN` run alongside shows that keys
/// did come twice; the reader yields each session once all the same.
#[tokio::test]
async fn each_session_is_read_once_while_scan_repeats_keys() {
    let server = Throwaway::start(spare_port()).await;
    let client = raw_client(&server.url()).await;
    // Resizes happen in the server's cron: run it every 2 ms, not 100.
    command(&client, "CONFIG", vec!["SET".into(), "hz".into(), "500".into()]).await;
    let written = records(SESSIONS);
    write(&client, "app:", &written).await;
    let source = RedisStore::builder()
        .url(server.url())
        .prefix("app:")
        // A key or so a page: many pages, so many resizes between them.
        .scan_count(1)
        .build_tower_sessions_source()
        .await
        .unwrap();

    let mut plain = PlainScan::default();
    let mut read = HashMap::new();
    let mut sessions = source.sessions();
    let mut grown = false;
    loop {
        // Every other page is read from the grown table, the next one
        // from the same table shrunk.
        grown = !grown;
        resize(&client, grown).await;
        plain.step(&client).await;
        let Some(item) = sessions.next().await else { break };
        let (id, session) = item.unwrap();
        let redacted = id.redacted().to_string();
        assert!(read.insert(id, session).is_none(), "{redacted} read twice");
    }
    assert_eq!(read.len(), SESSIONS);
    assert_read(&read, &written);
    assert!(
        plain.repeats > 0,
        "a plain SCAN repeated no key: the test did not make the case it is about"
    );
}

/// Grows the keyspace by [`FILLERS`] keys, or deletes them again, and
/// gives the server's cron time to resize its table.
async fn resize(client: &Client, grow: bool) {
    let fillers: Vec<String> = (0..FILLERS).map(|n| format!("filler:{n}")).collect();
    if grow {
        let pairs: Vec<(String, &str)> = fillers.into_iter().map(|key| (key, "x")).collect();
        let _: () = client.mset(pairs).await.unwrap();
    } else {
        let _: i64 = client.del(fillers).await.unwrap();
    }
    tokio::time::sleep(StdDuration::from_millis(20)).await;
}

/// `SCAN app:*` without duplicate suppression, a page at a time, counting
/// the keys it returns twice within one pass.
#[derive(Default)]
struct PlainScan {
    cursor: Option<String>,
    seen: HashSet<Key>,
    repeats: usize,
}

impl PlainScan {
    /// Scans up to the next page holding a key (or the end of a pass).
    async fn step(&mut self, client: &Client) {
        loop {
            let cursor = self.cursor.take().unwrap_or_else(|| "0".into());
            let (next, keys): (String, Vec<Key>) =
                client.scan_page(cursor, "app:*", Some(1), None).await.unwrap();
            for key in &keys {
                if !self.seen.insert(key.clone()) {
                    self.repeats += 1;
                }
            }
            if next == "0" {
                self.seen.clear();
                return;
            }
            self.cursor = Some(next);
            if !keys.is_empty() {
                return;
            }
        }
    }
}
