//! `SqlStore`: the `Store` contract on PostgreSQL, MySQL/MariaDB or SQLite.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use session_core::{
    Codec, Error, Lifetimes, Result, Session, SessionId, SessionStream, Store, Version, Versioned,
    backend::unix_millis,
    backend::{BackgroundTask, Page, paged, within},
};
use time::OffsetDateTime;

use crate::{
    Dialect, Layout, PurgeReport, SqlStoreBuilder,
    db::Db,
    extra_columns::{Column, ExtraValue},
    purge::Purger,
    row::{ListedRow, StoredRow},
    statement::Args,
    statements::Statements,
};

/// Rows fetched per page by `all_stream`.
const PAGE: i64 = 500;

/// A session store on PostgreSQL, MySQL/MariaDB or SQLite, through [`sqlx`].
///
/// * **One table**, by default `sessions`: `id` (primary key, 128 bytes,
///   compared byte for byte), `data` (the codec's bytes, kept exactly),
///   `expires_at` (unix milliseconds), `destroyed` (the tombstone marker),
///   and an index on `expires_at`. [`migrate`](Self::migrate) creates them
///   if missing and is safe to run from many processes at once. Index names
///   are `{table}_{column}_idx`, or, past 63 bytes, their start and a hash.
/// * **One clock.** Every expiry comparison uses the application's clock
///   ([`clock`](SqlStoreBuilder::clock)), passed as a parameter; the
///   database's `now()` is never consulted.
/// * **Atomic writes.** On PostgreSQL and SQLite, `set` and `create` are one
///   `INSERT ... ON CONFLICT DO UPDATE ... WHERE` that refuses an active
///   tombstone (and, for `create`, a live row). MySQL cannot report a refused
///   `ON DUPLICATE KEY UPDATE` (sqlx sets `CLIENT_FOUND_ROWS`), so there
///   `set` is a guarded `UPDATE` followed, if no row matched, by a plain
///   `INSERT`: each step atomic, neither able to overwrite a tombstone.
///   When a guarded write changes nothing, the store reads what holds the
///   id and answers as [`decide`](session_core::backend::decide) says.
/// * **No lost updates** (rule 10). The version
///   [`get_versioned`](Store::get_versioned) hands out is the data cell as
///   `get` reads it (in a Node layout, the JSON's text as bytes), and
///   [`set_if_unchanged`](Store::set_if_unchanged) is one `UPDATE` writing
///   what `set` writes (for an expiry already past, a `DELETE`) where the cell still
///   holds those bytes and the row is live: compare and write in one
///   statement, no column added, so Node apps' tables keep working. Bytes,
///   not text, are compared: a `json` column has no `=`, and a MySQL
///   collation may call `"X"` and `"x"` equal. It costs what `set` costs
///   plus the old data sent back; only a refused write reads again, to tell
///   a tombstone ([`Error::Destroyed`]) from a change
///   ([`Error::Conflict`]). A write of the same bytes leaves the version
///   as it was, and a `touch` does not move it.
/// * **Every call ends within its [`timeout`](SqlStoreBuilder::timeout)**,
///   retries included, and the database is told to end the store's
///   statements too, so a call that timed out gives its connection back
///   instead of leaving it stuck behind a lock: a statement may run for one
///   timeout and wait for a lock for a quarter of one (on PostgreSQL, for
///   each lock it queues for); a lock wait that gives up is reported as
///   [`Error::Timeout`]. A write that timed out on the client may so still
///   land, but no later than one timeout after its statement started. On PostgreSQL these are
///   `statement_timeout` and `lock_timeout`, set as each connection of the
///   store's own pool starts, or, on a pool you pass in, with `SET LOCAL` in
///   a transaction around each statement (two more round trips each). On
///   MariaDB each statement carries `SET STATEMENT max_statement_time,
///   innodb_lock_wait_timeout, lock_wait_timeout` (lock waits in whole
///   seconds, at least one). On SQLite the busy timeout is a quarter of the
///   timeout on a pool the store opens; a pool you pass in keeps its own.
///   **Not bounded:** MySQL (not MariaDB), where the server's own
///   `innodb_lock_wait_timeout` and `max_execution_time` apply.
/// * **Purging.** Expired sessions and lapsed tombstones are deleted in
///   bounded batches by [`purge_expired`](Self::purge_expired) and, unless
///   turned off, by a background task on a jittered interval. Each purge
///   ends within the timeout, and the task stops when the last clone of the
///   store is dropped, in the middle of a purge too.
/// * **`clear`** empties the table with `TRUNCATE` (SQLite: an unfiltered
///   `DELETE`), which takes milliseconds at any size; where the database
///   refuses it (a foreign key references the table, or no privilege) it
///   deletes `purge_batch` rows at a time instead, which on millions of
///   rows can outlast the timeout (the batches done stay deleted).
///
/// ```no_run
/// use session_core::{Session, SessionId, Store};
/// use session_sql::SqlStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = SqlStore::connect("postgres://127.0.0.1/app").await?;
/// let id = SessionId::generate();
/// store.create(&id, &Session::new()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) statements: Statements,
    pub(crate) table: String,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn session_core::Clock>,
    pub(crate) disable_touch: bool,
    pub(crate) purge_batch: u32,
    pub(crate) purger: Purger,
    pub(crate) purge_task: Option<BackgroundTask>,
    pub(crate) columns: Vec<Column>,
    pub(crate) layout: Layout,
}

/// The application's clock read once for a call: every comparison in the
/// call uses the same instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) time: OffsetDateTime,
    pub(crate) millis: i64,
}

/// A session row as stored: data bytes and expiry in unix ms.
pub(crate) type StoredSession = (Vec<u8>, i64);

/// Where a page of `all_stream` starts.
#[derive(Debug)]
enum Cursor {
    /// At the first id, whatever it is: `id > ''` would pass over an empty
    /// id (and SQLite's NULL), which `length` counts.
    Start,
    /// After this id.
    After(String),
}

impl SqlStore {
    /// The URL schemes [`connect`](Self::connect) and
    /// [`url`](SqlStoreBuilder::url) accept, as a URL starts. Each needs its
    /// database's cargo feature (`postgres`, `mysql`, `sqlite`); a URL whose
    /// feature is off is refused with an error naming the feature.
    ///
    /// ```
    /// let url = "mariadb://root@127.0.0.1/app";
    /// assert!(session_sql::SqlStore::URL_SCHEMES.iter().any(|s| url.starts_with(s)));
    /// ```
    pub const URL_SCHEMES: [&'static str; 5] = [
        "postgres://",
        "postgresql://",
        "mysql://",
        "mariadb://",
        "sqlite:",
    ];

    /// A builder for every option (see [`SqlStoreBuilder`]).
    pub fn builder() -> SqlStoreBuilder {
        SqlStoreBuilder::default()
    }

    /// Connects to `url` (`postgres://`, `mysql://`, `mariadb://`,
    /// `sqlite:`), creates the table if missing, and starts purging.
    ///
    /// # Errors
    /// As [`SqlStoreBuilder::build`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder().url(url).build().await
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Which database this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.inner.db.dialect()
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Creates the table and its indexes if they are missing. Idempotent,
    /// and safe to run from many processes at once (on PostgreSQL it holds
    /// an advisory lock while it runs).
    ///
    /// # Errors
    /// [`Error::Backend`] when the DDL fails (for example, no permission).
    pub async fn migrate(&self) -> Result<()> {
        let inner = &self.inner;
        within(inner.db.timeout, inner.db.migrate(&inner.statements.schema)).await
    }

    /// Deletes expired sessions and lapsed tombstones now, in batches of
    /// `purge_batch` rows; returns how many rows went.
    ///
    /// # Errors
    /// A backend error from any batch, or [`Error::Timeout`] when the purge
    /// outlasts the timeout; earlier batches stay deleted.
    pub async fn purge_expired(&self) -> Result<u64> {
        Ok(self.purge_expired_report().await?.deleted)
    }

    /// Like [`purge_expired`](Self::purge_expired), and says how the purge
    /// went: rows deleted, statements run and the slowest one's time, which
    /// is what to watch when choosing [`purge_batch`](SqlStoreBuilder::purge_batch).
    ///
    /// ```no_run
    /// # async fn run(store: &session_sql::SqlStore) -> session_core::Result<()> {
    /// let report = store.purge_expired_report().await?;
    /// println!(
    ///     "{} rows in {} statements, slowest {:?}",
    ///     report.deleted, report.statements, report.longest_statement
    /// );
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`purge_expired`](Self::purge_expired).
    pub async fn purge_expired_report(&self) -> Result<PurgeReport> {
        self.inner.purger.run().await
    }

    /// Stops the background purge, if one runs (mid-purge too). Purging on
    /// demand with [`purge_expired`](Self::purge_expired) still works.
    ///
    /// Every clone shares the task, so this needs the only handle: it
    /// returns `false` (and stops nothing) while other clones exist.
    pub fn stop_purge(&mut self) -> bool {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.purge_task.take().is_some(),
            None => false,
        }
    }

    /// Whether a background purge task runs for this store.
    pub fn is_purging(&self) -> bool {
        self.inner.purge_task.is_some()
    }
}

impl Inner {
    pub(crate) fn now(&self) -> Now {
        let time = self.clock.now();
        Now {
            time,
            millis: unix_millis(time),
        }
    }

    /// The extra columns' values for `session`, in configured order.
    pub(crate) fn extra_values(&self, session: &Session) -> Result<Vec<ExtraValue>> {
        self.columns
            .iter()
            .map(|column| column.extract(session.data()))
            .collect()
    }

    /// The row `get` reads for `id`: live at `now` by the table's own
    /// filter, not yet decoded.
    async fn read(&self, id: &SessionId, now: Now) -> Result<Option<StoredRow>> {
        let args = Args::new().id(id.as_str()).now(now.millis);
        self.db.fetch_optional(&self.statements.get, args).await
    }

    /// The session a row the statements found live holds, if it is still
    /// live at `now` (a Node row's cookie may end a little before its
    /// rounded timestamp). A row the store cannot read is live all the
    /// same, and answers [`Error::Decode`] (rule 6): `get`, the pages and
    /// `sessions_where` all take their answer from here, and `length`
    /// counts what the same live filter finds.
    fn session(&self, row: StoredRow, now: Now) -> Result<Option<Session>> {
        let stored = (row.data?, row.expires_at?);
        self.layout.decode(&*self.codec, stored, now.time)
    }

    /// A listed row as a stream item: its live session, the error that
    /// makes it unreadable (an id no [`SessionId`] can hold is one), or
    /// `None` when it is over at `now`.
    pub(crate) fn listed(&self, row: ListedRow, now: Now) -> Option<Result<(SessionId, Session)>> {
        let session = self.session(row.stored, now).transpose()?;
        let id = row
            .id
            .and_then(|id| SessionId::try_from(id).map_err(|e| Error::Decode(Box::new(e))));
        Some(id.and_then(|id| Ok((id, session?))))
    }

    /// One page of live rows from `cursor` on, as stream items, and where
    /// the next page starts.
    async fn page(&self, cursor: Cursor) -> Result<Page<Cursor>> {
        let now = self.now();
        let args = Args::new().now(now.millis).limit(PAGE);
        let rows: Vec<ListedRow> = match &cursor {
            Cursor::Start => self.db.fetch_all(&self.statements.first_page, args).await?,
            Cursor::After(id) => self.db.fetch_all(&self.statements.page, args.after(id)).await?,
        };
        let next = next_cursor(&rows);
        let mut items: Vec<_> = rows.into_iter().filter_map(|row| self.listed(row, now)).collect();
        let next = next.unwrap_or_else(|error| {
            items.push(Err(error));
            None
        });
        Ok(Page { items, next })
    }
}

/// Where the page after `rows` starts: after its last id, or nowhere when
/// the page was not full (the last one).
///
/// # Errors
/// When the page is full and ends on an id the database cannot hand over
/// as text (only SQLite keeps such: a NULL, a blob, bytes that are not
/// UTF-8): no page can be asked to start after it. A backend error, not a
/// decode one, so `all` reports that it could not read on instead of
/// returning a partial list.
fn next_cursor(rows: &[ListedRow]) -> Result<Option<Cursor>> {
    if rows.len() as i64 != PAGE {
        return Ok(None);
    }
    match rows.last().map(|row| &row.id) {
        Some(Ok(id)) => Ok(Some(Cursor::After(id.clone()))),
        Some(Err(_)) => Err(Error::Backend(
            "all_stream: a page ends on a row whose id cannot be read as text, so no later page can start after it"
                .into(),
        )),
        None => Ok(None),
    }
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SqlStore")
            .field("dialect", &inner.db.dialect())
            .field("table", &inner.table)
            .field("layout", &inner.layout)
            .field("lifetimes", &inner.lifetimes)
            .field("codec", &inner.codec)
            .field("clock", &inner.clock)
            .field("disable_touch", &inner.disable_touch)
            .field("timeout", &inner.db.timeout)
            .field("purge_batch", &inner.purge_batch)
            .field("purging", &inner.purge_task.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let inner = &*self.inner;
        within(inner.db.timeout, async {
            let now = inner.now();
            Ok(match inner.read(id, now).await? {
                Some(row) => inner.session(row, now)?,
                None => None,
            })
        })
        .await
    }

    /// `get`'s read, the same statement; the version is the data cell as
    /// read, which `set_if_unchanged` compares byte for byte.
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        let inner = &*self.inner;
        within(inner.db.timeout, async {
            let now = inner.now();
            let Some(row) = inner.read(id, now).await? else {
                return Ok(None);
            };
            // An unreadable cell needs no token: `session` answers Decode.
            let version = row
                .data
                .as_deref()
                .map_or_else(|_| Version::unversioned(), Version::from_token);
            Ok(inner
                .session(row, now)?
                .map(|session| Versioned { session, version }))
        })
        .await
    }

    /// One `UPDATE` guarded by the data cell `seen` holds (see
    /// [`SqlStore`]); without a token, a plain `set`.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        let inner = &*self.inner;
        within(inner.db.timeout, async {
            match seen.token() {
                Some(seen) => inner.set_if_unchanged(id, session, seen).await,
                None => inner.set(id, session).await,
            }
        })
        .await
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        within(self.inner.db.timeout, self.inner.set(id, session)).await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        within(self.inner.db.timeout, self.inner.create(id, session)).await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        within(self.inner.db.timeout, self.inner.touch(id, expires_at)).await
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        within(self.inner.db.timeout, self.inner.destroy(id)).await
    }

    fn all_stream(&self) -> SessionStream<'_> {
        let inner = &*self.inner;
        paged(Cursor::Start, move |cursor| {
            within(inner.db.timeout, inner.page(cursor))
        })
    }

    async fn length(&self) -> Result<u64> {
        let inner = &*self.inner;
        within(inner.db.timeout, async {
            let args = Args::new().now(inner.now().millis);
            let count: Option<(i64,)> = inner.db.fetch_optional(&inner.statements.count, args).await?;
            Ok(count.map_or(0, |(n,)| u64::try_from(n).unwrap_or(0)))
        })
        .await
    }

    async fn clear(&self) -> Result<()> {
        let inner = &*self.inner;
        within(
            inner.db.timeout,
            inner.statements.clear.run(&inner.db, inner.purge_batch),
        )
        .await
    }
}

#[async_trait]
impl session_core::PurgeExpired for SqlStore {
    async fn purge_expired(&self) -> Result<u64> {
        SqlStore::purge_expired(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: Result<&str>) -> ListedRow {
        ListedRow {
            id: id.map(str::to_owned),
            stored: StoredRow {
                data: Ok(b"{}".to_vec()),
                expires_at: Ok(0),
            },
        }
    }

    fn full_page_ending_with(last: ListedRow) -> Vec<ListedRow> {
        let mut rows: Vec<ListedRow> = (1..PAGE).map(|_| row(Ok("a"))).collect();
        rows.push(last);
        rows
    }

    #[test]
    fn a_full_page_goes_on_after_its_last_id_and_a_short_one_ends() {
        let next = next_cursor(&full_page_ending_with(row(Ok("z")))).unwrap();
        assert!(matches!(next, Some(Cursor::After(id)) if id == "z"));
        assert!(next_cursor(&[row(Ok("z"))]).unwrap().is_none());
        assert!(next_cursor(&[]).unwrap().is_none());
        // An unreadable id inside a page is only an item; the page goes on.
        let short = [row(Err(Error::Decode("not text".into()))), row(Ok("z"))];
        assert!(next_cursor(&short).unwrap().is_none());
    }

    #[test]
    fn a_full_page_ending_on_an_id_that_is_no_text_ends_the_stream_with_a_backend_error() {
        let last = row(Err(Error::Decode("not text".into())));
        let next = next_cursor(&full_page_ending_with(last));
        assert!(matches!(next, Err(Error::Backend(_))), "{next:?}");
    }
}
