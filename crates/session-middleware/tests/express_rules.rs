//! Where Node owns the rule, the layer follows it: a session carrying
//! express-session's cookie object lives by its own `originalMaxAge`, and a
//! session born here is stored with the cookie object Node needs to send
//! the same cookie.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Recorder, Reply, SECRET, app_with, cookie_for, send};
use serde_json::{Value, json};
use session_core::{Session as Stored, SessionId, backend::SessionParts, clock::SkewedClock};
use session_middleware::{SameSite, SessionLayerBuilder};
use time::{Duration, OffsetDateTime};

/// A Node session under `id`: one visit, and `cookie` as Node stored it.
async fn node_session(store: &Recorder, id: &SessionId, cookie: Value) {
    let Value::Object(cookie) = cookie else {
        panic!("a cookie object")
    };
    let mut session = Stored::new();
    session.insert("visits", 1).unwrap();
    session.set_express_cookie(Some(cookie));
    session.set_expires_at(Some(OffsetDateTime::now_utc() + Duration::seconds(60)));
    store.seed(id, &session).await;
}

/// Asserts that `at` is `expected`, give or take the few seconds a test takes.
#[track_caller]
fn assert_about(at: Option<OffsetDateTime>, expected: OffsetDateTime) {
    let at = at.expect("an expiry");
    assert!(
        (at - expected).abs() < Duration::seconds(5),
        "{at} is not about {expected}"
    );
}

fn max_age_of(reply: &Reply) -> Option<String> {
    let header = reply.set_cookie.as_deref()?;
    let age = header.split("; ").find_map(|part| part.strip_prefix("Max-Age="));
    Some(age.unwrap_or("none").to_owned())
}

fn secret(builder: SessionLayerBuilder) -> SessionLayerBuilder {
    builder.secret(SECRET)
}

#[tokio::test]
async fn a_node_session_keeps_its_own_lifetime_on_set_touch_and_rolling() {
    let store = Recorder::express();
    let id = SessionId::generate();
    let minute = json!({"originalMaxAge": 60_000, "expires": "2030-01-01T00:00:00.000Z",
                        "httpOnly": true, "path": "/"});
    node_session(&store, &id, minute).await;
    let cookie = cookie_for(&id, SECRET);
    let soon = || OffsetDateTime::now_utc() + Duration::seconds(60);

    // The layer's max_age is a day; the session's own is a minute.
    let app = app_with(store.clone(), Arc::default(), secret);
    let changed = send(&app, "/count", Some(&cookie)).await;
    assert_eq!(changed.body, "2");
    assert_eq!(
        max_age_of(&changed).as_deref(),
        Some("60"),
        "{:?}",
        changed.set_cookie
    );
    let calls = store.take();
    assert_eq!(calls[1].method, "set");
    assert_about(calls[1].expires_at, soon());

    let read = send(&app, "/read", Some(&cookie)).await;
    assert_eq!((read.body.as_str(), &read.set_cookie), ("2", &None));
    let calls = store.take();
    assert_eq!(calls[1].method, "touch");
    assert_about(calls[1].expires_at, soon());

    let rolling = app_with(store.clone(), Arc::default(), |b| secret(b).rolling(true));
    assert_eq!(
        max_age_of(&send(&rolling, "/read", Some(&cookie)).await).as_deref(),
        Some("60")
    );
    assert_about(store.take()[1].expires_at, soon());

    // touch_after of an hour would never touch a one-minute session: it is
    // held to half the session's lifetime.
    let hourly = |b| secret(b).touch_after(std::time::Duration::from_secs(3600));
    send(
        &app_with(store.clone(), Arc::default(), hourly),
        "/read",
        Some(&cookie),
    )
    .await;
    assert_eq!(store.methods(), ["get"], "just touched: no touch");
    let later = move |b| hourly(b).clock(Arc::new(SkewedClock::new(Duration::seconds(40))));
    send(
        &app_with(store.clone(), Arc::default(), later),
        "/read",
        Some(&cookie),
    )
    .await;
    let calls = store.take();
    assert_eq!(
        calls.iter().map(|c| c.method).collect::<Vec<_>>(),
        ["get", "touch"]
    );
    assert_about(calls[1].expires_at, soon() + Duration::seconds(40));
    assert_eq!(
        store.cookie_object(&id).unwrap()["originalMaxAge"],
        json!(60_000),
        "Node's cookie object is written back as it was"
    );
}

#[tokio::test]
async fn a_node_browser_session_stays_one() {
    let store = Recorder::express();
    let id = SessionId::generate();
    let browser = json!({"originalMaxAge": null, "expires": null, "httpOnly": true, "path": "/"});
    node_session(&store, &id, browser).await;
    let cookie = cookie_for(&id, SECRET);

    let app = app_with(store.clone(), Arc::default(), secret);
    let changed = send(&app, "/count", Some(&cookie)).await;
    assert_eq!(
        changed.set_cookie, None,
        "as express-session: no cookie for a changed browser session"
    );
    let calls = store.take();
    assert_eq!(
        (calls[1].method, calls[1].expires_at),
        ("set", None),
        "the store's default TTL"
    );

    let rolling = app_with(store.clone(), Arc::default(), |b| secret(b).rolling(true));
    let reply = send(&rolling, "/read", Some(&cookie)).await;
    assert_eq!(
        max_age_of(&reply).as_deref(),
        Some("none"),
        "{:?}",
        reply.set_cookie
    );
    assert!(!reply.set_cookie.unwrap().contains("Expires="));
    let calls = store.take();
    assert_eq!((calls[1].method, calls[1].expires_at), ("touch", None));
}

#[tokio::test]
async fn a_session_born_here_stores_the_cookie_node_must_send() {
    let store = Recorder::express();
    let configured = |b: SessionLayerBuilder| {
        secret(b)
            .secure(true)
            .same_site(SameSite::Strict)
            .domain("example.com")
            .max_age(Some(std::time::Duration::from_secs(600)))
    };
    let app = app_with(store.clone(), Arc::default(), configured);
    let first = send(&app, "/count", None).await;
    assert_eq!(max_age_of(&first).as_deref(), Some("600"));
    assert_eq!(
        Value::Object(store.cookie_object(&first.id()).expect("a cookie object")),
        json!({"originalMaxAge": 600_000, "expires": null, "secure": true, "httpOnly": true,
               "domain": "example.com", "path": "/", "sameSite": "strict"})
    );

    // Without max_age: a browser-session cookie, in Node's spelling too.
    let browser = app_with(store.clone(), Arc::default(), |b| secret(b).max_age(None));
    let first = send(&browser, "/count", None).await;
    assert_eq!(max_age_of(&first).as_deref(), Some("none"));
    let object = store.cookie_object(&first.id()).unwrap();
    assert_eq!(
        (&object["originalMaxAge"], &object["expires"]),
        (&json!(null), &json!(null))
    );
    assert_eq!(object["sameSite"], json!("lax"));
    assert!(
        !object.contains_key("secure"),
        "written only when configured, as Node does"
    );
}
