//! The table: where it is, what it holds, and the DDL (safe to run again)
//! that creates it and its indexes.

use crate::{
    dialect::Dialect,
    extra_columns::ColumnKind,
    ident::{Ident, index_name},
    node::NodeColumns,
};

/// Where a store's table is and what it holds: all the statements need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape<'a> {
    pub(crate) dialect: Dialect,
    pub(crate) schema: Option<&'a Ident>,
    pub(crate) table: &'a Ident,
    pub(crate) extras: &'a [(Ident, ColumnKind)],
    /// Put before every statement (MariaDB's per-statement bounds).
    pub(crate) prefix: &'a str,
    /// A Node store's table instead of the store's own.
    pub(crate) node: Option<&'a NodeColumns>,
}

/// The statements that create the table and its indexes if missing, for
/// `table` (quoted and qualified).
pub(crate) fn ddl(layout: Shape<'_>, table: &str) -> Vec<String> {
    let dialect = layout.dialect;
    let quote = |name: &str| dialect.quote(name);
    let index = |column: &str| quote(&index_name(layout.table, column));
    let extra_definitions: String = layout
        .extras
        .iter()
        .map(|(name, kind)| format!(", {} {}", quote(name.as_str()), dialect.column_type(*kind)))
        .collect();
    let indexed: Vec<&str> = std::iter::once("expires_at")
        .chain(layout.extras.iter().map(|(name, _)| name.as_str()))
        .collect();
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => {
            let columns = if dialect == Dialect::Postgres {
                "id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, expires_at BIGINT NOT NULL"
            } else {
                "id TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL, expires_at INTEGER NOT NULL"
            };
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {table} ({columns}, destroyed BOOLEAN NOT NULL DEFAULT FALSE{extra_definitions})"
            );
            let indexes = indexed.iter().map(|column| {
                format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
                    index(column),
                    quote(column)
                )
            });
            std::iter::once(create).chain(indexes).collect()
        }
        // MySQL has no CREATE INDEX IF NOT EXISTS: indexes come with the table.
        Dialect::MySql => {
            let indexes: String = indexed
                .iter()
                .map(|column| format!(", INDEX {} ({})", index(column), quote(column)))
                .collect();
            vec![format!(
                "CREATE TABLE IF NOT EXISTS {table} (id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, \
                 data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE\
                 {extra_definitions}{indexes}) ENGINE=InnoDB"
            )]
        }
    }
}
