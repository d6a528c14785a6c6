//! A Rust app and an Express app (express-session + connect-redis 10 on
//! node-redis 5) on one Redis, one cookie jar between them (see
//! `express_interop::two_way`).

#![allow(clippy::unwrap_used)]

use express_interop::{
    pairings,
    two_way::{NodeExpiry, share_logins_data_and_logouts},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_and_rust_share_logins_data_and_logouts() {
    let pairing = pairings::connect_redis().await.unwrap();
    share_logins_data_and_logouts(&pairing, NodeExpiry::Ends).await;
    pairing.finish().await.unwrap();
}
