//! The benchmarks issue's targets, checked against one run's results.

use std::fmt::Write as _;

use crate::{harness::Measurement, report::Results};

/// Ours against another subject of the same backend, at least `min`× its throughput.
struct RatioTarget {
    backend: &'static str,
    ours: &'static str,
    versus: &'static str,
    min: f64,
    /// Only these workloads (all when empty).
    workloads: &'static [&'static str],
}

const fn ratio(backend: &'static str, ours: &'static str, versus: &'static str, min: f64) -> RatioTarget {
    RatioTarget {
        backend,
        ours,
        versus,
        min,
        workloads: &[],
    }
}

const RATIOS: &[RatioTarget] = &[
    ratio("memory", "session-memory (ours)", "raw moka", 0.8),
    ratio("redis", "session-redis (ours)", "raw fred", 0.9),
    ratio("redis", "session-redis (ours)", "tower-sessions-redis-store", 1.0),
    ratio("postgres", "session-sql (ours)", "raw sqlx", 0.9),
    ratio("postgres", "session-sql (ours)", "tower-sessions-sqlx-store", 1.0),
    ratio("mariadb", "session-sql (ours)", "raw sqlx", 0.9),
    ratio("mariadb", "session-sql (ours)", "tower-sessions-sqlx-store", 1.0),
    ratio("sqlite", "session-sql (ours)", "raw sqlx", 0.9),
    ratio("sqlite", "session-sql (ours)", "tower-sessions-sqlx-store", 1.0),
    RatioTarget {
        workloads: &["get"],
        ..ratio("couchdb", "session-couch (ours, cached)", "session-memory", 0.5)
    },
];

/// Peak memory allowed while streaming `all` over the largest size.
const STREAM_PEAK_MIB: f64 = 64.0;
const SYNC_P99_MS: f64 = 50.0;

/// The row's reference: the subject of the same group named "(reference)".
pub fn reference_of<'a>(rows: &[&'a Measurement], row: &Measurement) -> Option<&'a Measurement> {
    find(
        rows.iter().copied(),
        &row.backend,
        "reference",
        &row.workload,
        row.concurrency,
    )
}

fn find<'a>(
    mut rows: impl Iterator<Item = &'a Measurement>,
    backend: &str,
    subject: &str,
    workload: &str,
    concurrency: usize,
) -> Option<&'a Measurement> {
    rows.find(|r| {
        r.backend == backend
            && r.subject.contains(subject)
            && r.workload == workload
            && r.concurrency == concurrency
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// The targets section of BENCHMARKS.md.
pub fn render(out: &mut String, results: &Results) {
    let (mut met, mut total) = (0, 0);
    let mut table = String::new();
    let _ = writeln!(table, "| target | workload | c=1 | c=64 |\n|---|---|---:|---:|");
    for target in RATIOS {
        let workloads: Vec<&str> = {
            let mut seen: Vec<&str> = results
                .throughput
                .iter()
                .filter(|r| r.backend == target.backend)
                .map(|r| r.workload.as_str())
                .collect();
            seen.dedup();
            seen.retain(|w| target.workloads.is_empty() || target.workloads.contains(w));
            seen
        };
        for workload in workloads {
            let mut cells = Vec::new();
            for concurrency in [1, 64] {
                let rows = || results.throughput.iter();
                let cell = match (
                    find(rows(), target.backend, target.ours, workload, concurrency),
                    find(rows(), target.backend, target.versus, workload, concurrency),
                ) {
                    (Some(ours), Some(versus)) => {
                        let ratio = ours.ops_per_sec / versus.ops_per_sec;
                        total += 1;
                        met += usize::from(ratio >= target.min);
                        format!("{ratio:.2}× {}", verdict(ratio >= target.min))
                    }
                    _ => "not measured".into(),
                };
                cells.push(cell);
            }
            let _ = writeln!(
                table,
                "| {} {} ≥ {:.1}× {} | {workload} | {} | {} |",
                target.backend, target.ours, target.min, target.versus, cells[0], cells[1]
            );
        }
    }

    let mut others = String::new();
    let largest = results.scale.iter().map(|r| r.sessions).max().unwrap_or(0);
    for row in results
        .scale
        .iter()
        .filter(|r| r.sessions == largest && r.operation == "all (streamed)")
    {
        // The memory store's process holds the sessions themselves: count what streaming adds.
        let (figure, what) = if row.backend == "memory" {
            (row.peak_rss_mib - row.rss_before_mib, "added to the process by")
        } else {
            (row.peak_rss_mib, "process peak during")
        };
        total += 1;
        met += usize::from(figure < STREAM_PEAK_MIB);
        let _ = writeln!(
            others,
            "| {} | {what} streamed `all` over {largest} sessions < {STREAM_PEAK_MIB} MiB | {figure:.1} MiB {} |",
            row.backend,
            verdict(figure < STREAM_PEAK_MIB)
        );
    }
    if let Some(sync) = &results.sync {
        total += 1;
        met += usize::from(sync.p99_ms < SYNC_P99_MS);
        let _ = writeln!(
            others,
            "| couchdb | cache sync between two processes, p99 < {SYNC_P99_MS} ms | {:.2} ms {} |",
            sync.p99_ms,
            verdict(sync.p99_ms < SYNC_P99_MS)
        );
    }

    let _ = writeln!(out, "## Targets: {met} of {total} met\n\n{table}");
    let _ = writeln!(out, "| backend | target | figure |\n|---|---|---:|\n{others}");
}
