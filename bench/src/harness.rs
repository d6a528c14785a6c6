//! Timing one workload: `concurrency` tasks each run their share of `ops`
//! operations; every operation's latency is recorded.

use std::{future::Future, sync::Arc, time::Instant};

use serde::{Deserialize, Serialize};

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
}

/// Runs `op(worker, i)` `ops` times in total over `concurrency` tasks.
pub async fn measure<F, Fut>(ops: usize, concurrency: usize, op: F) -> (f64, f64, f64)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let per_worker = ops / concurrency;
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let op = Arc::clone(&op);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_worker);
            for i in 0..per_worker {
                let began = Instant::now();
                op(worker, i).await;
                latencies.push(began.elapsed().as_nanos() as u64);
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(ops);
    for worker in workers {
        latencies.extend(worker.await.unwrap_or_default());
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
    (latencies.len() as f64 / wall, pick(0.50), pick(0.99))
}
