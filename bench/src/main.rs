//! Benchmarks: every store side by side with its raw client and the Rust
//! peers, in one run, reported as ratios. Writes `bench/results/<mode>.json`
//! and renders `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- --quick   # under 5 minutes
//! cargo run --release --manifest-path bench/Cargo.toml -- --full
//! ```
//!
//! So far: the memory store (against raw moka, tower-sessions' MemoryStore
//! and tower-sessions-moka-store). Redis, SQL, CouchDB and the scale runs
//! are the next steps of the benchmarks issue.

mod harness;
mod memory;
mod report;

use std::sync::Arc;

use harness::{Measurement, measure};
use memory::Subject;

/// Sessions each subject holds while measured.
const KEYS: usize = 10_000;
const WORKLOADS: [&str; 4] = ["get", "set", "touch", "mix 80/20"];
const CONCURRENCY: [usize; 2] = [1, 64];
/// Rounds per group; each subject's best round is kept.
const ROUNDS: usize = 2;

#[tokio::main]
async fn main() {
    let mode = match std::env::args().nth(1).as_deref() {
        Some("--full") => "full",
        Some("--quick") | None => "quick",
        Some(other) => {
            eprintln!("usage: session-bench [--quick | --full] (got {other:?})");
            std::process::exit(2);
        }
    };
    let ops = if mode == "full" { 400_000 } else { 40_000 };
    let mut results = Vec::new();
    let subjects = memory::subjects(KEYS).await;
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
                    "memory  {workload:<9} c={concurrency:<3} {name:<28} {ops_per_sec:>12.0} ops/s  p50 {p50_us:>7.2} µs  p99 {p99_us:>8.2} µs"
                );
                results.push(Measurement {
                    backend: "memory".into(),
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
    if let Err(error) = report::write(mode, &results) {
        eprintln!("could not write the results: {error}");
        std::process::exit(1);
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
