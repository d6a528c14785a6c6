//! `clear`: every session and tombstone gone, fast at any table size.

use session_core::Error;

use crate::{
    db::Db,
    dialect::Dialect,
    error::is_truncate_refused,
    statement::{Args, Names, Statement},
};

/// Empties the table at once, whatever its size. The table holds only the
/// store's rows, and `clear` removes tombstones too (rule 7), so nothing
/// needs keeping. SQLite has no `TRUNCATE`; an unfiltered `DELETE` is its
/// equivalent.
fn empty(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres | Dialect::MySql => "TRUNCATE TABLE {table}",
        Dialect::Sqlite => "DELETE FROM {table}",
    }
}

/// Deletes up to `limit` rows, keyed by `key`: the fallback where
/// `TRUNCATE` is refused.
fn batch(dialect: Dialect, key: &str) -> String {
    match dialect {
        Dialect::MySql => "DELETE FROM {table} LIMIT {limit}".into(),
        Dialect::Postgres | Dialect::Sqlite => {
            format!("DELETE FROM {{table}} WHERE {key} IN (SELECT {key} FROM {{table}} LIMIT {{limit}})")
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Clear {
    empty: Statement,
    batch: Statement,
}

impl Clear {
    /// For a table whose primary key is `key` (quoted).
    pub(crate) fn new(names: Names<'_>, key: &str) -> Result<Self, Error> {
        Ok(Self {
            empty: Statement::compile(empty(names.dialect), names)?,
            batch: Statement::compile(&batch(names.dialect, key), names)?,
        })
    }

    /// Empties the table with `TRUNCATE`; where the database refuses that
    /// (a foreign key references the table, or the role may not), deletes
    /// `batch` rows at a time until none are left.
    pub(crate) async fn run(&self, db: &Db, batch: u32) -> Result<(), Error> {
        match db.try_execute(&self.empty, Args::new()).await {
            Ok(_) => Ok(()),
            Err(error) if is_truncate_refused(&error) => {
                tracing::debug!(%error, "TRUNCATE refused; clearing in batches");
                let limit = i64::from(batch);
                while db.execute(&self.batch, Args::new().limit(limit)).await? >= u64::from(batch) {}
                Ok(())
            }
            Err(error) => Err(db.error(error)),
        }
    }
}
