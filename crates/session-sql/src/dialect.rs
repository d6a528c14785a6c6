//! What differs between the databases in the SQL text itself: quoting,
//! placeholders and column types.

use crate::extra_columns::ColumnKind;

/// The databases the store supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL 12 or later.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or later.
    MySql,
    /// SQLite 3.35 or later (sqlx bundles a recent one).
    Sqlite,
}

impl Dialect {
    /// `ident` quoted; callers pass only validated identifiers.
    pub(crate) fn quote(self, ident: &str) -> String {
        match self {
            Self::MySql => format!("`{ident}`"),
            Self::Postgres | Self::Sqlite => format!("\"{ident}\""),
        }
    }

    /// The placeholder of the `n`th bind (1-based); MySQL and SQLite bind
    /// `?` in order.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::MySql | Self::Sqlite => "?".into(),
        }
    }

    /// The SQL type of an extra column.
    pub(crate) fn column_type(self, kind: ColumnKind) -> &'static str {
        match (self, kind) {
            (Self::MySql, ColumnKind::Text) => "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
            (_, ColumnKind::Text) => "VARCHAR(255) NULL",
            (_, ColumnKind::BigInt) => "BIGINT NULL",
        }
    }
}
