//! Connecting: which URLs are accepted, and what goes on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use common::{couch_url, delete_at_end, session};
use session_core::{Error, SessionId, Store};
use session_couch::CouchStore;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
};

#[tokio::test]
async fn a_url_couch_rs_would_panic_on_is_refused_with_a_typed_error() {
    for bad in [
        "localhost:5984",
        "127.0.0.1:5984",
        "admin:secret@127.0.0.1:5984",
        "ftp://admin:secret@127.0.0.1:5984",
        "http://",
        "http://admin:secret@127.0.0.1:5984/couch",
    ] {
        let built = CouchStore::builder().url(bad).build().await;
        assert!(matches!(&built, Err(Error::InvalidInput(_))), "{bad}: {built:?}");
        let connected = CouchStore::connect(bad).await;
        assert!(matches!(&connected, Err(Error::InvalidInput(_))), "{bad}");
        let shown = format!("{} {:?}", connected.unwrap_err(), built.unwrap_err());
        assert!(!shown.contains("secret"), "{shown}");
    }
}

#[tokio::test]
async fn connect_opens_the_sessions_database_with_defaults() {
    // No other test here uses the default database.
    let _deleted = delete_at_end("sessions");
    let store = CouchStore::connect(&couch_url()).await.unwrap();
    assert_eq!(store.database(), "sessions");
    let id = SessionId::generate();
    store.create(&id, &session(5)).await.unwrap();
    assert!(store.get(&id).await.unwrap().is_some());
    store.destroy(&id).await.unwrap();
    assert!(store.get(&id).await.unwrap().is_none());
}

/// Every request a tiny HTTP server of the test's own received, head only.
type Heads = Arc<Mutex<Vec<String>>>;

/// Listens on a free port and answers like a CouchDB with an empty
/// database, one request per connection, recording each request's head.
async fn recorder() -> (String, Heads) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let heads = Heads::default();
    let recorded = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket, Arc::clone(&recorded)));
        }
    });
    (address, heads)
}

async fn answer(mut socket: TcpStream, heads: Heads) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        let read = socket.read(&mut buffer).await.unwrap_or(0);
        if read == 0 {
            return;
        }
        received.extend_from_slice(&buffer[..read]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let body_length: usize = header(&head, "content-length").map_or(0, |v| v.parse().unwrap());
    while received.len() < head_end + 4 + body_length {
        let read = socket.read(&mut buffer).await.unwrap_or(0);
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
    }
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    heads.lock().unwrap().push(head);
    let (status, body) = if request_line.starts_with("PUT /wire ") {
        ("201 Created", r#"{"ok":true}"#)
    } else if request_line.starts_with("POST /wire/_index ") {
        ("200 OK", r#"{"result":"created"}"#)
    } else {
        ("404 Not Found", r#"{"error":"not_found","reason":"missing"}"#)
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(reply.as_bytes()).await;
}

/// The value of header `name` in a request head.
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// The requests `store` sends while being built and reading one session.
async fn requests_of(store: session_couch::CouchStoreBuilder, heads: &Heads) -> Vec<String> {
    let store = store.database("wire").purge_interval(None).build().await.unwrap();
    assert!(store.get(&SessionId::generate()).await.unwrap().is_none());
    let heads = heads.lock().unwrap().clone();
    assert!(
        heads.len() >= 3,
        "PUT database, POST _index, GET document: {heads:?}"
    );
    heads
}

#[tokio::test]
async fn credentials_in_the_url_go_as_basic_auth_and_never_in_a_referer() {
    let (address, heads) = recorder().await;
    let builder = CouchStore::builder().url(format!("http://ad%40min:p%3Ass@{address}"));
    let expected = format!("Basic {}", STANDARD.encode("ad@min:p:ss"));
    for head in requests_of(builder, &heads).await {
        assert_eq!(header(&head, "authorization"), Some(expected.as_str()), "{head}");
        assert_eq!(header(&head, "referer"), None, "{head}");
        assert!(
            !head.contains("p%3Ass") && !head.contains("p:ss"),
            "the password only in the header: {head}"
        );
    }
}

#[tokio::test]
async fn explicit_credentials_replace_those_in_the_url() {
    let (address, heads) = recorder().await;
    let builder = CouchStore::builder()
        .url(format!("http://old:old@{address}"))
        .credentials("new", "pass");
    let expected = format!("Basic {}", STANDARD.encode("new:pass"));
    for head in requests_of(builder, &heads).await {
        assert_eq!(header(&head, "authorization"), Some(expected.as_str()), "{head}");
    }
}

#[tokio::test]
async fn requests_through_the_apps_own_client_carry_no_referer_with_the_session_id() {
    let (address, heads) = recorder().await;
    let client = couch_rs::Client::new(&format!("http://{address}"), "app", "secret").unwrap();
    let builder = CouchStore::builder().client(client);
    for head in requests_of(builder, &heads).await {
        assert_eq!(header(&head, "referer"), None, "{head}");
        assert!(header(&head, "authorization").is_some(), "{head}");
    }
}
