//! The benchmarks issue's targets, checked against one run's results. A row
//! with failed operations is invalid: never a result, never a target met.

use std::fmt::Write as _;

use crate::{harness::Measurement, results::Results};

/// One of our subjects against another of the same backend: at least
/// `min`× its throughput, at each of `at` (concurrencies).
struct RatioTarget {
    backend: &'static str,
    ours: &'static str,
    workload: &'static str,
    versus: &'static str,
    /// The other subject's workload (our touch is held to raw SET).
    versus_workload: &'static str,
    min: f64,
    at: &'static [usize],
}

const BOTH: &[usize] = &[1, 64];
const C64: &[usize] = &[64];

const fn ratio(
    backend: &'static str,
    ours: &'static str,
    workload: &'static str,
    versus: &'static str,
    min: f64,
    at: &'static [usize],
) -> RatioTarget {
    RatioTarget {
        backend,
        ours,
        workload,
        versus,
        versus_workload: workload,
        min,
        at,
    }
}

const RATIOS: &[RatioTarget] = &[
    ratio(
        "redis",
        "session-redis (ours)",
        "get",
        "raw fred GET + JSON decode",
        0.95,
        BOTH,
    ),
    ratio(
        "redis",
        "session-redis (ours)",
        "get",
        "tower-sessions-redis-store",
        1.1,
        BOTH,
    ),
    ratio(
        "redis",
        "session-redis (ours)",
        "set",
        "raw fred GET/SET",
        0.8,
        C64,
    ),
    RatioTarget {
        versus_workload: "set",
        ..ratio(
            "redis",
            "session-redis (ours)",
            "touch",
            "raw fred GET/SET",
            0.8,
            C64,
        )
    },
    ratio(
        "redis",
        "session-redis (ours, near cache)",
        "get",
        "raw fred GET/SET",
        5.0,
        C64,
    ),
    ratio(
        "memory",
        "session-memory (ours)",
        "set",
        "raw moka, per-entry",
        0.9,
        C64,
    ),
    ratio(
        "couchdb cached get",
        "session-couch (ours, cached)",
        "get",
        "session-memory",
        0.5,
        BOTH,
    ),
];

/// Peak memory allowed while streaming `all` over the largest size.
const STREAM_PEAK_MIB: f64 = 64.0;
const COUCH_SYNC_P99_MS: f64 = 50.0;
const NEAR_SYNC_P99_MS: f64 = 5.0;

/// The row's reference: the subject of the same group named "(reference)".
pub fn reference_of<'a>(rows: &[&'a Measurement], row: &Measurement) -> Option<&'a Measurement> {
    find(
        rows.iter().copied(),
        &row.backend,
        "(reference",
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

/// Counts of targets met and checked.
#[derive(Default)]
struct Tally {
    met: usize,
    total: usize,
}

impl Tally {
    fn count(&mut self, met: bool) -> &'static str {
        self.total += 1;
        self.met += usize::from(met);
        verdict(met)
    }
}

/// One cell: the ratio with its verdict where this concurrency is a target,
/// the ratio alone where it is context.
fn cell(results: &Results, target: &RatioTarget, concurrency: usize, tally: &mut Tally) -> String {
    let rows = || results.throughput.iter();
    let ours = find(rows(), target.backend, target.ours, target.workload, concurrency);
    let versus = find(
        rows(),
        target.backend,
        target.versus,
        target.versus_workload,
        concurrency,
    );
    let targeted = target.at.contains(&concurrency);
    let (Some(ours), Some(versus)) = (ours, versus) else {
        if targeted {
            tally.count(false);
        }
        return "not measured".into();
    };
    if let Some(invalid) = [ours, versus].into_iter().find(|row| !row.is_valid()) {
        let what = format!(
            "invalid: {} had {} failed operations",
            invalid.subject, invalid.errors
        );
        return if targeted {
            format!("{what} — {}", tally.count(false))
        } else {
            what
        };
    }
    let ratio = ours.ops_per_sec / versus.ops_per_sec;
    if targeted {
        format!("{ratio:.2}× {}", tally.count(ratio >= target.min))
    } else {
        format!("{ratio:.2}× (context)")
    }
}

/// The targets section of BENCHMARKS.md.
pub fn render(out: &mut String, results: &Results) {
    let mut tally = Tally::default();
    let mut table = String::new();
    let _ = writeln!(table, "| target | c=1 | c=64 |\n|---|---:|---:|");
    for target in RATIOS {
        let cells: Vec<String> = [1, 64]
            .into_iter()
            .map(|concurrency| cell(results, target, concurrency, &mut tally))
            .collect();
        let versus_workload = if target.versus_workload == target.workload {
            String::new()
        } else {
            format!(" {}", target.versus_workload)
        };
        let _ = writeln!(
            table,
            "| {}: {} {} ≥ {}× {}{versus_workload} | {} | {} |",
            target.backend, target.ours, target.workload, target.min, target.versus, cells[0], cells[1]
        );
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
        let verdict = tally.count(figure < STREAM_PEAK_MIB);
        let _ = writeln!(
            others,
            "| {} | {what} streamed `all` over {largest} sessions < {STREAM_PEAK_MIB} MiB | {figure:.1} MiB {verdict} |",
            row.backend,
        );
    }
    let syncs = [
        ("couchdb", "cache sync", &results.sync, COUCH_SYNC_P99_MS),
        (
            "redis",
            "near cache invalidation",
            &results.near_sync,
            NEAR_SYNC_P99_MS,
        ),
    ];
    for (backend, what, sync, limit) in syncs {
        let Some(sync) = sync else { continue };
        let verdict = tally.count(sync.p99_ms < limit);
        let _ = writeln!(
            others,
            "| {backend} | {what} between two processes, p99 < {limit} ms | {:.2} ms {verdict} |",
            sync.p99_ms,
        );
    }

    let _ = writeln!(
        out,
        "## Targets: {} of {} met\n\nRatios of throughput in the same run; a cell marked context is \
         shown but not a target. A row with failed operations is invalid and counts as missed.\n\n{table}",
        tally.met, tally.total
    );
    let _ = writeln!(out, "| backend | target | figure |\n|---|---|---:|\n{others}");
}
