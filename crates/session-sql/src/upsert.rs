//! How `set` and `create` write a row: one interface over the two ways the
//! databases can do it atomically.

use session_core::Error;

use crate::{
    db::Db,
    dialect::Dialect,
    error::is_unique_violation,
    statement::{Args, Names, Statement},
};

/// PostgreSQL and SQLite: insert, or update the row in the way unless the
/// guard (appended) refuses.
const UPSERT: &str = "INSERT INTO {table} (id, data, expires_at, destroyed{extra_names}) \
                      VALUES ({id}, {data}, {expires_at}, FALSE{extra_values}) \
                      ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
                      destroyed = FALSE{extra_from_excluded} WHERE ";

/// The guard of `set`: anything but an active tombstone may be replaced.
const UNLESS_TOMBSTONE: &str = "NOT ({table}.destroyed AND {table}.expires_at > {now})";

/// The guard of `create`: only a dead row (an expired session or a lapsed
/// tombstone) may be replaced.
const IF_DEAD: &str = "{table}.expires_at <= {now}";

/// MySQL: update the row there, if the guard (appended) allows.
const UPDATE: &str = "UPDATE {table} SET data = {data}, expires_at = {expires_at}, destroyed = FALSE{extra_set} \
                      WHERE id = {id} AND ";

/// MySQL: insert a row where there is none.
const INSERT: &str = "INSERT INTO {table} (id, data, expires_at, destroyed{extra_names}) \
                      VALUES ({id}, {data}, {expires_at}, FALSE{extra_values})";

/// Writes a session row under a guard: each method says whether it wrote.
/// A `false` means something the guard refuses held the id at that moment;
/// the caller asks the rule table what.
///
/// Every method takes the row as `Args` with `id`, `data`, `expires_at`,
/// the extra columns' values and `now`.
#[derive(Debug, Clone)]
pub(crate) enum Upsert {
    /// PostgreSQL and SQLite: one `INSERT ... ON CONFLICT DO UPDATE ...
    /// WHERE guard`, which reports 0 rows when the guard refuses.
    OneStatement {
        unless_tombstone: Statement,
        if_dead: Statement,
    },
    /// MySQL and MariaDB, where sqlx's `CLIENT_FOUND_ROWS` hides whether an
    /// `ON DUPLICATE KEY UPDATE` was refused: a guarded `UPDATE` and a plain
    /// `INSERT`, each atomic, neither able to overwrite a tombstone.
    UpdateThenInsert {
        update_unless_tombstone: Statement,
        update_if_dead: Statement,
        insert: Statement,
    },
}

/// The SQL of an [`Upsert`], as templates: each guard is appended to
/// `upsert` (PostgreSQL, SQLite) or `update` (MySQL) after `WHERE`.
pub(crate) struct UpsertSql {
    pub(crate) upsert: String,
    pub(crate) update: String,
    pub(crate) insert: String,
    /// What `set` may replace.
    pub(crate) set_guard: String,
    /// What `create` may replace.
    pub(crate) create_guard: String,
}

impl UpsertSql {
    /// The store's own table.
    pub(crate) fn native() -> Self {
        Self {
            upsert: UPSERT.into(),
            update: UPDATE.into(),
            insert: INSERT.into(),
            set_guard: UNLESS_TOMBSTONE.into(),
            create_guard: IF_DEAD.into(),
        }
    }
}

impl Upsert {
    pub(crate) fn new(names: Names<'_>) -> Result<Self, Error> {
        Self::compile(names, UpsertSql::native())
    }

    pub(crate) fn compile(names: Names<'_>, sql: UpsertSql) -> Result<Self, Error> {
        let compile = |template: String| Statement::compile(&template, names);
        Ok(match names.dialect {
            Dialect::Postgres | Dialect::Sqlite => Self::OneStatement {
                unless_tombstone: compile(format!("{}{}", sql.upsert, sql.set_guard))?,
                if_dead: compile(format!("{}{}", sql.upsert, sql.create_guard))?,
            },
            Dialect::MySql => Self::UpdateThenInsert {
                update_unless_tombstone: compile(format!("{}{}", sql.update, sql.set_guard))?,
                update_if_dead: compile(format!("{}{}", sql.update, sql.create_guard))?,
                insert: compile(sql.insert)?,
            },
        })
    }

    /// Writes `row` unless an active tombstone holds the id: `set`.
    pub(crate) async fn unless_tombstone(&self, db: &Db, row: Args<'_>) -> Result<bool, Error> {
        match self {
            Self::OneStatement { unless_tombstone, .. } => Ok(db.execute(unless_tombstone, row).await? > 0),
            Self::UpdateThenInsert {
                update_unless_tombstone,
                insert,
                ..
            } => {
                if db.execute(update_unless_tombstone, row).await? > 0 {
                    return Ok(true);
                }
                // No row, or a tombstone: only a plain insert is safe now.
                insert_if_absent(db, insert, row).await
            }
        }
    }

    /// Writes `row` only where no live session or active tombstone holds
    /// the id: `create`.
    pub(crate) async fn if_vacant(&self, db: &Db, row: Args<'_>) -> Result<bool, Error> {
        match self {
            Self::OneStatement { if_dead, .. } => Ok(db.execute(if_dead, row).await? > 0),
            Self::UpdateThenInsert {
                update_if_dead,
                insert,
                ..
            } => {
                if insert_if_absent(db, insert, row).await? {
                    return Ok(true);
                }
                // A row is there: only a dead one may be replaced.
                Ok(db.execute(update_if_dead, row).await? > 0)
            }
        }
    }

    /// Every statement, for tests that look at them all.
    #[cfg(test)]
    pub(crate) fn statements(&self) -> Vec<&Statement> {
        match self {
            Self::OneStatement {
                unless_tombstone,
                if_dead,
            } => vec![unless_tombstone, if_dead],
            Self::UpdateThenInsert {
                update_unless_tombstone,
                update_if_dead,
                insert,
            } => vec![update_unless_tombstone, update_if_dead, insert],
        }
    }
}

/// Inserts `row`; `false` when a row with its id is already there.
async fn insert_if_absent(db: &Db, insert: &Statement, row: Args<'_>) -> Result<bool, Error> {
    match db.try_execute(insert, row).await {
        Ok(_) => Ok(true),
        Err(error) if is_unique_violation(&error) => Ok(false),
        Err(error) => Err(db.error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(dialect: Dialect) -> Upsert {
        let extras = ["\"a\"".to_string(), "\"b\"".to_string()];
        Upsert::new(Names {
            dialect,
            table: "\"s\"",
            extras: &extras,
            column: None,
            prefix: "",
        })
        .unwrap()
    }

    #[test]
    fn one_statement_binds_the_row_then_the_clock() {
        let Upsert::OneStatement { unless_tombstone, .. } = upsert(Dialect::Postgres) else {
            panic!("PostgreSQL upserts in one statement");
        };
        let sql = unless_tombstone.sql();
        assert!(sql.contains("VALUES ($1, $2, $3, FALSE, $4, $5)"), "{sql}");
        assert!(
            sql.ends_with("WHERE NOT (\"s\".destroyed AND \"s\".expires_at > $6)"),
            "{sql}"
        );
    }

    #[test]
    fn mysql_updates_with_the_extra_columns_then_inserts() {
        let Upsert::UpdateThenInsert {
            update_unless_tombstone,
            insert,
            ..
        } = upsert(Dialect::MySql)
        else {
            panic!("MySQL updates, then inserts");
        };
        let sql = update_unless_tombstone.sql();
        assert!(
            sql.contains("destroyed = FALSE, \"a\" = ?, \"b\" = ? WHERE id = ?"),
            "{sql}"
        );
        assert!(insert.sql().ends_with("VALUES (?, ?, ?, FALSE, ?, ?)"));
    }
}
