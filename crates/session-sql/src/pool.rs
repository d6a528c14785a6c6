//! The sqlx pool a store runs on, one variant per enabled database, and the
//! macro that runs the same code on whichever it is.

#[cfg(feature = "mysql")]
use sqlx::MySqlPool;
#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;

use crate::Dialect;

/// A pool of connections to one of the supported databases.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    #[cfg(feature = "mysql")]
    MySql(MySqlPool),
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
}

impl Pool {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Dialect::MySql,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }
}

/// Runs `$body` with `$p` bound to the concrete pool: the same statements
/// and binds, compiled once per database type.
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            #[cfg(feature = "postgres")]
            $crate::pool::Pool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            $crate::pool::Pool::MySql($p) => $body,
            #[cfg(feature = "sqlite")]
            $crate::pool::Pool::Sqlite($p) => $body,
        }
    };
}

pub(crate) use with_pool;
