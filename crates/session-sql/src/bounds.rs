//! Limits the database itself enforces on the store's statements, derived
//! from the store's timeout.
//!
//! The store drops a call at its timeout, but a dropped statement keeps its
//! connection busy until the server finishes it: behind a held row lock
//! that can be forever, and a few such calls drain the pool while the
//! database is healthy. So the server is told to end our statements too:
//! any statement after one timeout, and any wait for a lock after a quarter
//! of it, so calls queued behind one held lock give their connections back
//! long before the pool runs dry. (PostgreSQL times each lock a statement
//! queues for on its own, so one statement may wait for several quarters;
//! the statement bound still holds.)

use std::time::Duration;

use crate::{pool::Pool, statement::Sql};

/// The bounds for one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerBounds {
    /// Longest any statement may run.
    pub(crate) statement: Duration,
    /// Longest a statement may wait for a lock.
    pub(crate) lock_wait: Duration,
}

impl ServerBounds {
    pub(crate) fn for_timeout(timeout: Duration) -> Self {
        Self {
            statement: timeout,
            lock_wait: (timeout / 4).max(Duration::from_millis(1)),
        }
    }

    /// PostgreSQL settings, sent when each connection of a pool the store
    /// opens starts.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres_settings(&self) -> [(&'static str, u128); 2] {
        [
            ("statement_timeout", millis(self.statement)),
            ("lock_timeout", millis(self.lock_wait)),
        ]
    }

    /// On a pool the app passed in, whose connections the store must not
    /// reconfigure: the `BEGIN` of a transaction that bounds its own
    /// statements only, on PostgreSQL; `None` elsewhere (MariaDB's bounds
    /// go with each statement; SQLite's pool keeps its own busy timeout).
    pub(crate) fn begin_on_apps_pool(&self, pool: &Pool) -> Option<Sql> {
        match pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Some(self.postgres_begin().into()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    #[cfg(feature = "postgres")]
    fn postgres_begin(&self) -> String {
        let [(statement, statement_ms), (lock, lock_ms)] = self.postgres_settings();
        format!("BEGIN; SET LOCAL {statement} = {statement_ms}; SET LOCAL {lock} = {lock_ms}")
    }

    /// MariaDB: a prefix that bounds the one statement it precedes, on any
    /// connection. Lock waits are counted in whole seconds, at least one.
    #[cfg(feature = "mysql")]
    pub(crate) fn mariadb_prefix(&self) -> String {
        let lock_wait = self.lock_wait.as_secs().max(1);
        format!(
            "SET STATEMENT max_statement_time = {:.3}, innodb_lock_wait_timeout = {lock_wait}, \
             lock_wait_timeout = {lock_wait} FOR ",
            // Zero would mean "no limit".
            self.statement.as_secs_f64().max(0.001)
        )
    }

    /// SQLite: how long a connection waits for another's write lock.
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite_busy_timeout(&self) -> Duration {
        self.lock_wait
    }
}

/// Whole milliseconds, at least one (zero would mean "no limit").
#[cfg(feature = "postgres")]
fn millis(duration: Duration) -> u128 {
    duration.as_millis().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "postgres", feature = "mysql"))]
    #[test]
    fn bounds_follow_the_timeout() {
        let bounds = ServerBounds::for_timeout(Duration::from_secs(5));
        assert_eq!(
            bounds.postgres_settings(),
            [("statement_timeout", 5000), ("lock_timeout", 1250)]
        );
        assert_eq!(
            bounds.postgres_begin(),
            "BEGIN; SET LOCAL statement_timeout = 5000; SET LOCAL lock_timeout = 1250"
        );
        assert_eq!(
            bounds.mariadb_prefix(),
            "SET STATEMENT max_statement_time = 5.000, innodb_lock_wait_timeout = 1, lock_wait_timeout = 1 FOR "
        );
        let tiny = ServerBounds::for_timeout(Duration::from_micros(10));
        assert_eq!(
            tiny.postgres_settings(),
            [("statement_timeout", 1), ("lock_timeout", 1)]
        );
        assert!(
            tiny.mariadb_prefix()
                .contains("max_statement_time = 0.001, innodb_lock_wait_timeout = 1,")
        );
    }
}
