//! Rule 10 on CouchDB, beyond the conformance suite: `set_if_unchanged`
//! is compared by the server's own revision check, so a write made behind
//! the store's back (a Node process, a raw PUT) is never overwritten; two
//! cached processes keep each other's updates; a token the store did not
//! hand out never matches; a tombstone answers `Destroyed`. Every check
//! runs in each configuration (native layout with and without the cache,
//! the PouchDbStore layout), each on a database of its own, deleted at the
//! end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{builder, cached_pair, couch_url, delete_at_end, unique_db, until};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use session_core::{Changes, Error, Session, SessionId, Store, Version};
use session_couch::{CouchStore, Layout, node_shareable_id};
use time::OffsetDateTime;
use tokio::sync::Barrier;

/// A store configuration every check runs in.
#[derive(Debug, Clone, Copy)]
enum Config {
    Native,
    NativeCached,
    Pouch,
}

const CONFIGS: [Config; 3] = [Config::Native, Config::NativeCached, Config::Pouch];

impl Config {
    /// A store on database `db`; a cached one has its feed connected.
    async fn store(self, db: &str) -> CouchStore {
        let builder = builder(&couch_url(), db);
        let store = match self {
            Self::Native => builder.build(),
            Self::NativeCached => builder.cache(true).heartbeat(Duration::from_millis(500)).build(),
            Self::Pouch => builder.layout(Layout::PouchDbStore).build(),
        }
        .await
        .unwrap_or_else(|e| panic!("{self:?}: the CouchDB-compatible server must be reachable: {e}"));
        if matches!(self, Self::NativeCached) {
            until("the feed connects", Duration::from_secs(10), async || {
                store.is_synced()
            })
            .await;
        }
        store
    }

    /// The document id the layout stores `id` under.
    fn doc_id(self, id: &SessionId) -> String {
        match self {
            Self::Native | Self::NativeCached => format!("s:{}", id.as_str()),
            Self::Pouch => id.as_str().to_owned(),
        }
    }

    /// `doc` with its data replaced by `data`, as another program writes it.
    fn with_data(self, mut doc: Value, data: &Value) -> Value {
        match self {
            Self::Native | Self::NativeCached => doc["data"] = json!(data.to_string()),
            Self::Pouch => {
                let object = doc.as_object_mut().unwrap();
                object.retain(|key, _| key.starts_with('_') || key == "cookie" || key.starts_with('$'));
                object.extend(data.as_object().unwrap().clone());
            }
        }
        doc
    }
}

/// The database as the server holds it, read and written without the store.
struct Raw {
    client: reqwest::Client,
    db: String,
}

impl Raw {
    fn new(db: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            db: format!("{}/{db}", couch_url()),
        }
    }

    fn url(&self, doc_id: &str) -> String {
        format!("{}/{}", self.db, utf8_percent_encode(doc_id, NON_ALPHANUMERIC))
    }

    async fn doc(&self, doc_id: &str) -> Value {
        let response = self.client.get(self.url(doc_id)).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "GET {doc_id}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Writes `doc` (naming its `_rev`) as PouchDB or Express would; its new revision.
    async fn put(&self, doc_id: &str, doc: &Value) -> String {
        let response = self.client.put(self.url(doc_id)).json(doc).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "PUT {doc_id}: {}",
            response.status()
        );
        let reply: Value = response.json().await.unwrap();
        reply["rev"].as_str().unwrap().to_owned()
    }
}

/// A session holding `data`, live for ten minutes.
fn session(data: &Value) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(600));
    for (key, value) in data.as_object().unwrap() {
        session.insert(key, value.clone()).unwrap();
    }
    session
}

/// The data stored under `id`, as a JSON object (`None` when nothing is live).
async fn stored(store: &dyn Store, id: &SessionId) -> Option<Value> {
    let session = store.get(id).await.unwrap()?;
    Some(Value::Object(session.into_data().into_iter().collect()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_made_behind_the_stores_back_is_never_overwritten() {
    for config in CONFIGS {
        let db = unique_db("cond_raw");
        let _deleted = delete_at_end(&db);
        let (store, raw) = (config.store(&db).await, Raw::new(&db));
        let id = node_shareable_id();
        let doc_id = config.doc_id(&id);
        store.set(&id, &session(&json!({ "by": "store" }))).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();

        // Between the read and the write: another program, naming the current revision.
        let doc = raw.doc(&doc_id).await;
        let raw_rev = raw
            .put(&doc_id, &config.with_data(doc, &json!({ "by": "raw" })))
            .await;

        let stale = session(&json!({ "by": "stale" }));
        let written = store.set_if_unchanged(&id, &stale, &read.version).await;
        assert!(matches!(written, Err(Error::Conflict)), "{config:?}: {written:?}");
        assert_eq!(
            raw.doc(&doc_id).await["_rev"],
            json!(raw_rev),
            "{config:?}: the raw write stays"
        );
        assert_eq!(
            stored(&store, &id).await,
            Some(json!({ "by": "raw" })),
            "{config:?}"
        );
        if matches!(config, Config::NativeCached) {
            let cached = store.cached(&id).await.map(Session::into_data);
            assert_ne!(
                cached.and_then(|data| data.get("by").cloned()),
                Some(json!("store")),
                "the conflict dropped the stale entry"
            );
        }

        // `update` after such a conflict lands on the raw write at once.
        let mut changes = Changes::new();
        changes.set("more", json!(1));
        let mine = changes.applied_to(&read.session);
        store.update(&id, &mine, &changes, &read.version).await.unwrap();
        assert_eq!(
            stored(&store, &id).await,
            Some(json!({ "by": "raw", "more": 1 })),
            "{config:?}: the update merged onto the raw write"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_cached_processes_keep_every_concurrent_update() {
    const WRITERS: usize = 16;
    let db = unique_db("cond_pair");
    let _deleted = delete_at_end(&db);
    let (a, b) = cached_pair(
        &couch_url(),
        &db,
        Duration::from_millis(500),
        Duration::from_secs(10),
    )
    .await;
    let (a, b): (Arc<dyn Store>, Arc<dyn Store>) = (Arc::new(a), Arc::new(b));
    let id = SessionId::generate();
    a.set(&id, &session(&json!({ "base": true }))).await.unwrap();
    // Both caches hold the session, as processes serving its requests would.
    assert!(b.get(&id).await.unwrap().is_some());

    let barrier = Arc::new(Barrier::new(WRITERS));
    let writers = (0..WRITERS).map(|writer| {
        let store = Arc::clone(if writer % 2 == 0 { &a } else { &b });
        let (id, barrier) = (id.clone(), Arc::clone(&barrier));
        tokio::spawn(async move {
            // Every request reads before any writes.
            let read = store.get_versioned(&id).await.unwrap().unwrap();
            barrier.wait().await;
            let mut changes = Changes::new();
            changes.set(format!("key{writer}"), json!(writer));
            let session = changes.applied_to(&read.session);
            store.update(&id, &session, &changes, &read.version).await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap().unwrap();
    }

    let server = builder(&couch_url(), &db).build().await.unwrap(); // no cache: the server's word
    let data = stored(&server, &id).await.unwrap();
    let mut expected = json!({ "base": true });
    for writer in 0..WRITERS {
        expected[format!("key{writer}")] = json!(writer);
    }
    assert_eq!(data, expected, "every update's key kept");
    for store in [&a, &b] {
        assert_eq!(
            stored(&**store, &id).await,
            Some(expected.clone()),
            "read your writes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_the_store_did_not_hand_out_never_matches() {
    for config in CONFIGS {
        let db = unique_db("cond_garbage");
        let _deleted = delete_at_end(&db);
        let store = config.store(&db).await;
        let id = node_shareable_id();
        store.set(&id, &session(&json!({ "n": 1 }))).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        let real = read.version.token().unwrap().to_vec();
        let mut tokens = vec![
            Version::from_token(b"garbage"),
            Version::from_token([0xff, 0xfe, 0x00]),
            Version::from_token(b""),
            Version::from_token(b"99999999999999 1-"),
            Version::from_token(b"99999999999999 zz"),
            // Well formed, but a revision the document never had.
            Version::from_token(b"99999999999999 1-0123456789abcdef0123456789abcdef"),
            Version::from_token(b"99999999999999 77-0123456789abcdef0123456789abcdef"),
        ];
        // The real token, cut short or with a byte more.
        tokens.push(Version::from_token(&real[..real.len() - 1]));
        tokens.push(Version::from_token([&real[..], b"0"].concat()));
        for token in &tokens {
            let written = store
                .set_if_unchanged(&id, &session(&json!({ "n": 2 })), token)
                .await;
            assert!(
                matches!(written, Err(Error::Conflict)),
                "{config:?}, token {:?}: {written:?}",
                token.token()
            );
        }
        assert_eq!(stored(&store, &id).await, Some(json!({ "n": 1 })), "{config:?}");
        // Its own token still matches: none of the above moved the revision.
        store
            .set_if_unchanged(&id, &session(&json!({ "n": 3 })), &read.version)
            .await
            .unwrap();
        assert_eq!(stored(&store, &id).await, Some(json!({ "n": 3 })), "{config:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destroyed_session_answers_destroyed_whatever_the_token() {
    for config in CONFIGS {
        let db = unique_db("cond_destroyed");
        let _deleted = delete_at_end(&db);
        let store = config.store(&db).await;
        let id = node_shareable_id();
        store.set(&id, &session(&json!({ "n": 1 }))).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        store.destroy(&id).await.unwrap();
        for token in [read.version.clone(), Version::from_token(b"garbage")] {
            let written = store
                .set_if_unchanged(&id, &session(&json!({ "back": true })), &token)
                .await;
            assert!(
                matches!(written, Err(Error::Destroyed)),
                "{config:?}: {written:?}"
            );
            assert_eq!(stored(&store, &id).await, None, "{config:?}: nothing stored");
        }
        let mut changes = Changes::new();
        changes.set("back", json!(true));
        let updated = store
            .update(&id, &changes.applied_to(&read.session), &changes, &read.version)
            .await;
        assert!(
            matches!(updated, Err(Error::Destroyed)),
            "{config:?}: {updated:?}"
        );
        assert_eq!(stored(&store, &id).await, None, "{config:?}: nothing stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_that_expired_since_it_was_read_conflicts() {
    for config in CONFIGS {
        let db = unique_db("cond_expired");
        let _deleted = delete_at_end(&db);
        let store = config.store(&db).await;
        let id = node_shareable_id();
        let soon = OffsetDateTime::now_utc() + Duration::from_millis(1500);
        let mut brief = Session::new().expiring_at(soon);
        brief.insert("n", 1).unwrap();
        store.set(&id, &brief).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(1600)).await;
        // Still at the revision read, but no longer live.
        let written = store
            .set_if_unchanged(&id, &session(&json!({ "n": 2 })), &read.version)
            .await;
        assert!(matches!(written, Err(Error::Conflict)), "{config:?}: {written:?}");
        assert_eq!(stored(&store, &id).await, None, "{config:?}: nothing stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conditional_write_of_a_past_expiry_removes_only_at_the_version_read() {
    for config in CONFIGS {
        let db = unique_db("cond_remove");
        let _deleted = delete_at_end(&db);
        let store = config.store(&db).await;
        let id = node_shareable_id();
        store.set(&id, &session(&json!({ "n": 1 }))).await.unwrap();
        let stale = store.get_versioned(&id).await.unwrap().unwrap();
        store.set(&id, &session(&json!({ "n": 2 }))).await.unwrap();
        let current = store.get_versioned(&id).await.unwrap().unwrap();
        let mut ended = Session::new().expiring_at(OffsetDateTime::now_utc() - Duration::from_secs(1));
        ended.insert("n", 3).unwrap();

        let refused = store.set_if_unchanged(&id, &ended, &stale.version).await;
        assert!(matches!(refused, Err(Error::Conflict)), "{config:?}: {refused:?}");
        assert_eq!(stored(&store, &id).await, Some(json!({ "n": 2 })), "{config:?}");

        store
            .set_if_unchanged(&id, &ended, &current.version)
            .await
            .unwrap();
        assert_eq!(stored(&store, &id).await, None, "{config:?}: removed");
        assert_eq!(store.length().await.unwrap(), 0, "{config:?}");
    }
}
