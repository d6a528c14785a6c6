//! Following the database's `_changes` feed to keep the cache in sync with
//! every process's writes.
//!
//! The feed is opened from "now" and, after a failure, resumed from the last
//! sequence it delivered; the cache starts empty each time it connects, so
//! nothing missed in between can be served. A feed silent for longer than
//! its bound (twice the heartbeat) is dropped and opened again: its silence
//! may hide changes. Opening it has a deadline, and the task stops with the
//! store.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{
    Clock, Codec, backend,
    backend::{BackgroundTask, Occupant, within},
};

use crate::{
    cache::{Cache, Entry},
    http::Couch,
    native::doc,
    revision,
};

/// What the feed task needs.
pub(crate) struct Feed {
    pub(crate) couch: Couch,
    pub(crate) cache: Cache,
    pub(crate) codec: Arc<dyn Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) heartbeat: Duration,
}

/// The longest silence after which the feed is no longer trusted.
pub(crate) fn silence_bound(heartbeat: Duration) -> Duration {
    heartbeat.saturating_mul(2)
}

/// Starts following the feed; it stops when the returned task is dropped.
pub(crate) fn follow(feed: Feed) -> BackgroundTask {
    BackgroundTask::spawn(feed.run())
}

impl Feed {
    async fn run(self) {
        let silence = silence_bound(self.heartbeat);
        // PouchDB Server answers a continuous feed with its first line, a
        // heartbeat at the latest: allow for it on top of the timeout.
        let opening = self.couch.timeout.saturating_add(silence);
        let mut since = "now".to_owned();
        let mut backoff = Duration::from_millis(50);
        loop {
            since = resume_point(&self.couch, since).await;
            match within(opening, self.couch.changes(&since, self.heartbeat)).await {
                Ok(response) => {
                    // Whatever changed while disconnected is unknown: start empty.
                    self.cache.clear();
                    self.cache.feed().renew();
                    backoff = Duration::from_millis(50);
                    self.read(response, silence, &mut since).await;
                    self.cache.feed().end();
                    tracing::debug!("the _changes feed ended or went silent; reconnecting");
                }
                Err(error) => tracing::warn!(%error, "the _changes feed failed; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Applies the feed's lines until it ends, fails or stays silent for
    /// `silence`, recording in `since` the last sequence applied.
    async fn read(&self, response: reqwest::Response, silence: Duration, since: &mut String) {
        let mut body = response.bytes_stream();
        let mut pending = Vec::new();
        while let Ok(Some(Ok(bytes))) = tokio::time::timeout(silence, body.next()).await {
            pending.extend_from_slice(&bytes);
            let mut start = 0;
            while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
                if let Some(seq) = self.apply(&pending[start..start + end]) {
                    *since = seq;
                }
                start += end + 1;
            }
            pending.drain(..start);
            // Heard only once the chunk is applied: trust follows what was applied.
            self.cache.feed().renew();
        }
    }

    /// Applies one feed line; returns its sequence to resume from.
    fn apply(&self, line: &[u8]) -> Option<String> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return None; // heartbeat
        }
        let change: Change<'_> = serde_json::from_slice(line).ok()?;
        let seq = match &change.seq {
            serde_json::Value::String(seq) => seq.clone(), // CouchDB 2+
            other => other.to_string(),                    // PouchDB: a number
        };
        if let Ok(id) = doc::session_id(&change.id) {
            let generation = change.changes.first().map_or(0, |c| revision::generation(&c.rev));
            self.cache.observe(&id, generation, || self.live_entry(&change));
        }
        Some(seq)
    }

    /// The live session a change carries, if it carries one.
    fn live_entry(&self, change: &Change<'_>) -> Option<Entry> {
        if change.deleted {
            return None;
        }
        let stored = doc::parse(change.doc?.get().as_bytes()).ok()?;
        let now = backend::unix_millis(self.clock.now());
        if stored.occupant(now) != Occupant::Live {
            return None;
        }
        let data = stored.data(&*self.codec).ok()?;
        let expires_at = backend::from_unix_millis(stored.expires_at).ok()?;
        Some(Entry::new(Arc::new(data), expires_at, &stored.rev))
    }
}

/// One line of the continuous feed.
#[derive(Deserialize)]
struct Change<'a> {
    seq: serde_json::Value,
    id: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    changes: Vec<ChangeRev>,
    #[serde(borrow, default)]
    doc: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChangeRev {
    rev: String,
}

/// Where to resume: the last sequence seen, unless the database's own
/// sequence is now behind it (the database was recreated), in which case
/// resuming would skip changes: start from now instead. The cache restarts
/// empty either way.
async fn resume_point(couch: &Couch, since: String) -> String {
    let Some(ours) = seq_number(&since) else {
        return since;
    };
    match couch.update_seq().await {
        Ok(Some(theirs)) if seq_number(&theirs).is_some_and(|theirs| theirs < ours) => "now".to_owned(),
        _ => since,
    }
}

/// The numeric part of a sequence: PouchDB's are numbers, CouchDB's start
/// with one (`"42-g1AAAA..."`).
fn seq_number(seq: &str) -> Option<u64> {
    let digits: String = seq.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_of_both_servers_parse() {
        assert_eq!(seq_number("42"), Some(42));
        assert_eq!(seq_number("42-g1AAAAFTeJzLYWBg"), Some(42));
        assert_eq!(seq_number("now"), None);
    }

    #[test]
    fn the_feed_is_trusted_for_two_heartbeats() {
        assert_eq!(silence_bound(Duration::from_secs(1)), Duration::from_secs(2));
    }
}
