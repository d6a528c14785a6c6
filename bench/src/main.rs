//! Benchmarks: every store side by side with its raw client and the Rust
//! peers, in one run, reported as ratios. Writes `bench/results/<mode>.json`
//! and renders `BENCHMARKS.md`.
//!
//! ```text
//! bench/run --quick   # brings up the servers, then a couple of minutes
//! bench/run --full
//! ```
//!
//! So far: the memory store (against raw moka, tower-sessions' MemoryStore
//! and tower-sessions-moka-store) and Redis (against raw fred, the
//! tower-sessions Redis store and redis-benchmark) and PostgreSQL (against
//! raw sqlx and tower-sessions-sqlx-store). MariaDB, SQLite, CouchDB and the
//! scale runs are the next steps of the benchmarks issue.

mod harness;
mod memory;
mod redis;
mod report;
mod sql;
mod subject;

use std::sync::Arc;

use harness::{Measurement, measure};
use subject::Subject;

/// Sessions each subject holds while measured.
const KEYS: usize = 10_000;
const WORKLOADS: [&str; 4] = ["get", "set", "touch", "mix 80/20"];
const CONCURRENCY: [usize; 2] = [1, 64];
/// Rounds per group; each subject's best round is kept.
const ROUNDS: usize = 2;

#[tokio::main]
async fn main() {
    let full = match std::env::args().nth(1).as_deref() {
        Some("--full") => true,
        Some("--quick") | None => false,
        Some(other) => {
            eprintln!("usage: session-bench [--quick | --full] (got {other:?})");
            std::process::exit(2);
        }
    };
    let mut results = Vec::new();
    let memory = memory::subjects(KEYS).await;
    bench(
        "memory",
        &memory,
        if full { 400_000 } else { 40_000 },
        &mut results,
    )
    .await;

    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis = match redis::subjects(&redis_url, KEYS).await {
        Ok(subjects) => subjects,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let ops = if full { 100_000 } else { 10_000 };
    bench("redis", &redis, ops, &mut results).await;
    for concurrency in CONCURRENCY {
        results.extend(redis::ceiling(ops, concurrency));
    }

    let postgres_url =
        std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match sql::subjects(&postgres_url, KEYS).await {
        Ok(subjects) => {
            bench(
                "postgres",
                &subjects,
                if full { 20_000 } else { 4_000 },
                &mut results,
            )
            .await
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }

    if let Err(error) = report::write(if full { "full" } else { "quick" }, &results) {
        eprintln!("could not write the results: {error}");
        std::process::exit(1);
    }
}

/// Every workload at every concurrency for one backend's subjects.
async fn bench(
    backend: &str,
    subjects: &[(String, Arc<dyn Subject>)],
    ops: usize,
    results: &mut Vec<Measurement>,
) {
    for workload in WORKLOADS {
        for concurrency in CONCURRENCY {
            // Two rounds in alternating order, keeping each subject's best:
            // run-to-run noise on this machine is larger than the gaps measured.
            let mut best = vec![(0.0, 0.0, 0.0); subjects.len()];
            for round in 0..ROUNDS {
                for step in 0..subjects.len() {
                    let index = if round % 2 == 0 {
                        step
                    } else {
                        subjects.len() - 1 - step
                    };
                    let measured = run(Arc::clone(&subjects[index].1), workload, concurrency, ops).await;
                    if measured.0 > best[index].0 {
                        best[index] = measured;
                    }
                }
            }
            for ((name, _), &(ops_per_sec, p50_us, p99_us)) in subjects.iter().zip(&best) {
                println!(
                    "{backend:<7} {workload:<9} c={concurrency:<3} {name:<32} {ops_per_sec:>12.0} ops/s  p50 {p50_us:>8.2} µs  p99 {p99_us:>8.2} µs"
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

async fn run(
    subject: Arc<dyn Subject>,
    workload: &'static str,
    concurrency: usize,
    ops: usize,
) -> (f64, f64, f64) {
    measure(ops, concurrency, move |worker, i| {
        let subject = Arc::clone(&subject);
        async move {
            let key = (worker * 7919 + i * 31) % KEYS;
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
