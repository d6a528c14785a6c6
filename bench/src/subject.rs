//! What a benchmark does to a subject (by key index), and the subjects
//! every backend has: our store, and a tower-sessions peer.

use std::time::Duration;

use async_trait::async_trait;
use session_core::{Session, SessionData, SessionId, Store};
use time::OffsetDateTime;

#[async_trait]
pub trait Subject: Send + Sync {
    async fn get(&self, key: usize);
    async fn set(&self, key: usize);
    async fn touch(&self, key: usize);
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

pub struct Ours<S> {
    pub store: S,
    pub ids: Vec<SessionId>,
    pub session: Session,
}

#[async_trait]
impl<S: Store> Subject for Ours<S> {
    async fn get(&self, key: usize) {
        std::hint::black_box(self.store.get(&self.ids[key]).await.ok());
    }
    async fn set(&self, key: usize) {
        // A fresh expiry on every write, as every subject does: a database
        // may skip rewriting an identical row, which would flatter the subject.
        let session = self.session.clone().expiring_at(later());
        std::hint::black_box(self.store.set(&self.ids[key], &session).await.ok());
    }
    async fn touch(&self, key: usize) {
        std::hint::black_box(self.store.touch(&self.ids[key], Some(later())).await.ok());
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
            async fn get(&self, key: usize) {
                std::hint::black_box(self.store.load(&self.records[key].id).await.ok());
            }
            async fn set(&self, key: usize) {
                // A fresh expiry, as for every subject (tower-sessions builds
                // a new record on every save anyway).
                let mut record = self.records[key].clone();
                record.expiry_date = later();
                std::hint::black_box(self.store.save(&record).await.ok());
            }
            async fn touch(&self, key: usize) {
                self.set(key).await;
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
