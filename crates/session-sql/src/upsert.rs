//! The statements `set` and `create` write a row with: one of the two ways
//! the databases can do it atomically (running them is in `writes`).

use session_core::Error;

use crate::{
    dialect::Dialect,
    statement::{Names, Statement},
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

/// The statements that write a session row under a guard. Each takes the
/// row as `Args` with `id`, `data`, `expires_at`, the extra columns' values
/// and `now`, and changes no row when the guard refuses.
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
    /// # Errors
    /// Only for a broken template (a bug).
    pub(crate) fn compile(names: Names<'_>, sql: &UpsertSql) -> Result<Self, Error> {
        let compile = |template: String| Statement::compile(&template, names);
        Ok(match names.dialect {
            Dialect::Postgres | Dialect::Sqlite => Self::OneStatement {
                unless_tombstone: compile(format!("{}{}", sql.upsert, sql.set_guard))?,
                if_dead: compile(format!("{}{}", sql.upsert, sql.create_guard))?,
            },
            Dialect::MySql => Self::UpdateThenInsert {
                update_unless_tombstone: compile(format!("{}{}", sql.update, sql.set_guard))?,
                update_if_dead: compile(format!("{}{}", sql.update, sql.create_guard))?,
                insert: compile(sql.insert.clone())?,
            },
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(dialect: Dialect) -> Upsert {
        let extras = ["\"a\"".to_string(), "\"b\"".to_string()];
        let names = Names {
            dialect,
            table: "\"s\"",
            extras: &extras,
            column: None,
            prefix: "",
        };
        Upsert::compile(names, &UpsertSql::native()).unwrap()
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
