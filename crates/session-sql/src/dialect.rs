//! The SQL each database speaks, built once per store from validated names.

use std::sync::Arc;

use crate::ident::Ident;

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

    /// The `n`th bind parameter (1-based).
    fn param(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::MySql | Self::Sqlite => "?".into(),
        }
    }
}

/// Every statement a store runs, with the table name quoted in.
///
/// Parameters are listed in the order they are bound. `now` is always the
/// application's clock in unix milliseconds: the one clock every expiry
/// comparison uses.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// DDL, run in order by `migrate`.
    pub(crate) schema: Vec<Sql>,
    /// id, now → data, expires_at
    pub(crate) get: Sql,
    /// PostgreSQL/SQLite: id, data, expires_at, now → 1 row written, 0 if tombstoned.
    /// MySQL: data, expires_at, id, now (a guarded UPDATE; `insert` follows on 0 rows).
    pub(crate) set: Sql,
    /// PostgreSQL/SQLite: id, data, expires_at, now → 1 row written, 0 if a live row or tombstone is there.
    /// MySQL: data, expires_at, id, now (replaces only a dead row, after `insert` found a duplicate).
    pub(crate) create: Sql,
    /// MySQL only: id, data, expires_at → plain insert.
    pub(crate) insert: Sql,
    /// expires_at, id, now → 1 if a live session was moved.
    pub(crate) touch: Sql,
    /// id, now → deletes a live or dead row, never an active tombstone.
    pub(crate) delete_unless_tombstone: Sql,
    /// id, now → deletes a live session only.
    pub(crate) delete_live: Sql,
    /// id, now → destroyed (bool) of the row that blocks a write, if any.
    pub(crate) blocker: Sql,
    /// id, data (empty), until → writes a tombstone over anything.
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
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, schema: Option<&Ident>, table: &Ident) -> Self {
        let q = |ident: &str| dialect.quote(ident);
        let p = |n: usize| dialect.param(n);
        let t = match schema {
            Some(schema) => format!("{}.{}", q(schema.as_str()), q(table.as_str())),
            None => q(table.as_str()),
        };
        let index = q(&format!("{}_expires_at_idx", table.as_str()));
        let schema_ddl = match dialect {
            Dialect::Postgres => vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, \
                     expires_at BIGINT NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE)"
                ),
                format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)"),
            ],
            Dialect::MySql => vec![format!(
                "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, \
                 data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE, \
                 INDEX {index} (expires_at)) ENGINE=InnoDB"
            )],
            Dialect::Sqlite => vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} (id TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL, \
                     expires_at INTEGER NOT NULL, destroyed BOOLEAN NOT NULL DEFAULT FALSE)"
                ),
                format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)"),
            ],
        };
        let upsert = |guard: &str| {
            format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed) VALUES ({}, {}, {}, FALSE) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
                 destroyed = FALSE WHERE {guard}",
                p(1),
                p(2),
                p(3)
            )
        };
        let (set, create) = match dialect {
            Dialect::MySql => (
                format!(
                    "UPDATE {t} SET data = ?, expires_at = ?, destroyed = FALSE \
                     WHERE id = ? AND NOT (destroyed AND expires_at > ?)"
                ),
                format!(
                    "UPDATE {t} SET data = ?, expires_at = ?, destroyed = FALSE WHERE id = ? AND expires_at <= ?"
                ),
            ),
            Dialect::Postgres | Dialect::Sqlite => (
                upsert(&format!("NOT ({t}.destroyed AND {t}.expires_at > {})", p(4))),
                upsert(&format!("{t}.expires_at <= {}", p(4))),
            ),
        };
        let tombstone = match dialect {
            Dialect::MySql => format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed) VALUES (?, ?, ?, TRUE) \
                 ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at), destroyed = TRUE"
            ),
            Dialect::Postgres | Dialect::Sqlite => format!(
                "INSERT INTO {t} (id, data, expires_at, destroyed) VALUES ({}, {}, {}, TRUE) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, destroyed = TRUE",
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
        Self {
            schema: schema_ddl.into_iter().map(Sql::from).collect(),
            get: format!(
                "SELECT data, expires_at FROM {t} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2)
            ).into(),
            set: set.into(),
            create: create.into(),
            insert: format!("INSERT INTO {t} (id, data, expires_at, destroyed) VALUES (?, ?, ?, FALSE)").into(),
            touch: format!(
                "UPDATE {t} SET expires_at = {} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2),
                p(3)
            ).into(),
            delete_unless_tombstone: format!(
                "DELETE FROM {t} WHERE id = {} AND NOT (destroyed AND expires_at > {})",
                p(1),
                p(2)
            ).into(),
            delete_live: format!(
                "DELETE FROM {t} WHERE id = {} AND destroyed = FALSE AND expires_at > {}",
                p(1),
                p(2)
            ).into(),
            blocker: format!("SELECT destroyed FROM {t} WHERE id = {} AND expires_at > {}", p(1), p(2)).into(),
            tombstone: tombstone.into(),
            delete: format!("DELETE FROM {t} WHERE id = {}", p(1)).into(),
            page: format!(
                "SELECT id, data, expires_at FROM {t} WHERE id > {} AND destroyed = FALSE AND expires_at > {} \
                 ORDER BY id LIMIT {}",
                p(1),
                p(2),
                p(3)
            ).into(),
            count: format!("SELECT COUNT(*) FROM {t} WHERE destroyed = FALSE AND expires_at > {}", p(1)).into(),
            clear: format!("DELETE FROM {t}").into(),
            purge: purge.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(name: &str) -> Ident {
        Ident::new("t", name).unwrap()
    }

    #[test]
    fn names_are_quoted_per_dialect() {
        let pg = Statements::new(Dialect::Postgres, Some(&ident("app")), &ident("sessions"));
        assert!(
            pg.get.contains("FROM \"app\".\"sessions\" WHERE id = $1"),
            "{}",
            pg.get
        );
        let my = Statements::new(Dialect::MySql, None, &ident("sessions"));
        assert!(my.get.contains("FROM `sessions` WHERE id = ?"), "{}", my.get);
        assert!(my.schema[0].contains("INDEX `sessions_expires_at_idx`"));
    }

    #[test]
    fn every_expiry_comparison_takes_the_clock_as_a_parameter() {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let s = Statements::new(dialect, None, &ident("s"));
            let all = [
                &s.get, &s.set, &s.create, &s.touch, &s.page, &s.count, &s.purge, &s.blocker,
            ]
            .map(|x| x.to_lowercase());
            for sql in all {
                assert!(
                    !sql.contains("now()") && !sql.contains("current_timestamp"),
                    "{sql}"
                );
            }
        }
    }
}
