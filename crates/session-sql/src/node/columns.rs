//! The columns of the Node stores' tables, and how each database reads and
//! writes their times and JSON, as SQL around the store's binds.
//!
//! The store binds times as unix milliseconds and data as bytes, the same
//! as for its own table; each expression here turns those into what the
//! Node store writes, and back, without depending on the connection's time
//! zone (sqlx sets UTC; the Node side may not). Where the Node store writes
//! wall-clock time in its connections' zone (connect-pg-simple; Sequelize
//! on MySQL with a `timezone` option), the SQL converts from and to that
//! zone, which [`time_zone`](crate::time_zone) resolved.

use crate::{Dialect, Layout, statement::Statement};

/// One Node table's columns and SQL, for one database.
#[derive(Debug, Clone)]
pub(crate) struct NodeColumns {
    pub(crate) dialect: Dialect,
    pub(crate) layout: Layout,
    /// The zone the Node store's wall-clock times are in, as a quoted SQL
    /// literal; `None` where they are UTC or carry their own offset.
    zone: Option<String>,
}

impl NodeColumns {
    /// `zone` has been checked to be a plain time zone name.
    pub(crate) fn new(dialect: Dialect, layout: Layout, zone: Option<&str>) -> Self {
        Self {
            dialect,
            layout,
            zone: zone.map(|zone| format!("'{zone}'")),
        }
    }

    fn quote(&self, name: &str) -> String {
        self.dialect.quote(name)
    }

    /// The key column, quoted.
    pub(crate) fn sid(&self) -> String {
        self.quote("sid")
    }

    /// The data column, quoted.
    pub(crate) fn data(&self) -> String {
        self.quote(match self.layout {
            Layout::ConnectPgSimple => "sess",
            _ => "data",
        })
    }

    /// The expiry column, quoted.
    pub(crate) fn expires(&self) -> String {
        self.quote(match self.layout {
            Layout::ConnectPgSimple => "expire",
            _ => "expires",
        })
    }

    /// Sequelize's timestamps, filled on insert (both) and update (the
    /// second); connect-pg-simple has none.
    pub(crate) fn stamps(&self) -> Option<(String, String)> {
        (self.layout == Layout::ConnectSessionSequelize)
            .then(|| (self.quote("createdAt"), self.quote("updatedAt")))
    }

    /// The time bound as `{name}` (unix ms), as the column stores it.
    pub(crate) fn time_in(&self, name: &str) -> String {
        let bind = Statement::bind(name);
        match (self.dialect, &self.zone) {
            (Dialect::Postgres, Some(zone)) => format!("(to_timestamp({bind} / 1000.0) AT TIME ZONE {zone})"),
            (Dialect::Postgres, None) => format!("to_timestamp({bind} / 1000.0)"),
            // To the millisecond in the table this crate creates; Sequelize's
            // own `DATETIME` keeps whole seconds, cut as Node's are.
            (Dialect::MySql, None) => {
                format!("TIMESTAMPADD(MICROSECOND, {bind} * 1000, '1970-01-01 00:00:00')")
            }
            (Dialect::MySql, Some(zone)) => format!(
                "CONVERT_TZ(TIMESTAMPADD(MICROSECOND, {bind} * 1000, '1970-01-01 00:00:00'), '+00:00', {zone})"
            ),
            (Dialect::Sqlite, _) => format!(
                "(strftime('%Y-%m-%d %H:%M:%S', {bind} / 1000, 'unixepoch') || printf('.%03d +00:00', {bind} % 1000))"
            ),
        }
    }

    /// The time in `column` (a quoted, possibly qualified column) as unix ms.
    pub(crate) fn time_out(&self, column: &str) -> String {
        match (self.dialect, &self.zone) {
            (Dialect::Postgres, Some(zone)) => {
                format!("CAST(ROUND(EXTRACT(EPOCH FROM ({column} AT TIME ZONE {zone})) * 1000) AS BIGINT)")
            }
            (Dialect::Postgres, None) => {
                format!("CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000) AS BIGINT)")
            }
            (Dialect::MySql, None) => {
                format!("(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {column}) DIV 1000)")
            }
            (Dialect::MySql, Some(zone)) => format!(
                "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', CONVERT_TZ({column}, {zone}, '+00:00')) DIV 1000)"
            ),
            // `YYYY-MM-DD HH:MM:SS.mmm +00:00` (Sequelize refuses any other
            // zone on SQLite): the seconds, then the millis.
            (Dialect::Sqlite, _) => format!(
                "(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000 + CAST(substr({column}, 21, 3) AS INTEGER))"
            ),
        }
    }

    /// The row's expiry in unix ms, the column unqualified.
    pub(crate) fn expiry(&self) -> String {
        self.time_out(&self.expires())
    }

    /// The bound `{data}` bytes as the data column stores them.
    pub(crate) fn data_in(&self) -> &'static str {
        match (self.dialect, self.layout) {
            (Dialect::Postgres, Layout::ConnectPgSimple) => "CAST(convert_from({data}, 'UTF8') AS json)",
            (Dialect::Postgres, _) => "convert_from({data}, 'UTF8')",
            (Dialect::MySql, _) => "CAST({data} AS CHAR CHARACTER SET utf8mb4)",
            (Dialect::Sqlite, _) => "CAST({data} AS TEXT)",
        }
    }

    /// The data column as bytes.
    pub(crate) fn data_out(&self) -> String {
        let column = self.data();
        match self.dialect {
            Dialect::Postgres => format!("convert_to(CAST({column} AS text), 'UTF8')"),
            Dialect::MySql => format!("CAST({column} AS BINARY)"),
            Dialect::Sqlite => format!("CAST({column} AS BLOB)"),
        }
    }

    /// The DDL the Node store itself runs, safe to run again (`table` is
    /// quoted and qualified; `bare` is its unqualified name).
    pub(crate) fn ddl(&self, table: &str, bare: &str) -> Vec<String> {
        match (self.dialect, self.layout) {
            (_, Layout::ConnectPgSimple) => vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {table} (\"sid\" varchar NOT NULL COLLATE \"default\", \
                     \"sess\" json NOT NULL, \"expire\" timestamp(6) NOT NULL, \
                     CONSTRAINT {} PRIMARY KEY (\"sid\"))",
                    self.quote(&format!("{bare}_pkey"))
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {table} (\"expire\")",
                    self.quote(&format!("IDX_{bare}_expire"))
                ),
            ],
            (Dialect::Postgres, _) => vec![format!(
                "CREATE TABLE IF NOT EXISTS {table} (\"sid\" VARCHAR(36), \"expires\" TIMESTAMP WITH TIME ZONE, \
                 \"data\" TEXT, \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL, \
                 \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (\"sid\"))"
            )],
            // Sequelize's columns, widened where Node reads them the same:
            // ids compared byte for byte (Sequelize takes the database's
            // default collation, usually case-insensitive), expiries to the
            // millisecond and data past TEXT's 64 KiB.
            (Dialect::MySql, _) => vec![format!(
                "CREATE TABLE IF NOT EXISTS {table} (`sid` VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, \
                 `expires` DATETIME(3), `data` LONGTEXT CHARACTER SET utf8mb4, `createdAt` DATETIME NOT NULL, \
                 `updatedAt` DATETIME NOT NULL, PRIMARY KEY (`sid`)) ENGINE=InnoDB"
            )],
            (Dialect::Sqlite, _) => vec![format!(
                "CREATE TABLE IF NOT EXISTS {table} (`sid` VARCHAR(36) PRIMARY KEY, `expires` DATETIME, \
                 `data` TEXT, `createdAt` DATETIME NOT NULL, `updatedAt` DATETIME NOT NULL)"
            )],
        }
    }
}
