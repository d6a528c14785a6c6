//! Parallel requests of one browser (a page firing XHRs at once), run on
//! every pairing and on every native store: changes made by concurrent
//! requests are all kept (rule 10 of `session_core::Store`).
//!
//! - [`parallel_requests_keep_every_key`]: [`REQUESTS`] requests with one
//!   cookie, each reading the session, holding it a while and then setting
//!   a key of its own: every key is stored. A whole-session save would
//!   keep one to three of them.
//! - [`rust_keeps_a_node_write_it_did_not_read`]: a Rust request reads the
//!   session; Node then sets a key; the Rust request saves its own key
//!   afterwards: both keys are stored. Node stores have no version field,
//!   so the Rust store compares on the stored content.
//!
//! What no Rust code can change: express-session saves the whole session
//! it read, so a *Node* request that read before a Rust (or another Node)
//! request's save and saves after it drops that save's keys.
//!
//! Test support: a failed expectation panics, which fails the calling test.
#![allow(clippy::panic, clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use serde_json::json;
use session_core::{SessionData, Store};

use crate::{
    pairings::Pairing,
    two_way::{Browser, SETTLE},
};

/// Requests of one browser at once.
pub const REQUESTS: usize = 32;

/// How long each parallel request holds the session it read before it sets
/// its key: long enough that all of them have read before any saves.
const HOLD: Duration = Duration::from_millis(500);

/// How long the Rust request of the Node race holds the session: long
/// enough for a Node store that commits on a timer (session-pouchdb-store,
/// every second) to have written Node's key.
const RACE_HOLD: Duration = Duration::from_secs(3);

/// Logs in on the Rust app at `rust`, fires [`REQUESTS`] requests at once
/// with that cookie, each setting `k<n>`, and checks in `store` that every
/// key is there beside the login's `user` (and nothing else).
pub async fn parallel_requests_keep_every_key(store: &dyn Store, rust: SocketAddr) {
    let (kept, data) = keys_kept(store, rust).await;
    assert_eq!(
        kept.len(),
        REQUESTS,
        "{REQUESTS} parallel requests, each setting its own key: kept only {kept:?}"
    );
    assert_eq!(
        data.len(),
        1 + REQUESTS,
        "keys besides the login's user and the requests'"
    );
}

/// What [`parallel_requests_keep_every_key`] checks: the requests whose key
/// `store` holds afterwards, and the session's data.
pub async fn keys_kept(store: &dyn Store, rust: SocketAddr) -> (Vec<usize>, SessionData) {
    let browser = Browser::new();
    browser.post(rust, "/login?user=parallel").await;
    let hold = HOLD.as_millis();
    let requests: Vec<_> = (0..REQUESTS)
        .map(|n| {
            let browser = browser.clone();
            tokio::spawn(async move {
                browser
                    .post(rust, &format!("/set?key=k{n}&value=v{n}&hold_ms={hold}"))
                    .await
            })
        })
        .collect();
    for request in requests {
        request.await.expect("a request panicked");
    }
    let data = session_of(store, "parallel", "after the parallel requests").await;
    let kept = (0..REQUESTS)
        .filter(|n| data.get(&format!("k{n}")) == Some(&json!(format!("v{n}"))))
        .collect();
    (kept, data)
}

/// A Rust request reads the session and holds it; Node sets `node` on the
/// same session meanwhile; the Rust request then sets `rust`. Node must see
/// both keys, and so must the store.
pub async fn rust_keeps_a_node_write_it_did_not_read(pairing: &Pairing) {
    let browser = Browser::new();
    browser.post(pairing.rust, "/login?user=racer").await;
    let rust = {
        let (browser, app) = (browser.clone(), pairing.rust);
        let hold = RACE_HOLD.as_millis();
        tokio::spawn(async move {
            browser
                .post(app, &format!("/set?key=rust&value=r&hold_ms={hold}"))
                .await
        })
    };
    // The Rust request reads first (it holds the session for RACE_HOLD).
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser
        .post(pairing.express.address, "/set?key=node&value=n")
        .await;
    rust.await.expect("the Rust request panicked");
    browser
        .sees(
            pairing.express.address,
            "/data/node",
            &json!("n"),
            "the Node write",
        )
        .await;
    browser
        .sees(
            pairing.express.address,
            "/data/rust",
            &json!("r"),
            "the Rust write that landed after the Node write",
        )
        .await;
    let data = session_of(&*pairing.store, "racer", "after the race").await;
    assert_eq!(
        (data.get("node"), data.get("rust")),
        (Some(&json!("n")), Some(&json!("r"))),
        "the store after a Rust save racing a Node save of another key"
    );
}

/// The data of the one session of `user` in `store`'s namespace, once
/// there is exactly one (a Node store may commit a moment late).
async fn session_of(store: &dyn Store, user: &str, after: &str) -> SessionData {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let all = store.all().await;
        let mut found: Vec<SessionData> = all
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|(_, session)| session.data())
            .filter(|data| data.get("user") == Some(&json!(user)))
            .cloned()
            .collect();
        if found.len() == 1 {
            return found.remove(0);
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "{after}: expected one session of {user}, found {} ({all:?} when listing)",
                found.len(),
                all = all.map(|all| all.len())
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
