//! sqlx's errors, sorted into the contract's error groups.

use std::time::Duration;

use session_core::Error;

pub(crate) fn from_sqlx(error: sqlx::Error, timeout: Duration) -> Error {
    match &error {
        sqlx::Error::PoolTimedOut => Error::Timeout(timeout),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Error::Unavailable(Box::new(error))
        }
        // PostgreSQL's admin_shutdown, crash_shutdown and cannot_connect_now:
        // the session was terminated; the pool replaces it on the next call.
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03")) => {
            Error::Unavailable(Box::new(error))
        }
        sqlx::Error::Configuration(_) => Error::InvalidInput(error.to_string()),
        _ => Error::Backend(Box::new(error)),
    }
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
