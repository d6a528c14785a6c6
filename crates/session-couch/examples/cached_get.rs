//! The cached `CouchStore::get` against `MemoryStore::get`, measured side by
//! side in one run: the cache's target is at least half the memory store's
//! throughput. Build it in release mode, with the test server running:
//!
//! ```sh
//! cargo run --release -p session-couch --example cached_get [-- http://127.0.0.1:5984]
//! ```
//!
//! Each store holds 1000 sessions of about 1 KiB; gets cycle through them
//! from 1 and from 64 tasks, for half a second per round, and each store
//! keeps its best of three rounds, taken in turns.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use session_core::{Session, SessionId, Store};
use session_couch::CouchStore;
use session_memory::MemoryStore;

const SESSIONS: usize = 1000;
const ROUND: Duration = Duration::from_millis(500);
const ROUNDS: usize = 5;

fn kibibyte_session() -> Result<Session, session_core::Error> {
    let mut session = Session::new();
    for n in 0..16 {
        session.insert(format!("key-{n:02}"), "x".repeat(56))?;
    }
    Ok(session)
}

/// Gets per second over one round, from `tasks` tasks sharing the ids.
async fn throughput(store: Arc<dyn Store>, ids: Arc<Vec<SessionId>>, tasks: usize) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
            tokio::spawn(async move {
                let mut done = 0u64;
                let mut next = task * 7;
                while started.elapsed() < ROUND {
                    for _ in 0..64 {
                        let found = store.get(&ids[next % ids.len()]).await;
                        assert!(matches!(found, Ok(Some(_))), "every session is there");
                        next += 1;
                    }
                    done += 64;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap_or(0);
    }
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:5984".into());
    let couch = CouchStore::builder()
        .url(&url)
        .database("bench_cached_get")
        .cache(true)
        .purge_interval(None)
        .build()
        .await?;
    let memory = MemoryStore::new();
    let session = kibibyte_session()?;
    let ids: Arc<Vec<SessionId>> = Arc::new((0..SESSIONS).map(|_| SessionId::generate()).collect());
    while !couch.is_synced() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for id in ids.iter() {
        couch.set(id, &session).await?;
        memory.set(id, &session).await?;
    }
    let stores: [(&str, Arc<dyn Store>); 2] = [
        ("couch (cached)", Arc::new(couch.clone())),
        ("memory", Arc::new(memory)),
    ];
    println!("get throughput, {SESSIONS} sessions of 1 KiB, best of {ROUNDS} rounds of {ROUND:?}");
    for tasks in [1, 64] {
        let mut best = [0f64; 2];
        for _ in 0..ROUNDS {
            for (slot, (_, store)) in stores.iter().enumerate() {
                best[slot] = best[slot].max(throughput(Arc::clone(store), Arc::clone(&ids), tasks).await);
            }
        }
        for ((name, _), ops) in stores.iter().zip(best) {
            println!("  c={tasks:<3} {name:<15} {ops:>12.0} gets/s");
        }
        println!("  c={tasks:<3} ratio couch/memory {:.2}x", best[0] / best[1]);
    }
    couch.clear().await?;
    Ok(())
}
