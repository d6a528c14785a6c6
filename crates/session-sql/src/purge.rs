//! Deleting expired sessions and lapsed tombstones: on demand, and in a
//! background task on a jittered interval.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    dialect::Sql,
    error::from_sqlx,
    pool::{Pool, with_pool},
};

/// What one purge did: how many rows went, in how many statements, and how
/// long the slowest statement took (the longest any row lock was held).
///
/// Returned by [`SqlStore::purge_expired_report`](crate::SqlStore::purge_expired_report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Rows deleted: expired sessions and lapsed tombstones.
    pub deleted: u64,
    /// `DELETE` statements run (the last one finds fewer than a batch).
    pub statements: u32,
    /// The slowest single statement.
    pub longest_statement: Duration,
    /// The whole purge, first statement to last.
    pub elapsed: Duration,
}

/// Deletes rows whose expiry passed, `batch` at a time, so no statement holds
/// locks on many rows.
pub(crate) async fn purge(
    pool: &Pool,
    sql: &Sql,
    batch: u32,
    timeout: Duration,
) -> Result<PurgeReport, session_core::Error> {
    let started = Instant::now();
    let mut report = PurgeReport::default();
    loop {
        let now = session_core::expiry::unix_millis(OffsetDateTime::now_utc());
        let statement = Instant::now();
        let rows = with_pool!(pool, |p| {
            sqlx::query(sqlx::AssertSqlSafe(Sql::clone(sql)))
                .bind(now)
                .bind(i64::from(batch))
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(|e| from_sqlx(e, timeout))?;
        report.statements += 1;
        report.longest_statement = report.longest_statement.max(statement.elapsed());
        report.deleted += rows;
        if rows < u64::from(batch) {
            report.elapsed = started.elapsed();
            return Ok(report);
        }
    }
}

/// Stops the background purge when dropped (the store holds it).
#[derive(Debug)]
pub(crate) struct PurgeTask {
    _stop: watch::Sender<()>,
}

/// Starts the background purge: every `interval`, give or take half of it
/// at random, so many processes do not purge in step.
pub(crate) fn spawn(pool: Pool, sql: Sql, batch: u32, interval: Duration, timeout: Duration) -> PurgeTask {
    let (stop, mut stopped) = watch::channel(());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => return, // the store is gone
                () = tokio::time::sleep(session_core::backend::jittered(interval)) => {}
            }
            match purge(&pool, &sql, batch, timeout).await {
                Ok(report) if report.deleted == 0 => {}
                Ok(report) => tracing::debug!(
                    deleted = report.deleted,
                    statements = report.statements,
                    longest_statement_ms = report.longest_statement.as_millis() as u64,
                    "purged expired sessions"
                ),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed; will retry"),
            }
        }
    });
    PurgeTask { _stop: stop }
}
