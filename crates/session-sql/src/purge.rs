//! Deleting expired sessions and lapsed tombstones: on demand, and in a
//! background task on a jittered interval.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    dialect::Sql,
    error::from_sqlx,
    pool::{Pool, with_pool},
};

/// Deletes rows whose expiry passed, `batch` at a time, so no statement holds
/// locks on many rows; returns how many it deleted.
pub(crate) async fn purge(
    pool: &Pool,
    sql: &Sql,
    batch: u32,
    timeout: Duration,
) -> Result<u64, session_core::Error> {
    let mut deleted = 0;
    loop {
        let now = session_core::expiry::unix_millis(OffsetDateTime::now_utc());
        let rows = with_pool!(pool, |p| {
            sqlx::query(sqlx::AssertSqlSafe(Sql::clone(sql)))
                .bind(now)
                .bind(i64::from(batch))
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(|e| from_sqlx(e, timeout))?;
        deleted += rows;
        if rows < u64::from(batch) {
            return Ok(deleted);
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
                () = tokio::time::sleep(session_core::maintenance::jittered(interval)) => {}
            }
            match purge(&pool, &sql, batch, timeout).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "purged expired sessions"),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed; will retry"),
            }
        }
    });
    PurgeTask { _stop: stop }
}
