//! The statements of a Node store's table: the same operations, binds and
//! guards as the store's own table (see `crate::statements`), in the Node
//! store's columns. There are no tombstones: `destroy` deletes.

use session_core::Error;

use crate::{
    Dialect,
    clear::Clear,
    conditional::{Conditional, ConditionalSql},
    node::NodeColumns,
    statement::{Names, Statement},
    statements::Statements,
    upsert::{Upsert, UpsertSql},
};

impl Statements {
    /// Every statement on the Node table `table` (quoted, qualified; `bare`
    /// unqualified), compiled with `names`.
    ///
    /// # Errors
    /// Only for a broken template (a bug).
    pub(crate) fn node(columns: &NodeColumns, names: Names<'_>, bare: &str) -> Result<Self, Error> {
        let table = names.table;
        let (sid, expires) = (columns.sid(), columns.expires());
        let (data_out, expiry) = (columns.data_out(), columns.expiry());
        // Comparisons put the clock into the column's form, not the column
        // into unix ms, so an index on the column serves them.
        let now = columns.time_in("now");
        let live = format!("{expires} > {now}");
        let listed = format!("SELECT {sid}, {data_out}, {expiry} FROM {{table}} WHERE");
        let in_order = format!("ORDER BY {sid} LIMIT {{limit}}");
        let compile = |template: String| Statement::compile(&template, names);
        let delete = format!("DELETE FROM {{table}} WHERE {sid} = {{id}}");
        let upsert = upsert(columns, table);
        // Content compared as bytes in the form `get` reads (see `conditional`).
        let conditional = ConditionalSql {
            update: upsert.update.clone(),
            remove: format!("{delete} AND "),
            unchanged: format!("{data_out} = {{seen}} AND {live}"),
        };
        let purge = match columns.dialect {
            Dialect::MySql => format!("DELETE FROM {{table}} WHERE {expires} <= {now} LIMIT {{limit}}"),
            dialect => format!(
                "DELETE FROM {{table}} WHERE {sid} IN (SELECT {sid} FROM {{table}} WHERE {expires} <= {now} \
                 LIMIT {{limit}}{})",
                if dialect == Dialect::Postgres {
                    " FOR UPDATE SKIP LOCKED"
                } else {
                    ""
                }
            ),
        };
        Ok(Self {
            schema: columns
                .ddl(table, bare)
                .iter()
                .map(|ddl| Statement::plain(ddl, names))
                .collect(),
            get: compile(format!(
                "SELECT {data_out}, {expiry} FROM {{table}} WHERE {sid} = {{id}} AND {live}"
            ))?,
            occupant: compile(format!(
                "SELECT FALSE, {expiry} FROM {{table}} WHERE {sid} = {{id}}"
            ))?,
            upsert: Upsert::compile(names, &upsert)?,
            conditional: Conditional::compile(names, &conditional)?,
            touch: compile(format!(
                "UPDATE {{table}} SET {expires} = {}{} WHERE {sid} = {{id}} AND {live}",
                columns.time_in("expires_at"),
                columns
                    .stamps()
                    .map(|(_, updated)| format!(", {updated} = {}", columns.time_in("now")))
                    .unwrap_or_default()
            ))?,
            remove_unless_tombstone: compile(delete.clone())?,
            remove_live: compile(format!("{delete} AND {live}"))?,
            tombstone: None,
            delete: compile(delete)?,
            // The first page has no bound on the id: `sid > ''` would pass
            // over an empty one (and SQLite's NULL), which `count` counts.
            first_page: compile(format!("{listed} {live} {in_order}"))?,
            page: compile(format!("{listed} {sid} > {{after}} AND {live} {in_order}"))?,
            count: compile(format!("SELECT COUNT(*) FROM {{table}} WHERE {live}"))?,
            purge: compile(purge)?,
            clear: Clear::new(names, &sid)?,
            by_column: Vec::new(),
        })
    }
}

/// `set` replaces any row (there are no tombstones); `create` only an
/// expired one.
fn upsert(columns: &NodeColumns, table: &str) -> UpsertSql {
    let (sid, data, expires) = (columns.sid(), columns.data(), columns.expires());
    let (data_in, expires_in, now_in) = (
        columns.data_in(),
        columns.time_in("expires_at"),
        columns.time_in("now"),
    );
    let (stamp_names, stamp_values, stamp_set, stamp_excluded) = match columns.stamps() {
        Some((created, updated)) => (
            format!(", {created}, {updated}"),
            format!(", {now_in}, {now_in}"),
            format!(", {updated} = {now_in}"),
            format!(", {updated} = excluded.{updated}"),
        ),
        None => Default::default(),
    };
    let insert = format!(
        "INSERT INTO {{table}} ({sid}, {data}, {expires}{stamp_names}) \
         VALUES ({{id}}, {data_in}, {expires_in}{stamp_values})"
    );
    UpsertSql {
        upsert: format!(
            "{insert} ON CONFLICT ({sid}) DO UPDATE SET {data} = excluded.{data}, \
             {expires} = excluded.{expires}{stamp_excluded} WHERE "
        ),
        update: format!(
            "UPDATE {{table}} SET {data} = {data_in}, {expires} = {expires_in}{stamp_set} WHERE {sid} = {{id}} AND "
        ),
        insert,
        set_guard: "TRUE".into(),
        create_guard: format!("{table}.{expires} <= {now_in}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Layout, statements::assert_clock_is_bound};

    #[test]
    fn every_node_statement_compiles_and_takes_the_clock_as_a_parameter() {
        // Each with the zone its Node store may write wall-clock times in,
        // and the SQL that converts from it.
        let layouts = [
            (
                Dialect::Postgres,
                Layout::ConnectPgSimple,
                Some("Asia/Tokyo"),
                "AT TIME ZONE 'Asia/Tokyo'",
            ),
            (Dialect::Postgres, Layout::ConnectSessionSequelize, None, ""),
            (
                Dialect::MySql,
                Layout::ConnectSessionSequelize,
                Some("+09:00"),
                "CONVERT_TZ(`expires`, '+09:00'",
            ),
            (Dialect::MySql, Layout::ConnectSessionSequelize, None, ""),
            (Dialect::Sqlite, Layout::ConnectSessionSequelize, None, ""),
        ];
        for (dialect, layout, zone, converts) in layouts {
            let s = statements_for(dialect, layout, zone);
            for statement in s.comparing_expiry() {
                assert_clock_is_bound(&statement.sql());
                assert!(
                    !statement.sql().contains('{'),
                    "unexpanded name: {:?}",
                    statement.sql()
                );
            }
            let get = s.get.sql().to_string();
            let zoned = get.contains("AT TIME ZONE") || get.contains("CONVERT_TZ");
            assert_eq!(zoned, zone.is_some(), "{dialect:?} {layout:?}: {get}");
            assert!(get.contains(converts), "{dialect:?} {layout:?}: {get}");
        }
    }

    /// The statements of `layout` on a table `s`, times in `zone`.
    fn statements_for(dialect: Dialect, layout: Layout, zone: Option<&str>) -> Statements {
        let columns = NodeColumns::new(dialect, layout, zone);
        let table = dialect.quote("s");
        let names = Names {
            dialect,
            table: &table,
            extras: &[],
            column: None,
            prefix: "",
        };
        Statements::node(&columns, names, "s").unwrap()
    }

    #[test]
    fn conditional_writes_compare_the_data_as_bytes_in_the_form_get_reads() {
        let layouts = [
            (
                Dialect::Postgres,
                Layout::ConnectPgSimple,
                "convert_to(CAST(\"sess\" AS text), 'UTF8') = $",
            ),
            (
                Dialect::MySql,
                Layout::ConnectSessionSequelize,
                "CAST(`data` AS BINARY) = ?",
            ),
            (
                Dialect::Sqlite,
                Layout::ConnectSessionSequelize,
                "CAST(\"data\" AS BLOB) = ?",
            ),
        ];
        for (dialect, layout, compare) in layouts {
            let (columns, s) = (
                NodeColumns::new(dialect, layout, None),
                statements_for(dialect, layout, None),
            );
            for statement in s.conditional.statements() {
                assert!(statement.sql().contains(compare), "{:?}", statement.sql());
            }
            assert!(s.get.sql().starts_with(&format!("SELECT {}", columns.data_out())));
        }
    }
}
