//! Purge, clear and compaction: bounded to the store's own documents, ending
//! when the server keeps refusing, and reclaiming old revisions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{builder, couch_url, delete_at_end, session, unique_db};
use serde_json::{Value, json};
use session_core::{Error, SessionId, Store};

/// Sends `body` as JSON to `path` of the test server.
async fn send(method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}/{path}", couch_url()))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn bulk(db: &str, docs: Vec<Value>) {
    let reply = send(
        reqwest::Method::POST,
        &format!("{db}/_bulk_docs"),
        json!({ "docs": docs }),
    )
    .await;
    assert!(reply.status().is_success());
}

async fn exists(db: &str, doc_id: &str) -> bool {
    let path = format!(
        "{db}/{}",
        percent_encoding::utf8_percent_encode(doc_id, percent_encoding::NON_ALPHANUMERIC)
    );
    send(reqwest::Method::GET, &path, Value::Null)
        .await
        .status()
        .is_success()
}

fn past() -> i64 {
    session_core::backend::unix_millis(time::OffsetDateTime::now_utc()) - 1000
}

#[tokio::test]
async fn purge_deletes_only_the_stores_own_session_documents() {
    let db = unique_db("foreign");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db).build().await.unwrap();
    let expired = past();
    let foreign = ["t:other-app", "zzz", "sessions-report", "s:shapeless"];
    let mut docs: Vec<Value> = foreign
        .iter()
        .map(|id| json!({ "_id": id, "expires_at": expired }))
        .collect();
    docs.push(json!({ "_id": "s:expired", "expires_at": expired, "destroyed": false, "data": "{}" }));
    bulk(&db, docs).await;
    assert_eq!(
        store.purge_expired().await.unwrap(),
        1,
        "only the expired session"
    );
    assert!(!exists(&db, "s:expired").await);
    for id in foreign {
        assert!(exists(&db, id).await, "{id} is not the store's to delete");
    }
}

#[tokio::test]
async fn the_background_purge_runs_on_its_interval() {
    let db = unique_db("background");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db)
        .purge_interval(Some(Duration::from_millis(100)))
        .build()
        .await
        .unwrap();
    bulk(
        &db,
        vec![json!({ "_id": "s:expired", "expires_at": past(), "destroyed": false, "data": "{}" })],
    )
    .await;
    common::until(
        "the background purge deletes it",
        Duration::from_secs(5),
        async || !exists(&db, "s:expired").await,
    )
    .await;
    drop(store);
}

#[tokio::test]
async fn purge_and_clear_give_up_when_every_delete_is_refused() {
    let db = unique_db("stuck");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db).purge_batch(2).build().await.unwrap();
    let refuse = "function(doc) { if (doc._deleted) { throw({forbidden: 'no deletes'}); } }";
    let design = send(
        reqwest::Method::PUT,
        &format!("{db}/_design/keep"),
        json!({ "validate_doc_update": refuse }),
    )
    .await;
    assert!(design.status().is_success());
    let expired = past();
    bulk(
        &db,
        (0..5)
            .map(|n| json!({ "_id": format!("s:stuck-{n}"), "expires_at": expired, "destroyed": false, "data": "{}" }))
            .collect(),
    )
    .await;
    let bounded = Duration::from_secs(30);
    let purged = tokio::time::timeout(bounded, store.purge_expired())
        .await
        .expect("the purge ends rather than retrying forever");
    assert!(
        matches!(&purged, Err(Error::Backend(e)) if e.to_string().contains("forbidden")),
        "{purged:?}"
    );
    let cleared = tokio::time::timeout(bounded, store.clear())
        .await
        .expect("clear ends rather than retrying forever");
    assert!(matches!(&cleared, Err(Error::Backend(_))), "{cleared:?}");
}

#[tokio::test]
async fn compaction_reclaims_the_data_of_rewritten_and_purged_sessions() {
    let db = unique_db("compact");
    let _deleted = delete_at_end(&db);
    let store = builder(&couch_url(), &db)
        .tombstone_grace(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    let doc_path = format!(
        "{db}/{}",
        percent_encoding::utf8_percent_encode(
            &format!("s:{}", id.as_str()),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    store.set(&id, &session(1)).await.unwrap();
    let first: Value = send(reqwest::Method::GET, &doc_path, Value::Null)
        .await
        .json()
        .await
        .unwrap();
    let first_rev = first["_rev"].as_str().unwrap().to_owned();
    store.set(&id, &session(2)).await.unwrap();
    store.destroy(&id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.purge_expired().await.unwrap(), 1, "the lapsed tombstone");

    let old = format!("{doc_path}?rev={first_rev}");
    let before = send(reqwest::Method::GET, &old, Value::Null).await;
    assert!(
        before.status().is_success(),
        "old revisions keep their data until compaction"
    );
    store.compact().await.unwrap();
    let after = send(reqwest::Method::GET, &old, Value::Null).await;
    assert_eq!(
        after.status(),
        reqwest::StatusCode::NOT_FOUND,
        "compaction dropped it"
    );

    let changes: Value = send(reqwest::Method::GET, &format!("{db}/_changes"), Value::Null)
        .await
        .json()
        .await
        .unwrap();
    let stubs = changes["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["deleted"] == true)
        .count();
    assert_eq!(stubs, 1, "what stays of the session is a deleted stub");
}
