//! Scale: `length`, streamed `all` and `clear` over many sessions, with the
//! process's peak memory; for SQL also the purge of as many expired rows.
//!
//! Each backend and size runs in a child process of its own (`--scale
//! <backend> <sessions>`), so one run's memory never shows in another's peak.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::{StreamExt as _, stream};
use serde::{Deserialize, Serialize};
use session_core::{Session, SessionId, Store};
use time::OffsetDateTime;

use crate::{
    peak,
    sql::{self, Db},
    subject::{data, later},
};

/// The per-call timeout of the stores measured at scale.
const LONG_CALLS: Duration = Duration::from_secs(300);

/// The backends measured at scale.
pub const BACKENDS: [&str; 5] = ["memory", "redis", "postgres", "mariadb", "sqlite"];

/// One measured operation over a whole store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRow {
    pub backend: String,
    pub sessions: u64,
    pub operation: String,
    pub seconds: f64,
    /// What the operation reported or yielded (sessions counted, rows deleted).
    pub items: u64,
    pub rss_before_mib: f64,
    pub peak_rss_mib: f64,
    /// Purge only: the slowest single DELETE, ms, and how many ran.
    pub longest_statement_ms: Option<f64>,
    pub statements: Option<u32>,
}

/// Runs every backend at every size, each in a child process.
pub fn run_all(sizes: &[u64]) -> Result<Vec<ScaleRow>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &sessions in sizes {
        for backend in BACKENDS {
            let output = Command::new(&exe)
                .args(["--scale", backend, &sessions.to_string()])
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| e.to_string())?;
            if !output.status.success() {
                return Err(format!("the {backend} scale run at {sessions} sessions failed"));
            }
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                let row: ScaleRow = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
                println!(
                    "scale   {:<8} {:>8} {:<16} {:>8.2} s  {:>8} items  peak {:>7.1} MiB (from {:.1}){}",
                    row.backend,
                    row.sessions,
                    row.operation,
                    row.seconds,
                    row.items,
                    row.peak_rss_mib,
                    row.rss_before_mib,
                    row.longest_statement_ms
                        .map_or(String::new(), |ms| format!("  longest statement {ms:.1} ms")),
                );
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// The child: fills `backend` with `sessions`, measures, prints JSON lines.
pub async fn child(backend: &str, sessions: u64) -> Result<(), String> {
    let emit = |row: ScaleRow| println!("{}", serde_json::to_string(&row).unwrap_or_default());
    match backend {
        "memory" => {
            let store = session_memory::MemoryStore::builder()
                .max_capacity(sessions * 2)
                .build()
                .map_err(|e| e.to_string())?;
            whole_store(backend, &store, sessions, emit).await
        }
        "redis" => {
            let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            let store = session_redis::RedisStore::builder()
                .url(url)
                .prefix("bench:scale:")
                .timeout(LONG_CALLS)
                .build()
                .await
                .map_err(|e| e.to_string())?;
            store.clear().await.map_err(|e| e.to_string())?;
            whole_store(backend, &store, sessions, emit).await
        }
        name => {
            let db = Db::ALL
                .into_iter()
                .find(|db| db.name() == name)
                .ok_or_else(|| format!("no scale run for {name:?}"))?;
            // One DELETE of a million rows takes longer than the 5 s default
            // on MariaDB (measured: the run failed there with it).
            let store = sql::ours(db, "bench_scale", LONG_CALLS).await?;
            whole_store(backend, &store, sessions, emit).await?;
            purge(db, &store, sessions, emit).await
        }
    }
}

/// Fills the store, then times length, streamed all and clear.
async fn whole_store<S: Store>(
    backend: &str,
    store: &S,
    sessions: u64,
    emit: impl Fn(ScaleRow),
) -> Result<(), String> {
    let row = |operation: &str, seconds: f64, items: u64, before: f64| ScaleRow {
        backend: backend.into(),
        sessions,
        operation: operation.into(),
        seconds,
        items,
        rss_before_mib: before,
        peak_rss_mib: peak::peak_mib(),
        longest_statement_ms: None,
        statements: None,
    };
    let (before, started) = start();
    fill(backend, store, sessions).await?;
    emit(row("fill", started.elapsed().as_secs_f64(), sessions, before));

    let (before, started) = start();
    let length = store.length().await.map_err(|e| e.to_string())?;
    emit(row("length", started.elapsed().as_secs_f64(), length, before));

    let (before, started) = start();
    let mut streamed = 0;
    let mut all = store.all_stream();
    while let Some(item) = all.next().await {
        std::hint::black_box(item.map_err(|e| e.to_string())?);
        streamed += 1;
    }
    drop(all);
    emit(row(
        "all (streamed)",
        started.elapsed().as_secs_f64(),
        streamed,
        before,
    ));

    let (before, started) = start();
    store.clear().await.map_err(|e| e.to_string())?;
    let left = store.length().await.map_err(|e| e.to_string())?;
    emit(row(
        "clear",
        started.elapsed().as_secs_f64(),
        sessions - left.min(sessions),
        before,
    ));
    if length != sessions || streamed != sessions || left != 0 {
        return Err(format!(
            "{backend}: filled {sessions}, length said {length}, all yielded {streamed}, {left} left after clear"
        ));
    }
    Ok(())
}

/// Resets the peak; returns resident memory now and the time.
fn start() -> (f64, Instant) {
    peak::reset();
    (peak::resident_mib(), Instant::now())
}

/// Sessions `b1`..=`b<sessions>`: bulk SQL for the databases (the store's
/// own writes would take minutes), the store's `set` for the others.
async fn fill<S: Store>(backend: &str, store: &S, sessions: u64) -> Result<(), String> {
    if let Some(db) = Db::ALL.into_iter().find(|db| db.name() == backend) {
        return bulk_fill(db, sessions, session_core::backend::unix_millis(later())).await;
    }
    let session = Session::from_data(data()).expiring_at(later());
    let results: Vec<Result<(), String>> = stream::iter(1..=sessions)
        .map(|n| {
            let session = &session;
            async move {
                let id = SessionId::parse(&format!("b{n}")).map_err(|e| e.to_string())?;
                store.set(&id, session).await.map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(64)
        .filter(|result| std::future::ready(result.is_err()))
        .take(1)
        .collect()
        .await;
    results.into_iter().next().unwrap_or(Ok(()))
}

async fn bulk_fill(db: Db, sessions: u64, expires_at: i64) -> Result<(), String> {
    const CHUNK: u64 = 100_000;
    let mut first = 1;
    while first <= sessions {
        let last = (first + CHUNK - 1).min(sessions);
        sql::bulk_fill(db, "bench_scale", first, last, expires_at).await?;
        first = last + 1;
    }
    Ok(())
}

/// Fills the table with `sessions` expired rows and purges them.
async fn purge(
    db: Db,
    store: &session_sql::SqlStore,
    sessions: u64,
    emit: impl Fn(ScaleRow),
) -> Result<(), String> {
    let past = OffsetDateTime::now_utc() - Duration::from_secs(60);
    bulk_fill(db, sessions, session_core::backend::unix_millis(past)).await?;
    let (before, _) = start();
    let report = store.purge_expired_report().await.map_err(|e| e.to_string())?;
    emit(ScaleRow {
        backend: db.name().into(),
        sessions,
        operation: "purge expired".into(),
        seconds: report.elapsed.as_secs_f64(),
        items: report.deleted,
        rss_before_mib: before,
        peak_rss_mib: peak::peak_mib(),
        longest_statement_ms: Some(report.longest_statement.as_secs_f64() * 1000.0),
        statements: Some(report.statements),
    });
    if report.deleted != sessions {
        return Err(format!(
            "{}: purged {} of {sessions} expired rows",
            db.name(),
            report.deleted
        ));
    }
    Ok(())
}
