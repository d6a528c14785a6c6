//! Running compiled statements on whichever pool a store has.

use std::time::Duration;

use session_core::Error;
use sqlx::AssertSqlSafe;

use crate::{
    Dialect,
    error::from_sqlx,
    pool::Pool,
    statement::{Args, Sql, Statement},
};

/// A store's connection to its database.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) pool: Pool,
    /// On a PostgreSQL pool the app passed in, each statement runs in a
    /// transaction opened by this `BEGIN`, which bounds it (see
    /// [`ServerBounds`](crate::bounds::ServerBounds)).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) bounded_begin: Option<Sql>,
    /// The store's timeout, which server-side timeouts are reported as.
    pub(crate) timeout: Duration,
}

/// Runs `$run` (an expression awaiting to `Result<_, sqlx::Error>`) with
/// `$executor` bound to the pool, and `$database` naming its sqlx database
/// type: the same statement and binds, compiled once per database.
macro_rules! on_pool {
    ($db:expr, |$executor:ident, $database:ident| $run:expr) => {
        match &$db.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                type $database = sqlx::Postgres;
                match &$db.bounded_begin {
                    None => {
                        let $executor = pool;
                        $run.await
                    }
                    Some(begin) => {
                        async {
                            let mut transaction = pool.begin_with(AssertSqlSafe(Sql::clone(begin))).await?;
                            let $executor = &mut *transaction;
                            let out = $run.await?;
                            transaction.commit().await?;
                            Ok::<_, sqlx::Error>(out)
                        }
                        .await
                    }
                }
            }
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => {
                type $database = sqlx::MySql;
                let $executor = pool;
                $run.await
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                type $database = sqlx::Sqlite;
                let $executor = pool;
                $run.await
            }
        }
    };
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    pub(crate) fn error(&self, error: sqlx::Error) -> Error {
        from_sqlx(error, self.timeout)
    }

    /// Runs `statement`; how many rows it changed (or matched, on MySQL).
    pub(crate) async fn execute(&self, statement: &Statement, args: Args<'_>) -> Result<u64, Error> {
        self.try_execute(statement, args).await.map_err(|e| self.error(e))
    }

    /// [`execute`](Self::execute), with sqlx's own error, for callers that
    /// look into it.
    pub(crate) async fn try_execute(
        &self,
        statement: &Statement,
        args: Args<'_>,
    ) -> Result<u64, sqlx::Error> {
        on_pool!(self, |executor, Database| async {
            let arguments = statement
                .arguments::<Database>(&args)
                .map_err(sqlx::Error::Encode)?;
            let query = sqlx::query_with(AssertSqlSafe(statement.sql()), arguments);
            Ok::<_, sqlx::Error>(query.execute(executor).await?.rows_affected())
        })
    }

    /// The first row `statement` reads, if any.
    pub(crate) async fn fetch_optional<T: Decoded>(
        &self,
        statement: &Statement,
        args: Args<'_>,
    ) -> Result<Option<T>, Error> {
        let fetched = on_pool!(self, |executor, Database| async {
            let arguments = statement
                .arguments::<Database>(&args)
                .map_err(sqlx::Error::Encode)?;
            sqlx::query_as_with::<Database, T, _>(AssertSqlSafe(statement.sql()), arguments)
                .fetch_optional(executor)
                .await
        });
        fetched.map_err(|e| self.error(e))
    }

    /// Every row `statement` reads.
    pub(crate) async fn fetch_all<T: Decoded>(
        &self,
        statement: &Statement,
        args: Args<'_>,
    ) -> Result<Vec<T>, Error> {
        let fetched = on_pool!(self, |executor, Database| async {
            let arguments = statement
                .arguments::<Database>(&args)
                .map_err(sqlx::Error::Encode)?;
            sqlx::query_as_with::<Database, T, _>(AssertSqlSafe(statement.sql()), arguments)
                .fetch_all(executor)
                .await
        });
        fetched.map_err(|e| self.error(e))
    }

    /// Runs the schema's DDL in order. On PostgreSQL it runs in one
    /// transaction holding an advisory lock, since concurrent `CREATE ...
    /// IF NOT EXISTS` can still collide there.
    pub(crate) async fn migrate(&self, ddl: &[Statement]) -> Result<(), Error> {
        let migrated: Result<(), sqlx::Error> = match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                async {
                    let mut transaction = match &self.bounded_begin {
                        Some(begin) => pool.begin_with(AssertSqlSafe(Sql::clone(begin))).await?,
                        None => pool.begin().await?,
                    };
                    sqlx::query("SELECT pg_advisory_xact_lock(5384719251)")
                        .execute(&mut *transaction)
                        .await?;
                    for statement in ddl {
                        sqlx::query(AssertSqlSafe(statement.sql()))
                            .execute(&mut *transaction)
                            .await?;
                    }
                    transaction.commit().await
                }
                .await
            }
            #[allow(unreachable_patterns)]
            _ => {
                async {
                    for statement in ddl {
                        self.try_execute(statement, Args::new()).await?;
                    }
                    Ok::<(), sqlx::Error>(())
                }
                .await
            }
        };
        migrated.map_err(|e| self.error(e))
    }
}

/// A row type every enabled database can decode (tuples of plain types).
pub(crate) trait Decoded: Send + Unpin + FromPostgresRow + FromMySqlRow + FromSqliteRow {}

impl<T: Send + Unpin + FromPostgresRow + FromMySqlRow + FromSqliteRow> Decoded for T {}

/// Declares `$name`: "decodes from `$row`" with the feature on, "anything"
/// with it off, so [`Decoded`] names only the enabled databases.
macro_rules! decodes_from {
    ($name:ident, $feature:literal, $row:ty) => {
        #[cfg(feature = $feature)]
        pub(crate) trait $name: for<'r> sqlx::FromRow<'r, $row> {}
        #[cfg(feature = $feature)]
        impl<T: for<'r> sqlx::FromRow<'r, $row>> $name for T {}
        #[cfg(not(feature = $feature))]
        pub(crate) trait $name {}
        #[cfg(not(feature = $feature))]
        impl<T> $name for T {}
    };
}

decodes_from!(FromPostgresRow, "postgres", sqlx::postgres::PgRow);
decodes_from!(FromMySqlRow, "mysql", sqlx::mysql::MySqlRow);
decodes_from!(FromSqliteRow, "sqlite", sqlx::sqlite::SqliteRow);
