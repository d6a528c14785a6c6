//! Reading tower-sessions-sqlx-store's table: `id`, `data` (the MessagePack
//! of the whole record) and `expiry_date`. The store's own machinery does
//! the work: its pool and the bounds it puts on statements, its checked and
//! quoted names, its statements and error groups; only the table and the
//! record format are tower-sessions'.

use std::{fmt, sync::Arc};

use session_core::{
    Clock, Error, Result, SessionStream,
    backend::{Page, paged, tower_sessions, within},
    migrate::Source,
};

use crate::{
    Dialect,
    db::Db,
    ident::{self, Ident},
    statement::{Args, Names, Statement},
};

/// Rows read per page.
const PAGE_ROWS: i64 = 1000;

/// Up to `limit` rows with ids after `after`, in id order. Expired rows are
/// read too: the expiry that counts is the one in the record.
const PAGE: &str = "SELECT id, data FROM {table} WHERE id > {after} ORDER BY id LIMIT {limit}";

/// How many rows have not expired, by the database's clock: only a progress
/// estimate, so the column is compared in its own type, whatever it is.
fn count(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT COUNT(*) FROM {table} WHERE expiry_date > now()",
        Dialect::MySql => "SELECT COUNT(*) FROM {table} WHERE expiry_date > NOW(6)",
        // sqlx 0.8 stores SQLite dates as text of its own format: count
        // every row, expired ones included.
        Dialect::Sqlite => "SELECT COUNT(*) FROM {table}",
    }
}

/// tower-sessions' SQL records as a migration [`Source`], so the sessions of
/// an app on tower-sessions-sqlx-store move to one of this project's stores
/// (served through `session-tower`, under the same ids: no one is logged
/// out). Built by
/// [`SqlStoreBuilder::build_tower_sessions_source`](crate::SqlStoreBuilder::build_tower_sessions_source).
///
/// tower-sessions-sqlx-store 0.15 keeps one row per session: `id` (the
/// 22-character id), `data` (the MessagePack of the whole `Record`, expiry
/// included) and `expiry_date`, in these tables by default (the builder's
/// [`schema`](crate::SqlStoreBuilder::schema) and
/// [`table`](crate::SqlStoreBuilder::table) name others):
///
/// | database | table | `expiry_date` |
/// |---|---|---|
/// | PostgreSQL | `"tower_sessions"."session"` | `timestamptz` |
/// | MySQL / MariaDB | `` `tower_sessions`.`session` `` (a database of its own) | `timestamp(6)` |
/// | SQLite | `"tower_sessions"` (no schema) | as sqlx 0.8 binds a date |
///
/// Rows are read in pages ordered by `id` (`id > last`), so a read holds no
/// lock and no cursor between pages; each page ends within the builder's
/// timeout. Rows whose `id` is not a tower-sessions id are skipped; a row
/// whose `data` is not its record is a failed item
/// ([`Error::Decode`]). The session's data and expiry come from the record,
/// to the millisecond; expired rows (the store keeps them until its
/// `delete_expired` runs) are skipped. Nothing is ever written.
pub struct TowerSessionsSource {
    db: Db,
    /// The quoted, qualified table.
    table: String,
    page: Statement,
    count: Statement,
    clock: Arc<dyn Clock>,
}

impl TowerSessionsSource {
    /// A reader of `table` in `schema` (each defaulting to tower-sessions'
    /// own names above) on `db`, each statement led by `prefix`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a schema on SQLite.
    pub(crate) fn new(
        db: Db,
        prefix: &str,
        schema: Option<Ident>,
        table: Option<Ident>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let dialect = db.dialect();
        let default = |name| Ident::new("tower-sessions' name", name);
        let (schema, table) = match (dialect, schema) {
            (Dialect::Sqlite, Some(_)) => {
                return Err(Error::InvalidInput("SQLite tables have no schema".into()));
            }
            (Dialect::Sqlite, None) => (None, table.map_or_else(|| default("tower_sessions"), Ok)?),
            (Dialect::Postgres | Dialect::MySql, schema) => (
                Some(schema.map_or_else(|| default("tower_sessions"), Ok)?),
                table.map_or_else(|| default("session"), Ok)?,
            ),
        };
        let table = ident::qualified(dialect, schema.as_ref(), &table);
        let names = Names {
            dialect,
            table: &table,
            extras: &[],
            column: None,
            prefix,
        };
        Ok(Self {
            page: Statement::compile(PAGE, names)?,
            count: Statement::compile(count(dialect), names)?,
            db,
            table,
            clock,
        })
    }

    /// One page of the sessions in the rows with ids after `after`, and
    /// where the next page starts.
    async fn page(&self, after: String) -> Result<Page<String>> {
        let args = Args::new().after(&after).limit(PAGE_ROWS);
        let rows: Vec<(String, Vec<u8>)> = self.db.fetch_all(&self.page, args).await?;
        let full = rows.len() as i64 == PAGE_ROWS;
        let next = rows.last().filter(|_| full).map(|(id, _)| id.clone());
        let now = self.clock.now();
        let items = rows
            .iter()
            .filter(|(id, _)| tower_sessions::is_id(id))
            .filter_map(|(id, data)| tower_sessions::decode(id, data, now).transpose())
            .collect();
        Ok(Page { items, next })
    }
}

impl fmt::Debug for TowerSessionsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSessionsSource")
            .field("dialect", &self.db.dialect())
            .field("table", &self.table)
            .field("timeout", &self.db.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Source for TowerSessionsSource {
    fn sessions(&self) -> SessionStream<'_> {
        paged(String::new(), move |after| {
            within(self.db.timeout, self.page(after))
        })
    }

    /// The rows not yet expired, by the database's clock (on SQLite every
    /// row): an estimate, which may count a row that is not a record.
    async fn count(&self) -> Result<u64> {
        within(self.db.timeout, async {
            let count: Option<(i64,)> = self.db.fetch_optional(&self.count, Args::new()).await?;
            Ok(count.map_or(0, |(n,)| u64::try_from(n).unwrap_or(0)))
        })
        .await
    }
}
