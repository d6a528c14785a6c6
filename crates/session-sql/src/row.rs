//! Session rows as read, cell by cell.
//!
//! Another program may leave a row the store cannot read: a NULL where
//! the layout needs a value (Sequelize's `data` allows one), or, on
//! SQLite, which keeps whatever it is given, text that is not UTF-8 or an
//! expiry that is no date. Decoding the whole result set at once would
//! turn that one row into a failed statement, ending `get`, a page and so
//! the whole stream with it. So each cell keeps its own outcome: such a row
//! reads as an unreadable row, which the store answers with
//! [`Error::Decode`] (rule 6, decided in `Inner::session`), and the rows
//! around it read as usual.

use session_core::Error;
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

/// One cell: its value, or the [`Error::Decode`] that makes its row
/// unreadable.
pub(crate) type Cell<T> = Result<T, Error>;

/// A session row's data and expiry (unix ms), as `get` reads them: the
/// first two columns.
#[derive(Debug)]
pub(crate) struct StoredRow {
    pub(crate) data: Cell<Vec<u8>>,
    pub(crate) expires_at: Cell<i64>,
}

/// A listed row, as pages and `sessions_where` read it: the id, then the
/// data and expiry.
#[derive(Debug)]
pub(crate) struct ListedRow {
    pub(crate) id: Cell<String>,
    pub(crate) stored: StoredRow,
}

impl StoredRow {
    /// The data and expiry in columns `first` and `first + 1`.
    fn read<'r, R>(row: &'r R, first: usize) -> Result<Self, sqlx::Error>
    where
        R: Row,
        usize: ColumnIndex<R>,
        Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
        i64: Decode<'r, R::Database> + Type<R::Database>,
    {
        Ok(Self {
            data: cell(row, first, "data")?,
            expires_at: cell(row, first + 1, "expiry")?,
        })
    }
}

impl<'r, R> FromRow<'r, R> for StoredRow
where
    R: Row,
    usize: ColumnIndex<R>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Self::read(row, 0)
    }
}

impl<'r, R> FromRow<'r, R> for ListedRow
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: cell(row, 0, "id")?,
            stored: StoredRow::read(row, 1)?,
        })
    }
}

/// Column `index` of `row` (the row's `what`, for the message).
///
/// Read as an `Option` even where the column cannot be NULL: some drivers
/// (SQLite's) would otherwise read a NULL as zero or empty, a value the row
/// never held.
///
/// # Errors
/// Only what is no fault of the row's data: a column the statement does
/// not have (a bug), which fails the statement.
fn cell<'r, R, T>(row: &'r R, index: usize, what: &str) -> Result<Cell<T>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    match row.try_get::<Option<T>, _>(index) {
        Ok(Some(value)) => Ok(Ok(value)),
        Ok(None) => Ok(Err(Error::Decode(format!("the row's {what} is NULL").into()))),
        Err(sqlx::Error::ColumnDecode { source, .. }) => Ok(Err(Error::Decode(source))),
        Err(other) => Err(other),
    }
}
