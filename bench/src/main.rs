//! Benchmarks: every store side by side with its raw client and the Rust
//! peers, in one run, reported as ratios. Writes `bench/results/<mode>.json`
//! and renders `BENCHMARKS.md`.
//!
//! ```text
//! bench/run --quick   # brings up the servers; a few minutes
//! bench/run --full
//! session-bench --verify   # fill and check every subject only, seconds (CI)
//! session-bench --render bench/results/full.json   # BENCHMARKS.md again, no measuring
//! session-bench --sqlx-repro   # sqlx 0.8 against 0.9 on one PostgreSQL connection
//! ```
//!
//! Every subject is filled the way its users would fill it and must give
//! back a sample of its data exactly before anything is timed; any failure
//! during a timed run makes its row invalid.
//!
//! Throughput and latency: memory (raw moka, tower-sessions' MemoryStore,
//! tower-sessions-moka-store), Redis (raw fred, with and without decoding,
//! our near cache, tower-sessions-redis-store, redis-benchmark), PostgreSQL,
//! MariaDB and SQLite (raw sqlx, tower-sessions-sqlx-store; raw sqlx 0.8 on
//! PostgreSQL) and CouchDB (raw couch_rs), and the codecs alone. Then the
//! scale runs (each in a child process) and the cache sync latency between
//! two processes, for CouchDB's cache and Redis' near cache.

mod codec;
mod couch;
mod harness;
mod memory;
mod near_sync;
mod peak;
mod redis;
mod report;
mod results;
mod scale;
mod server_cost;
mod sql;
mod sqlx_versions;
mod subject;
mod sync;
mod targets;
mod verify;

use std::sync::Arc;

use harness::{Measurement, measure};
use subject::{Subject, Subjects};

const WORKLOADS: [&str; 4] = ["get", "set", "touch", "mix 80/20"];
const CONCURRENCY: [usize; 2] = [1, 64];

/// How much of everything one mode measures.
pub struct Plan {
    pub name: &'static str,
    /// Fill and check only: each workload runs a few operations, which must
    /// all succeed, and nothing is timed or written.
    pub verify_only: bool,
    /// Sessions each subject holds while measured (CouchDB, slow to fill, fewer).
    pub keys: usize,
    pub couch_keys: usize,
    /// Operations per row, by backend.
    pub memory_ops: usize,
    pub redis_ops: usize,
    pub sql_ops: usize,
    pub couch_ops: usize,
    pub codec_ops: usize,
    pub scale_sizes: &'static [u64],
    /// Rounds per group, in alternating order; each subject's best is kept.
    pub rounds: usize,
    pub sync_changes: usize,
}

const VERIFY: Plan = Plan {
    name: "verify",
    verify_only: true,
    keys: 100,
    couch_keys: 50,
    memory_ops: 64,
    redis_ops: 64,
    sql_ops: 64,
    couch_ops: 64,
    codec_ops: 0,
    scale_sizes: &[],
    rounds: 1,
    sync_changes: 5,
};

const QUICK: Plan = Plan {
    name: "quick",
    verify_only: false,
    keys: 10_000,
    couch_keys: 1_000,
    memory_ops: 40_000,
    redis_ops: 10_000,
    sql_ops: 2_000,
    couch_ops: 1_000,
    codec_ops: 20_000,
    scale_sizes: &[100_000],
    rounds: 1,
    sync_changes: 100,
};

const FULL: Plan = Plan {
    name: "full",
    verify_only: false,
    keys: 10_000,
    couch_keys: 2_000,
    memory_ops: 400_000,
    redis_ops: 100_000,
    sql_ops: 20_000,
    couch_ops: 3_000,
    codec_ops: 200_000,
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
        ["--near-watch"] => near_sync::watch().await,
        ["--render", json] => report::rerender(json),
        ["--sqlx-repro"] => sqlx_versions::reproduce().await,
        ["--verify"] => run(&VERIFY).await,
        ["--full"] => run(&FULL).await,
        ["--quick"] | [] => run(&QUICK).await,
        other => Err(format!(
            "usage: session-bench [--verify | --quick | --full] (got {other:?})"
        )),
    };
    if let Err(error) = outcome {
        eprintln!("session-bench: {error}");
        std::process::exit(1);
    }
}

/// Whether to run a group: all of them, unless `BENCH_ONLY` names some
/// (memory, redis, postgres, mariadb, sqlite, couchdb, codec, scale, sync). A
/// partial run replaces those groups in the mode's saved results and keeps
/// the rest.
fn wanted(group: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.split(',').any(|g| g.trim() == group))
}

async fn run(plan: &Plan) -> Result<(), String> {
    let mut throughput = Vec::new();
    let mut redis_costs = Vec::new();
    if wanted("memory") {
        let memory = memory::subjects(plan.keys);
        prepare("memory", &memory, plan.keys).await?;
        group(
            plan,
            "memory",
            &memory,
            plan.keys,
            plan.memory_ops,
            &mut throughput,
        )
        .await?;
    }
    if wanted("redis") {
        let redis = redis::subjects(plan.keys).await?;
        prepare("redis", &redis, plan.keys).await?;
        // For context only: without redis-cli the costs are left out.
        let costs_measured = !plan.verify_only && server_cost::reset().is_ok();
        group(plan, "redis", &redis, plan.keys, plan.redis_ops, &mut throughput).await?;
        if costs_measured {
            redis_costs = server_cost::read().unwrap_or_default();
        }
        for cost in &redis_costs {
            println!(
                "redis    server time per {:<9} {:>6.2} µs over {} calls",
                cost.command, cost.usec_per_call, cost.calls
            );
        }
        drop(redis);
        if !plan.verify_only {
            for concurrency in CONCURRENCY {
                for row in redis::ceiling(plan.redis_ops, concurrency) {
                    print_row(&row);
                    throughput.push(row);
                }
            }
        }
    }
    for db in sql::Db::ALL.into_iter().filter(|db| wanted(db.name())) {
        let subjects = sql::subjects(db, plan.keys).await?;
        prepare(db.name(), &subjects, plan.keys).await?;
        group(
            plan,
            db.name(),
            &subjects,
            plan.keys,
            plan.sql_ops,
            &mut throughput,
        )
        .await?;
    }
    if wanted("couchdb") {
        let (couch, cached) = couch::subjects(plan.couch_keys).await?;
        verify::fill("couchdb", &couch, plan.couch_keys).await?;
        // The cached store reads from memory only once it follows the feed.
        couch::synced(&cached).await?;
        check("couchdb", &couch, plan.couch_keys, "before the runs").await?;
        group(
            plan,
            "couchdb",
            &couch,
            plan.couch_keys,
            plan.couch_ops,
            &mut throughput,
        )
        .await?;
        // The cached get against the memory store again, with as many
        // operations as the memory rows: at CouchDB's few thousand, one
        // scheduling pause decides the figure.
        let cached_get: Subjects = couch
            .iter()
            .filter(|(name, _)| name.contains("(ours, cached)") || name.contains("session-memory"))
            .cloned()
            .collect();
        if !plan.verify_only {
            let backend = "couchdb cached get";
            bench(
                backend,
                &cached_get,
                &["get"],
                plan.couch_keys,
                plan.memory_ops,
                plan.rounds,
                &mut throughput,
            )
            .await;
        }
    }
    if wanted("codec") {
        for candidate in codec::Candidate::ALL {
            match codec::check(candidate) {
                Ok(()) => println!(
                    "verified codec  {}: exact floats, integers, NUL, depth",
                    candidate.name()
                ),
                // Not fatal: a codec that breaks a rule is reported as unfit, not timed.
                Err(broken) => println!("codec   {}: UNFIT for the contract: {broken}", candidate.name()),
            }
        }
        if !plan.verify_only {
            for row in codec::measure(plan.codec_ops)? {
                print_row(&row);
                throughput.push(row);
            }
        }
    }
    let scale = if wanted("scale") && !plan.verify_only {
        scale::run_all(plan.scale_sizes)?
    } else {
        Vec::new()
    };
    let (sync, near_sync) = if wanted("sync") {
        let sync = sync::measure(plan.sync_changes).await?;
        print_sync("couchdb cache", &sync);
        let near = near_sync::measure(plan.sync_changes).await?;
        print_sync("redis near cache", &near);
        (Some(sync), Some(near))
    } else {
        (None, None)
    };
    if plan.verify_only {
        println!("session-bench --verify: every subject holds and returns its data");
        return Ok(());
    }
    let results = results::Results {
        mode: plan.name.into(),
        throughput,
        scale,
        sync,
        near_sync,
        redis_costs,
    };
    let results = match std::env::var("BENCH_ONLY") {
        Ok(only) => report::merge_into_saved(results, &only),
        Err(_) => results,
    };
    let invalid = results.throughput.iter().filter(|row| !row.is_valid()).count();
    report::write(&results).map_err(|e| format!("could not write the results: {e}"))?;
    if invalid > 0 {
        return Err(format!("{invalid} rows had failed operations (shown as invalid)"));
    }
    Ok(())
}

/// Fills every subject the way its users would, then proves each holds its data.
async fn prepare(backend: &str, subjects: &Subjects, keys: usize) -> Result<(), String> {
    verify::fill(backend, subjects, keys).await?;
    check(backend, subjects, keys, "before the runs").await
}

async fn check(backend: &str, subjects: &Subjects, keys: usize, when: &str) -> Result<(), String> {
    let reads = verify::check(backend, subjects, keys).await?;
    println!(
        "verified {backend:<8} {} subjects, {reads} sessions read back exactly {when}",
        subjects.len()
    );
    Ok(())
}

/// Every workload at every concurrency for one backend's subjects, then the
/// check again (the timed writes must have left the data as it was). In
/// verify mode, a few operations per workload that must all succeed.
async fn group(
    plan: &Plan,
    backend: &str,
    subjects: &Subjects,
    keys: usize,
    ops: usize,
    results: &mut Vec<Measurement>,
) -> Result<(), String> {
    if plan.verify_only {
        for workload in WORKLOADS {
            for (name, subject) in subjects {
                let timing = run_workload(Arc::clone(subject), workload, 4, keys, ops).await;
                if let Some(error) = timing.first_error {
                    return Err(format!(
                        "{backend} / {name}: {workload}: {} of {ops} operations failed, first: {error}",
                        timing.errors
                    ));
                }
            }
        }
    } else {
        bench(backend, subjects, &WORKLOADS, keys, ops, plan.rounds, results).await;
    }
    check(backend, subjects, keys, "after the runs").await
}

/// Each of `workloads` at every concurrency, timed.
async fn bench(
    backend: &str,
    subjects: &Subjects,
    workloads: &[&'static str],
    keys: usize,
    ops: usize,
    rounds: usize,
    results: &mut Vec<Measurement>,
) {
    for &workload in workloads {
        for concurrency in CONCURRENCY {
            // Rounds in alternating order, keeping each subject's best:
            // run-to-run noise on this machine is larger than the gaps
            // measured. A round with failures is kept over any other, so
            // the row shows as invalid.
            let mut best: Vec<Option<harness::Timing>> = vec![None; subjects.len()];
            for round in 0..rounds {
                for step in 0..subjects.len() {
                    let index = if round % 2 == 0 {
                        step
                    } else {
                        subjects.len() - 1 - step
                    };
                    let subject = Arc::clone(&subjects[index].1);
                    let measured = run_workload(subject, workload, concurrency, keys, ops).await;
                    let keep = match &best[index] {
                        None => true,
                        // Failures are never hidden behind a cleaner round.
                        Some(kept) if kept.errors > 0 => false,
                        Some(kept) => measured.errors > 0 || measured.ops_per_sec > kept.ops_per_sec,
                    };
                    if keep {
                        best[index] = Some(measured);
                    }
                }
            }
            for ((name, _), timing) in subjects.iter().zip(best) {
                let timing = timing.unwrap_or_default();
                let row = Measurement {
                    backend: backend.into(),
                    subject: name.clone(),
                    workload: workload.into(),
                    concurrency,
                    ops,
                    ops_per_sec: timing.ops_per_sec,
                    p50_us: timing.p50_us,
                    p99_us: timing.p99_us,
                    errors: timing.errors,
                    first_error: timing.first_error,
                };
                print_row(&row);
                results.push(row);
            }
        }
    }
}

fn print_row(row: &Measurement) {
    let errors = match &row.first_error {
        Some(first) => format!("  INVALID: {} errors, first: {first}", row.errors),
        None => String::new(),
    };
    println!(
        "{:<8} {:<9} c={:<3} {:<44} {:>12.0} ops/s  p50 {:>8.2} µs  p99 {:>8.2} µs{errors}",
        row.backend, row.workload, row.concurrency, row.subject, row.ops_per_sec, row.p50_us, row.p99_us
    );
}

fn print_sync(what: &str, sync: &sync::SyncLatency) {
    println!(
        "sync     {what}: {} changes  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        sync.changes, sync.p50_ms, sync.p99_ms, sync.max_ms
    );
}

async fn run_workload(
    subject: Arc<dyn Subject>,
    workload: &'static str,
    concurrency: usize,
    keys: usize,
    ops: usize,
) -> harness::Timing {
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
