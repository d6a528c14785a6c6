//! The defect `Bug::StaleReadCache`: `get` results kept for a few
//! milliseconds and served again, never invalidated by writes.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use session_core::Session;

/// How long a cached read is served.
const SERVED_FOR: Duration = Duration::from_millis(10);

#[derive(Default)]
pub(crate) struct ReadCache(Mutex<HashMap<String, (Instant, Option<Session>)>>);

impl ReadCache {
    /// What `get` of `key` returned within the last [`SERVED_FOR`], if anything.
    pub(crate) fn recent(&self, key: &str) -> Option<Option<Session>> {
        let cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < SERVED_FOR)
            .map(|(_, found)| found.clone())
    }

    pub(crate) fn keep(&self, key: String, found: Option<Session>) {
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(key, (Instant::now(), found));
    }
}
