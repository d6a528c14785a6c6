//! What a benchmark does to a subject (by key index), and the subjects
//! every backend has: our store, and a tower-sessions peer.
//!
//! Every operation says how it went: a get that finds nothing, a touch of a
//! missing key or any error is a failure, counted by the harness. A subject
//! that silently does nothing (as a peer filled the wrong way once did) can
//! then never pass for a fast one.

use std::time::Duration;

use async_trait::async_trait;
use session_core::{Session, SessionData, SessionId, Store};
use time::OffsetDateTime;

/// How one operation went: `Err` says what went wrong.
pub type Outcome = Result<(), String>;

#[async_trait]
pub trait Subject: Send + Sync {
    /// Reads `key`; finding nothing is a failure.
    async fn get(&self, key: usize) -> Outcome;
    async fn set(&self, key: usize) -> Outcome;
    /// Moves `key`'s expiry; a missing key is a failure.
    async fn touch(&self, key: usize) -> Outcome;
    /// Stores `key` for the first time, the way this subject's users would
    /// (a store's `create`; a plain write for a raw client).
    async fn fill(&self, key: usize) -> Outcome {
        self.set(key).await
    }
    /// The data under `key`, decoded, for the check before timing.
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String>;
    /// Anything else this subject must prove after a read of `key` (the near
    /// cache: that it now holds the session).
    fn after_read(&self, _key: usize) -> Outcome {
        Ok(())
    }
}

/// A 1 KiB session: a user, a counter, and filler.
pub fn data() -> SessionData {
    let mut data = SessionData::new();
    data.insert("user".into(), "ada@example.com".into());
    data.insert("visits".into(), 42.into());
    data.insert("blob".into(), "x".repeat(1024 - 60).into());
    data
}

pub fn later() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(3600)
}

/// A found value, kept from the optimiser; nothing found is a failure.
pub fn found<T>(value: Option<T>) -> Outcome {
    match value {
        Some(value) => {
            std::hint::black_box(value);
            Ok(())
        }
        None => Err("found nothing".into()),
    }
}

pub struct Ours<S> {
    pub store: S,
    pub ids: Vec<SessionId>,
    pub session: Session,
}

#[async_trait]
impl<S: Store> Subject for Ours<S> {
    async fn get(&self, key: usize) -> Outcome {
        found(self.store.get(&self.ids[key]).await.map_err(|e| e.to_string())?)
    }
    async fn set(&self, key: usize) -> Outcome {
        // A fresh expiry on every write, as every subject does: a database
        // may skip rewriting an identical row, which would flatter the subject.
        let session = self.session.clone().expiring_at(later());
        self.store
            .set(&self.ids[key], &session)
            .await
            .map_err(|e| e.to_string())
    }
    async fn touch(&self, key: usize) -> Outcome {
        self.store
            .touch(&self.ids[key], Some(later()))
            .await
            .map_err(|e| e.to_string())
    }
    async fn fill(&self, key: usize) -> Outcome {
        let session = self.session.clone().expiring_at(later());
        self.store
            .create(&self.ids[key], &session)
            .await
            .map_err(|e| format!("create: {e}"))
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        let session = self.store.get(&self.ids[key]).await.map_err(|e| e.to_string())?;
        Ok(session.map(|session| session.data().clone()))
    }
}

/// A tower-sessions store (tower has no touch: it saves the record again).
pub struct Tower<S, R> {
    pub store: S,
    pub records: Vec<R>,
}

/// The same subject for both tower-sessions-core versions the peers use.
macro_rules! tower_subject {
    ($core:ident) => {
        #[async_trait]
        impl<S: $core::SessionStore> Subject for Tower<S, $core::session::Record> {
            async fn get(&self, key: usize) -> Outcome {
                found(
                    self.store
                        .load(&self.records[key].id)
                        .await
                        .map_err(|e| e.to_string())?,
                )
            }
            async fn set(&self, key: usize) -> Outcome {
                // A fresh expiry, as for every subject (tower-sessions builds
                // a new record on every save anyway).
                let mut record = self.records[key].clone();
                record.expiry_date = later();
                self.store.save(&record).await.map_err(|e| e.to_string())
            }
            async fn touch(&self, key: usize) -> Outcome {
                self.set(key).await
            }
            async fn fill(&self, key: usize) -> Outcome {
                // tower-sessions creates a new session with `create` (which
                // may pick another id on a collision), then saves it.
                let mut record = self.records[key].clone();
                self.store
                    .create(&mut record)
                    .await
                    .map_err(|e| format!("create: {e}"))?;
                if record.id != self.records[key].id {
                    return Err("create chose another id".into());
                }
                Ok(())
            }
            async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
                let record = self
                    .store
                    .load(&self.records[key].id)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(record.map(|record| record.data.into_iter().collect()))
            }
        }
    };
}

tower_subject!(tower_sessions_core);
tower_subject!(tower_sessions_core_014);

/// `keys` records of `data` for a tower-sessions-core version.
macro_rules! records {
    ($core:ident, $data:expr, $keys:expr) => {
        (0..$keys)
            .map(|_| $core::session::Record {
                id: $core::session::Id::default(),
                data: $data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                expiry_date: $crate::subject::later(),
            })
            .collect::<Vec<_>>()
    };
}

pub(crate) use records;

/// `keys` fresh session ids and a 1 KiB session expiring in an hour.
pub fn ids_and_session(keys: usize) -> (Vec<SessionId>, Session) {
    (
        (0..keys).map(|_| SessionId::generate()).collect(),
        Session::from_data(data()).expiring_at(later()),
    )
}

/// A backend's subjects, by name, in the order they are reported.
pub type Subjects = Vec<(String, std::sync::Arc<dyn Subject>)>;
