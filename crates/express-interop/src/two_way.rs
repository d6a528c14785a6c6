//! The two-way run every pairing passes: one cookie jar moves between the
//! Express app and the Rust app on one shared store. Log in on one, be
//! logged in on the other; change data on one, see it on the other; log out
//! on either, be logged out on both; both sides agree on the expiry.
//!
//! Test support: a failed expectation panics, which fails the calling test.
#![allow(clippy::panic, clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use reqwest::Method;
use serde_json::Value;
use session_core::{SessionId, Store};
use time::OffsetDateTime;

use crate::{MAX_AGE, pairings::Pairing};

/// How long a change may take to show on the other side: a Node store may
/// write on a timer (session-pouchdb-store commits every second) or learn
/// of a change from a feed.
pub const SETTLE: Duration = Duration::from_secs(10);

/// The session cookie's name, the same on both apps.
pub const COOKIE_NAME: &str = "connect.sid";

/// What an app answered: its JSON, and the session cookie it set.
#[derive(Debug)]
pub struct Answer {
    /// The JSON body.
    pub body: Value,
    /// The `Set-Cookie` header for the session cookie, when one came.
    pub set_cookie: Option<String>,
}

/// A browser's cookie jar and an HTTP client (one for both apps: the cookie
/// has no port, as in a browser). A clone shares the jar, as a browser's
/// parallel requests do.
#[derive(Clone)]
pub struct Browser {
    client: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// An empty cookie jar.
    ///
    /// # Panics
    /// When the HTTP client cannot be built (a test failure).
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// `POST path` on `app`; the JSON answer. Panics on a failed request.
    pub async fn post(&self, app: SocketAddr, path: &str) -> Value {
        self.send(Method::POST, app, path, &[]).await.body
    }

    /// `GET /whoami` on `app`.
    pub async fn whoami(&self, app: SocketAddr) -> Value {
        self.send(Method::GET, app, "/whoami", &[]).await.body
    }

    /// `method path` on `app` with `headers` besides the cookie; the JSON
    /// answer and the session cookie the app set. Panics on a failed
    /// request.
    ///
    /// The jar keeps and sends `Secure` cookies on 127.0.0.1 over plain
    /// http, as browsers do for loopback addresses.
    pub async fn send(
        &self,
        method: Method,
        app: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, format!("http://{app}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} on {app}: {e}"));
        let status = response.status();
        let mut session_cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter(|value| value.starts_with(&format!("{COOKIE_NAME}=")))
            .map(str::to_owned);
        let set_cookie = session_cookies.next();
        assert!(
            session_cookies.next().is_none(),
            "{path} on {app}: more than one session cookie"
        );
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path} on {app}: {status}: {body}");
        let body = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} on {app}: {e}: {body}"));
        Answer { body, set_cookie }
    }

    /// Polls `GET /whoami` on `app` until `field` (a JSON pointer) reads
    /// `expected`, for up to [`SETTLE`]; panics with what it saw last.
    pub async fn sees(&self, app: SocketAddr, field: &str, expected: &Value, after: &str) {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let seen = self.whoami(app).await;
            if seen.pointer(field) == Some(expected) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{after}: {app} shows {field} = {:?}, not {expected}",
                    seen.pointer(field)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The one session in the store's namespace, once there is exactly one.
async fn the_session(store: &dyn Store, after: &str) -> (SessionId, OffsetDateTime) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let all = store.all().await.unwrap_or_default();
        if let [(id, session)] = all.as_slice() {
            let expires = session
                .expires_at()
                .unwrap_or_else(|| panic!("{after}: the session has no expiry"));
            return (id.clone(), expires);
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{after}: {} sessions in the store, not one", all.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Both sides give the session about [`MAX_AGE`] from now (Node may round
/// to whole seconds; a minute of slack for a loaded machine), and agree.
async fn expiry_is_fresh(store: &dyn Store, browser: &Browser, node: SocketAddr, after: &str) {
    let (_, in_rust) = the_session(store, after).await;
    let max_age = time::Duration::try_from(MAX_AGE).unwrap_or(time::Duration::HOUR);
    let fresh = |at: OffsetDateTime| {
        let left = at - OffsetDateTime::now_utc();
        left > max_age - time::Duration::seconds(60) && left <= max_age + time::Duration::seconds(2)
    };
    assert!(fresh(in_rust), "{after}: Rust's expiry {in_rust}");
    let in_node = browser.whoami(node).await["expires"].clone();
    let in_node = in_node
        .as_str()
        .and_then(session_core::backend::express::parse_js_date)
        .unwrap_or_else(|| panic!("{after}: Node's expiry {in_node}"));
    assert!(fresh(in_node), "{after}: Node's expiry {in_node}");
    assert!(
        (in_node - in_rust).abs() < time::Duration::seconds(60),
        "{after}: Node says {in_node}, Rust {in_rust}"
    );
}

/// What the Node store does with a session past its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeExpiry {
    /// It ends the session, as Rust does (connect-redis, connect-pg-simple).
    Ends,
    /// It serves it until its sweeper deletes it (connect-session-sequelize,
    /// session-pouchdb-store): Rust ends it on time anyway.
    ServesUntilSwept,
}

/// The whole run, on `pairing`'s two apps and store (alone in its
/// namespace: prefix, table, database).
pub async fn share_logins_data_and_logouts(pairing: &Pairing, node_expiry: NodeExpiry) {
    let (store, node, rust) = (&*pairing.store, pairing.express.address, pairing.rust);
    let browser = Browser::new();
    let (ada, bob, null) = (Value::from("ada"), Value::from("bob"), Value::Null);

    // Log in on Express: the Rust app knows the user.
    browser.post(node, "/login?user=ada").await;
    browser.sees(rust, "/user", &ada, "login on Express").await;
    expiry_is_fresh(store, &browser, node, "login on Express, read on Rust").await;

    // Data changed on either side is seen on the other.
    browser.post(rust, "/set?key=color&value=blue").await;
    browser
        .sees(node, "/data/color", &Value::from("blue"), "a write on Rust")
        .await;
    browser.post(node, "/set?key=visits&value=3").await;
    browser
        .sees(rust, "/data/visits", &Value::from("3"), "a write on Express")
        .await;
    browser
        .sees(rust, "/data/color", &Value::from("blue"), "both writes")
        .await;
    expiry_is_fresh(store, &browser, node, "writes on both sides").await;

    // Log out on Rust: logged out on Express too.
    browser.post(rust, "/logout").await;
    browser.sees(node, "/user", &null, "logout on Rust").await;
    browser.sees(rust, "/user", &null, "logout on Rust").await;

    // And the other way round: log in on Rust, log out on Express.
    browser.post(rust, "/login?user=bob").await;
    browser.sees(node, "/user", &bob, "login on Rust").await;
    expiry_is_fresh(store, &browser, node, "login on Rust").await;
    browser.post(node, "/logout").await;
    browser.sees(rust, "/user", &null, "logout on Express").await;
    browser.sees(node, "/user", &null, "logout on Express").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while store.length().await.unwrap_or(u64::MAX) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "logout on Express: the session is gone"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A session whose time is up is over in Rust; in Node as its store says.
    browser.post(node, "/login?user=ada").await;
    browser.sees(rust, "/user", &ada, "a last login").await;
    let (id, _) = the_session(store, "a last login").await;
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(1);
    if let Err(error) = store.touch(&id, Some(soon)).await {
        panic!("shortening the session: {error}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    browser.sees(rust, "/user", &null, "after the expiry").await;
    match node_expiry {
        NodeExpiry::Ends => browser.sees(node, "/user", &null, "after the expiry").await,
        NodeExpiry::ServesUntilSwept => browser.sees(node, "/user", &ada, "after the expiry").await,
    }
}
