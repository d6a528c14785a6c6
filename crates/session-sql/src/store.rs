//! `SqlStore`: the `Store` contract on PostgreSQL, MySQL/MariaDB or SQLite.

use std::{collections::VecDeque, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use futures_util::stream;
use session_core::backend::within;
use session_core::{
    Codec, Error, Lifetimes, Result, Session, SessionId, SessionStream, Store,
    expiry::{from_unix_millis, unix_millis},
};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::{
    Dialect, PurgeReport, SqlStoreBuilder,
    columns::{Bound, Column, ColumnValue},
    dialect::Statements,
    error::{from_sqlx, is_unique_violation},
    pool::Pool,
    purge::{self, PurgeTask},
    query::{execute, execute_write, execute_write_raw, fetch_all, fetch_optional},
};

/// Rows fetched per page by `all_stream`.
const PAGE: i64 = 500;
/// Attempts of MySQL's update-then-insert before giving up on a write that
/// keeps racing with inserts and deletes of the same id.
const MYSQL_WRITE_ATTEMPTS: usize = 3;

/// A session store on PostgreSQL, MySQL/MariaDB or SQLite, through [`sqlx`].
///
/// * **One table**, by default `sessions`: `id` (primary key, 128 bytes,
///   compared byte for byte), `data` (the codec's bytes, kept exactly),
///   `expires_at` (unix milliseconds), `destroyed` (the tombstone marker),
///   and an index on `expires_at`. [`migrate`](Self::migrate) creates them
///   if missing and is safe to run from many processes at once.
/// * **One clock.** Every expiry comparison uses the application's clock,
///   passed as a parameter; the database's `now()` is never consulted.
/// * **Atomic writes.** On PostgreSQL and SQLite, `set` and `create` are one
///   `INSERT ... ON CONFLICT DO UPDATE ... WHERE` that refuses an active
///   tombstone (and, for `create`, a live row). MySQL cannot report a refused
///   `ON DUPLICATE KEY UPDATE` (sqlx sets `CLIENT_FOUND_ROWS`), so there
///   `set` is a guarded `UPDATE` followed, if no row matched, by a plain
///   `INSERT`: each step atomic, neither able to overwrite a tombstone.
/// * **Purging.** Expired sessions and lapsed tombstones are deleted in
///   bounded batches by [`purge_expired`](Self::purge_expired) and, unless
///   turned off, by a background task on a jittered interval that stops when
///   the last clone of the store is dropped.
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
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) statements: Statements,
    pub(crate) table: String,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn session_core::Clock>,
    pub(crate) disable_touch: bool,
    pub(crate) timeout: Duration,
    pub(crate) purge_batch: u32,
    pub(crate) purge_task: Option<PurgeTask>,
    pub(crate) columns: Vec<Column>,
}

/// A live row as read back: data bytes and expiry.
type Row = (Vec<u8>, i64);

impl SqlStore {
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
        self.inner.pool.dialect()
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Creates the table and its index if they are missing. Idempotent, and
    /// safe to run from many processes at once (on PostgreSQL it holds an
    /// advisory lock while it runs).
    ///
    /// # Errors
    /// [`Error::Backend`] when the DDL fails (for example, no permission).
    pub async fn migrate(&self) -> Result<()> {
        let inner = &self.inner;
        within(inner.timeout, async {
            match &inner.pool {
                #[cfg(feature = "postgres")]
                Pool::Postgres(pool) => {
                    let mut tx = pool.begin().await.map_err(|e| from_sqlx(e, inner.timeout))?;
                    sqlx::query("SELECT pg_advisory_xact_lock(5384719251)")
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| from_sqlx(e, inner.timeout))?;
                    for ddl in &inner.statements.schema {
                        sqlx::query(sqlx::AssertSqlSafe(Arc::clone(ddl)))
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| from_sqlx(e, inner.timeout))?;
                    }
                    tx.commit().await.map_err(|e| from_sqlx(e, inner.timeout))
                }
                #[allow(unreachable_patterns)]
                _ => {
                    for ddl in &inner.statements.schema {
                        execute!(inner, ddl)?;
                    }
                    Ok(())
                }
            }
        })
        .await
    }

    /// Deletes expired sessions and lapsed tombstones now, in batches of
    /// `purge_batch` rows; returns how many rows went.
    ///
    /// # Errors
    /// A backend error from any batch; earlier batches stay deleted.
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
    /// A backend error from any batch; earlier batches stay deleted.
    pub async fn purge_expired_report(&self) -> Result<PurgeReport> {
        let inner = &self.inner;
        purge::purge(
            &inner.pool,
            &inner.statements.purge,
            inner.purge_batch,
            inner.timeout,
        )
        .await
    }

    /// Stops the background purge, if one runs. Purging on demand with
    /// [`purge_expired`](Self::purge_expired) still works.
    ///
    /// Every clone shares the task, so this needs the only handle: it
    /// returns `false` (and stops nothing) while other clones exist.
    pub fn stop_purge(&mut self) -> bool {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.purge_task.take().is_some(),
            None => false,
        }
    }

    /// Every live session whose extra column `column` holds `value`, by id
    /// (for example every session of one user).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no extra column has that name.
    pub async fn sessions_where(
        &self,
        column: &str,
        value: impl Into<ColumnValue>,
    ) -> Result<Vec<(SessionId, Session)>> {
        let inner = &*self.inner;
        let (index, config) = inner.column(column)?;
        let Some(value) = config.bind(&value.into()) else {
            return Ok(Vec::new());
        };
        let sql = &inner.statements.columns[index].select;
        within(inner.timeout, async {
            let now = inner.now().1;
            let rows = select_with_value(inner, sql, &value, now).await?;
            rows.into_iter()
                .map(|(id, row)| {
                    let id = SessionId::try_from(id).map_err(|e| Error::Decode(Box::new(e)))?;
                    Ok((id, inner.session(row)?))
                })
                .collect()
        })
        .await
    }

    /// Destroys every session whose extra column `column` holds `value` in
    /// one statement ("log this user out everywhere"), leaving tombstones
    /// for the grace window as [`destroy`](Store::destroy) does. Returns how
    /// many sessions were destroyed.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no extra column has that name.
    pub async fn destroy_where(&self, column: &str, value: impl Into<ColumnValue>) -> Result<u64> {
        let inner = &*self.inner;
        let (index, config) = inner.column(column)?;
        let Some(value) = config.bind(&value.into()) else {
            return Ok(0);
        };
        let statements = &inner.statements.columns[index];
        let empty: &[u8] = &[];
        within(inner.timeout, async {
            match inner.lifetimes.tombstone_until(OffsetDateTime::now_utc()) {
                Some(until) => {
                    execute_write!(
                        inner,
                        statements.tombstone,
                        [empty, unix_millis(until)],
                        std::slice::from_ref(&value),
                        []
                    )
                }
                None => execute_write!(inner, statements.delete, [], std::slice::from_ref(&value), []),
            }
        })
        .await
    }

    /// Whether a background purge task runs for this store.
    pub fn is_purging(&self) -> bool {
        self.inner.purge_task.is_some()
    }
}

impl Inner {
    /// The extra columns' values for `session`, in configured order.
    fn customs(&self, session: &Session) -> Vec<Bound> {
        self.columns
            .iter()
            .map(|column| column.extract(session.data()))
            .collect()
    }

    /// The configured column called `name`, with its statements.
    fn column(&self, name: &str) -> Result<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, column)| column.name() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!("no extra column is configured under the name {name:?}"))
            })
    }

    fn now(&self) -> (OffsetDateTime, i64) {
        let now = OffsetDateTime::now_utc();
        (now, unix_millis(now))
    }

    fn session(&self, (data, expires_at): Row) -> Result<Session> {
        Ok(Session::from_data(self.codec.decode(&data)?).expiring_at(from_unix_millis(expires_at)?))
    }

    /// Why a write found `id` occupied: `Some(true)` for an active
    /// tombstone, `Some(false)` for a live session, `None` for neither.
    async fn blocker(&self, id: &SessionId, now: i64) -> Result<Option<bool>> {
        self.blocker_of(id.as_str(), now).await
    }

    async fn blocker_of(&self, id: &str, now: i64) -> Result<Option<bool>> {
        fetch_optional!(self, self.statements.blocker, [id, now], |row| row
            .try_get::<bool, _>(0))
    }

    async fn refusal(&self, id: &SessionId, now: i64) -> Result<Error> {
        Ok(match self.blocker(id, now).await? {
            Some(true) => Error::Destroyed,
            _ => Error::AlreadyExists,
        })
    }

    /// Removes a live or dead session (not a tombstone): an expired `set`.
    async fn set_expired(&self, id: &SessionId, now: i64) -> Result<()> {
        if execute!(self, self.statements.delete_unless_tombstone, id.as_str(), now)? > 0 {
            return Ok(());
        }
        match self.blocker(id, now).await? {
            Some(true) => Err(Error::Destroyed),
            _ => Ok(()),
        }
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (now, now_ms) = self.now();
        let expires_at = unix_millis(self.lifetimes.expiry_of(session, now));
        if expires_at <= now_ms {
            return self.set_expired(id, now_ms).await;
        }
        let data = self.codec.encode(session.data())?;
        let customs = self.customs(session);
        let (set, id) = (&self.statements.set, id.as_str());
        if self.pool.dialect() != Dialect::MySql {
            let written = execute_write!(self, set, [id, &data[..], expires_at], &customs, [now_ms])?;
            return if written > 0 {
                Ok(())
            } else {
                Err(Error::Destroyed)
            };
        }
        for _ in 0..MYSQL_WRITE_ATTEMPTS {
            if execute_write!(self, set, [&data[..], expires_at], &customs, [id, now_ms])? > 0 {
                return Ok(());
            }
            match execute_write_raw!(
                self,
                self.statements.insert,
                [id, &data[..], expires_at],
                &customs,
                []
            ) {
                Ok(_) => return Ok(()),
                // A row appeared since the update: a tombstone, or a racing insert.
                Err(error) if is_unique_violation(&error) => {}
                Err(error) => return Err(from_sqlx(error, self.timeout)),
            }
        }
        match self.blocker_of(id, now_ms).await? {
            Some(true) => Err(Error::Destroyed),
            _ => Err(Error::Backend(
                "a write kept racing with other writes of the same id".into(),
            )),
        }
    }

    async fn create(&self, session_id: &SessionId, session: &Session) -> Result<()> {
        let (now, now_ms) = self.now();
        let expires_at = unix_millis(self.lifetimes.expiry_of(session, now));
        if expires_at <= now_ms {
            // Nothing to store, but an occupied id is still refused.
            return match self.blocker(session_id, now_ms).await? {
                Some(true) => Err(Error::Destroyed),
                Some(false) => Err(Error::AlreadyExists),
                None => Ok(()),
            };
        }
        let data = self.codec.encode(session.data())?;
        let customs = self.customs(session);
        let (create, id) = (&self.statements.create, session_id.as_str());
        let written = if self.pool.dialect() == Dialect::MySql {
            match execute_write_raw!(
                self,
                self.statements.insert,
                [id, &data[..], expires_at],
                &customs,
                []
            ) {
                Ok(_) => 1,
                // Only a dead row (expired, or a lapsed tombstone) may be replaced.
                Err(error) if is_unique_violation(&error) => {
                    execute_write!(self, create, [&data[..], expires_at], &customs, [id, now_ms])?
                }
                Err(error) => return Err(from_sqlx(error, self.timeout)),
            }
        } else {
            execute_write!(self, create, [id, &data[..], expires_at], &customs, [now_ms])?
        };
        if written > 0 {
            Ok(())
        } else {
            Err(self.refusal(session_id, now_ms).await?)
        }
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.disable_touch {
            return Ok(());
        }
        let (now, now_ms) = self.now();
        let expires_at = unix_millis(self.lifetimes.expiry_or_default(expires_at, now));
        let moved = if expires_at <= now_ms {
            execute!(self, self.statements.delete_live, id.as_str(), now_ms)?
        } else {
            execute!(self, self.statements.touch, expires_at, id.as_str(), now_ms)?
        };
        if moved > 0 {
            return Ok(());
        }
        match self.blocker(id, now_ms).await? {
            Some(true) => Err(Error::Destroyed),
            _ => Err(Error::NotFound),
        }
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        match self.lifetimes.tombstone_until(OffsetDateTime::now_utc()) {
            Some(until) => {
                let empty: &[u8] = &[];
                execute!(
                    self,
                    self.statements.tombstone,
                    id.as_str(),
                    empty,
                    unix_millis(until)
                )?;
            }
            None => {
                execute!(self, self.statements.delete, id.as_str())?;
            }
        }
        Ok(())
    }

    /// One page of live sessions with ids after `after`.
    async fn page(&self, after: &str) -> Result<Vec<(String, Row)>> {
        let now = self.now().1;
        fetch_all!(self, self.statements.page, [after, now, PAGE], |row| {
            Ok((
                row.try_get::<String, _>(0)?,
                (row.try_get::<Vec<u8>, _>(1)?, row.try_get::<i64, _>(2)?),
            ))
        })
    }
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SqlStore")
            .field("dialect", &inner.pool.dialect())
            .field("table", &inner.table)
            .field("lifetimes", &inner.lifetimes)
            .field("codec", &inner.codec)
            .field("disable_touch", &inner.disable_touch)
            .field("timeout", &inner.timeout)
            .field("purging", &inner.purge_task.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            let now = inner.now().1;
            let row = fetch_optional!(inner, inner.statements.get, [id.as_str(), now], |row| {
                Ok((row.try_get::<Vec<u8>, _>(0)?, row.try_get::<i64, _>(1)?))
            })?;
            row.map(|row| inner.session(row)).transpose()
        })
        .await
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        within(self.inner.timeout, self.inner.set(id, session)).await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        within(self.inner.timeout, self.inner.create(id, session)).await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        within(self.inner.timeout, self.inner.touch(id, expires_at)).await
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        within(self.inner.timeout, self.inner.destroy(id)).await
    }

    fn all_stream(&self) -> SessionStream<'_> {
        let inner = &*self.inner;
        // State: the last id seen (keyset cursor), the page in hand, and
        // whether the table has more.
        let start = (String::new(), VecDeque::new(), true);
        Box::pin(stream::unfold(Some(start), move |state| async move {
            let (mut after, mut batch, mut more) = state?;
            loop {
                if let Some((id, row)) = batch.pop_front() {
                    let item = SessionId::try_from(id)
                        .map_err(|e| Error::Decode(Box::new(e)))
                        .and_then(|id| Ok((id, inner.session(row)?)));
                    return Some((item, Some((after, batch, more))));
                }
                if !more {
                    return None;
                }
                match within(inner.timeout, inner.page(&after)).await {
                    Ok(page) => {
                        more = page.len() as i64 == PAGE;
                        if let Some((last, _)) = page.last() {
                            after.clone_from(last);
                        }
                        batch = page.into();
                    }
                    Err(error) => return Some((Err(error), None)),
                }
            }
        }))
    }

    async fn length(&self) -> Result<u64> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            let now = inner.now().1;
            let count = fetch_optional!(inner, inner.statements.count, [now], |row| row
                .try_get::<i64, _>(0))?;
            Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
        })
        .await
    }

    async fn clear(&self) -> Result<()> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            execute!(inner, inner.statements.clear).map(drop)
        })
        .await
    }
}

/// Runs a per-column `select` with `value` and the clock.
async fn select_with_value(
    inner: &Inner,
    sql: &crate::dialect::Sql,
    value: &Bound,
    now: i64,
) -> Result<Vec<(String, Row)>> {
    crate::pool::with_pool!(&inner.pool, |p| {
        let query = sqlx::query(sqlx::AssertSqlSafe(crate::dialect::Sql::clone(sql)));
        let query = match value {
            Bound::Text(text) => query.bind(text.as_deref()),
            Bound::BigInt(number) => query.bind(*number),
        };
        query.bind(now).fetch_all(p).await.and_then(|rows| {
            rows.into_iter()
                .map(|row| {
                    Ok((
                        row.try_get::<String, _>(0)?,
                        (row.try_get::<Vec<u8>, _>(1)?, row.try_get::<i64, _>(2)?),
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })
    })
    .map_err(|e| from_sqlx(e, inner.timeout))
}

#[async_trait]
impl session_core::PurgeExpired for SqlStore {
    async fn purge_expired(&self) -> Result<u64> {
        SqlStore::purge_expired(self).await
    }
}
