//! Reading tower-sessions-sqlx-store's records: a table of `id`, `data`
//! (the MessagePack record) and `expiry_date`.

use std::{fmt, str::FromStr, time::Duration};

use session_core::{
    Error, Result, SessionStream,
    backend::{Page, paged, within},
    migrate::Source,
};
use session_sql::SqlStore;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::record;

/// Rows read per page.
const PAGE_ROWS: i64 = 1000;

/// tower-sessions' SQL records as a migration [`Source`].
///
/// tower-sessions-sqlx-store 0.15 keeps one row per session: `id` (the
/// 22-character id), `data` (the MessagePack of the whole `Record`, expiry
/// included) and `expiry_date`, in these tables by default:
///
/// | database | table | `expiry_date` |
/// |---|---|---|
/// | PostgreSQL | `"tower_sessions"."session"` | `timestamptz` |
/// | MySQL / MariaDB | `` `tower_sessions`.`session` `` (a database of its own) | `timestamp(6)` |
/// | SQLite | `"tower_sessions"` | as sqlx 0.8 binds a date |
///
/// Rows are read in pages ordered by `id` (`id > last`), so a read holds no
/// lock and no cursor between pages; the session's data and expiry come
/// from the record, to the millisecond. Expired rows (the store keeps them
/// until its `delete_expired` runs) are skipped.
pub struct TowerSqlSource {
    pool: Pool,
    /// The quoted, qualified table name.
    table: String,
    timeout: Duration,
}

#[derive(Clone)]
enum Pool {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

impl fmt::Debug for TowerSqlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSqlSource")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl TowerSqlSource {
    /// Connects to `url` (one of [`SqlStore::URL_SCHEMES`]) and reads the
    /// table `table` in `schema` (PostgreSQL schema, MySQL database; SQLite
    /// has none), each defaulting to tower-sessions' own names above. The
    /// connection is read-only on SQLite, and nothing is ever written.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for another scheme, a schema given for
    /// SQLite, or a name that is not letters, digits and `_`;
    /// [`Error::Unavailable`] when the database cannot be reached.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        table: Option<&str>,
        timeout: Duration,
    ) -> Result<Self> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let unreachable = |e: sqlx::Error| Error::Unavailable(Box::new(e));
        let (pool, table) = match scheme {
            "postgres" | "postgresql" => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .map_err(unreachable)?;
                let table = qualified('"', schema.or(Some("tower_sessions")), table.unwrap_or("session"))?;
                (Pool::Postgres(pool), table)
            }
            "mysql" | "mariadb" => {
                let pool = sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(timeout)
                    .connect(&url.replacen("mariadb:", "mysql:", 1))
                    .await
                    .map_err(unreachable)?;
                let table = qualified('`', schema.or(Some("tower_sessions")), table.unwrap_or("session"))?;
                (Pool::MySql(pool), table)
            }
            "sqlite" => {
                if schema.is_some() {
                    return Err(Error::InvalidInput("SQLite tables have no schema".into()));
                }
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(|_| Error::InvalidInput("not a valid SQLite URL".into()))?
                    .read_only(true);
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(timeout)
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?;
                (
                    Pool::Sqlite(pool),
                    qualified('"', None, table.unwrap_or("tower_sessions"))?,
                )
            }
            _ => {
                return Err(Error::InvalidInput(format!(
                    "a SQL URL starts with one of {}",
                    SqlStore::URL_SCHEMES.join(", ")
                )));
            }
        };
        Ok(Self { pool, table, timeout })
    }

    /// The rows after `after` in `id` order, a page of them.
    async fn page(&self, after: String) -> Result<Vec<(String, Vec<u8>)>> {
        let failed = |e: sqlx::Error| Error::Backend(Box::new(e));
        let sql = |first: &str, second: &str| {
            format!(
                "SELECT id, data FROM {} WHERE id > {first} ORDER BY id LIMIT {second}",
                self.table
            )
        };
        // One query; only the placeholders and the pool's type differ.
        macro_rules! fetch {
            ($pool:expr, $sql:expr) => {
                sqlx::query_as(AssertSqlSafe($sql))
                    .bind(after)
                    .bind(PAGE_ROWS)
                    .fetch_all($pool)
                    .await
            };
        }
        let rows = match &self.pool {
            Pool::Postgres(pool) => fetch!(pool, sql("$1", "$2")),
            Pool::MySql(pool) => fetch!(pool, sql("?", "?")),
            Pool::Sqlite(pool) => fetch!(pool, sql("?", "?")),
        };
        rows.map_err(failed)
    }
}

#[async_trait::async_trait]
impl Source for TowerSqlSource {
    fn sessions(&self) -> SessionStream<'_> {
        paged(String::new(), move |after| {
            within(self.timeout, async move {
                let rows = self.page(after).await?;
                let next = (rows.len() as i64 == PAGE_ROWS)
                    .then(|| rows.last().map(|(id, _)| id.clone()))
                    .flatten();
                let now = OffsetDateTime::now_utc();
                let items = rows
                    .iter()
                    .filter(|(id, _)| record::is_id(id))
                    .filter_map(|(id, data)| record::decode(id, data, now).transpose())
                    .collect();
                Ok(Page { items, next })
            })
        })
    }

    async fn count(&self) -> Result<u64> {
        let failed = |e: sqlx::Error| Error::Backend(Box::new(e));
        let count: i64 = within(self.timeout, async {
            match &self.pool {
                // The database's own clock: only a progress estimate.
                Pool::Postgres(pool) => {
                    let sql = format!("SELECT count(*) FROM {} WHERE expiry_date > now()", self.table);
                    sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await
                }
                Pool::MySql(pool) => {
                    let sql = format!("SELECT count(*) FROM {} WHERE expiry_date > NOW(6)", self.table);
                    sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await
                }
                // sqlx 0.8 stores SQLite dates as text of its own format:
                // count every row, expired ones included.
                Pool::Sqlite(pool) => {
                    let sql = format!("SELECT count(*) FROM {}", self.table);
                    sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await
                }
            }
            .map_err(failed)
        })
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// `table` (in `schema`), each checked and quoted with `quote`.
fn qualified(quote: char, schema: Option<&str>, table: &str) -> Result<String> {
    let name = |part: &str| {
        let valid = part
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && part.len() <= 63;
        if valid {
            Ok(format!("{quote}{part}{quote}"))
        } else {
            Err(Error::InvalidInput(format!(
                "{part:?} is not a table or schema name: use ASCII letters, digits and _"
            )))
        }
    };
    match schema {
        Some(schema) => Ok(format!("{}.{}", name(schema)?, name(table)?)),
        None => name(table),
    }
}

#[cfg(test)]
mod tests {
    use super::qualified;

    #[test]
    fn names_are_checked_and_quoted() {
        assert_eq!(
            qualified('"', Some("tower_sessions"), "session").unwrap(),
            "\"tower_sessions\".\"session\""
        );
        assert_eq!(qualified('`', None, "t1").unwrap(), "`t1`");
        assert!(qualified('"', None, "x\"; DROP TABLE y").is_err());
        assert!(qualified('"', Some("1a"), "t").is_err());
    }
}
