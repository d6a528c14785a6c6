//! Every statement a store runs, written out with the values it binds.
//!
//! Templates name their binds (see [`Statement::compile`]); the callers
//! pass the same names through [`Args`](crate::statement::Args). `{now}`
//! is always the application's clock in unix milliseconds: the database's
//! own clock is never consulted.

use session_core::Error;

use crate::{
    clear::Clear,
    conditional::{Conditional, ConditionalSql},
    dialect::Dialect,
    ident::{self, Ident},
    schema::{self, Shape},
    statement::{Names, Statement},
    upsert::{Upsert, UpsertSql},
};

/// A live session's data and expiry.
const GET: &str =
    "SELECT data, expires_at FROM {table} WHERE id = {id} AND destroyed = FALSE AND expires_at > {now}";

/// What holds an id, live or not (`destroyed`, `expires_at`): read when a
/// guarded write changed nothing, to learn why.
const OCCUPANT: &str = "SELECT destroyed, expires_at FROM {table} WHERE id = {id}";

/// Moves a live session's expiry: `touch`.
const TOUCH: &str = "UPDATE {table} SET expires_at = {expires_at} WHERE id = {id} AND destroyed = FALSE AND expires_at > {now}";

/// Removes a session, live or dead, but never an active tombstone: a `set`
/// whose expiry is past.
const REMOVE_UNLESS_TOMBSTONE: &str =
    "DELETE FROM {table} WHERE id = {id} AND NOT (destroyed AND expires_at > {now})";

/// Removes a live session only: a `touch` whose expiry is past.
const REMOVE_LIVE: &str = "DELETE FROM {table} WHERE id = {id} AND destroyed = FALSE AND expires_at > {now}";

/// Removes whatever the id holds: `destroy` when tombstones are off.
const DELETE: &str = "DELETE FROM {table} WHERE id = {id}";

/// Up to `limit` live sessions from the first id on, in id order: no bound
/// on the id, since `id > ''` would pass over an empty one.
const FIRST_PAGE: &str = "SELECT id, data, expires_at FROM {table} \
                          WHERE destroyed = FALSE AND expires_at > {now} ORDER BY id LIMIT {limit}";

/// Up to `limit` live sessions with ids after `after`, in id order.
const PAGE: &str = "SELECT id, data, expires_at FROM {table} \
                    WHERE id > {after} AND destroyed = FALSE AND expires_at > {now} ORDER BY id LIMIT {limit}";

/// How many sessions are live.
const COUNT: &str = "SELECT COUNT(*) FROM {table} WHERE destroyed = FALSE AND expires_at > {now}";

/// Writes a tombstone over whatever the id holds: `destroy`.
fn tombstone(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySql => {
            "INSERT INTO {table} (id, data, expires_at, destroyed) VALUES ({id}, {data}, {until}, TRUE) \
             ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at), destroyed = TRUE{extra_nulls}"
        }
        Dialect::Postgres | Dialect::Sqlite => {
            "INSERT INTO {table} (id, data, expires_at, destroyed) VALUES ({id}, {data}, {until}, TRUE) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             destroyed = TRUE{extra_nulls}"
        }
    }
}

/// Deletes up to `limit` rows whose expiry passed: expired sessions and
/// lapsed tombstones. PostgreSQL skips rows other statements hold.
fn purge(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "DELETE FROM {table} WHERE id IN \
             (SELECT id FROM {table} WHERE expires_at <= {now} LIMIT {limit} FOR UPDATE SKIP LOCKED)"
        }
        Dialect::MySql => "DELETE FROM {table} WHERE expires_at <= {now} LIMIT {limit}",
        Dialect::Sqlite => {
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE expires_at <= {now} LIMIT {limit})"
        }
    }
}

/// Live sessions whose extra column holds `value`, in id order.
const SELECT_BY_COLUMN: &str = "SELECT id, data, expires_at FROM {table} \
                                WHERE {column} = {value} AND destroyed = FALSE AND expires_at > {now} ORDER BY id";

/// Tombstones every session whose extra column holds `value`.
const TOMBSTONE_BY_COLUMN: &str = "UPDATE {table} SET data = {data}, expires_at = {until}, destroyed = TRUE{extra_nulls} \
                                   WHERE {column} = {value} AND destroyed = FALSE";

/// Deletes every row whose extra column holds `value`.
const DELETE_BY_COLUMN: &str = "DELETE FROM {table} WHERE {column} = {value}";

/// The statements that find or end sessions by one extra column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnStatements {
    pub(crate) select: Statement,
    pub(crate) tombstone: Statement,
    pub(crate) delete: Statement,
}

/// Every statement a store runs, compiled for its database.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// DDL, run in order by `migrate`.
    pub(crate) schema: Vec<Statement>,
    pub(crate) get: Statement,
    pub(crate) occupant: Statement,
    /// `set` and `create`.
    pub(crate) upsert: Upsert,
    /// `set_if_unchanged`.
    pub(crate) conditional: Conditional,
    pub(crate) touch: Statement,
    pub(crate) remove_unless_tombstone: Statement,
    pub(crate) remove_live: Statement,
    /// Marks the id destroyed until the grace lapses; `None` for a table
    /// with no place for a tombstone (a Node store's), whose `destroy` deletes.
    pub(crate) tombstone: Option<Statement>,
    pub(crate) delete: Statement,
    /// The first page of `all_stream`; `page` reads the ones after it.
    pub(crate) first_page: Statement,
    pub(crate) page: Statement,
    pub(crate) count: Statement,
    pub(crate) purge: Statement,
    pub(crate) clear: Clear,
    /// One set per extra column, in configured order.
    pub(crate) by_column: Vec<ColumnStatements>,
}

impl Statements {
    /// # Errors
    /// Only for a broken template (a bug): see [`Statement::compile`].
    pub(crate) fn new(layout: Shape<'_>) -> Result<Self, Error> {
        let dialect = layout.dialect;
        let quote = |ident: &Ident| dialect.quote(ident.as_str());
        let table = ident::qualified(dialect, layout.schema, layout.table);
        let extras: Vec<String> = layout.extras.iter().map(|(name, _)| quote(name)).collect();
        let names = Names {
            dialect,
            table: &table,
            extras: &extras,
            column: None,
            prefix: layout.prefix,
        };
        if let Some(columns) = layout.node {
            return Self::node(columns, names, layout.table.as_str());
        }
        let compile = |template: &str| Statement::compile(template, names);
        let upsert = UpsertSql::native();
        let by_column = extras
            .iter()
            .map(|column| {
                let names = names.on_column(column);
                Ok(ColumnStatements {
                    select: Statement::compile(SELECT_BY_COLUMN, names)?,
                    tombstone: Statement::compile(TOMBSTONE_BY_COLUMN, names)?,
                    delete: Statement::compile(DELETE_BY_COLUMN, names)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            schema: schema::ddl(layout, &table)
                .iter()
                .map(|ddl| Statement::plain(ddl, names))
                .collect(),
            get: compile(GET)?,
            occupant: compile(OCCUPANT)?,
            upsert: Upsert::compile(names, &upsert)?,
            conditional: Conditional::compile(names, &ConditionalSql::native(&upsert))?,
            touch: compile(TOUCH)?,
            remove_unless_tombstone: compile(REMOVE_UNLESS_TOMBSTONE)?,
            remove_live: compile(REMOVE_LIVE)?,
            tombstone: Some(compile(tombstone(dialect))?),
            delete: compile(DELETE)?,
            first_page: compile(FIRST_PAGE)?,
            page: compile(PAGE)?,
            count: compile(COUNT)?,
            purge: compile(purge(dialect))?,
            clear: Clear::new(names, "id")?,
            by_column,
        })
    }
}

#[cfg(test)]
impl Statements {
    /// Every statement that compares an expiry with the clock.
    pub(crate) fn comparing_expiry(&self) -> Vec<&Statement> {
        let mut all = vec![
            &self.get,
            &self.occupant,
            &self.touch,
            &self.remove_unless_tombstone,
            &self.remove_live,
            &self.first_page,
            &self.page,
            &self.count,
            &self.purge,
        ];
        all.extend(self.by_column.iter().map(|c| &c.select));
        all.extend(self.upsert.statements());
        all.extend(self.conditional.statements());
        all
    }
}

/// `sql` takes "now" as a parameter, never from the database's clock.
#[cfg(test)]
pub(crate) fn assert_clock_is_bound(sql: &str) {
    let sql = sql.to_lowercase();
    assert!(
        !sql.contains("now()") && !sql.contains("current_timestamp"),
        "{sql}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extra_columns::ColumnKind;

    fn ident(name: &str) -> Ident {
        Ident::new("t", name).unwrap()
    }

    fn statements(dialect: Dialect, schema: Option<&Ident>, extras: &[(Ident, ColumnKind)]) -> Statements {
        Statements::new(Shape {
            dialect,
            schema,
            table: &ident("s"),
            extras,
            prefix: "",
            node: None,
        })
        .unwrap()
    }

    #[test]
    fn names_are_quoted_per_dialect() {
        let pg = statements(Dialect::Postgres, Some(&ident("app")), &[]);
        assert!(
            pg.get.sql().contains("FROM \"app\".\"s\" WHERE id = $1"),
            "{:?}",
            pg.get
        );
        let my = statements(Dialect::MySql, None, &[]);
        assert!(my.get.sql().contains("FROM `s` WHERE id = ?"), "{:?}", my.get);
        assert!(my.schema[0].sql().contains("INDEX `s_expires_at_idx`"));
    }

    #[test]
    fn extra_columns_are_written_indexed_and_bound_in_order() {
        let extra = [
            (ident("user_id"), ColumnKind::Text),
            (ident("org"), ColumnKind::BigInt),
        ];
        let pg = statements(Dialect::Postgres, None, &extra);
        assert!(
            pg.schema
                .iter()
                .any(|ddl| ddl.sql().contains("\"s_user_id_idx\" ON \"s\" (\"user_id\")"))
        );
        assert!(
            pg.tombstone
                .as_ref()
                .unwrap()
                .sql()
                .contains("\"user_id\" = NULL, \"org\" = NULL")
        );
        assert!(
            pg.by_column[1]
                .tombstone
                .sql()
                .ends_with("WHERE \"org\" = $3 AND destroyed = FALSE")
        );
        let my = statements(Dialect::MySql, None, &extra);
        assert!(my.schema[0].sql().contains("INDEX `s_org_idx` (`org`)"));
        assert_eq!(pg.by_column.len(), 2);
    }

    #[test]
    fn a_prefix_leads_every_statement() {
        let my = Statements::new(Shape {
            dialect: Dialect::MySql,
            schema: None,
            table: &ident("s"),
            extras: &[(ident("u"), ColumnKind::Text)],
            prefix: "SET STATEMENT x = 1 FOR ",
            node: None,
        })
        .unwrap();
        let mut all = vec![
            &my.get,
            &my.occupant,
            &my.touch,
            &my.remove_unless_tombstone,
            &my.remove_live,
            &my.delete,
            &my.first_page,
            &my.page,
            &my.count,
            &my.purge,
        ];
        all.extend(my.tombstone.iter());
        all.extend(my.conditional.statements());
        all.extend(my.schema.iter());
        all.extend(
            my.by_column
                .iter()
                .flat_map(|c| [&c.select, &c.tombstone, &c.delete]),
        );
        for statement in all {
            assert!(
                statement.sql().starts_with("SET STATEMENT x = 1 FOR "),
                "{statement:?}"
            );
        }
    }

    #[test]
    fn every_expiry_comparison_takes_the_clock_as_a_parameter() {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let s = statements(dialect, None, &[(ident("u"), ColumnKind::Text)]);
            for statement in s.comparing_expiry() {
                assert_clock_is_bound(&statement.sql());
            }
        }
    }
}
