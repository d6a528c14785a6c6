//! Use any [`session_core::Store`] as a [tower-sessions] `SessionStore`, so
//! an axum (or any tower) app gets cookies, loading and saving from
//! tower-sessions' middleware and its sessions from one of our stores.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use session_memory::MemoryStore;
//! use session_tower::TowerStore;
//! use tower_sessions::{Session, SessionManagerLayer};
//!
//! async fn visits(session: Session) -> String {
//!     let n: u64 = session.get("visits").await.ok().flatten().unwrap_or(0) + 1;
//!     let _ = session.insert("visits", n).await;
//!     format!("visit number {n}")
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(visits))
//!     .layer(SessionManagerLayer::new(TowerStore::new(MemoryStore::new())));
//! ```
//!
//! * `create` goes through the store's atomic [`Store::create`], always
//!   under a fresh id: tower-sessions keeps the old id in the record after
//!   `flush()`, and creating under it would let a session id survive a
//!   re-login (session fixation). On an id collision it retries with
//!   another fresh id, so no session is ever overwritten.
//! * `load` is [`Store::get_versioned`], `delete` is [`Store::destroy`]
//!   (which leaves a tombstone).
//! * `save` lands only the keys its request changed, through
//!   [`Store::update`], so parallel requests of one user keep each other's
//!   writes (rule 10). tower-sessions saves whole records and does not say
//!   which `load` a record came from, so the adapter remembers the states
//!   it loaded per id (up to 8 per id, 100 000 ids, for 5 minutes idle) and
//!   measures a record from the one nearest to it. When it remembers none
//!   (a request that ran longer than that, or many other ids loaded
//!   meanwhile) the save replaces the whole session, as with any other
//!   tower-sessions store. A save refused because
//!   the session was destroyed (a logout racing a slow request) is reported
//!   as an error, never as a silent success.
//! * `ExpiredDeletion` is there for stores with a purge (SQL, CouchDB).
//!
//! [tower-sessions]: https://crates.io/crates/tower-sessions
#![forbid(unsafe_code)]

mod bases;

use std::fmt;

use async_trait::async_trait;
use bases::Bases;
use session_core::{Error, PurgeExpired, Session, SessionId, Store, Versioned};
use tower_sessions_core::{
    ExpiredDeletion, SessionStore,
    session::{Id, Record},
    session_store,
};

/// Attempts of `create` with fresh ids before giving up (a collision of
/// 128-bit random ids is already astronomically unlikely).
const CREATE_ATTEMPTS: usize = 8;

/// A [`Store`] seen as a tower-sessions `SessionStore`.
#[derive(Clone)]
pub struct TowerStore<S> {
    store: S,
    /// What recent loads read, for saves to land only their changes.
    bases: Bases,
}

impl<S> TowerStore<S> {
    /// Wraps `store`.
    pub fn new(store: S) -> Self {
        Self {
            store,
            bases: Bases::default(),
        }
    }

    /// The wrapped store (for `all`, `length`, `clear` and the like).
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: fmt::Debug> fmt::Debug for TowerStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TowerStore").field(&self.store).finish()
    }
}

/// Our id for a tower-sessions id (its 22-character URL-safe form).
pub fn session_id(id: &Id) -> Result<SessionId, session_store::Error> {
    SessionId::parse(&id.to_string()).map_err(|e| session_store::Error::Decode(e.to_string()))
}

fn session_of(record: &Record) -> Result<Session, session_store::Error> {
    let data = record.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Session::from_data(data).expiring_at(record.expiry_date))
}

fn to_tower(error: Error) -> session_store::Error {
    match error {
        Error::Encode(e) => session_store::Error::Encode(e.to_string()),
        Error::Decode(e) => session_store::Error::Decode(e.to_string()),
        other => session_store::Error::Backend(other.to_string()),
    }
}

#[async_trait]
impl<S: Store + 'static> SessionStore for TowerStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let session = session_of(record)?;
        for _ in 0..CREATE_ATTEMPTS {
            // Never the id the record came with: after `flush()` it is the
            // logged-out session's (tower-sessions keeps it).
            record.id = Id::default();
            match self.store.create(&session_id(&record.id)?, &session).await {
                Ok(()) => return Ok(()),
                // Taken, or recently destroyed: either way, not this id.
                Err(Error::AlreadyExists | Error::Destroyed) => {}
                Err(error) => return Err(to_tower(error)),
            }
        }
        Err(session_store::Error::Backend(format!(
            "no free session id after {CREATE_ATTEMPTS} attempts"
        )))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, session) = (session_id(&record.id)?, session_of(record)?);
        let saved = match self.bases.changes_to(&id, session.data()) {
            Some((changes, read_at)) => self.store.update(&id, &session, &changes, &read_at).await,
            None => self.store.set(&id, &session).await,
        };
        saved.map_err(to_tower)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let our_id = session_id(id)?;
        let Some(Versioned { session, version }) =
            self.store.get_versioned(&our_id).await.map_err(to_tower)?
        else {
            return Ok(None);
        };
        self.bases.loaded(&our_id, session.data(), version);
        let expiry_date = session
            .expires_at()
            .ok_or_else(|| session_store::Error::Decode("a stored session without an expiry".into()))?;
        let data = session.into_data().into_iter().collect();
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.destroy(&session_id(id)?).await.map_err(to_tower)
    }
}

#[async_trait]
impl<S: Store + PurgeExpired + 'static> ExpiredDeletion for TowerStore<S> {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store.purge_expired().await.map(drop).map_err(to_tower)
    }
}
