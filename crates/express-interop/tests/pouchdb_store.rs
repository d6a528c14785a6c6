//! A Rust app and an Express app (express-session + session-pouchdb-store
//! 0.4 on the CouchDB server) in one database, one cookie jar between them
//! (see `express_interop::two_way`), then sessions keeping their own
//! lifetime and cookie attributes on either side
//! (`express_interop::lifetimes`; Node's cookies go out bare with this
//! store). Node writes reach the database on its one-second commit timer
//! and learns of Rust's from the changes feed; the run waits for both.

#![allow(clippy::unwrap_used)]

use express_interop::{
    lifetimes::{NodeCookie, keep_lifetimes_and_cookie_flags},
    pairings,
    parallel::{parallel_requests_keep_every_key, rust_keeps_a_node_write_it_did_not_read},
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_and_rust_share_logins_data_and_logouts() {
    let pairing = pairings::pouchdb_store().await.unwrap();
    share_logins_data_and_logouts(&pairing, NodeExpiry::ServesUntilSwept).await;
    keep_lifetimes_and_cookie_flags(&pairing, NodeCookie::Bare).await;
    parallel_requests_keep_every_key(&*pairing.store, pairing.rust).await;
    rust_keeps_a_node_write_it_did_not_read(&pairing).await;
    pairing.finish().await.unwrap();
}
