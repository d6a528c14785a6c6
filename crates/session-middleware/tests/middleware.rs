//! The layer in an axum app, on a memory store that records every call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::{Router, http::StatusCode, routing::get};
use common::{Recorder, Reply, SECRET, app, app_with, cookie_for, send};
use session_core::{Error, Session as Stored, SessionId, Store};
use session_middleware::{CookieSigner, SameSite, Session, SessionError, SessionLayer};
use time::{Duration, OffsetDateTime};

/// express-session's cookie for the test vector: secret `keyboard cat`.
const EXPRESS_COOKIE: &str =
    "connect.sid=s%3AZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs.jD8qzMCNLZh%2Bl37gSqNm18fQ4O7UwXhwNQ61hYg7kL4";
const DAY: Duration = Duration::days(1);

/// Asserts that `at` is `expected`, give or take the few seconds a test takes.
#[track_caller]
fn assert_about(at: Option<OffsetDateTime>, expected: OffsetDateTime) {
    let at = at.expect("an expiry");
    assert!(
        (at - expected).abs() < Duration::seconds(5),
        "{at} is not about {expected}"
    );
}

/// A store holding `visits` under `id`.
async fn store_with(id: &SessionId, visits: u64) -> Recorder {
    let store = Recorder::default();
    let mut session = Stored::new();
    session.insert("visits", visits).unwrap();
    store.inner.set(id, &session).await.unwrap();
    store
}

#[tokio::test]
async fn reads_and_writes_express_sessions_signed_cookie() {
    let id = SessionId::parse("ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs").unwrap();
    let store = store_with(&id, 41).await;
    let reply = send(&app(store.clone()), "/count", Some(EXPRESS_COOKIE)).await;
    assert_eq!(reply.body, "42", "the cookie Express made was accepted");
    assert_eq!(
        reply.cookie(),
        EXPRESS_COOKIE,
        "and the one sent back is Express's, byte for byte"
    );
    let stored = store.inner.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.get::<u64>("visits").unwrap(), Some(42));

    // Without a `%`, the value is taken as it is, `+` included, as Express does.
    let raw = EXPRESS_COOKIE.replace("%3A", ":").replace("%2B", "+");
    assert_eq!(send(&app(store.clone()), "/count", Some(&raw)).await.body, "43");

    // Another app's cookie with non-ASCII text hides only itself, as in Node.
    let mixed = format!("theme=Zürich; {EXPRESS_COOKIE}; city=Malmö");
    assert_eq!(send(&app(store.clone()), "/count", Some(&mixed)).await.body, "44");
}

#[tokio::test]
async fn rotated_secrets_accept_old_cookies_and_sign_with_the_first() {
    let store = Recorder::default();
    let before = send(&app(store.clone()), "/count", None).await;
    let rotated = app_with(store.clone(), Arc::default(), |b| {
        b.secret("fresh").secret(SECRET)
    });

    let after = send(&rotated, "/count", Some(&before.cookie())).await;
    assert_eq!(after.body, "2", "a cookie signed with the old secret still works");
    let signed = after.cookie().split_once('=').unwrap().1.replace("%3A", ":");
    let signed = signed.replace("%2B", "+").replace("%2F", "/");
    assert_eq!(
        CookieSigner::new(["fresh"]).unwrap().verify(&signed),
        Some(before.id()),
        "the same session, signed with the first secret"
    );
    assert_eq!(CookieSigner::new([SECRET]).unwrap().verify(&signed), None);
    assert_eq!(send(&rotated, "/read", Some(&after.cookie())).await.body, "2");
}

#[tokio::test]
async fn tampered_cookies_get_a_fresh_session_and_nothing_is_written_for_their_id() {
    let store = Recorder::default();
    let app = app(store.clone());
    let real = send(&app, "/count", None).await;
    let (real_id, good) = (real.id(), real.cookie());
    let other_id = send(&app, "/count", None).await.id();
    let sessions_before = [
        store.inner.get(&real_id).await.unwrap(),
        store.inner.get(&other_id).await.unwrap(),
    ];
    let (head, signature) = good.rsplit_once('.').unwrap();
    let other_signature = format!(
        "{}{}",
        if signature.starts_with('A') { 'B' } else { 'A' },
        &signature[1..]
    );
    let tampered = [
        good.replace(real_id.as_str(), other_id.as_str()), // another live session's id
        format!("{head}.{other_signature}"),               // another signature
        good.replacen("s%3A", "", 1),                      // no `s:`
        good.replacen("%3A", "%3G", 1),                    // a malformed escape
        format!("{good}%"),                                // a truncated escape
        cookie_for(&real_id, "a secret nobody configured"), // a live id, an unknown secret
        format!("connect.sid=s%3A{}", real_id.as_str()),   // no signature at all
        "connect.sid=s%3A.".to_owned(),                    // nothing at all
    ];
    store.take();
    for cookie in &tampered {
        let reply = send(&app, "/read", Some(cookie)).await;
        assert_eq!(reply.body, "none", "{cookie}: a fresh session");
        assert!(
            store.take().is_empty(),
            "{cookie}: no store call for a fresh, unused session"
        );

        let reply = send(&app, "/count", Some(cookie)).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "1"),
            "{cookie}"
        );
        let fresh = reply.id();
        assert!(fresh != real_id && fresh != other_id, "{cookie}: a new id");
        let calls = store.take();
        assert_eq!(calls.len(), 1, "{cookie}: {calls:?}");
        assert_eq!((calls[0].method, &calls[0].id), ("create", &fresh), "{cookie}");
    }
    let sessions_after = [
        store.inner.get(&real_id).await.unwrap(),
        store.inner.get(&other_id).await.unwrap(),
    ];
    assert_eq!(sessions_after, sessions_before, "the real sessions are untouched");
}

#[tokio::test]
async fn a_session_the_store_cannot_read_is_replaced_by_a_fresh_one() {
    let store = Recorder::default();
    let app = app(store.clone());
    let first = send(&app, "/count", None).await;
    send(&app, "/count", Some(&first.cookie())).await;
    store.make_unreadable(&first.id());
    store.take();

    for _ in 0..2 {
        let reply = send(&app, "/read", Some(&first.cookie())).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "none"),
            "not a 500"
        );
    }
    let fresh = send(&app, "/count", Some(&first.cookie())).await;
    assert_eq!((fresh.status, fresh.body.as_str()), (StatusCode::OK, "1"));
    assert_ne!(
        fresh.id(),
        first.id(),
        "a new id: nothing is written over what Node holds"
    );
    assert_eq!(store.methods(), ["get", "get", "get", "create"]);
    assert_eq!(send(&app, "/read", Some(&fresh.cookie())).await.body, "1");
}

#[tokio::test]
async fn a_signed_id_the_store_does_not_hold_is_never_adopted() {
    let store = Recorder::default();
    let chosen = SessionId::parse("chosen-by-someone-else").unwrap();
    let reply = send(&app(store.clone()), "/count", Some(&cookie_for(&chosen, SECRET))).await;
    assert_eq!(reply.body, "1");
    assert_ne!(reply.id(), chosen, "a new session gets a fresh id");
    let calls = store.take();
    let methods: Vec<_> = calls.iter().map(|c| (c.method, c.id == chosen)).collect();
    assert_eq!(methods, [("get", true), ("create", false)], "read, never written");
}

#[tokio::test]
async fn a_request_that_never_uses_the_session_makes_no_store_call() {
    for rolling in [false, true] {
        let store = Recorder::default();
        let app = app_with(store.clone(), Arc::default(), |b| {
            b.secret(SECRET).rolling(rolling)
        });
        let cookie = send(&app, "/count", None).await.cookie();
        store.take();
        for sent in [None, Some(cookie.as_str()), Some(EXPRESS_COOKIE)] {
            let reply = send(&app, "/ignore", sent).await;
            assert_eq!(
                (reply.body.as_str(), reply.set_cookie),
                ("hello", None),
                "{sent:?}"
            );
        }
        assert_eq!(store.take(), [], "rolling: {rolling}");
    }
}

#[tokio::test]
async fn saves_only_changes_and_touches_otherwise() {
    let store = Recorder::default();
    let app = app(store.clone());

    let first = send(&app, "/count", None).await;
    let calls = store.take();
    assert_eq!(
        (calls.len(), calls[0].method),
        (1, "create"),
        "a new session, created: {calls:?}"
    );
    assert_about(calls[0].expires_at, OffsetDateTime::now_utc() + DAY);
    let header = first.set_cookie.clone().unwrap();
    assert!(header.contains("; Max-Age=86400; Expires="), "{header}");
    let cookie = first.cookie();

    let read = send(&app, "/read", Some(&cookie)).await;
    assert_eq!((read.body.as_str(), &read.set_cookie), ("1", &None));
    let calls = store.take();
    assert_eq!(
        calls.iter().map(|c| c.method).collect::<Vec<_>>(),
        ["get", "touch"]
    );
    assert_about(calls[1].expires_at, OffsetDateTime::now_utc() + DAY);

    let same = send(&app, "/rewrite", Some(&cookie)).await;
    assert_eq!(same.set_cookie, None);
    assert_eq!(
        store.methods(),
        ["get", "touch"],
        "writing the same value changes nothing"
    );

    let changed = send(&app, "/count", Some(&cookie)).await;
    assert_eq!(changed.body, "2");
    let calls = store.take();
    assert_eq!(calls.iter().map(|c| c.method).collect::<Vec<_>>(), ["get", "set"]);
    assert_about(calls[1].expires_at, OffsetDateTime::now_utc() + DAY);
    assert_eq!(
        changed.id(),
        first.id(),
        "a changed persistent session gets its cookie again"
    );

    let untouched = app_with(store.clone(), Arc::default(), |b| {
        b.secret(SECRET).disable_touch(true)
    });
    assert_eq!(send(&untouched, "/read", Some(&cookie)).await.body, "2");
    assert_eq!(store.methods(), ["get"], "touch disabled");

    let empty = send(&app, "/read", None).await;
    assert_eq!((empty.body.as_str(), empty.set_cookie), ("none", None));
    assert_eq!(store.take(), [], "an unused new session is not saved");
}

#[tokio::test]
async fn browser_session_cookies_leave_the_lifetime_to_the_store() {
    let store = Recorder::default();
    let app = app_with(store.clone(), Arc::default(), |b| b.secret(SECRET).max_age(None));
    let first = send(&app, "/count", None).await;
    let header = first.set_cookie.clone().unwrap();
    assert!(
        !header.contains("Expires") && !header.contains("Max-Age"),
        "{header}"
    );
    assert_eq!(
        store.take()[0].expires_at,
        None,
        "saved without an expiry of its own"
    );
    let stored = store.inner.get(&first.id()).await.unwrap().unwrap();
    assert_about(stored.expires_at(), OffsetDateTime::now_utc() + DAY); // the store's default TTL

    let changed = send(&app, "/count", Some(&first.cookie())).await;
    assert_eq!(
        (changed.body.as_str(), changed.set_cookie),
        ("2", None),
        "nothing to renew"
    );
    send(&app, "/read", Some(&first.cookie())).await;
    let calls = store.take();
    assert_eq!(
        calls.last().map(|c| (c.method, c.expires_at)),
        Some(("touch", None))
    );
}

#[tokio::test]
async fn rolling_sends_the_cookie_on_every_use() {
    let store = Recorder::default();
    let app = app_with(store.clone(), Arc::default(), |b| b.secret(SECRET).rolling(true));
    let first = send(&app, "/count", None).await;
    store.take();
    let read = send(&app, "/read", Some(&first.cookie())).await;
    assert_eq!(store.methods(), ["get", "touch"]);
    let header = read.set_cookie.clone().expect("a rolling cookie");
    assert!(header.contains("; Max-Age=86400; Expires="), "{header}");
    assert_eq!(read.id(), first.id());
}

#[tokio::test]
async fn regenerate_starts_an_empty_session_and_ends_the_old_one() {
    let store = Recorder::default();
    let app = app(store.clone());
    // A value planted before the login (here: a visit count).
    let first = send(&app, "/count", None).await;
    let old = first.id();
    store.take();

    let login = send(&app, "/login", Some(&first.cookie())).await;
    assert_eq!(login.body, "welcome");
    let new = login.id();
    assert_ne!(new, old);
    assert_eq!(store.methods(), ["destroy", "create"], "no read needed");
    let stored = store.inner.get(&new).await.unwrap().unwrap();
    assert_eq!(
        stored.get::<u64>("visits").unwrap(),
        None,
        "nothing from before the login survives it"
    );
    assert_eq!(stored.get::<String>("user").unwrap().as_deref(), Some("ada"));
    assert_eq!(stored.len(), 1);
    assert_eq!(
        store.inner.get(&old).await.unwrap(),
        None,
        "the old id holds nothing"
    );
    assert!(
        matches!(store.inner.set(&old, &stored).await, Err(Error::Destroyed)),
        "and is tombstoned"
    );
    assert_eq!(send(&app, "/read", Some(&login.cookie())).await.body, "none");
}

#[tokio::test]
async fn regenerate_keeping_data_moves_the_data_to_a_new_id_and_ends_the_old_one() {
    let store = Recorder::default();
    let app = app(store.clone());
    let first = send(&app, "/count", None).await;
    let old = first.id();
    store.take();

    let login = send(&app, "/login-keeping-data", Some(&first.cookie())).await;
    assert_eq!(login.body, "welcome");
    let new = login.id();
    assert_ne!(new, old);
    assert_eq!(store.methods(), ["get", "destroy", "create"]);
    let stored = store.inner.get(&new).await.unwrap().unwrap();
    assert_eq!(
        stored.get::<u64>("visits").unwrap(),
        Some(1),
        "the data came along"
    );
    assert_eq!(stored.get::<String>("user").unwrap().as_deref(), Some("ada"));

    assert_eq!(
        store.inner.get(&old).await.unwrap(),
        None,
        "the old id holds nothing"
    );
    assert!(
        matches!(store.inner.set(&old, &stored).await, Err(Error::Destroyed)),
        "and is tombstoned"
    );
    let stale = send(&app, "/count", Some(&first.cookie())).await;
    assert_eq!(stale.body, "1", "the old cookie starts over");
    assert_ne!(stale.id(), old);
    assert_eq!(send(&app, "/read", Some(&login.cookie())).await.body, "1");
}

#[tokio::test]
async fn destroy_clears_the_cookie_and_the_store() {
    let store = Recorder::default();
    let app = app(store.clone());
    let first = send(&app, "/count", None).await;
    store.take();

    let out = send(&app, "/logout", Some(&first.cookie())).await;
    assert_eq!(out.body, "bye");
    assert_eq!(
        out.set_cookie.as_deref(),
        Some(
            "connect.sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
        )
    );
    assert_eq!(store.methods(), ["destroy"], "no read needed");
    assert_eq!(store.length().await.unwrap(), 0);

    let later = send(&app, "/count", Some(&first.cookie())).await;
    assert_eq!(later.body, "1", "the old cookie gets a fresh session");
    assert_ne!(later.id(), first.id());
}

#[tokio::test]
async fn logging_in_again_after_destroy_starts_a_new_session() {
    let store = Recorder::default();
    let app = app(store.clone());
    let first = send(&app, "/count", None).await;
    store.take();
    let again = send(&app, "/relogin", Some(&first.cookie())).await;
    assert_eq!(store.methods(), ["destroy", "create"]);
    assert_ne!(again.id(), first.id());
    let stored = store.inner.get(&again.id()).await.unwrap().unwrap();
    assert_eq!(stored.get::<String>("user").unwrap().as_deref(), Some("grace"));
    assert_eq!(
        stored.get::<u64>("visits").unwrap(),
        None,
        "nothing of the old session"
    );
    assert_eq!(store.length().await.unwrap(), 1);
}

/// An app whose one route reads the session, lets another request log it
/// out (a `destroy` straight on the store), then changes it or not.
fn app_raced_by_a_logout(store: Recorder, change: bool) -> Router {
    let layer = SessionLayer::builder(store.clone())
        .secret(SECRET)
        .rolling(true)
        .build()
        .unwrap();
    let handler = move |session: Session| async move {
        let id = session.id().await?;
        store.inner.destroy(&id).await?;
        if change {
            session.insert("late", true).await?;
        }
        Ok::<_, SessionError>("done")
    };
    Router::new().route("/", get(handler)).layer(layer)
}

#[tokio::test]
async fn a_logout_during_the_request_sticks() {
    for change in [true, false] {
        let store = Recorder::default();
        let first = send(&app(store.clone()), "/count", None).await;
        store.take();
        let reply = send(
            &app_raced_by_a_logout(store.clone(), change),
            "/",
            Some(&first.cookie()),
        )
        .await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "done"),
            "change: {change}"
        );
        assert_eq!(
            reply.set_cookie, None,
            "no cookie for a session that is gone (change: {change})"
        );
        let tried = if change { "set" } else { "touch" };
        assert_eq!(store.methods(), ["get", tried], "refused by the tombstone");
        assert_eq!(
            store.inner.get(&first.id()).await.unwrap(),
            None,
            "still logged out"
        );
    }
}

#[tokio::test]
async fn store_failures_answer_500_without_details() {
    for (method, path, with_session) in [
        ("get", "/read", true),
        ("create", "/count", false),
        ("set", "/count", true),
        ("touch", "/read", true),
        ("destroy", "/logout", true),
        ("destroy", "/login", true),
    ] {
        let store = Recorder::default();
        let app = app(store.clone());
        let cookie = match with_session {
            true => Some(send(&app, "/count", None).await.cookie()),
            false => None,
        };
        store.fail(method);
        let reply: Reply = send(&app, path, cookie.as_deref()).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}");
        assert_eq!(reply.body, "Internal Server Error", "{method} {path}: no detail");
        assert_eq!(reply.set_cookie, None, "{method} {path}");
    }
}

#[tokio::test]
async fn clones_of_the_handle_share_one_session() {
    let store = Recorder::default();
    let reply = send(&app(store.clone()), "/both", None).await;
    assert_eq!(store.methods(), ["create"]);
    let stored = store.inner.get(&reply.id()).await.unwrap().unwrap();
    assert_eq!(
        (stored.get::<u8>("a").unwrap(), stored.get::<u8>("b").unwrap()),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn id_is_the_one_the_cookie_carries() {
    let store = Recorder::default();
    let app = app(store.clone());
    let first = send(&app, "/count", None).await;
    assert_eq!(
        send(&app, "/id", Some(&first.cookie())).await.body,
        first.id().as_str()
    );
}

#[tokio::test]
async fn a_handle_kept_past_its_request_can_change_nothing() {
    let store = Recorder::default();
    let kept = Arc::new(Mutex::new(None));
    let app = app_with(store.clone(), Arc::clone(&kept), |b| b.secret(SECRET));
    assert_eq!(send(&app, "/keep", None).await.body, "kept");
    let session: Session = kept.lock().unwrap().take().unwrap();
    assert!(matches!(
        session.insert("late", 1).await,
        Err(SessionError::RequestEnded)
    ));
    assert!(matches!(session.destroy().await, Err(SessionError::RequestEnded)));
    assert_eq!(store.take(), []);
}

#[tokio::test]
async fn a_handler_without_the_layer_gets_a_500() {
    async fn handler(_session: Session) -> &'static str {
        "unreachable"
    }
    let app = Router::new().route("/", get(handler));
    let reply = send(&app, "/", None).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    );
}

#[tokio::test]
async fn cookie_attributes_follow_the_options() {
    let store = Recorder::default();
    let app = app_with(store.clone(), Arc::default(), |b| {
        b.secret(SECRET)
            .cookie_name("sid")
            .path("/app")
            .domain("example.com")
            .secure(true)
            .http_only(false)
            .same_site(SameSite::Strict)
            .max_age(Some(std::time::Duration::from_secs(3600)))
    });
    let first = send(&app, "/count", None).await;
    let header = first.set_cookie.clone().unwrap();
    let (pair, attributes) = header.split_once("; ").unwrap();
    assert!(pair.starts_with("sid=s%3A"), "{header}");
    let expires = attributes
        .split("; ")
        .find_map(|a| a.strip_prefix("Expires="))
        .unwrap();
    assert_eq!(
        attributes.replace(expires, "…"),
        "Path=/app; Domain=example.com; Max-Age=3600; Expires=…; Secure; SameSite=Strict"
    );
    assert!(expires.ends_with(" GMT"), "{expires}");
    assert_eq!(
        send(&app, "/read", Some(&first.cookie())).await.body,
        "1",
        "read back by its name"
    );
    let other_name = first.cookie().replacen("sid=", "connect.sid=", 1);
    assert_eq!(send(&app, "/read", Some(&other_name)).await.body, "none");
}

#[tokio::test]
async fn new_ids_come_from_the_generator_given() {
    let store = Recorder::default();
    let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let app = app_with(store.clone(), Arc::default(), move |builder| {
        builder.secret(common::SECRET).generate_id(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            SessionId::parse(&format!("made-here-{n}")).unwrap()
        })
    });
    let first = send(&app, "/count", None).await;
    assert!(first.id().as_str().starts_with("made-here-"), "{:?}", first.id());
    assert!(store.inner.get(&first.id()).await.unwrap().is_some());
    // Logging in moves the session to another generated id.
    let login = send(&app, "/login", Some(&first.cookie())).await;
    assert!(login.id().as_str().starts_with("made-here-"), "{:?}", login.id());
    assert_ne!(login.id(), first.id());
    assert!(made.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn touch_after_skips_touches_that_would_barely_move_the_expiry() {
    let store = Recorder::default();
    let hourly = |builder: session_middleware::SessionLayerBuilder| {
        builder
            .secret(SECRET)
            .touch_after(std::time::Duration::from_secs(3600))
    };
    let app = app_with(store.clone(), Arc::default(), hourly);
    let cookie = send(&app, "/count", None).await.cookie();
    store.take();
    assert_eq!(send(&app, "/read", Some(&cookie)).await.body, "1");
    assert_eq!(store.methods(), ["get"], "a second later: no touch");

    // Two hours on, the same read moves the expiry by two hours: touched.
    let later = app_with(store.clone(), Arc::default(), move |builder| {
        hourly(builder).clock(Arc::new(session_core::clock::SkewedClock::new(Duration::hours(
            2,
        ))))
    });
    assert_eq!(send(&later, "/read", Some(&cookie)).await.body, "1");
    let calls = store.take();
    assert_eq!(
        calls.iter().map(|c| c.method).collect::<Vec<_>>(),
        ["get", "touch"]
    );
    assert_about(
        calls[1].expires_at,
        OffsetDateTime::now_utc() + Duration::hours(2) + DAY,
    );
    // Changes are saved whatever the interval.
    assert_eq!(send(&app, "/count", Some(&cookie)).await.body, "2");
    assert_eq!(store.methods(), ["get", "set"]);
}
