//! Rule 6 of the contract for documents the store holds but cannot read
//! (another program wrote them), in both layouts: `get` answers `Decode`,
//! `length` counts them, `all_stream` yields one error for each and goes on,
//! `all` skips them, and none of them stops a bulk read or the cache's feed.
//! Expired and destroyed ones stay gone, readable or not. Each test writes
//! raw documents over HTTP into a database of its own, deleted at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, cached_pair, couch_url, delete_at_end, session, unique_db, until};
use futures_util::StreamExt as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use session_core::{
    Error, Session, SessionId, Store,
    backend::{express::js_date, unix_millis},
};
use session_couch::{CouchStore, Layout};
use time::OffsetDateTime;

/// Documents per `_all_docs` page of the store's bulk reads (`PAGE` in
/// src/all_docs.rs).
const PAGE: usize = 500;

/// Marks a string of a document where its JSON text gets a lone surrogate
/// (`\ud800`): JSON that the server keeps, and that no Rust string can hold.
const LONE: &str = "LONE-SURROGATE";

/// A document's JSON text, every [`LONE`] made a lone surrogate.
fn text(doc: &Value) -> String {
    doc.to_string().replace(LONE, "\\ud800")
}

fn minutes(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(n)
}

/// The server's database, read and written without the store.
struct Raw {
    client: reqwest::Client,
    url: String,
}

impl Raw {
    fn new(db: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            url: format!("{}/{db}", couch_url()),
        }
    }

    /// Writes documents given as JSON text, each naming its `_id` (and its
    /// `_rev` when it replaces one): in the body, so an id may be one no URL
    /// can hold.
    async fn bulk(&self, docs: &[String]) {
        let body = format!("{{\"docs\":[{}]}}", docs.join(","));
        let response = self
            .client
            .post(format!("{}/_bulk_docs", self.url))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the CouchDB-compatible server answers (./scripts/test starts it)");
        let status = response.status();
        let reply = response.text().await.unwrap();
        assert!(
            status.is_success() && !reply.contains("\"error\""),
            "_bulk_docs: {status} {reply}"
        );
    }

    /// `_all_docs` with `query`, as the text the server sent: its ids and
    /// bodies may hold lone surrogates, which `serde_json::Value` refuses.
    async fn all_docs(&self, query: &[(&str, &str)]) -> String {
        let query: Vec<String> = query
            .iter()
            .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
            .collect();
        let url = format!("{}/_all_docs?{}", self.url, query.join("&"));
        let response = self.client.get(url).send().await.unwrap();
        assert!(response.status().is_success());
        response.text().await.unwrap()
    }

    /// Every document with its body and revision.
    async fn snapshot(&self) -> String {
        self.all_docs(&[("include_docs", "true")]).await
    }

    /// The id of every document. Fails the test on an id no Rust string
    /// holds.
    async fn ids(&self) -> Vec<String> {
        let page = self.all_docs(&[]).await;
        let page: Value = serde_json::from_str(&page)
            .unwrap_or_else(|e| panic!("a document under an id no Rust string holds is left ({e}): {page}"));
        let rows = page["rows"].as_array().unwrap();
        rows.iter()
            .map(|row| row["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The revision of the document `doc_id`.
    async fn rev(&self, doc_id: &str) -> String {
        let key = Value::from(doc_id).to_string();
        let page: Value = serde_json::from_str(&self.all_docs(&[("key", &key)]).await).unwrap();
        page["rows"][0]["value"]["rev"].as_str().unwrap().to_owned()
    }

    /// How many documents of `_all_docs` sort from `start` to before `end`.
    async fn rows_between(&self, start: &str, end: &str) -> usize {
        let (start, end) = (Value::from(start).to_string(), Value::from(end).to_string());
        let query = [
            ("startkey", start.as_str()),
            ("endkey", &end),
            ("inclusive_end", "false"),
        ];
        let page: Value = serde_json::from_str(&self.all_docs(&query).await).unwrap();
        page["rows"].as_array().unwrap().len()
    }

    /// The `_all_docs` row at `index` (from the first key `start`), as text.
    async fn row_at(&self, start: &str, index: usize) -> String {
        let (start, skip) = (Value::from(start).to_string(), index.to_string());
        let query = [("startkey", start.as_str()), ("skip", &skip), ("limit", "1")];
        self.all_docs(&query).await
    }
}

/// How each layout lays out a document.
#[derive(Clone, Copy)]
struct Kind {
    layout: Layout,
    /// The prefix of every session's document id.
    prefix: &'static str,
    /// A live session holding `n`.
    good: fn(&str, u64) -> Value,
    /// A live session whose data this layout cannot read.
    unreadable_data: fn(&str) -> Value,
    /// A session whose expiry this layout cannot read.
    unreadable_expiry: fn(&str) -> Value,
}

const NATIVE: Kind = Kind {
    layout: Layout::Native,
    prefix: "s:",
    good: |id, n| native(id, minutes(10), &format!("{{\"n\":{n}}}")),
    unreadable_data: |id| native(id, minutes(10), "not the codec's JSON"),
    unreadable_expiry: |id| with(native(id, minutes(10), "{}"), "expires_at", json!("tomorrow")),
};

const POUCH: Kind = Kind {
    layout: Layout::PouchDbStore,
    prefix: "",
    good: |id, n| pouch(id, json!(js_date(minutes(10)).unwrap()), n),
    unreadable_data: |id| {
        with(
            pouch(id, json!(js_date(minutes(10)).unwrap()), 0),
            "user",
            json!(LONE),
        )
    },
    unreadable_expiry: |id| pouch(id, json!("next tuesday"), 0),
};

/// A native document: `data` is the codec's JSON text.
fn native(id: &str, expires: OffsetDateTime, data: &str) -> Value {
    json!({"_id": format!("s:{id}"), "expires_at": unix_millis(expires), "destroyed": false, "data": data})
}

/// A session-pouchdb-store document whose cookie expires at `expires`.
fn pouch(id: &str, expires: Value, n: u64) -> Value {
    json!({
        "_id": id, "n": n, "$ts": unix_millis(OffsetDateTime::now_utc()), "$dirty": false,
        "cookie": {"originalMaxAge": 600_000, "expires": expires, "httpOnly": true, "path": "/"},
    })
}

fn with(mut doc: Value, key: &str, value: Value) -> Value {
    doc[key] = value;
    doc
}

fn without(mut doc: Value, key: &str) -> Value {
    doc.as_object_mut().map(|doc| doc.remove(key));
    doc
}

async fn store(db: &str, layout: Layout) -> CouchStore {
    builder(&couch_url(), db)
        .layout(layout)
        .build()
        .await
        .expect("the CouchDB-compatible server at COUCH_URL")
}

/// Three good sessions, written by the store.
async fn good_sessions(store: &CouchStore) -> Vec<(SessionId, Session)> {
    let mut good = Vec::new();
    for n in 0..3 {
        let id = SessionId::parse(&format!("good-{n}")).unwrap();
        store.set(&id, &session(n)).await.unwrap();
        good.push((id, session(n)));
    }
    good
}

/// What a database holds, as rule 6 sees it.
struct Expected<'a> {
    /// The sessions that read back.
    good: &'a [(SessionId, Session)],
    /// Live documents that cannot be read, by the id `get` reaches them by
    /// (`None` when no session id reaches them).
    unreadable: &'a [Option<SessionId>],
    /// Ids whose document is expired or destroyed, readable or not.
    gone: &'a [SessionId],
}

/// Checks every read of rule 6 against `expected`.
async fn assert_rule_6(store: &CouchStore, expected: &Expected<'_>) {
    for id in expected.unreadable.iter().flatten() {
        let got = store.get(id).await;
        assert!(matches!(got, Err(Error::Decode(_))), "get {id:?}: {got:?}");
    }
    for id in expected.gone {
        let got = store.get(id).await;
        assert!(matches!(got, Ok(None)), "get {id:?}: {got:?}");
    }
    for (id, session) in expected.good {
        let got = store.get(id).await.unwrap().expect("a good session");
        assert_eq!(got.data(), session.data(), "get {id:?}");
    }
    let live = expected.good.len() + expected.unreadable.len();
    assert_eq!(store.length().await.unwrap(), live as u64, "length");
    let (read, errors) = stream(store).await;
    assert_eq!(ids(&read), ids(expected.good), "all_stream's sessions");
    assert_eq!(errors, expected.unreadable.len(), "all_stream's errors");
    assert_eq!(ids(&store.all().await.unwrap()), ids(expected.good), "all");
}

/// What `all_stream` yields: its sessions, and how many unreadable records.
/// Any other error fails the test.
async fn stream(store: &CouchStore) -> (Vec<(SessionId, Session)>, usize) {
    let items: Vec<_> = store.all_stream().collect().await;
    let mut read = Vec::new();
    let mut unreadable = 0;
    for item in items {
        match item {
            Ok(session) => read.push(session),
            Err(Error::Decode(_) | Error::InvalidId(_)) => unreadable += 1,
            Err(other) => panic!("all_stream failed: {other:?}"),
        }
    }
    (read, unreadable)
}

fn ids(sessions: &[(SessionId, Session)]) -> Vec<String> {
    let mut ids: Vec<String> = sessions.iter().map(|(id, _)| id.as_str().to_owned()).collect();
    ids.sort();
    ids
}

fn id(text: &str) -> SessionId {
    SessionId::parse(text).unwrap()
}

#[tokio::test]
async fn native_documents_it_cannot_read_count_and_surface_as_errors() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, Layout::Native).await;
    let raw = Raw::new(&db);
    let good = good_sessions(&store).await;
    let soon = minutes(10);
    raw.bulk(&[
        text(&native("codec-garbage", soon, "not the codec's JSON")),
        // The document's own string holds the surrogate...
        text(&native("doc-surrogate", soon, &format!("{{\"n\":\"{LONE}\"}}"))),
        // ...or the codec's JSON inside it does.
        text(&native("codec-surrogate", soon, r#"{"n":"\ud800"}"#)),
        text(&with(
            native("bad-expiry", soon, "{}"),
            "expires_at",
            json!("tomorrow"),
        )),
        text(&with(
            native("bad-tombstone", soon, "{}"),
            "destroyed",
            json!("no"),
        )),
        text(&native("bad id", soon, "{}")),
    ])
    .await;
    let before = raw.snapshot().await;

    let unreadable = [
        "codec-garbage",
        "doc-surrogate",
        "codec-surrogate",
        "bad-expiry",
        "bad-tombstone",
    ]
    .map(|name| Some(id(name)));
    let expected = Expected {
        good: &good,
        unreadable: &[&unreadable[..], &[None]].concat(),
        gone: &[],
    };
    assert_rule_6(&store, &expected).await;
    assert_eq!(raw.snapshot().await, before, "reads change no document");
}

#[tokio::test]
async fn native_expired_and_destroyed_documents_stay_gone_however_unreadable() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, Layout::Native).await;
    let raw = Raw::new(&db);
    let good = good_sessions(&store).await;
    let garbage = format!("{{\"n\":\"{LONE}\"}}");
    raw.bulk(&[
        text(&native("expired", minutes(-1), &garbage)),
        text(&with(
            native("destroyed", minutes(10), &garbage),
            "destroyed",
            json!(true),
        )),
        text(&native("expired bad id", minutes(-1), "{}")),
    ])
    .await;

    let expected = Expected {
        good: &good,
        unreadable: &[],
        gone: &[id("expired"), id("destroyed")],
    };
    assert_rule_6(&store, &expected).await;
}

#[tokio::test]
async fn pouch_documents_it_cannot_read_count_and_surface_as_errors() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, Layout::PouchDbStore).await;
    let raw = Raw::new(&db);
    let good = good_sessions(&store).await;
    let soon = json!(js_date(minutes(10)).unwrap());
    raw.bulk(&[
        text(&with(
            pouch("data-surrogate", soon.clone(), 1),
            "user",
            json!(LONE),
        )),
        text(&pouch("expires-malformed", json!("next tuesday"), 2)),
        text(&pouch("expires-not-a-date", json!(true), 3)),
        text(&pouch("expires-surrogate", json!(LONE), 4)),
        text(&without(pouch("no-expiry-no-ts", Value::Null, 5), "$ts")),
        text(&with(
            pouch("bad-tombstone", soon.clone(), 6),
            "$destroyed",
            json!(LONE),
        )),
        text(&pouch("bad id", soon, 7)),
        // The database is session-pouchdb-store's, which holds only
        // sessions: a document without a cookie object is one it cannot read.
        text(&without(pouch("no-cookie", Value::Null, 8), "cookie")),
        text(&with(
            pouch("cookie-not-an-object", Value::Null, 9),
            "cookie",
            json!("x"),
        )),
    ])
    .await;
    let before = raw.snapshot().await;

    let unreadable = [
        "data-surrogate",
        "expires-malformed",
        "expires-not-a-date",
        "expires-surrogate",
        "no-expiry-no-ts",
        "bad-tombstone",
        "no-cookie",
        "cookie-not-an-object",
    ]
    .map(|name| Some(id(name)));
    let expected = Expected {
        good: &good,
        unreadable: &[&unreadable[..], &[None]].concat(),
        gone: &[],
    };
    assert_rule_6(&store, &expected).await;
    assert_eq!(raw.snapshot().await, before, "reads change no document");
}

#[tokio::test]
async fn pouch_expired_and_destroyed_documents_stay_gone_however_unreadable() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, Layout::PouchDbStore).await;
    let raw = Raw::new(&db);
    let good = good_sessions(&store).await;
    let past = json!(js_date(minutes(-1)).unwrap());
    let until = json!(unix_millis(minutes(10)));
    raw.bulk(&[
        text(&with(pouch("expired", past.clone(), 1), "user", json!(LONE))),
        text(&with(
            with(pouch("destroyed", json!(LONE), 2), "$destroyed", until),
            "user",
            json!(LONE),
        )),
        text(&pouch("expired bad id", past, 3)),
    ])
    .await;

    let expected = Expected {
        good: &good,
        unreadable: &[],
        gone: &[id("expired"), id("destroyed")],
    };
    assert_rule_6(&store, &expected).await;
}

/// More than a page of sessions, with unreadable ones in the middle of the
/// first page, as its very last row (under an id no Rust string holds,
/// which the next page starts after) and in the second page.
async fn paging_goes_on_past_unreadable_documents(kind: Kind) {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, kind.layout).await;
    let raw = Raw::new(&db);
    // Documents the store reads before ours (the layout's index) shift the rows.
    let last_of_page = PAGE - 1 - raw.rows_between(kind.prefix, &format!("{}p", kind.prefix)).await;
    let total = PAGE + 20;
    let mut docs = Vec::new();
    let mut good = Vec::new();
    for position in 0..total {
        let name = format!("p{position:04}");
        let doc = if position == last_of_page {
            (kind.good)(&format!("{name}{LONE}"), 0)
        } else if position == PAGE / 5 {
            (kind.unreadable_data)(&name)
        } else if position == PAGE + 10 {
            (kind.unreadable_expiry)(&name)
        } else {
            good.push((id(&name), session(position as u64)));
            (kind.good)(&name, position as u64)
        };
        docs.push(text(&doc));
    }
    raw.bulk(&docs).await;
    let row = raw.row_at(kind.prefix, PAGE - 1).await;
    assert!(
        row.contains("\\ud800"),
        "the first page ends on the unreadable id: {row}"
    );

    let expected = Expected {
        good: &good,
        unreadable: &[None, None, None],
        gone: &[],
    };
    assert_rule_6(&store, &expected).await;
}

#[tokio::test]
async fn native_paging_goes_on_past_unreadable_documents() {
    paging_goes_on_past_unreadable_documents(NATIVE).await;
}

#[tokio::test]
async fn pouch_paging_goes_on_past_unreadable_documents() {
    paging_goes_on_past_unreadable_documents(POUCH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_synced_cache_drops_a_session_overwritten_unreadable_and_follows_on() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let (a, b) = cached_pair(
        &couch_url(),
        &db,
        Duration::from_millis(500),
        Duration::from_secs(5),
    )
    .await;
    let raw = Raw::new(&db);
    let (x, z) = (id("overwritten"), id("followed"));
    a.set(&x, &session(1)).await.unwrap();
    a.set(&z, &session(2)).await.unwrap();
    assert!(a.cached(&x).await.is_some() && a.cached(&z).await.is_some());

    // Another program overwrites x with data no Rust string holds, and
    // writes a session under an id no Rust string holds.
    let rev = raw.rev("s:overwritten").await;
    let overwrite = with(
        native("overwritten", minutes(10), &format!("{{\"n\":\"{LONE}\"}}")),
        "_rev",
        json!(rev),
    );
    raw.bulk(&[
        text(&overwrite),
        text(&native(&format!("feed{LONE}"), minutes(10), "{}")),
    ])
    .await;
    until("a's feed drops x", Duration::from_secs(5), async || {
        a.cached(&x).await.is_none()
    })
    .await;
    assert!(matches!(a.get(&x).await, Err(Error::Decode(_))));

    // The feed goes on past both documents.
    b.set(&z, &session(3)).await.unwrap();
    until("a's cache follows z", Duration::from_secs(5), async || {
        a.cached(&z).await.and_then(|s| s.get::<u64>("n").unwrap()) == Some(3)
    })
    .await;
    assert!(a.is_synced());
    assert!(a.cached(&x).await.is_none(), "nothing unreadable is cached");
    let expected = Expected {
        good: &[(z.clone(), session(3))],
        unreadable: &[Some(x.clone()), None],
        gone: &[],
    };
    assert_rule_6(&a, &expected).await;
}

/// Rule 7 past documents no Rust string can name: `clear` removes sessions
/// under ids holding a lone surrogate (readable or not) along with the
/// rest, and every tombstone; what is left of the database is returned.
/// `others` are documents of other kinds, `sessions` of them sessions.
async fn clear_removes_sessions_under_ids_no_rust_string_holds(
    kind: Kind,
    db: &str,
    others: &[Value],
    sessions: u64,
) -> Vec<String> {
    let store = store(db, kind.layout).await;
    let raw = Raw::new(db);
    good_sessions(&store).await;
    let destroyed = id("destroyed");
    store.set(&destroyed, &session(1)).await.unwrap();
    store.destroy(&destroyed).await.unwrap();
    let mut docs = vec![
        text(&(kind.good)(&format!("good{LONE}"), 1)),
        text(&(kind.unreadable_data)(&format!("data{LONE}"))),
        text(&(kind.unreadable_expiry)(&format!("expiry{LONE}"))),
        text(&(kind.unreadable_data)("data")),
    ];
    docs.extend(others.iter().map(text));
    raw.bulk(&docs).await;
    assert_eq!(store.length().await.unwrap(), 3 + 4 + sessions);

    store.clear().await.unwrap();
    assert_eq!(store.length().await.unwrap(), 0);
    let left = raw.ids().await;
    // The tombstone went too.
    store.create(&destroyed, &session(2)).await.unwrap();
    left
}

#[tokio::test]
async fn native_clear_removes_sessions_under_ids_no_rust_string_holds() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let other = json!({"_id": "other", "n": 1});
    let left = clear_removes_sessions_under_ids_no_rust_string_holds(NATIVE, &db, &[other], 0).await;
    assert!(left.iter().all(|id| !id.starts_with("s:")), "{left:?}");
    assert!(
        left.contains(&"other".to_owned()),
        "clear leaves what is not the store's: {left:?}"
    );
}

#[tokio::test]
async fn pouch_clear_removes_sessions_under_ids_no_rust_string_holds() {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let others = [
        json!({"_id": "_design/app", "views": {}}),
        json!({"_id": "no-cookie", "n": 1}),
        json!({"_id": format!("no-cookie{LONE}"), "n": LONE}),
    ];
    let left = clear_removes_sessions_under_ids_no_rust_string_holds(POUCH, &db, &others, 2).await;
    assert!(left.iter().all(|id| id.starts_with("_design/")), "{left:?}");
    assert!(left.contains(&"_design/app".to_owned()), "{left:?}");
}

/// A session the store cannot read is live to the writes as to the reads:
/// `create` does not replace it and `touch` cannot read it, as neither
/// could a live session's; `set` replaces it and `destroy` ends it.
async fn writes_take_an_unreadable_session_as_live(kind: Kind) {
    let db = unique_db("unread");
    let _deleted = delete_at_end(&db);
    let store = store(&db, kind.layout).await;
    let raw = Raw::new(&db);
    let unreadable = |suffix: &str| {
        [
            (kind.unreadable_data)(&format!("data{suffix}")),
            (kind.unreadable_expiry)(&format!("expiry{suffix}")),
        ]
        .map(|doc| text(&doc))
    };
    raw.bulk(&unreadable("")).await;
    let before = raw.snapshot().await;
    for name in ["data", "expiry"] {
        let created = store.create(&id(name), &session(1)).await;
        assert!(
            matches!(created, Err(Error::AlreadyExists)),
            "create {name}: {created:?}"
        );
        let touched = store.touch(&id(name), Some(minutes(20))).await;
        assert!(
            matches!(touched, Err(Error::Decode(_))),
            "touch {name}: {touched:?}"
        );
    }
    assert_eq!(raw.snapshot().await, before, "neither is replaced");

    raw.bulk(&unreadable("-ended")).await;
    for name in ["data", "expiry"] {
        store.set(&id(name), &session(2)).await.unwrap();
        let got = store.get(&id(name)).await.unwrap().expect("the session set");
        assert_eq!(got.data(), session(2).data(), "set {name}");
        let ended = id(&format!("{name}-ended"));
        store.destroy(&ended).await.unwrap();
        assert_eq!(store.get(&ended).await.unwrap(), None, "destroy {name}");
        let created = store.create(&ended, &session(3)).await;
        assert!(
            matches!(created, Err(Error::Destroyed)),
            "create {name}-ended: {created:?}"
        );
    }
    assert_eq!(store.length().await.unwrap(), 2);
}

#[tokio::test]
async fn native_writes_take_an_unreadable_session_as_live() {
    writes_take_an_unreadable_session_as_live(NATIVE).await;
}

#[tokio::test]
async fn pouch_writes_take_an_unreadable_session_as_live() {
    writes_take_an_unreadable_session_as_live(POUCH).await;
}
