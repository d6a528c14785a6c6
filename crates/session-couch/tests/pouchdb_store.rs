//! session-pouchdb-store's layout at the storage level: exactly the
//! documents Node's session-pouchdb-store 0.4.1 writes and reads, against
//! the real CouchDB-compatible server. Each test uses a database of its own
//! and deletes it at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use session_core::backend::SessionParts;
use std::{sync::Arc, time::Duration};

use common::{couch_url, unique_db};
use futures_util::StreamExt as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use session_core::{
    Error, Session, SessionId, Store,
    backend::express::js_date,
    backend::{truncate_to_millis, unix_millis},
    clock::SkewedClock,
};
use session_couch::{CouchStore, CouchStoreBuilder, Layout};
use time::OffsetDateTime;

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

    fn doc_url(&self, doc_id: &str) -> String {
        format!("{}/{}", self.db, utf8_percent_encode(doc_id, NON_ALPHANUMERIC))
    }

    async fn json(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request
            .header("Accept", "application/json")
            .send()
            .await
            .expect("the CouchDB-compatible server answers (./scripts/test starts it)");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Writes `body` (naming its `_rev`, if any) under `doc_id`; its new revision.
    async fn put(&self, doc_id: &str, body: Value) -> String {
        let (status, reply) = Self::json(self.client.put(self.doc_url(doc_id)).json(&body)).await;
        assert!(status.is_success(), "PUT {doc_id}: {status} {reply}");
        reply["rev"].as_str().unwrap().to_owned()
    }

    /// The live document under `doc_id`, if any.
    async fn doc(&self, doc_id: &str) -> Option<Value> {
        let (status, body) = Self::json(self.client.get(self.doc_url(doc_id))).await;
        (status == StatusCode::OK).then_some(body)
    }

    /// Every leaf revision of `doc_id`, deleted ones included.
    async fn leaves(&self, doc_id: &str) -> Vec<Value> {
        let url = format!("{}?open_revs=all", self.doc_url(doc_id));
        let (_, body) = Self::json(self.client.get(url)).await;
        let leaves = body.as_array().cloned().unwrap_or_default();
        leaves
            .into_iter()
            .filter_map(|leaf| leaf.get("ok").cloned())
            .collect()
    }

    /// Revision `rev` of `doc_id`, with its history.
    async fn revision(&self, doc_id: &str, rev: &str) -> Value {
        let url = format!("{}?rev={rev}&revs=true", self.doc_url(doc_id));
        Self::json(self.client.get(url)).await.1
    }

    /// The revision before `doc`'s own, from its history.
    async fn previous(&self, doc_id: &str, doc: &Value) -> Value {
        let rev = doc["_rev"].as_str().unwrap();
        let history = &self.revision(doc_id, rev).await["_revisions"];
        let previous = format!(
            "{}-{}",
            history["start"].as_u64().unwrap() - 1,
            history["ids"][1].as_str().unwrap()
        );
        self.revision(doc_id, &previous).await
    }

    async fn drop_db(&self) {
        let (status, reply) = Self::json(self.client.delete(&self.db)).await;
        assert!(status.is_success(), "DELETE database: {status} {reply}");
    }
}

fn builder(db: &str) -> CouchStoreBuilder {
    common::builder(&couch_url(), db).layout(Layout::PouchDbStore)
}

async fn store(db: &str) -> CouchStore {
    builder(db)
        .build()
        .await
        .expect("the CouchDB-compatible server at COUCH_URL")
}

/// An id session-pouchdb-store can hold: not one of the one in 64
/// express-session ids that start with `_`, which CouchDB refuses.
fn node_sid() -> SessionId {
    loop {
        let id = SessionId::generate();
        if !id.as_str().starts_with('_') {
            return id;
        }
    }
}

fn in_(duration: time::Duration) -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc() + duration)
}

/// A document as session-pouchdb-store 0.4.1 commits it for a user whose
/// cookie (maxAge one day, `secure`, `sameSite: lax`) expires at `expires`:
/// express-session's JSON, then the `_id`, `$ts` and `$dirty` the store
/// adds.
fn node_doc(id: &str, expires: OffsetDateTime, user: &str) -> Value {
    json!({
        "cookie": {"originalMaxAge": 86_400_000, "expires": js_date(expires).unwrap(), "secure": true,
                   "httpOnly": true, "path": "/", "sameSite": "lax"},
        "user": user, "visits": 3,
        "_id": id, "$ts": unix_millis(OffsetDateTime::now_utc()), "$dirty": false
    })
}

fn keys(doc: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn rust_writes_the_document_session_pouchdb_store_reads() {
    let db = unique_db("pouch");
    // An hour behind the system clock: `$ts` is the store's clock.
    let behind = Arc::new(SkewedClock::new(time::Duration::hours(-1)));
    let store = builder(&db).clock(behind).build().await.unwrap();
    let raw = Raw::new(&db);
    let id = node_sid();
    let expires = in_(time::Duration::hours(1));
    let mut session = Session::new().expiring_at(expires);
    session.insert("user", "ada").unwrap();
    session.insert("cart", json!([1, 2])).unwrap();

    let before = unix_millis(OffsetDateTime::now_utc() - time::Duration::hours(1));
    store.set(&id, &session).await.unwrap();
    let after = unix_millis(OffsetDateTime::now_utc() - time::Duration::hours(1));

    let doc = raw
        .doc(id.as_str())
        .await
        .expect("the document, under the id itself");
    assert_eq!(keys(&doc), ["$ts", "_id", "_rev", "cart", "cookie", "user"]);
    assert_eq!(doc["_id"], json!(id.as_str()));
    assert!(doc["_rev"].as_str().unwrap().starts_with("1-"));
    assert_eq!(doc["user"], json!("ada"));
    assert_eq!(doc["cart"], json!([1, 2]));
    assert_eq!(
        doc.get("$dirty"),
        None,
        "a Node process merging it must keep its own uncommitted change"
    );
    let ts = doc["$ts"].as_i64().unwrap();
    assert!(
        (before..=after).contains(&ts),
        "$ts {ts} not in {before}..={after}"
    );
    let cookie = &doc["cookie"];
    assert_eq!(keys(cookie), ["expires", "httpOnly", "originalMaxAge", "path"]);
    let date = cookie["expires"].as_str().unwrap();
    assert_eq!(date, js_date(expires).unwrap());
    assert_eq!(
        date.len(),
        "2030-01-02T03:04:05.678Z".len(),
        "JavaScript's toISOString form"
    );
    assert_eq!(
        (&cookie["httpOnly"], &cookie["path"]),
        (&json!(true), &json!("/"))
    );
    let max_age = cookie["originalMaxAge"].as_i64().unwrap();
    assert!((3_590_000..=3_600_000).contains(&max_age), "{max_age}");

    // An update carries the revision and stamps `$ts` again.
    session.insert("user", "bob").unwrap();
    store.set(&id, &session).await.unwrap();
    let doc = raw.doc(id.as_str()).await.unwrap();
    assert!(doc["_rev"].as_str().unwrap().starts_with("2-"));
    assert_eq!(doc["user"], json!("bob"));
    raw.drop_db().await;
}

#[tokio::test]
async fn rust_reads_the_document_session_pouchdb_store_writes() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    let id = node_sid();
    let expires = in_(time::Duration::milliseconds(3_600_123));
    let mut node = node_doc(id.as_str(), expires, "bob");
    node["$commit"] = json!(true);
    raw.put(id.as_str(), node).await;

    let session = store.get(&id).await.unwrap().expect("Node's session");
    let data: Vec<&String> = session.data().keys().collect();
    assert_eq!(data, ["user", "visits"], "only the app's keys are data");
    assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("bob"));
    assert_eq!(
        session.expires_at(),
        Some(expires),
        "cookie.expires, to the millisecond"
    );
    let cookie = session.express_cookie().unwrap();
    assert_eq!(
        (cookie.get("sameSite"), cookie.get("secure")),
        (Some(&json!("lax")), Some(&json!(true)))
    );
    assert_eq!(store.length().await.unwrap(), 1);
    assert_eq!(store.all().await.unwrap(), vec![(id.clone(), session.clone())]);

    // Rust changes the data: Node's cookie comes back whole, `$commit` does not.
    let mut changed = session.clone();
    changed.insert("visits", 4).unwrap();
    store.set(&id, &changed).await.unwrap();
    let doc = raw.doc(id.as_str()).await.unwrap();
    assert!(
        doc["_rev"].as_str().unwrap().starts_with("2-"),
        "the revision was carried"
    );
    assert_eq!(doc["visits"], json!(4));
    assert_eq!(
        doc["cookie"],
        json!({"originalMaxAge": 86_400_000, "expires": js_date(expires).unwrap(), "secure": true,
               "httpOnly": true, "path": "/", "sameSite": "lax"})
    );
    assert_eq!(doc.get("$commit"), None);

    // Expired by `cookie.expires` on the store's clock, whatever the database holds.
    let past = raw.doc(id.as_str()).await.unwrap();
    let mut past = past.as_object().unwrap().clone();
    past["cookie"]["expires"] = json!(js_date(in_(time::Duration::seconds(-1))).unwrap());
    raw.put(id.as_str(), Value::Object(past)).await;
    assert_eq!(store.get(&id).await.unwrap(), None);
    assert_eq!(store.length().await.unwrap(), 0);
    raw.drop_db().await;
}

#[tokio::test]
async fn a_browser_session_cookie_lives_the_default_ttl_from_its_ts() {
    let db = unique_db("pouch");
    let store = builder(&db)
        .default_ttl(Duration::from_secs(2 * 3600))
        .build()
        .await
        .unwrap();
    let raw = Raw::new(&db);
    let browser = |ts: OffsetDateTime| {
        json!({"cookie": {"originalMaxAge": null, "expires": null, "httpOnly": true, "path": "/"},
               "user": "u1", "$ts": unix_millis(ts), "$dirty": false})
    };
    let (recent, stale) = (node_sid(), node_sid());
    let an_hour_ago = in_(time::Duration::hours(-1));
    raw.put(recent.as_str(), browser(an_hour_ago)).await;
    raw.put(stale.as_str(), browser(in_(time::Duration::hours(-3))))
        .await;

    let session = store
        .get(&recent)
        .await
        .unwrap()
        .expect("an hour into a two-hour TTL");
    assert_eq!(session.expires_at(), Some(an_hour_ago + time::Duration::hours(2)));
    assert_eq!(store.get(&stale).await.unwrap(), None);
    assert_eq!(store.length().await.unwrap(), 1);

    // A touch without an expiry keeps the browser-session cookie and moves `$ts`.
    store.touch(&recent, None).await.unwrap();
    let doc = raw.doc(recent.as_str()).await.unwrap();
    assert_eq!(doc["cookie"]["expires"], Value::Null);
    assert!(doc["$ts"].as_i64().unwrap() > unix_millis(an_hour_ago) + 3_000_000);
    assert_eq!(doc["user"], json!("u1"));
    raw.drop_db().await;
}

#[tokio::test]
async fn touch_moves_cookie_expires_and_ts_as_nodes_touch_does() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    let id = node_sid();
    let mut node = node_doc(id.as_str(), in_(time::Duration::minutes(5)), "ada");
    node["$ts"] = json!(unix_millis(in_(time::Duration::minutes(-5))));
    raw.put(id.as_str(), node).await;

    let later = in_(time::Duration::hours(2));
    let before = unix_millis(OffsetDateTime::now_utc());
    store.touch(&id, Some(later)).await.unwrap();
    let doc = raw.doc(id.as_str()).await.unwrap();
    assert_eq!(doc["cookie"]["expires"], json!(js_date(later).unwrap()));
    assert!(
        doc["$ts"].as_i64().unwrap() >= before,
        "`$ts` is the touch's time"
    );
    assert_eq!(
        doc["cookie"]["originalMaxAge"],
        json!(86_400_000),
        "as Node's touch leaves it"
    );
    assert_eq!((&doc["user"], &doc["visits"]), (&json!("ada"), &json!(3)));
    assert!(doc["_rev"].as_str().unwrap().starts_with("2-"));
    assert_eq!(store.get(&id).await.unwrap().unwrap().expires_at(), Some(later));

    assert!(matches!(
        store.touch(&SessionId::generate(), Some(later)).await,
        Err(Error::NotFound)
    ));
    raw.drop_db().await;
}

#[tokio::test]
async fn destroy_revokes_for_node_then_deletes_leaving_a_tombstone() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    let id = node_sid();
    raw.put(
        id.as_str(),
        node_doc(id.as_str(), in_(time::Duration::hours(1)), "ada"),
    )
    .await;

    let grace_ends = unix_millis(OffsetDateTime::now_utc() + time::Duration::seconds(300));
    store.destroy(&id).await.unwrap();
    assert_eq!(raw.doc(id.as_str()).await, None, "deleted");
    let leaves = raw.leaves(id.as_str()).await;
    let [deleted] = leaves.as_slice() else {
        panic!("one leaf, the deletion: {leaves:?}")
    };
    assert!(
        deleted["_rev"].as_str().unwrap().starts_with("3-"),
        "revoke, then delete"
    );
    assert_eq!(deleted["_deleted"], json!(true));
    let until = deleted["$destroyed"].as_i64().unwrap();
    assert!(
        (grace_ends - 1_000..=grace_ends + 1_000).contains(&until),
        "{until}"
    );
    let revoked = json!({
        "cookie": {"originalMaxAge": 86_400_000, "expires": "1970-01-01T00:00:00.000Z", "secure": true,
                   "httpOnly": true, "path": "/", "sameSite": "lax"},
        "user": null, "visits": null, "$ts": 0, "$dirty": false, "$destroyed": until,
    });
    let without_meta = |doc: &Value| -> Value {
        let mut doc: Map<String, Value> = doc.as_object().unwrap().clone();
        doc.retain(|key, _| !key.starts_with('_'));
        Value::Object(doc)
    };
    assert_eq!(
        without_meta(deleted),
        revoked,
        "the deletion carries the revoked body"
    );

    // Step one: the same body, not deleted: what Node's feed handler merges.
    let step_one = raw.previous(id.as_str(), deleted).await;
    assert!(step_one["_rev"].as_str().unwrap().starts_with("2-"));
    assert_eq!(step_one.get("_deleted"), None);
    assert_eq!(without_meta(&step_one), revoked);

    // The feed a Node process follows shows the deleted document with that body.
    let (_, feed) = Raw::json(raw.client.get(format!("{}/_changes?include_docs=true", raw.db))).await;
    let change = feed["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["id"] == json!(id.as_str()))
        .unwrap();
    assert_eq!(
        (&change["doc"]["user"], &change["doc"]["_deleted"]),
        (&Value::Null, &json!(true))
    );

    // The tombstone: late writes are refused, reads see nothing.
    let late = Session::new().expiring_at(in_(time::Duration::hours(1)));
    assert!(matches!(store.set(&id, &late).await, Err(Error::Destroyed)));
    assert!(matches!(store.create(&id, &late).await, Err(Error::Destroyed)));
    assert!(matches!(store.touch(&id, None).await, Err(Error::Destroyed)));
    assert_eq!(store.get(&id).await.unwrap(), None);
    assert_eq!(raw.leaves(id.as_str()).await.len(), 1);
    store.destroy(&id).await.unwrap();

    // Without a grace window: the same two steps, no `$destroyed`.
    let db_no_grace = unique_db("pouch");
    let no_grace = builder(&db_no_grace)
        .tombstone_grace(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let raw_no_grace = Raw::new(&db_no_grace);
    let other = node_sid();
    no_grace.set(&other, &late).await.unwrap();
    no_grace.destroy(&other).await.unwrap();
    let leaves = raw_no_grace.leaves(other.as_str()).await;
    assert_eq!(leaves[0]["_deleted"], json!(true));
    assert_eq!(leaves[0].get("$destroyed"), None);
    no_grace.set(&other, &late).await.unwrap();
    raw.drop_db().await;
    raw_no_grace.drop_db().await;
}

#[tokio::test]
async fn a_write_that_lands_on_a_tombstone_it_did_not_see_ends_the_session_again() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    let id = node_sid();
    // What a destroy of a never-stored id leaves, landing just after a
    // create read the id and found nothing: create puts without a revision.
    let until = unix_millis(OffsetDateTime::now_utc()) + 60_000;
    raw.put(
        id.as_str(),
        json!({"_deleted": true, "$ts": 0, "$dirty": false, "$destroyed": until}),
    )
    .await;

    let session = Session::new().expiring_at(in_(time::Duration::hours(1)));
    assert!(matches!(store.create(&id, &session).await, Err(Error::Destroyed)));
    assert_eq!(store.get(&id).await.unwrap(), None);
    let leaves = raw.leaves(id.as_str()).await;
    let [leaf] = leaves.as_slice() else {
        panic!("one leaf: {leaves:?}")
    };
    assert_eq!(
        (&leaf["_deleted"], &leaf["$destroyed"]),
        (&json!(true), &json!(until))
    );
    assert!(
        leaf["_rev"].as_str().unwrap().starts_with("4-"),
        "the covering put, then the revoke and the deletion"
    );
    raw.drop_db().await;
}

#[tokio::test]
async fn only_couchdbs_own_documents_are_not_sessions() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    // session-pouchdb-store's database holds only sessions: a document
    // without a cookie is one that neither store can read.
    let (settings, prefs) = (
        SessionId::parse("settings").unwrap(),
        SessionId::parse("prefs").unwrap(),
    );
    raw.put("settings", json!({"theme": "dark"})).await;
    raw.put("prefs", json!({"theme": "light"})).await;
    raw.put("_design/app", json!({"views": {}})).await;
    let id = node_sid();
    store.set(&id, &Session::new()).await.unwrap();

    assert!(matches!(store.get(&settings).await, Err(Error::Decode(_))));
    assert_eq!(store.length().await.unwrap(), 3);
    let items: Vec<_> = store.all_stream().collect().await;
    let unreadable = items.iter().filter(|item| matches!(item, Err(Error::Decode(_))));
    assert_eq!((items.len(), unreadable.count()), (3, 2));
    assert_eq!(store.all().await.unwrap().len(), 1);
    // The writes take it as live, as the reads do.
    assert!(matches!(
        store.create(&settings, &Session::new()).await,
        Err(Error::AlreadyExists)
    ));
    assert!(matches!(
        store.touch(&settings, None).await,
        Err(Error::Decode(_))
    ));
    assert_eq!(raw.doc("settings").await.unwrap()["theme"], json!("dark"));
    store.destroy(&prefs).await.unwrap();
    assert_eq!(raw.doc("prefs").await, None);
    assert_eq!(raw.leaves("prefs").await[0]["theme"], Value::Null, "revoked");
    assert_eq!(store.length().await.unwrap(), 2);

    store.clear().await.unwrap();
    assert_eq!(store.length().await.unwrap(), 0);
    assert_eq!(raw.doc("settings").await, None, "clear removes every session");
    assert!(raw.doc("_design/app").await.is_some(), "and nothing else");
    let cleared = raw.leaves(id.as_str()).await;
    assert_eq!(cleared[0]["_deleted"], json!(true));
    assert_eq!(
        cleared[0]["cookie"]["expires"],
        json!("1970-01-01T00:00:00.000Z"),
        "clear deletes with the revoked body"
    );
    raw.drop_db().await;
}

#[tokio::test]
async fn data_that_cannot_be_the_documents_own_keys_is_refused() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    for key in [
        "cookie",
        "_id",
        "_rev",
        "_deleted",
        "_anything",
        "$ts",
        "$dirty",
        "$commit",
        "$destroyed",
    ] {
        let mut session = Session::new();
        session.insert(key, 1).unwrap();
        assert!(
            matches!(
                store.set(&SessionId::generate(), &session).await,
                Err(Error::Encode(_))
            ),
            "{key}"
        );
    }
    assert_eq!(store.length().await.unwrap(), 0);
    Raw::new(&db).drop_db().await;
}

#[tokio::test]
async fn ids_couchdb_reserves_are_stored_escaped() {
    let db = unique_db("pouch");
    let store = store(&db).await;
    let raw = Raw::new(&db);
    let session = Session::new().expiring_at(in_(time::Duration::hours(1)));
    for (id, doc_id) in [("_abc", "%5Fabc"), ("%5Fabc", "%255Fabc"), ("..", "%2E%2E")] {
        let id = SessionId::parse(id).unwrap();
        store.set(&id, &session).await.unwrap();
        assert!(raw.doc(doc_id).await.is_some(), "{doc_id}");
        let read = store.get(&id).await.unwrap().expect("the session");
        assert_eq!(
            (read.data(), read.expires_at()),
            (session.data(), session.expires_at())
        );
    }
    let mut listed: Vec<String> = store
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id.as_str().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, ["%5Fabc", "..", "_abc"]);
    raw.drop_db().await;
}

#[tokio::test]
async fn purge_deletes_only_expired_sessions_of_this_layout() {
    let db = unique_db("pouch");
    let store = builder(&db)
        .default_ttl(Duration::from_secs(3600))
        .purge_batch(2)
        .build()
        .await
        .unwrap();
    let raw = Raw::new(&db);
    let past = in_(time::Duration::minutes(-1));
    let now_ms = unix_millis(OffsetDateTime::now_utc());
    let browser = |ts: i64| json!({"cookie": {"originalMaxAge": null, "expires": null}, "$ts": ts});
    let expired = ["e1", "e2", "e3"];
    for id in expired {
        raw.put(id, node_doc(id, past, "gone")).await;
    }
    raw.put("stale", browser(now_ms - 2 * 3_600_000)).await;
    let kept = ["live", "fresh", "guarded", "unreadable", "foreign"];
    raw.put("live", node_doc("live", in_(time::Duration::hours(1)), "ada"))
        .await;
    raw.put("fresh", browser(now_ms)).await;
    raw.put(
        "guarded",
        json!({"cookie": {"expires": "1970-01-01T00:00:00.000Z"}, "$ts": 0, "$destroyed": now_ms + 60_000}),
    )
    .await;
    raw.put("unreadable", json!({"cookie": {"expires": "0"}, "$ts": 0}))
        .await;
    raw.put("foreign", json!({"expires": js_date(past).unwrap()}))
        .await;

    assert_eq!(store.purge_expired().await.unwrap(), 4);
    for id in expired.into_iter().chain(["stale"]) {
        assert_eq!(raw.doc(id).await, None, "{id} purged");
    }
    for id in kept {
        assert!(raw.doc(id).await.is_some(), "{id} kept");
    }
    assert!(raw.doc("_design/session-cookie-expiry").await.is_some());
    assert_eq!(store.purge_expired().await.unwrap(), 0);
    raw.drop_db().await;
}

#[tokio::test]
async fn the_cache_is_refused_with_this_layout() {
    let refused = builder(&unique_db("pouch")).cache(true).build().await;
    let Err(Error::InvalidInput(message)) = refused else {
        panic!("the cache must be refused: {refused:?}")
    };
    assert!(message.contains("native layout only"), "{message}");
}
