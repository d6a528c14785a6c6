//! The memory store against raw moka (the reference) and the Rust peers:
//! tower-sessions' MemoryStore and tower-sessions-moka-store.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use crate::subject::{Ours, Outcome, Subject, Subjects, Tower, data, found, later, records};
use moka::{Expiry, future::Cache};
use session_core::{Session, SessionData, SessionId};
use session_memory::MemoryStore;

/// A value with the moment it expires, as a session store must keep.
#[derive(Clone)]
pub struct Expiring {
    data: Arc<SessionData>,
    expires_at: Instant,
}

/// Tells moka to drop each entry at its own deadline.
struct PerEntry;

impl Expiry<String, Expiring> for PerEntry {
    fn expire_after_create(&self, _: &String, value: &Expiring, now: Instant) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
    fn expire_after_update(
        &self,
        _: &String,
        value: &Expiring,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
}

/// Raw moka holding the same shared data. With `per_entry`, each entry
/// carries its own expiry like a session (the reference: sessions expire
/// at different times); without, one TTL for the whole cache (for context).
pub struct RawMoka {
    pub cache: Cache<String, Expiring>,
    pub keys: Vec<String>,
    pub data: Arc<SessionData>,
}

impl RawMoka {
    fn new(per_entry: bool, keys: Vec<String>, data: Arc<SessionData>) -> Self {
        let cache = if per_entry {
            Cache::builder().expire_after(PerEntry).build()
        } else {
            Cache::builder().time_to_live(Duration::from_secs(3600)).build()
        };
        Self { cache, keys, data }
    }
}

#[async_trait]
impl Subject for RawMoka {
    async fn get(&self, key: usize) -> Outcome {
        found(self.cache.get(&self.keys[key]).await.map(|value| value.data))
    }
    async fn set(&self, key: usize) -> Outcome {
        let value = Expiring {
            data: Arc::clone(&self.data),
            expires_at: Instant::now() + Duration::from_secs(3600),
        };
        self.cache.insert(self.keys[key].clone(), value).await;
        Ok(())
    }
    async fn touch(&self, key: usize) -> Outcome {
        // moka has no touch: re-insert the value, as a store without one would.
        let Some(mut value) = self.cache.get(&self.keys[key]).await else {
            return Err("no such key".into());
        };
        value.expires_at = Instant::now() + Duration::from_secs(3600);
        self.cache.insert(self.keys[key].clone(), value).await;
        Ok(())
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        Ok(self
            .cache
            .get(&self.keys[key])
            .await
            .map(|value| (*value.data).clone()))
    }
}

/// Raw moka's synchronous cache (the one session-memory is built on), with
/// per-entry expiry: tells the cost of the cache flavour from our own.
pub struct RawMokaSync {
    pub cache: moka::sync::Cache<String, Expiring>,
    pub keys: Vec<String>,
    pub data: Arc<SessionData>,
}

impl RawMokaSync {
    fn entry(&self) -> Expiring {
        Expiring {
            data: Arc::clone(&self.data),
            expires_at: Instant::now() + Duration::from_secs(3600),
        }
    }
}

#[async_trait]
impl Subject for RawMokaSync {
    async fn get(&self, key: usize) -> Outcome {
        found(self.cache.get(&self.keys[key]).map(|value| value.data))
    }
    async fn set(&self, key: usize) -> Outcome {
        self.cache.insert(self.keys[key].clone(), self.entry());
        Ok(())
    }
    async fn touch(&self, key: usize) -> Outcome {
        let Some(mut value) = self.cache.get(&self.keys[key]) else {
            return Err("no such key".into());
        };
        value.expires_at = Instant::now() + Duration::from_secs(3600);
        self.cache.insert(self.keys[key].clone(), value);
        Ok(())
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        Ok(self.cache.get(&self.keys[key]).map(|value| (*value.data).clone()))
    }
}

/// The memory subjects for `keys` sessions (not yet filled); raw moka first.
pub fn subjects(keys: usize) -> Subjects {
    let data = data();
    let session = Session::from_data(data.clone()).expiring_at(later());
    let ids: Vec<SessionId> = (0..keys).map(|_| SessionId::generate()).collect();

    let ours = Ours {
        store: MemoryStore::new(),
        ids: ids.clone(),
        session: session.clone(),
    };
    let keys_of = || ids.iter().map(|id| id.as_str().to_owned()).collect();
    let raw = RawMoka::new(true, keys_of(), Arc::new(data.clone()));
    let raw_one_ttl = RawMoka::new(false, keys_of(), Arc::new(data.clone()));
    let tower_memory = Tower {
        store: tower_sessions_memory_store::MemoryStore::default(),
        records: records!(tower_sessions_core, data, keys),
    };
    let tower_moka = Tower {
        store: tower_sessions_moka_store::MokaStore::new(Some(keys as u64 * 2)),
        records: records!(tower_sessions_core_014, data, keys),
    };

    vec![
        ("raw moka, per-entry expiry (reference)".into(), Arc::new(raw)),
        ("raw moka, one TTL for all".into(), Arc::new(raw_one_ttl)),
        (
            "raw moka sync cache, per-entry expiry (context)".into(),
            Arc::new(RawMokaSync {
                cache: moka::sync::Cache::builder().expire_after(PerEntry).build(),
                keys: keys_of(),
                data: Arc::new(data.clone()),
            }),
        ),
        ("session-memory (ours)".into(), Arc::new(ours)),
        ("tower-sessions MemoryStore".into(), Arc::new(tower_memory)),
        ("tower-sessions-moka-store".into(), Arc::new(tower_moka)),
    ]
}
