//! The memory store against raw moka (the reference) and the Rust peers:
//! tower-sessions' MemoryStore and tower-sessions-moka-store.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use moka::future::Cache;
use session_core::{Session, SessionData, SessionId, Store};
use session_memory::MemoryStore;
use time::OffsetDateTime;

/// What a benchmark does to a subject, by key index.
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

fn later() -> OffsetDateTime {
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
        std::hint::black_box(self.store.set(&self.ids[key], &self.session).await.ok());
    }
    async fn touch(&self, key: usize) {
        std::hint::black_box(self.store.touch(&self.ids[key], Some(later())).await.ok());
    }
}

/// Raw moka holding the same shared data, with per-entry TTL like ours.
pub struct RawMoka {
    pub cache: Cache<String, Arc<SessionData>>,
    pub keys: Vec<String>,
    pub data: Arc<SessionData>,
}

#[async_trait]
impl Subject for RawMoka {
    async fn get(&self, key: usize) {
        std::hint::black_box(self.cache.get(&self.keys[key]).await);
    }
    async fn set(&self, key: usize) {
        self.cache
            .insert(self.keys[key].clone(), Arc::clone(&self.data))
            .await;
    }
    async fn touch(&self, key: usize) {
        // moka has no touch: re-insert the value, as a store without one would.
        if let Some(value) = self.cache.get(&self.keys[key]).await {
            self.cache.insert(self.keys[key].clone(), value).await;
        }
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
                std::hint::black_box(self.store.save(&self.records[key]).await.ok());
            }
            async fn touch(&self, key: usize) {
                let mut record = self.records[key].clone();
                record.expiry_date = later();
                std::hint::black_box(self.store.save(&record).await.ok());
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
                expiry_date: later(),
            })
            .collect::<Vec<_>>()
    };
}

/// The memory subjects, each filled with `keys` sessions; raw moka first.
pub async fn subjects(keys: usize) -> Vec<(String, Arc<dyn Subject>)> {
    let data = data();
    let session = Session::from_data(data.clone()).expiring_at(later());
    let ids: Vec<SessionId> = (0..keys).map(|_| SessionId::generate()).collect();

    let ours = Ours {
        store: MemoryStore::new(),
        ids: ids.clone(),
        session: session.clone(),
    };
    let raw = RawMoka {
        cache: Cache::builder().time_to_live(Duration::from_secs(3600)).build(),
        keys: ids.iter().map(|id| id.as_str().to_owned()).collect(),
        data: Arc::new(data.clone()),
    };
    let tower_memory = Tower {
        store: tower_sessions_memory_store::MemoryStore::default(),
        records: records!(tower_sessions_core, data, keys),
    };
    let tower_moka = Tower {
        store: tower_sessions_moka_store::MokaStore::new(Some(keys as u64 * 2)),
        records: records!(tower_sessions_core_014, data, keys),
    };

    let subjects: Vec<(String, Arc<dyn Subject>)> = vec![
        ("raw moka (reference)".into(), Arc::new(raw)),
        ("session-memory (ours)".into(), Arc::new(ours)),
        ("tower-sessions MemoryStore".into(), Arc::new(tower_memory)),
        ("tower-sessions-moka-store".into(), Arc::new(tower_moka)),
    ];
    for (_, subject) in &subjects {
        for key in 0..keys {
            subject.set(key).await;
        }
    }
    subjects
}
