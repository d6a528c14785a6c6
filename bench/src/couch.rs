//! The CouchDB store, uncached and cached, against raw couch_rs (the
//! reference); the memory store rides along because the cached store's get
//! is held to half its speed.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use couch_rs::{Client, database::Database};
use serde_json::{Value, json};
use session_core::expiry::unix_millis;
use session_couch::CouchStore;

use crate::subject::{Ours, Subject, data, ids_and_session, later};

pub fn url() -> String {
    std::env::var("COUCH_URL").unwrap_or_else(|_| "http://127.0.0.1:5984".into())
}

/// Raw couch_rs: the same document shape as ours; a write is one PUT with
/// the revision this subject last saw (CouchDB has no blind overwrite).
pub struct RawCouch {
    db: Database,
    ids: Vec<String>,
    revs: Vec<Mutex<String>>,
    data: String,
}

impl RawCouch {
    async fn put(&self, key: usize) {
        let rev = self.revs[key].lock().map(|rev| rev.clone()).unwrap_or_default();
        let mut doc = json!({
            "_id": self.ids[key],
            "expires_at": unix_millis(later()),
            "destroyed": false,
            "data": self.data,
        });
        if !rev.is_empty() {
            doc["_rev"] = Value::String(rev);
        }
        let rev = match self.db.save(&mut doc).await {
            Ok(created) => created.rev,
            // Another worker won the race: learn the winner's revision.
            Err(_) => match self.db.get_raw(&self.ids[key]).await {
                Ok(current) => current["_rev"].as_str().unwrap_or_default().to_owned(),
                Err(_) => return,
            },
        };
        if let Ok(mut slot) = self.revs[key].lock() {
            *slot = rev;
        }
    }
}

#[async_trait]
impl Subject for RawCouch {
    async fn get(&self, key: usize) {
        std::hint::black_box(self.db.get_raw(&self.ids[key]).await.ok());
    }
    async fn set(&self, key: usize) {
        self.put(key).await;
    }
    async fn touch(&self, key: usize) {
        self.put(key).await;
    }
}

/// A fresh database (an earlier run's is dropped first).
pub async fn fresh_database(client: &Client, name: &str) -> Result<Database, String> {
    let _ = client.destroy_db(name).await;
    client
        .db(name)
        .await
        .map_err(|e| format!("CouchDB at {}: {e}", url()))
}

/// Our store on a fresh database `name`, cached or not, with no background purge.
pub async fn ours(client: &Client, name: &str, cache: bool) -> Result<CouchStore, String> {
    fresh_database(client, name).await?;
    CouchStore::builder()
        .url(url())
        .database(name)
        .cache(cache)
        .purge_interval(None)
        .build()
        .await
        .map_err(|e| e.to_string())
}

/// Waits until a cached store follows the feed (its reads come from memory only then).
pub async fn synced(store: &CouchStore) -> Result<(), String> {
    for _ in 0..500 {
        if store.is_synced() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err("the cached CouchDB store never synced with the _changes feed".into())
}

/// The CouchDB subjects, each filled with `keys` sessions; raw couch_rs first.
pub async fn subjects(keys: usize) -> Result<Vec<(String, Arc<dyn Subject>)>, String> {
    let client = Client::new_no_auth(&url()).map_err(|e| e.to_string())?;
    let (ids, session) = ids_and_session(keys);
    let raw = RawCouch {
        db: fresh_database(&client, "bench_raw").await?,
        ids: ids.iter().map(|id| format!("s:{}", id.as_str())).collect(),
        revs: (0..keys).map(|_| Mutex::new(String::new())).collect(),
        data: serde_json::to_string(&data()).map_err(|e| e.to_string())?,
    };
    let cached = ours(&client, "bench_ours_cached", true).await?;
    let memory = session_memory::MemoryStore::new();
    let subjects: Vec<(String, Arc<dyn Subject>)> = vec![
        ("raw couch_rs (reference)".into(), Arc::new(raw)),
        (
            "session-couch (ours, uncached)".into(),
            Arc::new(Ours {
                store: ours(&client, "bench_ours", false).await?,
                ids: ids.clone(),
                session: session.clone(),
            }),
        ),
        (
            "session-couch (ours, cached)".into(),
            Arc::new(Ours {
                store: cached.clone(),
                ids: ids.clone(),
                session: session.clone(),
            }),
        ),
        (
            "session-memory (for the cached-get target)".into(),
            Arc::new(Ours {
                store: memory,
                ids,
                session,
            }),
        ),
    ];
    for (_, subject) in &subjects {
        for key in 0..keys {
            subject.set(key).await;
        }
    }
    synced(&cached).await?;
    Ok(subjects)
}
