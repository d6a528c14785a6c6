//! Deleting expired sessions and lapsed tombstones: on demand, and in a
//! background task on a jittered interval that ends with the store.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use session_core::{
    Clock, Error,
    backend::unix_millis,
    backend::{BackgroundTask, spawn_purge, within},
};

use crate::{
    db::Db,
    statement::{Args, Statement},
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

/// Everything a purge needs, apart from the store, so the background task
/// holds no reference that would keep the store alive.
#[derive(Debug, Clone)]
pub(crate) struct Purger {
    pub(crate) db: Db,
    pub(crate) statement: Statement,
    pub(crate) batch: u32,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Purger {
    /// Deletes rows whose expiry passed, `batch` at a time so no statement
    /// holds locks on many rows, until a batch comes back short. The whole
    /// purge is one call: it ends with [`Error::Timeout`] at the store's
    /// timeout, keeping what earlier batches deleted.
    pub(crate) async fn run(&self) -> Result<PurgeReport, Error> {
        within(self.db.timeout, self.batches()).await
    }

    async fn batches(&self) -> Result<PurgeReport, Error> {
        let started = Instant::now();
        let mut report = PurgeReport::default();
        let limit = i64::from(self.batch);
        loop {
            let now = unix_millis(self.clock.now());
            let statement = Instant::now();
            let deleted = self
                .db
                .execute(&self.statement, Args::new().now(now).limit(limit))
                .await?;
            report.statements += 1;
            report.longest_statement = report.longest_statement.max(statement.elapsed());
            report.deleted += deleted;
            if deleted < u64::from(self.batch) {
                report.elapsed = started.elapsed();
                return Ok(report);
            }
        }
    }

    /// Purges every `interval` (±50 %), each run bounded as
    /// [`run`](Self::run) is; dropping the task stops it, mid-run too.
    pub(crate) fn spawn(self, interval: Duration) -> BackgroundTask {
        let timeout = self.db.timeout;
        spawn_purge(interval, timeout, move || {
            let purger = self.clone();
            async move { purger.batches().await.map(|report| report.deleted) }
        })
    }
}
