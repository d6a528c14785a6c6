//! Finding and ending sessions by an extra column's value.

use session_core::{Error, Result, Session, SessionId, backend::unix_millis, backend::within};

use crate::{
    SqlStore,
    extra_columns::{Column, ColumnValue},
    row::ListedRow,
    statement::Args,
    store::Inner,
};

impl SqlStore {
    /// Every live session whose extra column `column` holds `value`, by id
    /// (for example every session of one user).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no extra column has that name, or when
    /// `value` is text holding a NUL character (which no row can hold).
    pub async fn sessions_where(
        &self,
        column: &str,
        value: impl Into<ColumnValue>,
    ) -> Result<Vec<(SessionId, Session)>> {
        let inner = &*self.inner;
        let (index, config) = inner.column(column)?;
        let Some(value) = config.lookup(&value.into())? else {
            return Ok(Vec::new());
        };
        let select = &inner.statements.by_column[index].select;
        within(inner.db.timeout, async {
            let now = inner.now();
            let args = Args::new().value(&value).now(now.millis);
            let rows: Vec<ListedRow> = inner.db.fetch_all(select, args).await?;
            rows.into_iter()
                .filter_map(|row| inner.listed(row, now))
                .collect()
        })
        .await
    }

    /// Destroys every session whose extra column `column` holds `value` in
    /// one statement ("log this user out everywhere"), leaving tombstones
    /// for the grace window as [`destroy`](session_core::Store::destroy) does. Returns how
    /// many sessions were destroyed.
    ///
    /// # Errors
    /// As [`sessions_where`](Self::sessions_where).
    pub async fn destroy_where(&self, column: &str, value: impl Into<ColumnValue>) -> Result<u64> {
        let inner = &*self.inner;
        let (index, config) = inner.column(column)?;
        let Some(value) = config.lookup(&value.into())? else {
            return Ok(0);
        };
        let statements = &inner.statements.by_column[index];
        within(inner.db.timeout, async {
            let args = Args::new().value(&value);
            match inner.lifetimes.tombstone_until(inner.now().time) {
                Some(until) => {
                    let tombstone = args.data(&[]).until(unix_millis(until));
                    inner.db.execute(&statements.tombstone, tombstone).await
                }
                None => inner.db.execute(&statements.delete, args).await,
            }
        })
        .await
    }
}

impl Inner {
    /// The configured column called `name`, with its position.
    fn column(&self, name: &str) -> Result<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, column)| column.name() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!("no extra column is configured under the name {name:?}"))
            })
    }
}
