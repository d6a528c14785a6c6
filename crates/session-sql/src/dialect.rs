//! The SQL each database speaks, built once per store from validated names.

use std::sync::Arc;

use crate::{columns::ColumnKind, ident::Ident};

/// One SQL statement, shared: cloning it for a query copies no text.
pub(crate) type Sql = Arc<str>;

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
    fn quote(self, ident: &str) -> String {
        match self {
            Self::MySql => format!("`{ident}`"),
            Self::Postgres | Self::Sqlite => format!("\"{ident}\""),
        }
    }

    /// The `n`th bind parameter (1-based); MySQL and SQLite bind `?` in order.
    fn param(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::MySql | Self::Sqlite => "?".into(),
        }
    }

    fn column_type(self, kind: ColumnKind) -> &'static str {
        match (self, kind) {
            (Self::MySql, ColumnKind::Text) => "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
            (_, ColumnKind::Text) => "VARCHAR(255) NULL",
            (_, ColumnKind::BigInt) => "BIGINT NULL",
        }
    }
}

/// The statements that find or end sessions by one extra column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnStatements {
    /// value, now → id, data, expires_at of live sessions with that value.
    pub(crate) select: Sql,
    /// empty data, until, value → tombstones every session with that value.
    pub(crate) tombstone: Sql,
    /// value → deletes every session with that value.
    pub(crate) delete: Sql,
}

/// Every statement a store runs, with the names quoted in.
///
/// Binds follow the order of the parameters in the text; "customs" are the
/// extra columns' values, in their configured order. `now` is always the
/// application's clock in unix milliseconds: the one clock every expiry
/// comparison uses.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// DDL, run in order by `migrate`.
    pub(crate) schema: Vec<Sql>,
    /// id, now → data, expires_at
    pub(crate) get: Sql,
    /// PostgreSQL/SQLite: id, data, expires_at, customs, now → 1 written, 0 if tombstoned.
    /// MySQL: data, expires_at, customs, id, now (a guarded UPDATE; `insert` follows on 0 rows).
    pub(crate) set: Sql,
    /// PostgreSQL/SQLite: id, data, expires_at, customs, now → 1 written, 0 if a live row or tombstone is there.
    /// MySQL: data, expires_at, customs, id, now (replaces only a dead row, after `insert` met a duplicate).
    pub(crate) create: Sql,
    /// MySQL only: id, data, expires_at, customs → plain insert.
    pub(crate) insert: Sql,
    /// expires_at, id, now → 1 if a live session was moved.
    pub(crate) touch: Sql,
    /// id, now → deletes a live or dead row, never an active tombstone.
    pub(crate) delete_unless_tombstone: Sql,
    /// id, now → deletes a live session only.
    pub(crate) delete_live: Sql,
    /// id, now → `destroyed` of the row that blocks a write, if any.
    pub(crate) blocker: Sql,
    /// id, empty data, until → writes a tombstone over anything.
    pub(crate) tombstone: Sql,
    /// id → deletes outright.
    pub(crate) delete: Sql,
    /// after_id, now, limit → id, data, expires_at of live sessions, by id.
    pub(crate) page: Sql,
    /// now → count of live sessions.
    pub(crate) count: Sql,
    /// Deletes everything.
    pub(crate) clear: Sql,
    /// now, limit → deletes up to `limit` rows whose expiry passed.
    pub(crate) purge: Sql,
    /// One set per extra column, in configured order.
    pub(crate) columns: Vec<ColumnStatements>,
}

impl Statements {
    pub(crate) fn new(
        dialect: Dialect,
        schema: Option<&Ident>,
        table: &Ident,
        extra: &[(Ident, ColumnKind)],
    ) -> Self {
        let q = |ident: &str| dialect.quote(ident);
        let p = |n: usize| dialect.param(n);
        let t = match schema {
            Some(schema) => format!("{}.{}", q(schema.as_str()), q(table.as_str())),
            None => q(table.as_str()),
        };
        let index = |column: &str| q(&format!("{}_{column}_idx", table.as_str()));
        let names: Vec<String> = extra.iter().map(|(name, _)| q(name.as_str())).collect();
        let k = names.len();
        // ", c1, c2" / ", $4, $5" / ", c1 = excluded.c1" / ", c1 = NULL" / "c1 = ?, "
        let col_list: String = names.iter().map(|c| format!(", {c}")).collect();
        let col_params = |first: usize| -> String { (0..k).map(|i| format!(", {}", p(first + i))).collect() };
        let col_excluded: String = names.iter().map(|c| format!(", {c} = excluded.{c}")).collect();
        let col_nulls: String = names.iter().map(|c| format!(", {c} = NULL")).collect();
        let col_assign: String = names.iter().map(|c| format!("{c} = ?, ")).collect();
        let col_defs: String = extra
            .iter()
            .map(|(name, kind)| format!(", {} {}", q(name.as_str()), dialect.column_type(*kind)))
            .collect();

        let mut schema_ddl = match dialect {
            Dialect::Postgres => vec![format!(
                "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, \
                 expires_at BIGINT NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE{col_defs})"
            )],
            Dialect::MySql => {
                let extra_indexes: String = extra
                    .iter()
                    .map(|(name, _)| format!(", INDEX {} ({})", index(name.as_str()), q(name.as_str())))
                    .collect();
                vec![format!(
                    "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, \
                     data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE{col_defs}, \
                     INDEX {} (expires_at){extra_indexes}) ENGINE=InnoDB",
                    index("expires_at")
                )]
            }
            Dialect::Sqlite => vec![format!(
                "CREATE TABLE IF NOT EXISTS {t} (id TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL, \
                 expires_at INTEGER NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE{col_defs})"
            )],
        };
        if dialect != Dialect::MySql {
            for column in std::iter::once("expires_at").chain(extra.iter().map(|(name, _)| name.as_str())) {
                schema_ddl.push(format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {t} ({})",
                    index(column),
                    q(column)
                ));
            }
        }

        let upsert = |guard: String| {
            format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed{col_list}) VALUES ({}, {}, {}, FALSE{}) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
                 destroyed = FALSE{col_excluded} WHERE {guard}",
                p(1),
                p(2),
                p(3),
                col_params(4)
            )
        };
        let now_param = p(4 + k);
        let (set, create) = match dialect {
            Dialect::MySql => (
                format!(
                    "UPDATE {t} SET data = ?, expires_at = ?, {col_assign}destroyed = FALSE \
                     WHERE id = ? AND NOT (destroyed AND expires_at > ?)"
                ),
                format!(
                    "UPDATE {t} SET data = ?, expires_at = ?, {col_assign}destroyed = FALSE WHERE id = ? AND expires_at <= ?"
                ),
            ),
            Dialect::Postgres | Dialect::Sqlite => (
                upsert(format!("NOT ({t}.destroyed AND {t}.expires_at > {now_param})")),
                upsert(format!("{t}.expires_at <= {now_param}")),
            ),
        };
        let tombstone = match dialect {
            Dialect::MySql => format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed) VALUES (?, ?, ?, TRUE) \
                 ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at), destroyed = TRUE{col_nulls}"
            ),
            Dialect::Postgres | Dialect::Sqlite => format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed) VALUES ({}, {}, {}, TRUE) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
                 destroyed = TRUE{col_nulls}",
                p(1),
                p(2),
                p(3)
            ),
        };
        let purge = match dialect {
            Dialect::MySql => format!("DELETE FROM {t} WHERE expires_at <= ? LIMIT ?"),
            Dialect::Postgres => format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
            Dialect::Sqlite => {
                format!("DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= ? LIMIT ?)")
            }
        };
        let columns = names
            .iter()
            .map(|c| ColumnStatements {
                select: sql(format!(
                    "SELECT id, data, expires_at FROM {t} WHERE {c} = {} AND destroyed = FALSE AND expires_at > {} ORDER BY id",
                    p(1),
                    p(2)
                )),
                tombstone: sql(format!(
                    "UPDATE {t} SET data = {}, expires_at = {}, destroyed = TRUE{col_nulls} WHERE {c} = {} AND destroyed = FALSE",
                    p(1),
                    p(2),
                    p(3)
                )),
                delete: sql(format!("DELETE FROM {t} WHERE {c} = {}", p(1))),
            })
            .collect();
        Self {
            schema: schema_ddl.into_iter().map(sql).collect(),
            get: sql(format!(
                "SELECT data, expires_at FROM {t} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2)
            )),
            set: sql(set),
            create: sql(create),
            insert: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed{col_list}) VALUES (?, ?, ?, FALSE{})",
                col_params(4)
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = {} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            )),
            delete_unless_tombstone: sql(format!(
                "DELETE FROM {t} WHERE id = {} AND NOT (destroyed AND expires_at > {})",
                p(1),
                p(2)
            )),
            delete_live: sql(format!(
                "DELETE FROM {t} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2)
            )),
            blocker: sql(format!(
                "SELECT destroyed FROM {t} WHERE id = {} AND expires_at > {}",
                p(1),
                p(2)
            )),
            tombstone: sql(tombstone),
            delete: sql(format!("DELETE FROM {t} WHERE id = {}", p(1))),
            page: sql(format!(
                "SELECT id, data, expires_at FROM {t} WHERE id > {} AND destroyed = FALSE AND expires_at > {} \
                 ORDER BY id LIMIT {}",
                p(1),
                p(2),
                p(3)
            )),
            count: sql(format!(
                "SELECT COUNT(*) FROM {t} WHERE destroyed = FALSE AND expires_at > {}",
                p(1)
            )),
            clear: sql(format!("DELETE FROM {t}")),
            purge: sql(purge),
            columns,
        }
    }
}

fn sql(text: String) -> Sql {
    Sql::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(name: &str) -> Ident {
        Ident::new("t", name).unwrap()
    }

    #[test]
    fn names_are_quoted_per_dialect() {
        let pg = Statements::new(Dialect::Postgres, Some(&ident("app")), &ident("sessions"), &[]);
        assert!(
            pg.get.contains("FROM \"app\".\"sessions\" WHERE id = $1"),
            "{}",
            pg.get
        );
        let my = Statements::new(Dialect::MySql, None, &ident("sessions"), &[]);
        assert!(my.get.contains("FROM `sessions` WHERE id = ?"), "{}", my.get);
        assert!(my.schema[0].contains("INDEX `sessions_expires_at_idx`"));
    }

    #[test]
    fn extra_columns_are_written_indexed_and_numbered_in_bind_order() {
        let extra = [
            (ident("user_id"), ColumnKind::Text),
            (ident("org"), ColumnKind::BigInt),
        ];
        let pg = Statements::new(Dialect::Postgres, None, &ident("s"), &extra);
        assert!(
            pg.set.contains("VALUES ($1, $2, $3, FALSE, $4, $5)") && pg.set.ends_with("> $6)"),
            "{}",
            pg.set
        );
        assert!(
            pg.schema
                .iter()
                .any(|ddl| ddl.contains("\"s_user_id_idx\" ON \"s\" (\"user_id\")"))
        );
        assert!(pg.tombstone.contains("\"user_id\" = NULL, \"org\" = NULL"));
        let my = Statements::new(Dialect::MySql, None, &ident("s"), &extra);
        assert!(
            my.set.contains("`user_id` = ?, `org` = ?, destroyed = FALSE"),
            "{}",
            my.set
        );
        assert!(my.schema[0].contains("INDEX `s_org_idx` (`org`)"));
        assert_eq!(pg.columns.len(), 2);
    }

    #[test]
    fn every_expiry_comparison_takes_the_clock_as_a_parameter() {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let s = Statements::new(dialect, None, &ident("s"), &[(ident("u"), ColumnKind::Text)]);
            let mut all = vec![
                &s.get, &s.set, &s.create, &s.touch, &s.page, &s.count, &s.purge, &s.blocker,
            ];
            all.extend(s.columns.iter().map(|c| &c.select));
            for sql in all {
                let sql = sql.to_lowercase();
                assert!(
                    !sql.contains("now()") && !sql.contains("current_timestamp"),
                    "{sql}"
                );
            }
        }
    }
}
