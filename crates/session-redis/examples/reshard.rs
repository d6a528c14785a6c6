//! Bulk operations during a reshard, checked: run by `scripts/failover`
//! against its cluster. Writes sessions, starts `length`, `all_stream` and
//! `clear` page by page while `redis-cli --cluster reshard` moves slots
//! between primaries, and prints, for each operation, whether it saw
//! every session or said it could not; a silently partial answer fails.
//!
//! ```text
//! reshard <first port> <from node id> <to node id>
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::{collections::HashSet, time::Duration};

use futures_util::StreamExt as _;
use session_core::{Error, Session, SessionId, Store};
use session_redis::RedisStore;

const SESSIONS: usize = 20_000;

fn reshard(port: &str, from: &str, to: &str) -> std::process::Child {
    std::process::Command::new("redis-cli")
        .args([
            "--cluster",
            "reshard",
            &format!("127.0.0.1:{port}"),
            "--cluster-from",
            from,
            "--cluster-to",
            to,
        ])
        .args([
            "--cluster-slots",
            "2000",
            "--cluster-yes",
            "--cluster-pipeline",
            "10",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli runs")
}

fn verdict(seen: usize, error: Option<&Error>) -> String {
    match (seen, error) {
        (SESSIONS, None) => "all seen".into(),
        (_, Some(error)) if error.is_transient() => format!("reported: {error}"),
        (seen, error) => panic!("silently partial: {seen} of {SESSIONS}, error {error:?}"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, from, to] = args.as_slice() else {
        panic!("usage: reshard <first port> <from node id> <to node id>");
    };
    let store = RedisStore::builder()
        .url(format!("redis-cluster://127.0.0.1:{port}"))
        .prefix("reshard")
        .scan_count(50)
        .timeout(Duration::from_secs(5))
        .build()
        .await
        .expect("the cluster answers");
    store.clear().await.expect("a clean start");
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    futures_util::stream::iter(&ids)
        .for_each_concurrent(64, |id| {
            let store = store.clone();
            async move { store.set(id, &Session::new()).await.expect("set") }
        })
        .await;

    let mut mover = reshard(port, from, to);
    let mut seen = HashSet::new();
    let mut error = None;
    let mut stream = store.all_stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok((id, _)) => {
                seen.insert(id);
                if seen.len() % 200 == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await; // a slow consumer
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    drop(stream);
    let all = verdict(seen.len(), error.as_ref());
    let length = match store.length().await {
        Ok(n) => verdict(usize::try_from(n).unwrap(), None),
        Err(e) => verdict(0, Some(&e)),
    };
    mover.wait().expect("reshard finished");
    println!("| all_stream during a reshard | {all} |");
    println!("| length right after | {length} |");
    let _ = store.clear().await;
}
