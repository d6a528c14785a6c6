//! The CouchDB store, uncached and cached, against raw couch_rs (the
//! reference); the memory store rides along because the cached store's get
//! is held to half its speed.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use couch_rs::{Client, database::Database};
use serde_json::{Value, json};
use session_core::{SessionData, backend::unix_millis};
use session_couch::CouchStore;

use crate::subject::{Ours, Outcome, Subject, Subjects, data, found, ids_and_session, later};

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

/// Writes that lose to another worker's write of the same document are
/// tried again with the winner's revision, at most this many times.
const CONFLICT_RETRIES: usize = 10;
const HTTP_CONFLICT: u16 = 409;

impl RawCouch {
    /// Overwrites the document, as a blind write would: on a conflict,
    /// learns the current revision and tries again.
    async fn put(&self, key: usize) -> Outcome {
        let mut last_error = String::new();
        for _ in 0..CONFLICT_RETRIES {
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
                Ok(created) => Some(created.rev),
                Err(e) if e.status().is_some_and(|status| status.as_u16() == HTTP_CONFLICT) => {
                    last_error = e.to_string();
                    let current = self.db.get_raw(&self.ids[key]).await.map_err(|e| e.to_string())?;
                    self.remember(key, current["_rev"].as_str().unwrap_or_default().to_owned());
                    None
                }
                Err(e) => return Err(e.to_string()),
            };
            if let Some(rev) = rev {
                self.remember(key, rev);
                return Ok(());
            }
        }
        Err(format!(
            "still conflicting after {CONFLICT_RETRIES} tries: {last_error}"
        ))
    }

    fn remember(&self, key: usize, rev: String) {
        if let Ok(mut slot) = self.revs[key].lock() {
            *slot = rev;
        }
    }
}

#[async_trait]
impl Subject for RawCouch {
    async fn get(&self, key: usize) -> Outcome {
        found(Some(
            self.db.get_raw(&self.ids[key]).await.map_err(|e| e.to_string())?,
        ))
    }
    async fn set(&self, key: usize) -> Outcome {
        self.put(key).await
    }
    async fn touch(&self, key: usize) -> Outcome {
        self.put(key).await
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        let doc = match self.db.get_raw(&self.ids[key]).await {
            Ok(doc) => doc,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let data = doc["data"].as_str().ok_or("the document has no data string")?;
        serde_json::from_str(data).map(Some).map_err(|e| e.to_string())
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

/// The CouchDB subjects for `keys` sessions (not yet filled), raw couch_rs
/// first, and the cached store, which must follow its feed before timing.
pub async fn subjects(keys: usize) -> Result<(Subjects, CouchStore), String> {
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
    let subjects: Subjects = vec![
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
    Ok((subjects, cached))
}
