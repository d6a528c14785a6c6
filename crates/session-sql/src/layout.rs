//! How sessions are laid out in the table: this crate's own rows, or a Node
//! store's, so a Rust service and an Express app share the same sessions.

use session_core::{
    Error, Result, Session, SessionId,
    backend::encode,
    backend::express::{self, Flavor},
    backend::from_unix_millis,
};
use time::OffsetDateTime;

use crate::{Dialect, store::StoredSession};

/// The table's layout (set with
/// [`SqlStoreBuilder::layout`](crate::SqlStoreBuilder::layout)).
///
/// | | `Native` (default) | `ConnectPgSimple` | `ConnectSessionSequelize` |
/// |---|---|---|---|
/// | databases | all three | PostgreSQL | PostgreSQL, MySQL/MariaDB, SQLite |
/// | table (default) | `sessions`: `id`, `data`, `expires_at`, `destroyed` | `session`: `sid varchar`, `sess json`, `expire timestamp(6)` | `Sessions`: `sid varchar(36)`, `expires`, `data text`, `createdAt`, `updatedAt` |
/// | data | the codec's bytes | express-session's JSON: a `cookie` object and the data's keys ([`session_core::backend::express`]) | the same JSON, as text |
/// | expiry | unix ms, judged by the app's clock | `expire`: wall-clock time in the Node connections' time zone ([`time_zone`](crate::SqlStoreBuilder::time_zone)) | `expires`: `timestamptz` on PostgreSQL, a UTC `DATETIME` on MySQL, `YYYY-MM-DD HH:MM:SS.mmm +00:00` text on SQLite |
/// | logout | a tombstone refuses late writes for the grace window | `DELETE`: no tombstones | `DELETE`: no tombstones |
///
/// ```no_run
/// use session_sql::{Layout, SqlStore};
///
/// # async fn run() -> Result<(), session_core::Error> {
/// // The sessions of an Express app using connect-pg-simple's defaults.
/// let shared = SqlStore::builder()
///     .url("postgres://127.0.0.1/app")
///     .layout(Layout::ConnectPgSimple) // table `session` unless given
///     .build()
///     .await?;
/// # let _ = shared; Ok(()) }
/// ```
///
/// **What holds, and what cannot.** Both Node layouts keep every rule of
/// the contract except the tombstone rules: neither table has room for a
/// marker Node would respect, so a `destroy` deletes the row, a late `set`
/// from a slow request (in Rust or in Node) writes the session back, and
/// `create` right after a destroy succeeds (the conformance suite, told so
/// by `Capabilities::without_tombstones`, checks that they land). The data may not hold a key
/// `cookie`, which is express-session's own. With
/// `ConnectSessionSequelize`, ids are at most 36 bytes (its `sid` column);
/// a longer one is refused with [`Error::InvalidInput`].
///
/// **Expiry.** The row's timestamp is the truth, since Node's `touch` moves
/// only that; `cookie.expires` is used while it agrees with it to within
/// two seconds, because it is exact to the millisecond where the column may
/// not be (connect-pg-simple rounds up to the second, MySQL's `DATETIME`
/// holds whole seconds: Rust writes those rounded up). connect-pg-simple
/// checks the expiry on read as Rust does. **connect-session-sequelize
/// never does**: Node serves an expired row until its sweeper deletes it
/// (every 15 minutes by default). Rust does not serve it, so a session can
/// end in Rust up to one sweep interval before it ends in Node; ending it
/// on time is the safer side of that choice. Rust's purge deletes expired
/// rows of either layout, and nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's own table (see [`SqlStore`](crate::SqlStore)).
    #[default]
    Native,
    /// connect-pg-simple 6 to 10 (PostgreSQL only).
    ConnectPgSimple,
    /// connect-session-sequelize 7 and 8 with its default model, on
    /// Sequelize 6.
    ConnectSessionSequelize,
}

/// connect-session-sequelize's `sid` column: `STRING(36)`.
const SEQUELIZE_ID_LEN: usize = 36;

impl Layout {
    /// The table when the builder is given none.
    pub(crate) fn default_table(self) -> &'static str {
        match self {
            Self::Native => "sessions",
            Self::ConnectPgSimple => "session",
            Self::ConnectSessionSequelize => "Sessions",
        }
    }

    pub(crate) fn is_node(self) -> bool {
        self != Self::Native
    }

    /// Whether the layout exists on `dialect`.
    pub(crate) fn check(self, dialect: Dialect) -> Result<()> {
        if self == Self::ConnectPgSimple && dialect != Dialect::Postgres {
            return Err(Error::InvalidInput(
                "the connect-pg-simple layout is PostgreSQL's only; use a postgres:// URL or pool".into(),
            ));
        }
        Ok(())
    }

    /// Whether `id` fits the layout's key column.
    pub(crate) fn check_id(self, id: &SessionId) -> Result<()> {
        if self == Self::ConnectSessionSequelize && id.as_str().len() > SEQUELIZE_ID_LEN {
            return Err(Error::InvalidInput(format!(
                "connect-session-sequelize keeps ids of at most {SEQUELIZE_ID_LEN} bytes; this one has {}",
                id.as_str().len()
            )));
        }
        Ok(())
    }

    /// The bytes `set` and `create` write for `session` until `expires_at`.
    pub(crate) fn encode(
        self,
        codec: &dyn session_core::Codec,
        session: &Session,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        match self {
            Self::Native => encode(codec, session.data()),
            _ => express::encode_as(Flavor::Json, session, expires_at, now),
        }
    }

    /// The session a row holds, with the expiry the row's timestamp gives
    /// (`None` when it is over at `now`: a Node row's cookie may end a
    /// little before its rounded timestamp).
    pub(crate) fn decode(
        self,
        codec: &dyn session_core::Codec,
        (data, expires_at): StoredSession,
        now: OffsetDateTime,
    ) -> Result<Option<Session>> {
        let stored = from_unix_millis(expires_at)?;
        match self {
            Self::Native => Ok(Some(Session::from_data(codec.decode(&data)?).expiring_at(stored))),
            _ => {
                let mut session = express::decode(&data)?;
                let expires_at = express::reconcile_expiry(stored, session.expires_at());
                session.set_expires_at(Some(expires_at));
                Ok((expires_at > now).then_some(session))
            }
        }
    }
}
