//! The writes: a guarded statement on the server, and the rule table's
//! answer when the guard refused.

use session_core::{
    Error, Result, Session, SessionId,
    backend::unix_millis,
    backend::{Effect, Occupant, Write, decide},
};
use time::OffsetDateTime;

use crate::{
    error::is_unique_violation,
    extra_columns::ExtraValue,
    statement::{Args, Statement},
    store::{Inner, Now},
    upsert::Upsert,
};

/// A session as `set` and `create` write it.
struct EncodedRow {
    data: Vec<u8>,
    extras: Vec<ExtraValue>,
    expires_at: i64,
    /// The expiry is already past: the write removes rather than stores.
    expired: bool,
    now: Now,
}

impl EncodedRow {
    /// The row's binds, with the clock.
    fn row<'a>(&'a self, id: &'a SessionId) -> Args<'a> {
        Args::new()
            .id(id.as_str())
            .data(&self.data)
            .expires_at(self.expires_at)
            .extras(&self.extras)
            .now(self.now.millis)
    }
}

/// How often a write is tried when what blocked it keeps vanishing before
/// the store can look (a racing insert, delete or purge of the same id).
const WRITE_ATTEMPTS: usize = 3;

impl Inner {
    pub(crate) async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let encoded = self.encoded_row(id, session)?;
        let (row, expired) = (encoded.row(id), encoded.expired);
        self.guarded(Write::Set, id, encoded.now, expired, || async move {
            if expired {
                let remove = &self.statements.remove_unless_tombstone;
                Ok(self.db.execute(remove, row).await? > 0)
            } else {
                self.write_unless_tombstone(row).await
            }
        })
        .await
    }

    /// `set`, only while the row still holds the data cell `seen` and is
    /// live: one guarded statement. Only when it refuses does a second read
    /// tell a tombstone (`Destroyed`) from a change, removal or expiry
    /// (`Conflict`); a token the store never handed out matches no row.
    pub(crate) async fn set_if_unchanged(
        &self,
        id: &SessionId,
        session: &Session,
        seen: &[u8],
    ) -> Result<()> {
        let encoded = self.encoded_row(id, session)?;
        let conditional = &self.statements.conditional;
        // An expiry already past removes, as `set` does, under the same guard.
        let statement = if encoded.expired {
            &conditional.remove
        } else {
            &conditional.update
        };
        if self.db.execute(statement, encoded.row(id).seen(seen)).await? > 0 {
            return Ok(());
        }
        match self.occupant(id, encoded.now).await? {
            Occupant::Tombstone => Err(Error::Destroyed),
            Occupant::Live | Occupant::Vacant => Err(Error::Conflict),
        }
    }

    pub(crate) async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        let encoded = self.encoded_row(id, session)?;
        let (row, expired) = (encoded.row(id), encoded.expired);
        self.guarded(Write::Create, id, encoded.now, expired, || async move {
            if expired {
                // Nothing to store: only what holds the id decides the answer.
                Ok(false)
            } else {
                self.write_if_vacant(row).await
            }
        })
        .await
    }

    /// What `set` or `create` of `session` under `id` writes, checked and
    /// encoded in the table's layout.
    fn encoded_row(&self, id: &SessionId, session: &Session) -> Result<EncodedRow> {
        self.layout.check_id(id)?;
        let now = self.now();
        let expires = self.lifetimes.expiry_of(session, now.time);
        let data = self.layout.encode(&*self.codec, session, expires, now.time)?;
        let extras = self.extra_values(session)?;
        let expires_at = unix_millis(expires);
        Ok(EncodedRow {
            data,
            extras,
            expires_at,
            expired: expires_at <= now.millis,
            now,
        })
    }

    pub(crate) async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.disable_touch {
            return Ok(());
        }
        let now = self.now();
        let expires_at = unix_millis(self.lifetimes.expiry_or_default(expires_at, now.time));
        let expired = expires_at <= now.millis;
        let args = Args::new().id(id.as_str()).expires_at(expires_at).now(now.millis);
        self.guarded(Write::Touch, id, now, expired, || async move {
            let statement = if expired {
                &self.statements.remove_live
            } else {
                &self.statements.touch
            };
            Ok(self.db.execute(statement, args).await? > 0)
        })
        .await
    }

    pub(crate) async fn destroy(&self, id: &SessionId) -> Result<()> {
        let args = Args::new().id(id.as_str());
        let grace = self.lifetimes.tombstone_until(self.now().time);
        match (grace, &self.statements.tombstone) {
            (Some(until), Some(tombstone)) => {
                let until = args.data(&[]).until(unix_millis(until));
                self.db.execute(tombstone, until).await?;
            }
            _ => {
                self.db.execute(&self.statements.delete, args).await?;
            }
        }
        Ok(())
    }

    /// Runs `attempt` (the write's guarded statement: `true` when it changed
    /// the row). When the guard refused, reads what holds the id and answers
    /// as the rule table says; if the table now lets the write through (what
    /// blocked it is gone), tries again, a bounded number of times.
    async fn guarded<F, Fut>(
        &self,
        write: Write,
        id: &SessionId,
        now: Now,
        expired: bool,
        mut attempt: F,
    ) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        for _ in 0..WRITE_ATTEMPTS {
            if attempt().await? {
                return Ok(());
            }
            let found = self.occupant(id, now).await?;
            let decision = decide(write, found, expired);
            decision.answer()?;
            let done = match decision.effect {
                Effect::Nothing => true,
                // The guard let nothing through and nothing is there to remove.
                Effect::Remove => found == Occupant::Vacant,
                Effect::Store => false,
            };
            if done {
                return Ok(());
            }
        }
        Err(Error::Backend(
            "a write kept racing with other writes of the same id".into(),
        ))
    }

    /// Writes `row` unless an active tombstone holds the id (`set`); `false`
    /// when the guard refused and the rule table must say why.
    async fn write_unless_tombstone(&self, row: Args<'_>) -> Result<bool> {
        match &self.statements.upsert {
            Upsert::OneStatement { unless_tombstone, .. } => {
                Ok(self.db.execute(unless_tombstone, row).await? > 0)
            }
            Upsert::UpdateThenInsert {
                update_unless_tombstone,
                insert,
                ..
            } => {
                if self.db.execute(update_unless_tombstone, row).await? > 0 {
                    return Ok(true);
                }
                // No row, or a tombstone: only a plain insert is safe now.
                self.insert_if_absent(insert, row).await
            }
        }
    }

    /// Writes `row` only where no live session or active tombstone holds
    /// the id (`create`); `false` when the guard refused.
    async fn write_if_vacant(&self, row: Args<'_>) -> Result<bool> {
        match &self.statements.upsert {
            Upsert::OneStatement { if_dead, .. } => Ok(self.db.execute(if_dead, row).await? > 0),
            Upsert::UpdateThenInsert {
                update_if_dead,
                insert,
                ..
            } => {
                if self.insert_if_absent(insert, row).await? {
                    return Ok(true);
                }
                // A row is there: only a dead one may be replaced.
                Ok(self.db.execute(update_if_dead, row).await? > 0)
            }
        }
    }

    /// Inserts `row`; `false` when a row with its id is already there.
    async fn insert_if_absent(&self, insert: &Statement, row: Args<'_>) -> Result<bool> {
        match self.db.try_execute(insert, row).await {
            Ok(_) => Ok(true),
            Err(error) if is_unique_violation(&error) => Ok(false),
            Err(error) => Err(self.db.error(error)),
        }
    }

    /// What holds `id` at `now`, for the rule table.
    async fn occupant(&self, id: &SessionId, now: Now) -> Result<Occupant> {
        let args = Args::new().id(id.as_str());
        let row: Option<(bool, i64)> = self.db.fetch_optional(&self.statements.occupant, args).await?;
        Ok(row.map_or(Occupant::Vacant, |(tombstone, until)| {
            Occupant::of(tombstone, until, now.millis)
        }))
    }
}
