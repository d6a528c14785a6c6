//! The lifetime and cookie-flag run every pairing passes, after
//! [`two_way`](crate::two_way)'s: a session keeps the lifetime and the
//! cookie attributes of the app that started it, whichever app serves it.
//!
//! - A Node login with a lifetime of its own (`cookie.maxAge = 60 s`) keeps
//!   it on the Rust side, whose layer says an hour ([`MAX_AGE`]): the
//!   store's expiry stays within 60 s of now after Rust reads and writes it,
//!   with or without `rolling`, and every cookie Rust sends says
//!   `Max-Age=60`; Node then still serves it, with its own lifetime.
//! - A Node login with a browser-session cookie (`cookie.maxAge = null`)
//!   stays one: Rust's cookies carry neither `Expires` nor `Max-Age`, and
//!   Node still reads `expires: null`.
//! - A session a Rust app with `Secure` and `SameSite=Strict` started is
//!   re-issued by Node with both (behind a proxy saying https, as
//!   express-session sends a `Secure` cookie on secure requests only),
//!   where a session Node starts gets neither.
//!
//! Test support: a failed expectation panics, which fails the calling test.
#![allow(clippy::panic, clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use reqwest::Method;
use serde_json::Value;
use session_core::{Session, SessionId, backend::SessionParts};
use session_middleware::SameSite;
use time::OffsetDateTime;

use crate::{
    MAX_AGE,
    pairings::Pairing,
    two_way::{Answer, Browser, SETTLE},
};

/// The lifetime of its own a Node login gives the session in this run.
pub const OWN_LIFETIME: Duration = Duration::from_secs(60);

/// How far past its lifetime an expiry may lie: Node and the stores round
/// to whole seconds or milliseconds.
const ROUNDING: time::Duration = time::Duration::seconds(2);

/// The header a TLS-terminating proxy adds; the Express app trusts it from
/// 127.0.0.1.
const FROM_HTTPS: [(&str, &str); 1] = [("X-Forwarded-Proto", "https")];

/// The session cookie Express sends with the pairing's Node store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeCookie {
    /// With the attributes of the session's cookie object (`Path`,
    /// `Expires`, `HttpOnly`, `Secure`, `SameSite`), as express-session
    /// writes them.
    Attributes,
    /// The bare `connect.sid=…` whenever the request saved or touched the
    /// session: session-pouchdb-store 0.4's `set` (and `touch`, through it)
    /// replaces `req.session.cookie` with the cookie's JSON at once, before
    /// express-session writes the header, which then finds no attributes.
    /// The browser gets a cookie without `Expires`, `HttpOnly`, `Secure` or
    /// `SameSite`, whatever the session says; the stored cookie object
    /// keeps them all.
    Bare,
}

/// The whole run, on `pairing`'s apps and store: its own lifetime, a
/// browser-session cookie, the cookie attributes.
pub async fn keep_lifetimes_and_cookie_flags(pairing: &Pairing, node_sends: NodeCookie) {
    assert!(
        OWN_LIFETIME * 2 < MAX_AGE,
        "the run tells the session's lifetime from the layer's"
    );
    a_node_lifetime_holds_on_rust(pairing, node_sends).await;
    a_browser_session_stays_one(pairing, node_sends).await;
    rust_cookie_flags_hold_on_node(pairing, node_sends).await;
}

/// A Node login with `cookie.maxAge = 60 s`, then Rust requests that read
/// and write it, on the pairing's Rust app and one with `rolling`.
pub async fn a_node_lifetime_holds_on_rust(pairing: &Pairing, node_sends: NodeCookie) {
    let (node, rust) = (pairing.express.address, pairing.rust);
    let rolling = pairing
        .start_rust_app(|layer| layer.rolling(true))
        .await
        .unwrap_or_else(|e| panic!("a Rust app with rolling: {e}"));
    let browser = Browser::new();
    let dee = Value::from("dee");
    let millis = OWN_LIFETIME.as_secs() * 1000;

    let login = post(&browser, node, &format!("/login?user=dee&maxAge={millis}")).await;
    let after = "a Node login with maxAge 60 s, on Node";
    if let Some(set_cookie) = node_sent(&login, node_sends, after) {
        expect_lifetime(set_cookie, Some(OWN_LIFETIME), after);
    }
    browser
        .sees(rust, "/user", &dee, "a Node login with maxAge 60 s")
        .await;
    let id = session_of(pairing, "dee", "a Node login with maxAge 60 s").await;
    lives_by(pairing, &id, "a Node login with maxAge 60 s, read on Rust").await;

    let after = "a write on Rust";
    let answer = post(&browser, rust, "/set?key=color&value=green").await;
    expect_lifetime(sent(&answer, after), Some(OWN_LIFETIME), after);
    lives_by(pairing, &id, after).await;
    let after = "a read on Rust";
    let answer = browser.send(Method::GET, rust, "/whoami", &[]).await;
    assert_eq!(answer.body["user"], dee, "{after}");
    assert_eq!(answer.set_cookie, None, "{after}: no cookie without a change");
    lives_by(pairing, &id, after).await;

    let after = "a read on Rust with rolling";
    let answer = browser.send(Method::GET, rolling, "/whoami", &[]).await;
    assert_eq!(answer.body["user"], dee, "{after}");
    expect_lifetime(sent(&answer, after), Some(OWN_LIFETIME), after);
    lives_by(pairing, &id, after).await;
    let after = "a write on Rust with rolling";
    let answer = post(&browser, rolling, "/set?key=visits&value=4").await;
    expect_lifetime(sent(&answer, after), Some(OWN_LIFETIME), after);
    lives_by(pairing, &id, after).await;

    // Node serves it still, with the lifetime it gave it.
    let after = "Rust's requests, read on Node";
    browser.sees(node, "/data/visits", &Value::from("4"), after).await;
    browser
        .sees(node, "/data/color", &Value::from("green"), after)
        .await;
    let seen = browser.whoami(node).await;
    assert_eq!(seen["user"], dee, "{after}");
    assert_eq!(seen["originalMaxAge"], Value::from(millis), "{after}");
    let expires = seen["expires"]
        .as_str()
        .and_then(session_core::backend::express::parse_js_date)
        .unwrap_or_else(|| panic!("{after}: Node's expiry {}", seen["expires"]));
    within_lifetime(expires - OffsetDateTime::now_utc(), after, "Node's expiry");
    lives_by(pairing, &id, after).await;
}

/// A Node login with `cookie.maxAge = null`, then Rust requests on the
/// pairing's Rust app and one with `rolling`.
pub async fn a_browser_session_stays_one(pairing: &Pairing, node_sends: NodeCookie) {
    let (node, rust) = (pairing.express.address, pairing.rust);
    let rolling = pairing
        .start_rust_app(|layer| layer.rolling(true))
        .await
        .unwrap_or_else(|e| panic!("a Rust app with rolling: {e}"));
    let browser = Browser::new();
    let eve = Value::from("eve");

    let login = post(&browser, node, "/login?user=eve&maxAge=null").await;
    let after = "a Node browser-session login, on Node";
    if let Some(set_cookie) = node_sent(&login, node_sends, after) {
        expect_lifetime(set_cookie, None, after);
    }
    browser
        .sees(rust, "/user", &eve, "a Node browser-session login")
        .await;
    let id = session_of(pairing, "eve", "a Node browser-session login").await;
    is_browser_session(
        &stored(pairing, &id, "a Node browser-session login").await,
        "a Node browser-session login",
    );

    let after = "a read on Rust with rolling";
    let answer = browser.send(Method::GET, rolling, "/whoami", &[]).await;
    assert_eq!(answer.body["user"], eve, "{after}");
    expect_lifetime(sent(&answer, after), None, after);
    is_browser_session(&stored(pairing, &id, after).await, after);
    let after = "a write on Rust with rolling";
    let answer = post(&browser, rolling, "/set?key=color&value=teal").await;
    expect_lifetime(sent(&answer, after), None, after);
    is_browser_session(&stored(pairing, &id, after).await, after);
    // Without rolling, express-session's rule: no cookie for a change to a
    // browser-session cookie's session (there is no expiry to move).
    let after = "a write on Rust";
    let answer = post(&browser, rust, "/set?key=visits&value=5").await;
    assert_eq!(answer.set_cookie, None, "{after}");
    is_browser_session(&stored(pairing, &id, after).await, after);

    let after = "Rust's requests, read on Node";
    browser.sees(node, "/data/visits", &Value::from("5"), after).await;
    browser
        .sees(node, "/data/color", &Value::from("teal"), after)
        .await;
    let seen = browser.whoami(node).await;
    assert_eq!(seen["user"], eve, "{after}");
    assert_eq!(seen["expires"], Value::Null, "{after}: Node's expiry");
    assert_eq!(seen["originalMaxAge"], Value::Null, "{after}: Node's lifetime");
}

/// A login on a Rust app sending `Secure` and `SameSite=Strict`, then a
/// change on Node.
pub async fn rust_cookie_flags_hold_on_node(pairing: &Pairing, node_sends: NodeCookie) {
    let node = pairing.express.address;
    let strict = pairing
        .start_rust_app(|layer| layer.secure(true).same_site(SameSite::Strict))
        .await
        .unwrap_or_else(|e| panic!("a Rust app with Secure and SameSite=Strict: {e}"));
    let browser = Browser::new();
    let fay = Value::from("fay");

    let after = "a login on Rust with Secure and SameSite=Strict";
    let login = post(&browser, strict, "/login?user=fay").await;
    has_flags(sent(&login, after), true, Some("Strict"), after);
    let id = session_of(pairing, "fay", after).await;
    stores_flags(&stored(pairing, &id, after).await, after);
    // The jar holds the Secure cookie and sends it to Node on 127.0.0.1.
    browser.sees(node, "/user", &fay, after).await;

    // express-session sends a Secure cookie on secure requests only.
    let after = "a change on Node over plain http";
    let answer = post(&browser, node, "/set?key=color&value=red").await;
    assert_eq!(answer.set_cookie, None, "{after}");
    let after = "a change on Node behind a proxy saying https";
    let answer = browser
        .send(Method::POST, node, "/set?key=color&value=violet", &FROM_HTTPS)
        .await;
    if let Some(set_cookie) = node_sent(&answer, node_sends, after) {
        has_flags(set_cookie, true, Some("Strict"), after);
        expect_lifetime(set_cookie, Some(MAX_AGE), after);
    }
    browser
        .sees(strict, "/data/color", &Value::from("violet"), after)
        .await;
    // Node's record says them still.
    stores_flags(&stored(pairing, &id, after).await, after);

    // Those came from the session: one Node starts has the app's own.
    let after = "a change on Node to its own session, behind a proxy saying https";
    let other = Browser::new();
    post(&other, node, "/login?user=gus").await;
    let answer = other
        .send(Method::POST, node, "/set?key=color&value=gray", &FROM_HTTPS)
        .await;
    if let Some(set_cookie) = node_sent(&answer, node_sends, after) {
        has_flags(set_cookie, false, None, after);
    }
}

/// The session cookie in `answer`.
fn sent<'a>(answer: &'a Answer, after: &str) -> &'a str {
    answer
        .set_cookie
        .as_deref()
        .unwrap_or_else(|| panic!("{after}: no session cookie set"))
}

/// The session cookie Node sent in `answer`, to check further where it has
/// attributes; `None` where the Node store drops them (checked: a bare
/// cookie).
fn node_sent<'a>(answer: &'a Answer, node_sends: NodeCookie, after: &str) -> Option<&'a str> {
    let set_cookie = sent(answer, after);
    match node_sends {
        NodeCookie::Attributes => Some(set_cookie),
        NodeCookie::Bare => {
            assert!(
                !set_cookie.contains(';'),
                "{after}: the Node store no longer drops the cookie's attributes: {set_cookie}"
            );
            None
        }
    }
}

/// The stored cookie object says `Secure` and `SameSite=Strict`, in
/// express-session's spelling.
fn stores_flags(session: &Session, after: &str) {
    let cookie = session
        .express_cookie()
        .unwrap_or_else(|| panic!("{after}: no cookie object stored"));
    assert_eq!(
        cookie.get("secure"),
        Some(&Value::Bool(true)),
        "{after}: {cookie:?}"
    );
    assert_eq!(
        cookie.get("sameSite"),
        Some(&Value::from("strict")),
        "{after}: {cookie:?}"
    );
}

async fn post(browser: &Browser, app: SocketAddr, path: &str) -> Answer {
    browser.send(Method::POST, app, path, &[]).await
}

/// The id of the session whose `user` is `user`, once the Rust store has
/// it.
async fn session_of(pairing: &Pairing, user: &str, after: &str) -> SessionId {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let all = pairing.store.all().await.unwrap_or_default();
        let mut theirs = all
            .into_iter()
            .filter(|(_, session)| session.get::<String>("user").ok().flatten().as_deref() == Some(user));
        if let Some((id, _)) = theirs.next() {
            assert!(theirs.next().is_none(), "{after}: two sessions of {user}");
            return id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{after}: no session of {user} in the store"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The session `id` as the Rust store reads it.
async fn stored(pairing: &Pairing, id: &SessionId, after: &str) -> Session {
    pairing
        .store
        .get(id)
        .await
        .unwrap_or_else(|e| panic!("{after}: reading the session: {e}"))
        .unwrap_or_else(|| panic!("{after}: the session is gone"))
}

/// The session `id` ends within [`OWN_LIFETIME`] from now, as the Rust
/// store reads it and, where the pairing has a look of its own (a Redis
/// TTL), as the server holds it: more than half of it left (the run takes
/// seconds), no more than all of it.
async fn lives_by(pairing: &Pairing, id: &SessionId, after: &str) {
    let session = stored(pairing, id, after).await;
    let expires = session
        .expires_at()
        .unwrap_or_else(|| panic!("{after}: the session has no expiry"));
    within_lifetime(expires - OffsetDateTime::now_utc(), after, "the store's expiry");
    let raw = pairing
        .raw_ttl(id)
        .await
        .unwrap_or_else(|e| panic!("{after}: the server's TTL: {e}"));
    if let Some(ttl) = raw {
        let left = time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX);
        within_lifetime(left, after, "the server's TTL");
    }
}

/// `left` (until a session ends) lies between half [`OWN_LIFETIME`] and
/// all of it.
fn within_lifetime(left: time::Duration, after: &str, what: &str) {
    let lifetime = time::Duration::try_from(OWN_LIFETIME).expect("a minute");
    assert!(
        left > lifetime / 2 && left <= lifetime + ROUNDING,
        "{after}: {what} is {left} from now, not within the session's own {lifetime}"
    );
}

/// The stored cookie object says a browser-session cookie: no lifetime, no
/// `expires`.
fn is_browser_session(session: &Session, after: &str) {
    let cookie = session
        .express_cookie()
        .unwrap_or_else(|| panic!("{after}: no cookie object stored"));
    assert_eq!(
        cookie.get("originalMaxAge"),
        Some(&Value::Null),
        "{after}: {cookie:?}"
    );
    assert_eq!(cookie.get("expires"), Some(&Value::Null), "{after}: {cookie:?}");
}

/// `set_cookie` makes a cookie living `lifetime` (its `Max-Age`, when
/// sent, and `Expires` to the second), or one for the browser session
/// (neither) when `None`.
fn expect_lifetime(set_cookie: &str, lifetime: Option<Duration>, after: &str) {
    let (max_age, expires) = (attribute(set_cookie, "Max-Age"), attribute(set_cookie, "Expires"));
    let Some(lifetime) = lifetime else {
        assert!(
            max_age.is_none() && expires.is_none(),
            "{after}: not a browser-session cookie: {set_cookie}"
        );
        return;
    };
    // Rust sends Max-Age and Expires, express-session only Expires.
    if let Some(max_age) = max_age {
        assert_eq!(
            max_age,
            Some(lifetime.as_secs().to_string()),
            "{after}: {set_cookie}"
        );
    }
    let expires = expires
        .flatten()
        .and_then(|date| httpdate(&date))
        .unwrap_or_else(|| panic!("{after}: no Expires: {set_cookie}"));
    let left = expires - OffsetDateTime::now_utc();
    let lifetime = time::Duration::try_from(lifetime).expect("a lifetime");
    assert!(
        left > lifetime - time::Duration::seconds(30) && left <= lifetime + ROUNDING,
        "{after}: the cookie expires {left} from now, not in {lifetime}: {set_cookie}"
    );
}

/// `set_cookie` says `Secure` when `secure`, and `SameSite=same_site`
/// (none when `None`), besides `Path=/` and `HttpOnly` (both apps'
/// settings).
fn has_flags(set_cookie: &str, secure: bool, same_site: Option<&str>, after: &str) {
    assert_eq!(
        attribute(set_cookie, "Path"),
        Some(Some("/".into())),
        "{after}: Path: {set_cookie}"
    );
    assert_eq!(
        attribute(set_cookie, "HttpOnly"),
        Some(None),
        "{after}: HttpOnly: {set_cookie}"
    );
    assert_eq!(
        attribute(set_cookie, "Secure").is_some(),
        secure,
        "{after}: Secure: {set_cookie}"
    );
    assert_eq!(
        attribute(set_cookie, "SameSite").flatten().as_deref(),
        same_site,
        "{after}: SameSite: {set_cookie}"
    );
}

/// Attribute `name` of a `Set-Cookie` header (any case): `Some(None)` when
/// it has no value, `None` when absent.
fn attribute(set_cookie: &str, name: &str) -> Option<Option<String>> {
    set_cookie.split(';').skip(1).find_map(|part| {
        let (key, value) = part.split_once('=').map_or((part, None), |(k, v)| (k, Some(v)));
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.map(|v| v.trim().to_owned()))
    })
}

/// An HTTP date (`Thu, 01 Jan 1970 00:00:00 GMT`), as both apps write it.
fn httpdate(text: &str) -> Option<OffsetDateTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let [_, day, month, year, clock, "GMT"] = text.split_ascii_whitespace().collect::<Vec<_>>()[..] else {
        return None;
    };
    let month = MONTHS.iter().position(|m| *m == month)?;
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut clock = clock.split(':').map(str::parse::<u8>);
    let (Some(Ok(hour)), Some(Ok(minute)), Some(Ok(second)), None) =
        (clock.next(), clock.next(), clock.next(), clock.next())
    else {
        return None;
    };
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}
