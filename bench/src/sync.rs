//! CouchDB cache sync latency between two processes: this one changes a
//! session through its cached store, a child process (`--sync-watch`) that
//! holds the session in a cached store of its own reports when its cache
//! has the change. (The feed refreshes the sessions a process holds; it does
//! not load every new session into every process.)

use std::{
    io::{BufRead as _, BufReader, Write as _},
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use couch_rs::Client;
use serde::{Deserialize, Serialize};
use session_core::{Session, SessionId, Store};
use tokio::io::{AsyncBufReadExt as _, BufReader as AsyncBufReader};

use crate::{
    couch,
    subject::{data, later},
};

const DATABASE: &str = "bench_sync";

/// The latency from a write's acknowledgement to the other process's cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncLatency {
    pub changes: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The wall clock in nanoseconds, comparable between two processes of one machine.
pub fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Writes `changes` new sessions, one at a time, and times each one's arrival
/// in the child's cache.
pub async fn measure(changes: usize) -> Result<SyncLatency, String> {
    let client = Client::new_no_auth(&couch::url()).map_err(|e| e.to_string())?;
    let writer = couch::ours(&client, DATABASE, true).await?;
    couch::synced(&writer).await?;
    time_changes(
        &writer,
        "--sync-watch",
        "sync watcher",
        changes,
        Duration::from_millis(5),
    )
    .await
}

/// The parent's side of both cross-process measurements: for each of
/// `changes` fresh sessions, create version 1, have the child (this binary
/// run with `flag`) hold it, write version 2, and time from the write's
/// acknowledgement to the child's `seen <unix nanos>`.
pub async fn time_changes(
    writer: &dyn Store,
    flag: &str,
    name: &str,
    changes: usize,
    pause: Duration,
) -> Result<SyncLatency, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut watcher = Command::new(exe)
        .arg(flag)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let (Some(mut to_watcher), Some(from_watcher)) = (watcher.stdin.take(), watcher.stdout.take()) else {
        return Err(format!("the {name} has no pipes"));
    };
    let mut from_watcher = BufReader::new(from_watcher).lines();
    let mut next_line = move || from_watcher.next().and_then(Result::ok).unwrap_or_default();
    if next_line() != "ready" {
        return Err(format!("the {name} did not start"));
    }
    let (first, second) = (version(1)?, version(2)?);
    let mut latencies = Vec::with_capacity(changes);
    for _ in 0..changes {
        let id = SessionId::generate();
        writer.create(&id, &first).await.map_err(|e| e.to_string())?;
        writeln!(to_watcher, "hold {}", id.as_str()).map_err(|e| e.to_string())?;
        let held = next_line();
        if held != "held" {
            return Err(format!("the {name} could not hold the session: {held}"));
        }
        writer.set(&id, &second).await.map_err(|e| e.to_string())?;
        let acknowledged = unix_nanos();
        writeln!(to_watcher, "await {}", id.as_str()).map_err(|e| e.to_string())?;
        let answer = next_line();
        let seen: u128 = answer
            .strip_prefix("seen ")
            .and_then(|nanos| nanos.parse().ok())
            .ok_or_else(|| format!("the {name} answered {answer:?}"))?;
        latencies.push(seen.saturating_sub(acknowledged) as f64 / 1e6);
        tokio::time::sleep(pause).await;
    }
    drop(to_watcher);
    let _ = watcher.wait();
    Ok(latency_of(changes, latencies))
}

/// A session whose "v" is `v`.
pub fn version(v: i64) -> Result<Session, String> {
    let mut session = Session::from_data(data()).expiring_at(later());
    session.insert("v", v).map_err(|e| e.to_string())?;
    Ok(session)
}

/// The percentiles of `latencies` (ms; at least one).
pub fn latency_of(changes: usize, mut latencies: Vec<f64>) -> SyncLatency {
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    SyncLatency {
        changes,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
    }
}

/// The child: a cached store on the same database. `hold <id>` reads the
/// session (so the cache holds it); `await <id>` polls the cache until it
/// holds the session's second version and prints when.
pub async fn watch() -> Result<(), String> {
    let store = session_couch::CouchStore::builder()
        .url(couch::url())
        .database(DATABASE)
        .cache(true)
        .purge_interval(None)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    couch::synced(&store).await?;
    println!("ready");
    let mut lines = AsyncBufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let (command, id) = line.trim().split_once(' ').unwrap_or_default();
        let id = SessionId::parse(id).map_err(|e| e.to_string())?;
        if command == "hold" {
            store.get(&id).await.map_err(|e| e.to_string())?;
            println!("held");
            continue;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let second =
            |session: Option<Session>| session.and_then(|s| s.get::<i64>("v").ok().flatten()) == Some(2);
        while !second(store.cached(&id).await) {
            if std::time::Instant::now() > deadline {
                return Err(format!("{} never reached the cache", id.as_str()));
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        println!("seen {}", unix_nanos());
    }
    Ok(())
}
