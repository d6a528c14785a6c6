//! Redis near cache invalidation between two processes: this one changes a
//! session through a plain store; a child process (`--near-watch`) that
//! holds the session in its near cache reports when the entry is gone, after
//! which its get must return the new version. The same shape as the CouchDB
//! cache sync in `sync`.

use std::time::{Duration, Instant};

use session_core::{Session, SessionId, Store};
use session_redis::RedisStore;
use tokio::io::{AsyncBufReadExt as _, BufReader as AsyncBufReader};

use crate::{
    redis,
    sync::{SyncLatency, time_changes, unix_nanos},
};

const PREFIX: &str = "bench:nearsync";
/// How often the child looks at its cache: a plain thread sleep, finer than
/// tokio's millisecond timer.
const POLL: Duration = Duration::from_micros(50);

/// Writes `changes` sessions' second version, one at a time, and times each
/// one's invalidation in the child's near cache.
pub async fn measure(changes: usize) -> Result<SyncLatency, String> {
    let writer = redis::ours(&redis::url(), PREFIX, None).await?;
    time_changes(
        &writer,
        "--near-watch",
        "near cache watcher",
        changes,
        Duration::from_millis(2),
    )
    .await
}

fn version_of(session: Option<Session>) -> Option<i64> {
    session.and_then(|s| s.get::<i64>("v").ok().flatten())
}

/// The child: a store with a near cache. `hold <id>` reads the session until
/// the cache holds it (version 1); `await <id>` watches the cache until the
/// entry is gone, prints when, then checks its get returns version 2.
pub async fn watch() -> Result<(), String> {
    let store = redis::ours(&redis::url(), PREFIX, Some(10_000)).await?;
    println!("ready");
    let mut lines = AsyncBufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let (command, id) = line.trim().split_once(' ').unwrap_or_default();
        let id = SessionId::parse(id).map_err(|e| e.to_string())?;
        if command == "hold" {
            hold(&store, &id).await?;
            println!("held");
            continue;
        }
        let polled = store.clone();
        let polled_id = id.clone();
        let gone_at = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            while polled.near_cache_holds(&polled_id) && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            unix_nanos()
        })
        .await
        .map_err(|e| e.to_string())?;
        let now = version_of(store.get(&id).await.map_err(|e| e.to_string())?);
        if now != Some(2) {
            return Err(format!(
                "{}: after the invalidation, get gave version {now:?}",
                id.as_str()
            ));
        }
        println!("seen {gone_at}");
    }
    Ok(())
}

/// Reads `id` until the near cache holds it at version 1 (the cache fills
/// only while trusted).
async fn hold(store: &RedisStore, id: &SessionId) -> Result<(), String> {
    for _ in 0..200 {
        let got = version_of(store.get(id).await.map_err(|e| e.to_string())?);
        if got != Some(1) {
            return Err(format!("{}: the watcher read version {got:?}", id.as_str()));
        }
        if store.near_cache_holds(id) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("{}: the near cache never held it", id.as_str()))
}
