//! A failover under load, measured: run by `scripts/failover`, which starts
//! a 3-primary + 3-replica Redis Cluster of its own, and passes the ports
//! and the PID files.
//!
//! ```text
//! failover <first port> <primary pid file> <replica pid file> <primary|replicas> [seconds]
//! ```
//!
//! Workers each create fresh ids and write, read and destroy their own,
//! remembering what was last acknowledged for each. A second into the run
//! the replica of one primary is paused (SIGSTOP) for two seconds, so it lags;
//! then the primary is killed (SIGKILL) and the replica resumed, so it is
//! promoted holding less than its primary had acknowledged. The load goes
//! on for a while; then every id is checked against what was acknowledged.
//! One line of results is printed as a Markdown table row.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use session_core::{Error, Session, SessionId, Store};
use session_redis::{Durability, RedisStore};

const WORKERS: usize = 16;
const TIMEOUT: Duration = Duration::from_millis(1000);

/// What was last acknowledged for an id.
#[derive(Debug, Clone, Copy)]
enum Known {
    Live(u64),
    Destroyed,
    /// A write failed: it may or may not have landed.
    Uncertain,
}

#[derive(Default)]
struct Tally {
    calls: u64,
    errors: BTreeMap<&'static str, u64>,
    untyped: Vec<String>,
    noscript: u64,
    first_error: Option<Duration>,
    last_error: Option<Duration>,
    slowest: Duration,
}

impl Tally {
    fn record<T>(&mut self, at: Duration, took: Duration, result: &Result<T, Error>) {
        self.calls += 1;
        self.slowest = self.slowest.max(took);
        let Err(error) = result else { return };
        if error.is_refusal() {
            return;
        }
        let kind = match error {
            Error::Timeout(_) => "Timeout",
            Error::Unavailable(_) => "Unavailable",
            Error::Backend(_) => "Backend",
            _ => "other",
        };
        *self.errors.entry(kind).or_default() += 1;
        if !error.is_transient() {
            self.untyped.push(error.to_string());
        }
        if format!("{error} {error:?}").contains("NOSCRIPT") {
            self.noscript += 1;
        }
        self.first_error.get_or_insert(at);
        self.last_error = Some(at);
    }
}

fn session(version: u64) -> Session {
    let mut session = Session::new();
    session.insert("version", version).unwrap();
    session.insert("padding", "x".repeat(4096)).unwrap();
    session
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn signal(pid: &str, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

async fn worker(
    store: RedisStore,
    known: Arc<Mutex<HashMap<SessionId, Known>>>,
    tally: Arc<Mutex<Tally>>,
    started: Instant,
    until: Instant,
    seed: u64,
) {
    let mut rng = Rng(seed | 1);
    let mut ids: Vec<SessionId> = Vec::new();
    let mut version = 0;
    while Instant::now() < until {
        version += 1;
        let pick = |rng: &mut Rng, ids: &[SessionId]| ids[(rng.next() % ids.len() as u64) as usize].clone();
        let begun = Instant::now();
        // Mostly fresh ids, each written once: a write lost in the failover
        // is then not hidden by a later write of the same id.
        let (id, result, after) = match (rng.next() % 10, ids.is_empty()) {
            (0..=3, _) | (_, true) => {
                let id = SessionId::generate();
                ids.push(id.clone());
                let result = store.create(&id, &session(version)).await;
                (id, result, Some(Known::Live(version)))
            }
            (4..=5, false) => {
                let id = pick(&mut rng, &ids);
                let result = store.set(&id, &session(version)).await;
                (id, result, Some(Known::Live(version)))
            }
            (6..=7, false) => {
                let id = pick(&mut rng, &ids);
                let result = store.get(&id).await.map(drop);
                (id, result, None)
            }
            _ => {
                let id = pick(&mut rng, &ids);
                let result = store.destroy(&id).await;
                (id, result, Some(Known::Destroyed))
            }
        };
        tally
            .lock()
            .unwrap()
            .record(begun - started, begun.elapsed(), &result);
        let Some(after) = after else { continue };
        let mut known = known.lock().unwrap();
        match result {
            Ok(()) => known.insert(id, after),
            Err(Error::Destroyed) => None, // a refused write changes nothing
            Err(_) => known.insert(id, Known::Uncertain),
        };
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, primary_pid, replica_pid, mode, rest @ ..] = args.as_slice() else {
        panic!(
            "usage: failover <first port> <primary pid file> <replica pid file> <primary|replicas> [seconds]"
        );
    };
    let seconds: u64 = rest.first().map_or(8, |s| s.parse().expect("seconds"));
    let durability = match mode.as_str() {
        "primary" => Durability::Primary,
        "replicas" => Durability::Replicas(1),
        other => panic!("mode {other:?}: primary or replicas"),
    };
    let read_pid = |path: &str| std::fs::read_to_string(path).expect("pid file").trim().to_owned();
    let (primary, replica) = (read_pid(primary_pid), read_pid(replica_pid));
    let store = RedisStore::builder()
        .url(format!("redis-cluster://127.0.0.1:{port}"))
        .prefix(format!("failover-{mode}"))
        .timeout(TIMEOUT)
        .reconnect_delay(Duration::from_millis(100))
        .durability(durability)
        .build()
        .await
        .expect("the failover cluster answers");
    store.clear().await.expect("a clean start");

    let known = Arc::new(Mutex::new(HashMap::new()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..WORKERS)
        .map(|w| {
            tokio::spawn(worker(
                store.clone(),
                Arc::clone(&known),
                Arc::clone(&tally),
                started,
                until,
                0x9e37_79b9 + w as u64,
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    signal(&replica, "-STOP");
    // Long enough for more replication traffic than the socket buffers
    // between primary and replica hold: the rest waits in the primary.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed_at = started.elapsed();
    signal(&primary, "-KILL");
    signal(&replica, "-CONT");
    for task in tasks {
        task.await.unwrap();
    }

    // Let the cluster settle, then check every id against what was acknowledged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut lost_writes, mut lost_destroys, mut checked) = (0, 0, 0);
    let acknowledged = known.lock().unwrap().clone();
    for (id, known) in acknowledged {
        let read = loop {
            match store.get(&id).await {
                Ok(read) => break read,
                Err(e) if e.is_transient() => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => panic!("reading back: {e}"),
            }
        };
        match known {
            Known::Live(version) => {
                checked += 1;
                let got = read.and_then(|s| s.get::<u64>("version").ok().flatten());
                if got != Some(version) {
                    lost_writes += 1;
                }
            }
            Known::Destroyed => {
                checked += 1;
                let refused = matches!(store.set(&id, &session(0)).await, Err(Error::Destroyed));
                if read.is_some() || !refused {
                    lost_destroys += 1;
                }
            }
            Known::Uncertain => {}
        }
    }
    let _ = store.clear().await;

    let tally = tally.lock().unwrap();
    let window = match (tally.first_error, tally.last_error) {
        (Some(first), Some(last)) => format!("{:.2} s", (last - first).as_secs_f64()),
        _ => "none".into(),
    };
    let errors: Vec<String> = tally.errors.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "| {mode} | {} | {window} | {} | {} ms | {} | {} | {lost_writes} | {lost_destroys} | {checked} |",
        tally.calls,
        if errors.is_empty() {
            "none".into()
        } else {
            errors.join(", ")
        },
        tally.slowest.as_millis(),
        tally.untyped.len(),
        tally.noscript,
    );
    eprintln!(
        "primary killed at {:.2} s; untyped errors: {:?}",
        killed_at.as_secs_f64(),
        tally.untyped.first()
    );
}
