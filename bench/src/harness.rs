//! Timing one workload: `concurrency` tasks each run their share of `ops`
//! operations; every operation's latency is recorded, and every failure
//! counted (a row with failures is not a result).

use std::{future::Future, sync::Arc, time::Instant};

use serde::{Deserialize, Serialize};

use crate::subject::Outcome;

/// One measured row of the results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub backend: String,
    pub subject: String,
    pub workload: String,
    pub concurrency: usize,
    pub ops: usize,
    pub ops_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Operations that failed or found nothing; any makes the row invalid.
    #[serde(default)]
    pub errors: usize,
    /// The first failure's message, to say why a row is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl Measurement {
    /// Whether the row may be read as a result: every operation succeeded.
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }
}

/// What one timed run gave.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub ops_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: usize,
    pub first_error: Option<String>,
}

/// What one worker saw.
#[derive(Default)]
struct WorkerLog {
    latencies: Vec<u64>,
    errors: usize,
    first_error: Option<String>,
}

/// Runs `op(worker, i)` `ops` times in total over `concurrency` tasks.
pub async fn measure<F, Fut>(ops: usize, concurrency: usize, op: F) -> Timing
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let op = Arc::new(op);
    let per_worker = ops / concurrency;
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let op = Arc::clone(&op);
        workers.push(tokio::spawn(async move {
            let mut log = WorkerLog {
                latencies: Vec::with_capacity(per_worker),
                ..WorkerLog::default()
            };
            for i in 0..per_worker {
                let began = Instant::now();
                let outcome = op(worker, i).await;
                log.latencies.push(began.elapsed().as_nanos() as u64);
                if let Err(error) = outcome {
                    log.errors += 1;
                    log.first_error.get_or_insert(error);
                }
            }
            log
        }));
    }
    let mut latencies = Vec::with_capacity(ops);
    let mut timing = Timing::default();
    for worker in workers {
        match worker.await {
            Ok(log) => {
                latencies.extend(log.latencies);
                timing.errors += log.errors;
                timing.first_error = timing.first_error.or(log.first_error);
            }
            Err(panicked) => {
                timing.errors += per_worker;
                timing
                    .first_error
                    .get_or_insert(format!("a worker died: {panicked}"));
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Timing {
        ops_per_sec: latencies.len() as f64 / wall,
        p50_us: pick(0.50),
        p99_us: pick(0.99),
        ..timing
    }
}
