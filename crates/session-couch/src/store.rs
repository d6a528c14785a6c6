//! `CouchStore`: the `Store` contract on CouchDB.

use std::{fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use session_core::{
    Clock, Codec, Lifetimes, Result, Session, SessionId, SessionStream, Store, Version, Versioned,
    backend::{BackgroundTask, Write, paged, within},
};
use time::OffsetDateTime;

use crate::{
    Layout,
    cache::Cache,
    documents::{Change, Documents},
    http::Couch,
    token,
};

/// A session store on CouchDB (or any server speaking its API), through
/// [`couch_rs`], with an optional in-process cache kept in sync across
/// processes by the database's `_changes` feed.
///
/// * **Documents.** One per session, `_id` = `"s:" + id` (so ids CouchDB
///   reserves, like a leading `_`, are safe), with `data`, `expires_at` (unix
///   ms, on the store's [`clock`](crate::CouchStoreBuilder::clock)) and `destroyed`
///   (the tombstone marker). That is the [`Native`](Layout::Native) layout;
///   [`Layout::PouchDbStore`] reads and writes session-pouchdb-store's
///   documents instead, shared with an Express app (what follows about the
///   cache and the purge's index is the native layout's; see [`Layout`]).
/// * **Durable, conflict-safe writes.** Every write reads the document (or
///   takes it from the cache), asks the contract's rule table
///   ([`session_core::backend::decide`]) what to do, and does it with a
///   revision-checked `PUT` or `DELETE` that returns once the server has
///   stored it. On a conflict (409) the store reads again and decides again;
///   `create` is a `PUT` without a revision, so a collision is a conflict,
///   never an overwrite. `destroy` leaves a tombstone document for the grace
///   window. Each call, retries included, ends within the
///   [`timeout`](crate::CouchStoreBuilder::timeout).
/// * **No lost updates** (rule 10). [`get_versioned`](Store::get_versioned)
///   hands out the document's revision (with the expiry read at it), and
///   [`set_if_unchanged`](Store::set_if_unchanged) is one `PUT` naming that
///   revision, never retried: CouchDB compares it with the stored one and
///   answers 409 if anyone wrote since, which the store reports as
///   [`Conflict`](session_core::Error::Conflict) (after one `GET` to tell a
///   tombstone, [`Destroyed`](session_core::Error::Destroyed)), and
///   [`update`](Store::update) reads again and merges. The write is one
///   request, as a `set` whose revision is cached; a `set` that finds none
///   reads the document first (`GET`, or `GET ?open_revs=all` in the
///   PouchDbStore layout), a round trip the conditional write saves.
/// * **The cache** (optional) holds live sessions this process read or
///   wrote. A task follows `_changes` and refreshes or evicts entries other
///   processes change or destroy. Reads use the cache only while the feed
///   has delivered something (a change or a heartbeat) within the last
///   2 × [`heartbeat`](crate::CouchStoreBuilder::heartbeat) (default 2 s): a session
///   destroyed or changed elsewhere is served from the cache at most that
///   long after the server sent the change, whatever happens to the feed
///   (paused server, stalled network), and a `get` racing a `destroy` in this
///   process can never put the destroyed session back. A feed silent that
///   long is reopened (resuming from its last sequence) and the cache starts
///   empty. Entries idle for `max_idle` are released.
/// * **Purging.** A Mango index on `expires_at` lets a background task (and
///   [`purge_expired`](Self::purge_expired)) delete this store's expired
///   sessions and lapsed tombstones in `_bulk_docs` batches; it never
///   touches other documents. Deleted documents leave revisions behind:
///   [`compact`](Self::compact) reclaims their space.
/// * **Errors** never show a session id: request URLs, which hold it, are
///   stripped from every error and its sources.
///
/// ```no_run
/// use session_core::{Session, SessionId, Store};
/// use session_couch::CouchStore;
///
/// # async fn run() -> Result<(), session_core::Error> {
/// let store = CouchStore::builder()
///     .url("http://127.0.0.1:5984")
///     .credentials("admin", "secret")
///     .database("sessions")
///     .cache(true)
///     .build()
///     .await?;
/// store.set(&SessionId::generate(), &Session::new()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CouchStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The layout's documents, chosen by the builder: every call goes there.
    pub(crate) documents: Arc<dyn Documents>,
    pub(crate) couch: Couch,
    pub(crate) layout: Layout,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) disable_touch: bool,
    pub(crate) cache: Option<Cache>,
    pub(crate) purge_batch: usize,
    /// The feed and purge tasks: they stop when the last clone is dropped.
    pub(crate) _tasks: Vec<BackgroundTask>,
}

impl CouchStore {
    /// The URL schemes [`connect`](Self::connect) and
    /// [`url`](crate::CouchStoreBuilder::url) accept, as written before the host.
    ///
    /// ```
    /// let url = "https://couch.internal:6984";
    /// assert!(session_couch::CouchStore::URL_SCHEMES.iter().any(|s| url.starts_with(s)));
    /// ```
    pub const URL_SCHEMES: [&'static str; 2] = ["http://", "https://"];

    /// Connects to `url` (`http://` or `https://`, credentials in the URL
    /// allowed) with every other option at its default: database
    /// `sessions`, created if missing, no cache.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), session_core::Error> {
    /// let store = session_couch::CouchStore::connect("http://admin:secret@127.0.0.1:5984").await?;
    /// # let _ = store; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`CouchStoreBuilder::build`](crate::CouchStoreBuilder::build).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder().url(url).build().await
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        &self.inner.couch.db
    }

    /// How the store lays out its sessions.
    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.inner.couch.timeout
    }

    /// The session the cache holds for `id`, without asking the server and
    /// whether or not the feed is live (`None` without a cache). For
    /// diagnostics and tests of the sync.
    pub async fn cached(&self, id: &SessionId) -> Option<Session> {
        self.inner.cache.as_ref()?.holds(id)
    }

    /// Whether reads use the cache right now: the `_changes` feed is
    /// connected and was heard from within 2 × heartbeat. `false` without a
    /// cache, before the feed first connects, and while it is silent or
    /// reconnecting.
    pub fn is_synced(&self) -> bool {
        self.inner
            .cache
            .as_ref()
            .is_some_and(|cache| cache.feed().is_held())
    }

    /// Deletes this store's expired sessions and lapsed tombstones now, in
    /// `_bulk_docs` batches of [`purge_batch`](crate::CouchStoreBuilder::purge_batch);
    /// returns how many documents went. Each request is bounded by the
    /// timeout; documents that are not this store's sessions are never
    /// touched.
    ///
    /// # Errors
    /// A backend error from any batch (earlier batches stay deleted), or
    /// [`Error::Backend`](session_core::Error::Backend) when three rounds in
    /// a row deleted nothing of what they found (deletes refused, say by a
    /// validation function), rather than trying forever.
    pub async fn purge_expired(&self) -> Result<u64> {
        self.inner.documents.purge(self.inner.purge_batch).await
    }

    /// Asks the server to compact the database, reclaiming the space of
    /// every old revision: the data of sessions since rewritten, destroyed,
    /// purged or cleared. What stays of a deleted session is a stub of its
    /// id and revision history (about 100 bytes) that only CouchDB's own
    /// `_purge` removes. CouchDB compacts in the background after
    /// answering; PouchDB Server answers when done. Run it off-peak, e.g.
    /// daily after the purge.
    ///
    /// ```no_run
    /// # async fn run(store: session_couch::CouchStore) -> Result<(), session_core::Error> {
    /// store.purge_expired().await?;
    /// store.compact().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// What the server answered, if it refused (compaction needs admin
    /// rights on CouchDB), within the timeout.
    pub async fn compact(&self) -> Result<()> {
        crate::compact::compact(&self.inner.couch).await
    }
}

impl fmt::Debug for CouchStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("CouchStore")
            .field("database", &inner.couch.db)
            .field("layout", &inner.layout)
            .field("lifetimes", &inner.lifetimes)
            .field("codec", &inner.codec)
            .field("clock", &inner.clock)
            .field("cache", &inner.cache.is_some())
            .field("disable_touch", &inner.disable_touch)
            .field("timeout", &inner.couch.timeout)
            .finish_non_exhaustive()
    }
}

// Reads are bounded here by the timeout. Writes and `destroy` are not: the
// layer runs them in `retry::retry`, which holds the whole call to the
// timeout (a second deadline here would only lengthen every write's call
// chain).
#[async_trait]
impl Store for CouchStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        if let Some(entry) = self.inner.cache.as_ref().and_then(|cache| cache.live(id)) {
            return Ok(Some(entry.into_session()));
        }
        within(self.timeout(), self.inner.documents.get(id)).await
    }

    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        if let Some(entry) = self.inner.cache.as_ref().and_then(|cache| cache.live(id)) {
            return Ok(Some(entry.into_versioned()));
        }
        within(self.timeout(), self.inner.documents.get_versioned(id)).await
    }

    // One request, outside `retry::retry` (so bounded here): a conflict is
    // the answer (`update` reads again and merges), not a reason to write
    // again.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        let Some(token) = seen.token() else {
            return self.set(id, session).await;
        };
        let seen = token::read(token);
        within(
            self.timeout(),
            self.inner.documents.set_if_unchanged(id, session, seen),
        )
        .await
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.inner
            .documents
            .write(id, Write::Set, Change::Session(session))
            .await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.inner
            .documents
            .write(id, Write::Create, Change::Session(session))
            .await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.inner.disable_touch {
            return Ok(());
        }
        self.inner
            .documents
            .write(id, Write::Touch, Change::Expiry(expires_at))
            .await
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        self.inner.documents.destroy(id).await
    }

    fn all_stream(&self) -> SessionStream<'_> {
        paged(None, move |after| {
            within(self.timeout(), self.inner.documents.page(after))
        })
    }

    async fn length(&self) -> Result<u64> {
        within(self.timeout(), self.inner.documents.count()).await
    }

    // Bounded by the timeout per request, not as a whole: it takes a round
    // per thousand documents.
    async fn clear(&self) -> Result<()> {
        let _emptied = self.inner.cache.as_ref().map(EmptyOnDrop);
        self.inner.documents.clear().await
    }
}

/// Empties the cache when dropped, whether `clear` finished or not.
struct EmptyOnDrop<'a>(&'a Cache);

impl Drop for EmptyOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[async_trait]
impl session_core::PurgeExpired for CouchStore {
    async fn purge_expired(&self) -> Result<u64> {
        CouchStore::purge_expired(self).await
    }
}
