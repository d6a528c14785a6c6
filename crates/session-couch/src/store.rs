//! `CouchStore`: the `Store` contract on CouchDB.

use std::{collections::VecDeque, fmt, sync::Arc};

use async_trait::async_trait;
use futures_util::stream;
use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Codec, Error, Lifetimes, Result, Session, SessionId, SessionStream, Store, expiry};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    CouchStoreBuilder,
    cache::{Cache, Cached},
    doc::{self, State, Stored},
    http::{Couch, Written},
};

/// Attempts of a write that keeps meeting revision conflicts (HTTP 409);
/// between attempts it backs off for a random while that doubles each time.
const WRITE_ATTEMPTS: usize = 40;
/// Documents per `_all_docs` page.
const PAGE: usize = 500;

/// Sessions of one page, decoded (a document that fails to decode is an
/// error item; the others still come).
type Batch = VecDeque<Result<(SessionId, Session)>>;

/// A session store on CouchDB (or any server speaking its API), through
/// [`couch_rs`], with an optional in-process cache kept in sync across
/// processes by the database's `_changes` feed.
///
/// * **Documents.** One per session, `_id` = `"s:" + id` (so ids CouchDB
///   reserves, like a leading `_`, are safe), with `data`, `expires_at` (unix
///   ms) and `destroyed` (the tombstone marker).
/// * **Durable, conflict-safe writes.** Every write is a revision-checked
///   `PUT` that returns once the server has stored it. On a conflict (409)
///   the store re-reads and retries, a bounded number of times; `create` is
///   a `PUT` without a revision, so a collision is a conflict, never an
///   overwrite. `destroy` leaves a tombstone document for the grace window.
/// * **The cache** (optional) holds live sessions this process read or
///   wrote. A task follows `_changes` and refreshes or evicts entries other
///   processes change or destroy; entries idle for `max_idle` are released;
///   while the feed is down the cache is bypassed, and it starts empty when
///   the feed reconnects (resuming from its last sequence). It never serves
///   an expired or destroyed session.
/// * **Purging.** A Mango index on `expires_at` lets a background task (and
///   [`purge_expired`](Self::purge_expired)) delete expired sessions and
///   lapsed tombstones in `_bulk_docs` batches.
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
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) couch: Couch,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) disable_touch: bool,
    pub(crate) cache: Option<Cache>,
    pub(crate) purge_batch: usize,
    /// Dropped with the last clone: ends the feed and purge tasks.
    pub(crate) _stop: watch::Sender<()>,
}

/// The current document of an id, as far as a write needs it.
struct Current {
    rev: String,
    state: State,
}

impl CouchStore {
    /// A builder for every option (see [`CouchStoreBuilder`]).
    pub fn builder() -> CouchStoreBuilder {
        CouchStoreBuilder::default()
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

    /// The session the cache holds for `id`, without asking the server
    /// (`None` without a cache). For diagnostics and tests of the sync.
    pub async fn cached(&self, id: &SessionId) -> Option<Session> {
        self.inner.cache.as_ref()?.holds(id).await
    }

    /// Whether the cache is following the `_changes` feed right now (and so
    /// is used for reads). `false` without a cache, before the feed first
    /// connects, and while it reconnects.
    pub fn is_synced(&self) -> bool {
        self.inner.cache.as_ref().is_some_and(Cache::is_synced)
    }

    /// Deletes expired sessions and lapsed tombstones now, in `_bulk_docs`
    /// batches; returns how many documents went.
    ///
    /// # Errors
    /// A backend error from any batch; earlier batches stay deleted.
    pub async fn purge_expired(&self) -> Result<u64> {
        crate::purge::purge(&self.inner.couch, self.inner.purge_batch).await
    }

    async fn current(&self, doc_id: &str) -> Result<Option<Current>> {
        let Some(body) = self.inner.couch.get(doc_id).await? else {
            return Ok(None);
        };
        let stored = doc::parse(&body)?;
        Ok(Some(Current {
            state: stored.state(OffsetDateTime::now_utc()),
            rev: stored.rev,
        }))
    }

    /// The revision to write over: the cache's (no round trip) on the first
    /// attempt, the server's after a conflict.
    async fn current_with_hint(
        &self,
        id: &SessionId,
        doc_id: &str,
        attempt: usize,
    ) -> Result<Option<Current>> {
        if attempt == 0
            && let Some((_, rev)) = self.cached_live(id).await
        {
            return Ok(Some(Current {
                rev: rev.to_string(),
                state: State::Live,
            }));
        }
        self.current(doc_id).await
    }

    async fn cached_live(&self, id: &SessionId) -> Option<(Session, Arc<str>)> {
        self.inner.cache.as_ref()?.live(id).await
    }

    async fn remember(&self, id: &SessionId, session: &Session, expires_at: i64, rev: String) {
        if let Some(cache) = &self.inner.cache {
            let cached = Cached::Live {
                data: Arc::clone(session.shared_data()),
                expires_at,
                rev: Arc::from(rev),
            };
            cache.remember(id, cached).await;
        }
    }

    async fn forget(&self, id: &SessionId) {
        if let Some(cache) = &self.inner.cache {
            cache.forget(id).await;
        }
    }

    /// Brings the cache in line with a write's outcome; `true` when the write
    /// landed, `false` after a conflict (having backed off for the retry).
    async fn settle(
        &self,
        id: &SessionId,
        written: Written,
        session: &Session,
        expires_at: i64,
        attempt: usize,
    ) -> bool {
        match written {
            Written::Rev(rev) if expires_at > expiry::unix_millis(OffsetDateTime::now_utc()) => {
                self.remember(id, session, expires_at, rev).await;
                true
            }
            Written::Rev(_) => {
                self.forget(id).await;
                true
            }
            Written::Conflict => {
                self.forget(id).await;
                back_off(attempt).await;
                false
            }
        }
    }

    /// Writes `session` over whatever the id holds, unless it is tombstoned.
    async fn write(&self, id: &SessionId, session: &Session, create: bool) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let expires_at = expiry::unix_millis(self.inner.lifetimes.expiry_of(session, now));
        let doc_id = doc::doc_id(id);
        for attempt in 0..WRITE_ATTEMPTS {
            let current = if create && attempt == 0 {
                None
            } else {
                self.current_with_hint(id, &doc_id, attempt).await?
            };
            match &current {
                Some(Current {
                    state: State::Tombstone,
                    ..
                }) => return Err(Error::Destroyed),
                Some(Current {
                    state: State::Live, ..
                }) if create => return Err(Error::AlreadyExists),
                _ => {}
            }
            let rev = current.as_ref().map(|c| c.rev.as_str());
            let written = if expires_at <= expiry::unix_millis(OffsetDateTime::now_utc()) {
                match rev {
                    Some(rev) => self.inner.couch.delete(&doc_id, rev).await?,
                    None if create && attempt == 0 => continue, // look before concluding
                    None => return Ok(()),
                }
            } else {
                let body = doc::live_body(&*self.inner.codec, &doc_id, rev, session.data(), expires_at)?;
                self.inner.couch.put(&doc_id, body).await?
            };
            if self.settle(id, written, session, expires_at, attempt).await {
                return Ok(());
            }
        }
        Err(gave_up())
    }
}

/// The error of a write that met a revision conflict on every attempt.
fn gave_up() -> Error {
    Error::Backend(format!("gave up after {WRITE_ATTEMPTS} revision conflicts").into())
}

/// Waits a random 0..2^attempt milliseconds (at most 64), so writers that
/// keep colliding on one document fall out of step.
async fn back_off(attempt: usize) {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let ceiling = 1u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(byte[0]) % ceiling)).await;
}

impl fmt::Debug for CouchStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("CouchStore")
            .field("database", &inner.couch.db)
            .field("lifetimes", &inner.lifetimes)
            .field("codec", &inner.codec)
            .field("cache", &inner.cache.is_some())
            .field("disable_touch", &inner.disable_touch)
            .field("timeout", &inner.couch.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct AllDocs<'a> {
    #[serde(borrow)]
    rows: Vec<Row<'a>>,
}

#[derive(Deserialize)]
struct Row<'a> {
    id: String,
    #[serde(borrow, default)]
    doc: Option<&'a RawValue>,
}

impl CouchStore {
    /// One page of `_all_docs` after `after`: live sessions, the last key,
    /// and whether more may follow.
    async fn page(
        &self,
        after: Option<&str>,
    ) -> Result<(VecDeque<Result<(SessionId, Session)>>, Option<String>, bool)> {
        let body = self.inner.couch.all_docs(after, PAGE).await?;
        let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
        let more = page.rows.len() == PAGE;
        let last = page.rows.last().map(|row| row.id.clone());
        let now = OffsetDateTime::now_utc();
        let sessions = page
            .rows
            .iter()
            .filter_map(|row| {
                let stored = doc::parse(row.doc?.get().as_bytes());
                match stored {
                    Ok(stored) if matches!(stored.state(now), State::Live) => Some(
                        doc::session_id(&row.id).and_then(|id| Ok((id, stored.session(&*self.inner.codec)?))),
                    ),
                    Ok(_) => None,
                    Err(error) => Some(Err(error)),
                }
            })
            .collect();
        Ok((sessions, last, more))
    }
}

#[async_trait]
impl Store for CouchStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        if let Some((session, _)) = self.cached_live(id).await {
            return Ok(Some(session));
        }
        let Some(body) = self.inner.couch.get(&doc::doc_id(id)).await? else {
            return Ok(None);
        };
        let stored: Stored<'_> = doc::parse(&body)?;
        if !matches!(stored.state(OffsetDateTime::now_utc()), State::Live) {
            return Ok(None);
        }
        let session = stored.session(&*self.inner.codec)?;
        self.remember(id, &session, stored.expires_at, stored.rev.clone())
            .await;
        Ok(Some(session))
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.write(id, session, false).await
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.write(id, session, true).await
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        if self.inner.disable_touch {
            return Ok(());
        }
        let expires_at = self
            .inner
            .lifetimes
            .expiry_or_default(expires_at, OffsetDateTime::now_utc());
        let doc_id = doc::doc_id(id);
        for attempt in 0..WRITE_ATTEMPTS {
            let Some(body) = self.inner.couch.get(&doc_id).await? else {
                return Err(Error::NotFound);
            };
            let stored = doc::parse(&body)?;
            match stored.state(OffsetDateTime::now_utc()) {
                State::Tombstone => return Err(Error::Destroyed),
                State::Dead => return Err(Error::NotFound),
                State::Live => {}
            }
            let session = stored.session(&*self.inner.codec)?.expiring_at(expires_at);
            let written = if expires_at <= OffsetDateTime::now_utc() {
                self.inner.couch.delete(&doc_id, &stored.rev).await?
            } else {
                let at = expiry::unix_millis(expires_at);
                let body =
                    doc::live_body(&*self.inner.codec, &doc_id, Some(&stored.rev), session.data(), at)?;
                self.inner.couch.put(&doc_id, body).await?
            };
            if self
                .settle(id, written, &session, expiry::unix_millis(expires_at), attempt)
                .await
            {
                return Ok(());
            }
        }
        Err(gave_up())
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        self.forget(id).await;
        let doc_id = doc::doc_id(id);
        let until = self.inner.lifetimes.tombstone_until(OffsetDateTime::now_utc());
        for attempt in 0..WRITE_ATTEMPTS {
            let current = self.current(&doc_id).await?;
            let written = match (until, &current) {
                (Some(until), current) => {
                    let body = doc::tombstone_body(
                        &doc_id,
                        current.as_ref().map(|c| c.rev.as_str()),
                        expiry::unix_millis(until),
                    );
                    self.inner.couch.put(&doc_id, body).await?
                }
                (None, Some(current)) => self.inner.couch.delete(&doc_id, &current.rev).await?,
                (None, None) => return Ok(()),
            };
            if let Written::Rev(_) = written {
                self.forget(id).await; // a racing read may have cached the old revision
                return Ok(());
            }
            back_off(attempt).await;
        }
        Err(gave_up())
    }

    fn all_stream(&self) -> SessionStream<'_> {
        let start: (Option<String>, Batch, bool) = (None, VecDeque::new(), true);
        Box::pin(stream::unfold(Some(start), move |state| async move {
            let (mut after, mut batch, mut more) = state?;
            loop {
                if let Some(item) = batch.pop_front() {
                    return Some((item, Some((after, batch, more))));
                }
                if !more {
                    return None;
                }
                match self.page(after.as_deref()).await {
                    Ok((page, last, has_more)) => {
                        batch = page;
                        more = has_more;
                        if last.is_some() {
                            after = last;
                        }
                    }
                    Err(error) => return Some((Err(error), None)),
                }
            }
        }))
    }

    async fn length(&self) -> Result<u64> {
        let mut after = None;
        let mut live = 0;
        loop {
            let (page, last, more) = self.page(after.as_deref()).await?;
            live += page.iter().filter(|item| item.is_ok()).count() as u64;
            if !more {
                return Ok(live);
            }
            after = last;
        }
    }

    async fn clear(&self) -> Result<()> {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
        crate::purge::delete_all(&self.inner.couch).await
    }
}

#[async_trait]
impl session_core::PurgeExpired for CouchStore {
    async fn purge_expired(&self) -> Result<u64> {
        CouchStore::purge_expired(self).await
    }
}
