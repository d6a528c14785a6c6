//! The memory store against raw moka (the reference) and the Rust peers:
//! tower-sessions' MemoryStore and tower-sessions-moka-store.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use crate::subject::{Ours, Subject, Tower, data, later, records};
use moka::future::Cache;
use session_core::{Session, SessionData, SessionId};
use session_memory::MemoryStore;

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
