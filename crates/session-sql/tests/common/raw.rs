//! A raw connection to a test database, for what the store does not expose:
//! counting every row, filling tables in bulk, holding locks.

use session_core::SessionId;

/// A pool on one of the test databases, beside the store's own.
pub(crate) enum Raw {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

/// A lock held from another connection until [`release`](Held::release)d.
pub(crate) enum Held {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl Held {
    pub(crate) async fn release(self) {
        match self {
            Self::Postgres(tx) => tx.rollback().await,
            Self::MySql(tx) => tx.rollback().await,
            Self::Sqlite(tx) => tx.rollback().await,
        }
        .unwrap();
    }
}

impl Raw {
    pub(crate) async fn connect(url: &str) -> Self {
        if url.starts_with("postgres") {
            Self::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        } else if url.starts_with("mysql") {
            Self::MySql(sqlx::MySqlPool::connect(url).await.unwrap())
        } else {
            Self::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        }
    }

    /// Closes the pool, waiting for its connections to end.
    pub(crate) async fn close(&self) {
        match self {
            Self::Postgres(p) => p.close().await,
            Self::MySql(p) => p.close().await,
            Self::Sqlite(p) => p.close().await,
        }
    }

    pub(crate) async fn execute(&self, sql: String) {
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            Self::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop),
            Self::MySql(p) => sqlx::query(sql).execute(p).await.map(drop),
            Self::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop),
        }
        .unwrap();
    }

    /// Every row, tombstones and expired ones included.
    pub(crate) async fn rows(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        match self {
            Self::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap()
    }

    /// The text in column `column` of row `id`.
    pub(crate) async fn text(&self, table: &str, column: &str, id: &SessionId) -> Option<String> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE id = '{}'",
            id.as_str()
        ));
        match self {
            Self::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap()
    }

    /// Whether the index `name` exists.
    pub(crate) async fn has_index(&self, name: &str) -> bool {
        let count: i64 = match self {
            Self::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1")
                    .bind(name)
                    .fetch_one(p)
                    .await
            }
            Self::MySql(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.statistics WHERE index_name = ?")
                    .bind(name)
                    .fetch_one(p)
                    .await
            }
            Self::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?")
                    .bind(name)
                    .fetch_one(p)
                    .await
            }
        }
        .unwrap();
        count > 0
    }

    /// The columns `table` has secondary (non-primary-key) indexes on, sorted.
    pub(crate) async fn indexed_columns(&self, table: &str) -> Vec<String> {
        let mut columns: Vec<String> = match self {
            Self::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) \
                     WHERE c.relname = $1 AND NOT i.indisprimary",
                )
                .bind(table)
                .fetch_all(p)
                .await
            }
            Self::MySql(p) => {
                sqlx::query_scalar(
                    "SELECT CAST(column_name AS CHAR) FROM information_schema.statistics \
                     WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'",
                )
                .bind(table)
                .fetch_all(p)
                .await
            }
            Self::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT info.name FROM sqlite_master AS m, pragma_index_info(m.name) AS info \
                     WHERE m.type = 'index' AND m.tbl_name = ? AND m.sql IS NOT NULL",
                )
                .bind(table)
                .fetch_all(p)
                .await
            }
        }
        .unwrap();
        columns.sort();
        columns
    }

    pub(crate) fn blob(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "'\\x7b7d'::bytea",
            Self::MySql(_) | Self::Sqlite(_) => "X'7B7D'",
        }
    }

    /// Inserts `count` sessions with ids `bulk-1`... and data `{}` in one
    /// statement, expiring at `expires_at` (unix ms).
    pub(crate) async fn insert_bulk(&self, table: &str, count: u32, expires_at: i64) {
        let blob = self.blob();
        let columns = "(id, data, expires_at, destroyed)";
        self.execute(match self {
            Self::Postgres(_) => format!(
                "INSERT INTO {table} {columns} SELECT 'bulk-' || n, {blob}, {expires_at}, FALSE \
                 FROM generate_series(1, {count}) AS n"
            ),
            // MariaDB's sequence engine.
            Self::MySql(_) => format!(
                "INSERT INTO {table} {columns} SELECT CONCAT('bulk-', seq), {blob}, {expires_at}, FALSE \
                 FROM seq_1_to_{count}"
            ),
            Self::Sqlite(_) => format!(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count}) \
                 INSERT INTO {table} {columns} SELECT 'bulk-' || n, {blob}, {expires_at}, FALSE FROM g"
            ),
        })
        .await;
    }

    /// Locks the rows of `table` matching `filter` (SQL) from a transaction
    /// of its own. SQLite locks the whole database for writing instead.
    pub(crate) async fn lock_rows(&self, table: &str, filter: &str) -> Held {
        let lock = sqlx::AssertSqlSafe(format!("SELECT id FROM {table} WHERE {filter} FOR UPDATE"));
        match self {
            Self::Postgres(p) => {
                let mut tx = p.begin().await.unwrap();
                sqlx::query(lock).fetch_all(&mut *tx).await.unwrap();
                Held::Postgres(tx)
            }
            Self::MySql(p) => {
                let mut tx = p.begin().await.unwrap();
                sqlx::query(lock).fetch_all(&mut *tx).await.unwrap();
                Held::MySql(tx)
            }
            Self::Sqlite(p) => Held::Sqlite(p.begin_with("BEGIN IMMEDIATE").await.unwrap()),
        }
    }

    /// Locks all of `table` against writes, from a transaction of its own.
    pub(crate) async fn lock_table(&self, table: &str) -> Held {
        match self {
            Self::Postgres(p) => {
                let mut tx = p.begin().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "LOCK TABLE {table} IN EXCLUSIVE MODE"
                )))
                .execute(&mut *tx)
                .await
                .unwrap();
                Held::Postgres(tx)
            }
            Self::MySql(_) | Self::Sqlite(_) => self.lock_rows(table, "TRUE").await,
        }
    }
}
