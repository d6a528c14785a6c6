//! A Rust app and an Express app (express-session + connect-redis 10 on
//! node-redis 5) on one Redis, one cookie jar between them (see
//! `express_interop::two_way`), then sessions keeping their own lifetime
//! and cookie attributes on either side (`express_interop::lifetimes`).

#![allow(clippy::unwrap_used)]

use express_interop::{
    lifetimes::{NodeCookie, keep_lifetimes_and_cookie_flags},
    pairings,
    parallel::{parallel_requests_keep_every_key, rust_keeps_a_node_write_it_did_not_read},
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_and_rust_share_logins_data_and_logouts() {
    let pairing = pairings::connect_redis().await.unwrap();
    share_logins_data_and_logouts(&pairing, NodeExpiry::Ends).await;
    keep_lifetimes_and_cookie_flags(&pairing, NodeCookie::Attributes).await;
    parallel_requests_keep_every_key(&*pairing.store, pairing.rust).await;
    rust_keeps_a_node_write_it_did_not_read(&pairing).await;
    pairing.finish().await.unwrap();
}
