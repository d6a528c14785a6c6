//! The statements `set_if_unchanged` writes with (rule 10): the write `set`
//! makes, guarded by the row still holding, byte for byte, the data cell
//! `get_versioned` read, and still being live. Running them is in
//! `writes`.
//!
//! The stored data is the version: no column is added, so existing tables
//! and the Node stores' tables (whose apps write them too) keep working.
//! Content is compared as bytes in the form `get` reads it (see
//! [`NodeColumns::data_out`](crate::node::NodeColumns::data_out)): a
//! PostgreSQL `json` column has no equality operator and a `jsonb` one
//! compares normalized values, and a MySQL text comparison follows the
//! column's collation (case-insensitive by default); bytes compare exactly
//! on every database, and a token the store did not hand out (any bytes)
//! simply matches no row.

use session_core::Error;

use crate::{
    statement::{Names, Statement},
    upsert::UpsertSql,
};

/// The native table's guard: the data read, on a live, untombstoned row.
const NATIVE_UNCHANGED: &str = "data = {seen} AND destroyed = FALSE AND expires_at > {now}";

/// The native table's removal, to which the guard is appended.
const NATIVE_REMOVE: &str = "DELETE FROM {table} WHERE id = {id} AND ";

/// The SQL of a [`Conditional`], as templates: the guard is appended to
/// each statement after its `AND`.
pub(crate) struct ConditionalSql {
    /// `set`'s `UPDATE`, up to `WHERE <key> = {id} AND `.
    pub(crate) update: String,
    /// `DELETE ... WHERE <key> = {id} AND `.
    pub(crate) remove: String,
    /// The row still holds `{seen}` and is live at `{now}`.
    pub(crate) unchanged: String,
}

impl ConditionalSql {
    /// The store's own table, writing as `upsert` does.
    pub(crate) fn native(upsert: &UpsertSql) -> Self {
        Self {
            update: upsert.update.clone(),
            remove: NATIVE_REMOVE.into(),
            unchanged: NATIVE_UNCHANGED.into(),
        }
    }
}

/// The statements that write only while a row is as read. Each takes the
/// row as `set` binds it (`id`, `data`, `expires_at`, the extra columns'
/// values, `now`) and `seen`, and changes no row when the guard refuses.
/// On MySQL, whose sqlx connections count matched rows, a row the write
/// leaves as it was still counts: the compare passed.
#[derive(Debug, Clone)]
pub(crate) struct Conditional {
    /// Replaces the row with the session: `set` of a session still ahead.
    pub(crate) update: Statement,
    /// Removes the row: `set` of a session whose expiry is past.
    pub(crate) remove: Statement,
}

impl Conditional {
    /// # Errors
    /// Only for a broken template (a bug).
    pub(crate) fn compile(names: Names<'_>, sql: &ConditionalSql) -> Result<Self, Error> {
        let compile = |head: &str| Statement::compile(&format!("{head}{}", sql.unchanged), names);
        Ok(Self {
            update: compile(&sql.update)?,
            remove: compile(&sql.remove)?,
        })
    }

    /// Both statements, for tests that look at them all.
    #[cfg(test)]
    pub(crate) fn statements(&self) -> [&Statement; 2] {
        [&self.update, &self.remove]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;

    fn conditional(dialect: Dialect) -> Conditional {
        let extras = ["\"a\"".to_string()];
        let names = Names {
            dialect,
            table: "\"s\"",
            extras: &extras,
            column: None,
            prefix: "",
        };
        Conditional::compile(names, &ConditionalSql::native(&UpsertSql::native())).unwrap()
    }

    #[test]
    fn the_native_update_writes_as_set_does_where_the_row_is_as_read_and_live() {
        let pg = conditional(Dialect::Postgres);
        assert_eq!(
            &*pg.update.sql(),
            "UPDATE \"s\" SET data = $1, expires_at = $2, destroyed = FALSE, \"a\" = $3 \
             WHERE id = $4 AND data = $5 AND destroyed = FALSE AND expires_at > $6"
        );
        assert_eq!(
            &*pg.remove.sql(),
            "DELETE FROM \"s\" WHERE id = $1 AND data = $2 AND destroyed = FALSE AND expires_at > $3"
        );
        let my = conditional(Dialect::MySql);
        assert!(
            my.update
                .sql()
                .ends_with("WHERE id = ? AND data = ? AND destroyed = FALSE AND expires_at > ?")
        );
    }
}
