//! sqlx's errors, sorted into the contract's error groups.

use std::time::Duration;

use session_core::Error;
use sqlx::error::DatabaseError;

pub(crate) fn from_sqlx(error: sqlx::Error, timeout: Duration) -> Error {
    match &error {
        sqlx::Error::PoolTimedOut => Error::Timeout(timeout),
        sqlx::Error::Database(db) if gave_up_waiting(db.as_ref()) => Error::Timeout(timeout),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Error::Unavailable(Box::new(error))
        }
        // PostgreSQL's admin_shutdown, crash_shutdown and cannot_connect_now:
        // the session was terminated; the pool replaces it on the next call.
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03")) => {
            Error::Unavailable(Box::new(error))
        }
        sqlx::Error::Configuration(_) => Error::InvalidInput(error.to_string()),
        // A Node store's table narrower than the session (MySQL's TEXT).
        sqlx::Error::Database(db) if too_long(db.as_ref()) => {
            Error::Encode(format!("the session does not fit its column: {}", db.message()).into())
        }
        _ => Error::Backend(Box::new(error)),
    }
}

/// PostgreSQL's string_data_right_truncation, MySQL's ER_DATA_TOO_LONG.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(unused_variables))]
fn too_long(error: &(dyn DatabaseError + 'static)) -> bool {
    #[cfg(feature = "postgres")]
    if let Some(postgres) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return postgres.code() == "22001";
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = error.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // ER_DATA_TOO_LONG; ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, which MariaDB
        // reports for multi-byte text past the end of a TEXT column.
        return matches!(mysql.number(), 1406 | 1366);
    }
    false
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A bound the server enforces ended the statement (see
/// [`ServerBounds`](crate::bounds::ServerBounds)): PostgreSQL's statement or
/// lock timeout, MariaDB's statement time or lock wait limit, MySQL's
/// execution time limit, or SQLite's busy timeout.
fn gave_up_waiting(error: &(dyn DatabaseError + 'static)) -> bool {
    #[cfg(feature = "postgres")]
    if let Some(postgres) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        // query_canceled (statement_timeout), lock_not_available (lock_timeout)
        return matches!(postgres.code(), "57014" | "55P03");
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = error.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // ER_LOCK_WAIT_TIMEOUT, ER_STATEMENT_TIMEOUT (MariaDB), ER_QUERY_TIMEOUT (MySQL)
        return matches!(mysql.number(), 1205 | 1969 | 3024);
    }
    #[cfg(feature = "sqlite")]
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return is_sqlite_busy(error);
    }
    false
}

/// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
#[cfg(feature = "sqlite")]
pub(crate) fn is_sqlite_busy(error: &(dyn DatabaseError + 'static)) -> bool {
    let primary = error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff);
    matches!(primary, Some(5 | 6))
}

/// The database refused `TRUNCATE` for a reason a batched `DELETE` does not
/// share: a foreign key references the table, or the role may not truncate.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(unused_variables))]
pub(crate) fn is_truncate_refused(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    #[cfg(feature = "postgres")]
    if let Some(postgres) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        // feature_not_supported (a foreign key), insufficient_privilege
        return matches!(postgres.code(), "0A000" | "42501");
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // ER_TRUNCATE_ILLEGAL_FK, ER_TABLEACCESS_DENIED_ERROR
        return matches!(mysql.number(), 1701 | 1142);
    }
    false
}
