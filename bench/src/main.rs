//! Benchmarks: every store side by side with its raw client and the Rust
//! peers, in one run, reported as ratios. Writes `bench/results/<mode>.json`
//! and renders `BENCHMARKS.md`.
//!
//! ```text
//! bench/run --quick   # brings up the servers; a few minutes
//! bench/run --full
//! session-bench --render bench/results/full.json   # BENCHMARKS.md again, no measuring
//! ```
//!
//! Throughput and latency: memory (raw moka, tower-sessions' MemoryStore,
//! tower-sessions-moka-store), Redis (raw fred, tower-sessions-redis-store,
//! redis-benchmark), PostgreSQL, MariaDB and SQLite (raw sqlx,
//! tower-sessions-sqlx-store) and CouchDB (raw couch_rs). Then the scale runs
//! (each in a child process) and the CouchDB cache sync latency between two
//! processes.

mod couch;
mod harness;
mod memory;
mod peak;
mod redis;
mod report;
mod scale;
mod sql;
mod subject;
mod sync;
mod targets;

use std::sync::Arc;

use harness::{Measurement, measure};
use subject::Subject;

const WORKLOADS: [&str; 4] = ["get", "set", "touch", "mix 80/20"];
const CONCURRENCY: [usize; 2] = [1, 64];

/// How much of everything one mode measures.
pub struct Plan {
    pub name: &'static str,
    /// Sessions each subject holds while measured (CouchDB, slow to fill, fewer).
    pub keys: usize,
    pub couch_keys: usize,
    /// Operations per row, by backend.
    pub memory_ops: usize,
    pub redis_ops: usize,
    pub sql_ops: usize,
    pub couch_ops: usize,
    pub scale_sizes: &'static [u64],
    /// Rounds per group, in alternating order; each subject's best is kept.
    pub rounds: usize,
    pub sync_changes: usize,
}

const QUICK: Plan = Plan {
    name: "quick",
    keys: 10_000,
    couch_keys: 1_000,
    memory_ops: 40_000,
    redis_ops: 10_000,
    sql_ops: 2_000,
    couch_ops: 1_000,
    scale_sizes: &[100_000],
    rounds: 1,
    sync_changes: 100,
};

const FULL: Plan = Plan {
    name: "full",
    keys: 10_000,
    couch_keys: 2_000,
    memory_ops: 400_000,
    redis_ops: 100_000,
    sql_ops: 20_000,
    couch_ops: 3_000,
    scale_sizes: &[100_000, 1_000_000],
    rounds: 2,
    sync_changes: 500,
};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["--scale", backend, sessions] => match sessions.parse() {
            Ok(sessions) => scale::child(backend, sessions).await,
            Err(_) => Err(format!("not a number of sessions: {sessions:?}")),
        },
        ["--sync-watch"] => sync::watch().await,
        ["--render", json] => report::rerender(json),
        ["--full"] => run(&FULL).await,
        ["--quick"] | [] => run(&QUICK).await,
        other => Err(format!("usage: session-bench [--quick | --full] (got {other:?})")),
    };
    if let Err(error) = outcome {
        eprintln!("session-bench: {error}");
        std::process::exit(1);
    }
}

/// Whether to run a group: all of them, unless `BENCH_ONLY` names some
/// (memory, redis, postgres, mariadb, sqlite, couchdb, scale, sync). A
/// partial run replaces those groups in the mode's saved results and keeps
/// the rest.
fn wanted(group: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.split(',').any(|g| g.trim() == group))
}

async fn run(plan: &Plan) -> Result<(), String> {
    let mut throughput = Vec::new();
    if wanted("memory") {
        let memory = memory::subjects(plan.keys).await;
        bench(
            "memory",
            &memory,
            plan.keys,
            plan.memory_ops,
            plan.rounds,
            &mut throughput,
        )
        .await;
    }
    if wanted("redis") {
        let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let redis = redis::subjects(&redis_url, plan.keys).await?;
        bench(
            "redis",
            &redis,
            plan.keys,
            plan.redis_ops,
            plan.rounds,
            &mut throughput,
        )
        .await;
        drop(redis);
        for concurrency in CONCURRENCY {
            for row in redis::ceiling(plan.redis_ops, concurrency) {
                println!(
                    "redis   {:<9} c={:<3} {:<42} {:>12.0} ops/s  p50 {:>8.2} µs  p99 {:>8.2} µs",
                    row.workload, row.concurrency, row.subject, row.ops_per_sec, row.p50_us, row.p99_us
                );
                throughput.push(row);
            }
        }
    }
    for db in sql::Db::ALL.into_iter().filter(|db| wanted(db.name())) {
        let subjects = sql::subjects(db, plan.keys).await?;
        bench(
            db.name(),
            &subjects,
            plan.keys,
            plan.sql_ops,
            plan.rounds,
            &mut throughput,
        )
        .await;
    }
    if wanted("couchdb") {
        let couch = couch::subjects(plan.couch_keys).await?;
        bench(
            "couchdb",
            &couch,
            plan.couch_keys,
            plan.couch_ops,
            plan.rounds,
            &mut throughput,
        )
        .await;
    }
    let scale = if wanted("scale") {
        scale::run_all(plan.scale_sizes)?
    } else {
        Vec::new()
    };
    let sync = if wanted("sync") {
        let sync = sync::measure(plan.sync_changes).await?;
        println!(
            "sync    couchdb  {} changes  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            sync.changes, sync.p50_ms, sync.p99_ms, sync.max_ms
        );
        Some(sync)
    } else {
        None
    };
    let results = report::Results {
        mode: plan.name.into(),
        throughput,
        scale,
        sync,
    };
    let results = match std::env::var("BENCH_ONLY") {
        Ok(only) => report::merge_into_saved(results, &only),
        Err(_) => results,
    };
    report::write(&results).map_err(|e| format!("could not write the results: {e}"))
}

/// Every workload at every concurrency for one backend's subjects.
async fn bench(
    backend: &str,
    subjects: &[(String, Arc<dyn Subject>)],
    keys: usize,
    ops: usize,
    rounds: usize,
    results: &mut Vec<Measurement>,
) {
    for workload in WORKLOADS {
        for concurrency in CONCURRENCY {
            // Rounds in alternating order, keeping each subject's best:
            // run-to-run noise on this machine is larger than the gaps measured.
            let mut best = vec![(0.0, 0.0, 0.0); subjects.len()];
            for round in 0..rounds {
                for step in 0..subjects.len() {
                    let index = if round % 2 == 0 {
                        step
                    } else {
                        subjects.len() - 1 - step
                    };
                    let subject = Arc::clone(&subjects[index].1);
                    let measured = run_workload(subject, workload, concurrency, keys, ops).await;
                    if measured.0 > best[index].0 {
                        best[index] = measured;
                    }
                }
            }
            for ((name, _), &(ops_per_sec, p50_us, p99_us)) in subjects.iter().zip(&best) {
                println!(
                    "{backend:<7} {workload:<9} c={concurrency:<3} {name:<42} {ops_per_sec:>12.0} ops/s  p50 {p50_us:>8.2} µs  p99 {p99_us:>8.2} µs"
                );
                results.push(Measurement {
                    backend: backend.into(),
                    subject: name.clone(),
                    workload: workload.into(),
                    concurrency,
                    ops,
                    ops_per_sec,
                    p50_us,
                    p99_us,
                });
            }
        }
    }
}

async fn run_workload(
    subject: Arc<dyn Subject>,
    workload: &'static str,
    concurrency: usize,
    keys: usize,
    ops: usize,
) -> (f64, f64, f64) {
    measure(ops, concurrency, move |worker, i| {
        let subject = Arc::clone(&subject);
        async move {
            let key = (worker * 7919 + i * 31) % keys;
            match workload {
                "get" => subject.get(key).await,
                "set" => subject.set(key).await,
                "touch" => subject.touch(key).await,
                _ if i % 5 == 0 => subject.set(key).await,
                _ => subject.get(key).await,
            }
        }
    })
    .await
}
