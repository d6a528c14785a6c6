//! A store that writes to two stores at once, for the time a migration
//! runs: the app keeps working on the old store while the new one fills.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{Error, Result, Session, SessionId, SessionStream, Store};

/// Which store [`DualWrite`] reads from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reads {
    /// The old store, falling back to the new one for an id the old store
    /// does not have (say it lost its data); the phase while the copy runs.
    #[default]
    OldThenNew,
    /// The new store only; the phase after the copy, while instances that
    /// still write to the old store (for a rollback) are replaced.
    New,
}

/// A [`Store`] over an old and a new store, for the migration period: every
/// write goes to both, reads come from the old one (falling back to the
/// new), and a logout sticks in both.
///
/// | call | what it does |
/// |---|---|
/// | `get` | the old store's session; if it has none, the new store's, but only after checking with an atomic `create` in the old store that the id was not destroyed there (a tombstone: the logout wins, and is copied to the new store) — the session is put back into the old store otherwise |
/// | `set` | old, then new; a refusal (`Destroyed`) from either destroys in both and is returned |
/// | `create` | old decides (its `create` is the atomic one), then new; a stale copy already in the new store is replaced |
/// | `touch` | old, then new; a session the copy has not reached yet is created in the new store from the old one, so a copy racing the touch cannot leave the older expiry behind |
/// | `destroy` | new, then old, both always attempted: a logout sticks in both, and the new store's tombstone refuses a copy still in flight |
/// | `all_stream`, `length` | the store reads come from ([`Reads`]) |
/// | `clear` | both |
///
/// An error from either store is returned: the write may then have landed
/// in one store only, as any failed write may have landed or not.
///
/// # How a migration uses it
///
/// 1. Deploy every instance of the app with `DualWrite::new(old, new)` as
///    its store. Until every instance runs it, a logout on an instance that
///    does not reaches the old store only; start the copy after the rollout.
/// 2. Run the copy (`session-migrate`, or [`Migration`](super::Migration)).
///    Sessions the app writes meanwhile reach the new store directly; the
///    copy never overwrites them (`create`), and a session destroyed while
///    the copy runs is refused by the new store's tombstone.
/// 3. Deploy with `DualWrite::new(old, new).reads(Reads::New)`, then with the
///    new store alone. Keep the new store's tombstones on (the default 300 s
///    grace) for the whole period.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_core::Error> {
/// use session_core::{Session, SessionId, Store, migrate::DualWrite};
/// # let (old, new) = (session_memory::MemoryStore::new(), session_memory::MemoryStore::new());
///
/// let store = DualWrite::new(old.clone(), new.clone());
/// let id = SessionId::generate();
/// store.create(&id, &Session::new()).await?;
/// assert!(old.get(&id).await?.is_some() && new.get(&id).await?.is_some());
///
/// store.destroy(&id).await?; // logout: in both stores
/// assert!(store.set(&id, &Session::new()).await.is_err());
/// assert!(new.get(&id).await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DualWrite<O, N> {
    old: O,
    new: N,
    reads: Reads,
}

impl<O: Store, N: Store> DualWrite<O, N> {
    /// Writes go to `old` and `new`; reads come from `old`, then `new`.
    pub fn new(old: O, new: N) -> Self {
        Self {
            old,
            new,
            reads: Reads::OldThenNew,
        }
    }

    /// Which store reads come from.
    #[must_use]
    pub fn reads(mut self, reads: Reads) -> Self {
        self.reads = reads;
        self
    }

    /// The old store.
    pub fn old(&self) -> &O {
        &self.old
    }

    /// The new store.
    pub fn new_store(&self) -> &N {
        &self.new
    }

    /// Destroys `id` in both stores and answers `Destroyed`: what every
    /// write does when either store refuses it as destroyed.
    async fn logout_sticks(&self, id: &SessionId) -> Result<()> {
        self.destroy(id).await?;
        Err(Error::Destroyed)
    }

    /// The new store's session, if the old one has no reason to refuse it.
    async fn fall_back(&self, id: &SessionId) -> Result<Option<Session>> {
        let Some(session) = self.new.get(id).await? else {
            return Ok(None);
        };
        // `create` is the one call that tells a tombstone from an absent id
        // without changing a live session: it refuses the one, and fills
        // the other (keeping the two stores alike).
        match self.old.create(id, &session).await {
            Ok(()) => Ok(Some(session)),
            Err(Error::AlreadyExists) => self.old.get(id).await,
            Err(Error::Destroyed) => {
                self.new.destroy(id).await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl<O: Store, N: Store> Store for DualWrite<O, N> {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        match self.reads {
            Reads::New => self.new.get(id).await,
            Reads::OldThenNew => match self.old.get(id).await? {
                Some(session) => Ok(Some(session)),
                None => self.fall_back(id).await,
            },
        }
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        match self.old.set(id, session).await {
            Ok(()) => {}
            Err(Error::Destroyed) => return self.logout_sticks(id).await,
            Err(error) => return Err(error),
        }
        match self.new.set(id, session).await {
            Err(Error::Destroyed) => self.logout_sticks(id).await,
            other => other,
        }
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.old.create(id, session).await?;
        match self.new.create(id, session).await {
            // The old store's create won, so the id is this session's: a
            // copy left in the new store is stale.
            Err(Error::AlreadyExists) => self.new.set(id, session).await,
            Err(Error::Destroyed) => self.logout_sticks(id).await,
            other => other,
        }
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        match self.old.touch(id, expires_at).await {
            Ok(()) => {}
            Err(Error::Destroyed) => return self.logout_sticks(id).await,
            Err(error) => return Err(error),
        }
        match self.new.touch(id, expires_at).await {
            Err(Error::NotFound) => self.touch_uncopied(id, expires_at).await,
            Err(Error::Destroyed) => self.logout_sticks(id).await,
            other => other,
        }
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        // Both, whatever the first answers: a logout must not stop halfway.
        let new = self.new.destroy(id).await;
        let old = self.old.destroy(id).await;
        new.and(old)
    }

    fn all_stream(&self) -> SessionStream<'_> {
        match self.reads {
            Reads::OldThenNew => self.old.all_stream(),
            Reads::New => self.new.all_stream(),
        }
    }

    async fn length(&self) -> Result<u64> {
        match self.reads {
            Reads::OldThenNew => self.old.length().await,
            Reads::New => self.new.length().await,
        }
    }

    async fn clear(&self) -> Result<()> {
        let old = self.old.clear().await;
        let new = self.new.clear().await;
        old.and(new)
    }
}

impl<O: Store, N: Store> DualWrite<O, N> {
    /// The old store was touched but the new one has no such session: the
    /// copy has not reached it, or its create is in flight with the expiry
    /// it read before this touch. Put the old store's current session there;
    /// if the copy got there first, touch that.
    async fn touch_uncopied(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        let Some(session) = self.old.get(id).await? else {
            return Ok(()); // it ended meanwhile: nothing to carry over
        };
        match self.new.create(id, &session).await {
            Err(Error::AlreadyExists) => match self.new.touch(id, expires_at).await {
                Err(Error::Destroyed) => self.logout_sticks(id).await,
                other => other,
            },
            Err(Error::Destroyed) => self.logout_sticks(id).await,
            other => other,
        }
    }
}
