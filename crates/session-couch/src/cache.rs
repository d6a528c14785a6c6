//! The in-process cache of live sessions, kept in sync with the database by
//! following its `_changes` feed.
//!
//! Entries carry the revision generation they reflect, so a slow read can
//! never overwrite a newer change the feed already applied. While the feed
//! is down the cache is bypassed; when it reconnects the cache starts empty,
//! so nothing missed in between can be served.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt as _;
use moka::{Expiry, future::Cache as Moka, ops::compute::Op};
use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Codec, Session, SessionData, SessionId, expiry};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    doc::{self, State},
    http::Couch,
};

/// What the cache holds for an id.
#[derive(Clone)]
pub(crate) enum Cached {
    /// A live session at revision `rev`.
    Live {
        data: Arc<SessionData>,
        expires_at: i64,
        rev: Arc<str>,
    },
    /// The feed saw revision generation `generation` (a change, a destroy, a
    /// deletion) for a session this process holds no data for: nothing to
    /// serve, but older reads must not fill the slot.
    Seen { generation: u64 },
}

impl Cached {
    fn generation(&self) -> u64 {
        match self {
            Self::Live { rev, .. } => doc::generation(rev),
            Self::Seen { generation } => *generation,
        }
    }
}

/// How long a `Seen` marker outlives the reads it guards against.
const SEEN_FOR: Duration = Duration::from_secs(30);

struct CachedExpiry;

impl CachedExpiry {
    fn keep(cached: &Cached) -> Option<Duration> {
        Some(match cached {
            Cached::Live { expires_at, .. } => {
                let left = expires_at.saturating_sub(expiry::unix_millis(OffsetDateTime::now_utc()));
                Duration::from_millis(u64::try_from(left).unwrap_or(0))
                    .min(Duration::from_secs(366 * 24 * 3600))
            }
            Cached::Seen { .. } => SEEN_FOR,
        })
    }
}

impl Expiry<SessionId, Cached> for CachedExpiry {
    fn expire_after_create(&self, _: &SessionId, value: &Cached, _: std::time::Instant) -> Option<Duration> {
        Self::keep(value)
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        value: &Cached,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::keep(value)
    }
}

/// The cache, shared by a store's clones and its feed task.
#[derive(Clone)]
pub(crate) struct Cache {
    entries: Moka<SessionId, Cached>,
    /// Whether the feed is connected; the cache is only read while it is.
    synced: Arc<AtomicBool>,
}

impl Cache {
    pub(crate) fn new(max_capacity: u64, max_idle: Duration) -> Self {
        let entries = Moka::builder()
            .max_capacity(max_capacity)
            .time_to_idle(max_idle)
            .expire_after(CachedExpiry)
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .build();
        Self {
            entries,
            synced: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The live session and its revision, if the cache holds one and may be trusted.
    pub(crate) async fn live(&self, id: &SessionId) -> Option<(Session, Arc<str>)> {
        if !self.synced.load(Ordering::Acquire) {
            return None;
        }
        match self.entries.get(id).await? {
            Cached::Live {
                data,
                expires_at,
                rev,
            } if expires_at > expiry::unix_millis(OffsetDateTime::now_utc()) => {
                let at = expiry::from_unix_millis(expires_at).ok()?;
                Some((Session::from_shared(data, Some(at)), rev))
            }
            _ => None,
        }
    }

    /// Whether `id` has a live entry (sync or not): for tests and diagnostics.
    pub(crate) async fn holds(&self, id: &SessionId) -> Option<Session> {
        match self.entries.get(id).await? {
            Cached::Live { data, expires_at, .. } => Some(Session::from_shared(
                data,
                expiry::from_unix_millis(expires_at).ok(),
            )),
            Cached::Seen { .. } => None,
        }
    }

    /// Records what this process read or wrote, unless the cache already
    /// reflects a newer revision.
    pub(crate) async fn remember(&self, id: &SessionId, cached: Cached) {
        self.offer(id, cached, false).await;
    }

    /// Records what another process (or this one) changed, per the feed.
    async fn observe(&self, id: &SessionId, cached: Cached) {
        self.offer(id, cached, true).await;
    }

    async fn offer(&self, id: &SessionId, offered: Cached, from_feed: bool) {
        self.entries
            .entry_by_ref(id)
            .and_compute_with(|current| {
                let op = match current.map(|entry| entry.into_value()) {
                    Some(current) if current.generation() > offered.generation() => Op::Nop,
                    // The feed only refreshes sessions this process already holds.
                    None if from_feed => Op::Put(Cached::Seen {
                        generation: offered.generation(),
                    }),
                    _ => Op::Put(offered),
                };
                std::future::ready(op)
            })
            .await;
    }

    /// Drops what the cache knows of `id` (this process destroyed it).
    pub(crate) async fn forget(&self, id: &SessionId) {
        self.entries.invalidate(id).await;
    }

    pub(crate) fn clear(&self) {
        self.entries.invalidate_all();
    }

    pub(crate) fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    fn set_synced(&self, synced: bool) {
        self.synced.store(synced, Ordering::Release);
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

/// Follows `_changes` from now on and applies each change to the cache,
/// reconnecting after errors and resuming from the last sequence, until
/// `stop` closes (the store is gone).
pub(crate) fn follow(
    couch: Couch,
    cache: Cache,
    codec: Arc<dyn Codec>,
    heartbeat: Duration,
    mut stop: watch::Receiver<()>,
) {
    tokio::spawn(async move {
        let mut since = "now".to_owned();
        let mut backoff = Duration::from_millis(50);
        loop {
            since = resume_point(&couch, since).await;
            match couch.changes(&since, heartbeat).send().await {
                Ok(response) if response.status().is_success() => {
                    // Whatever changed while disconnected is unknown: start empty.
                    cache.clear();
                    cache.set_synced(true);
                    backoff = Duration::from_millis(50);
                    let mut body = response.bytes_stream();
                    let mut pending = Vec::new();
                    loop {
                        let chunk = tokio::select! {
                            _ = stop.changed() => { cache.set_synced(false); return; }
                            chunk = tokio::time::timeout(heartbeat * 3, body.next()) => chunk,
                        };
                        let Ok(Some(Ok(bytes))) = chunk else { break }; // error, silence or end
                        pending.extend_from_slice(&bytes);
                        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                            let line: Vec<u8> = pending.drain(..=end).collect();
                            if let Some(seq) = apply(&cache, &*codec, &line).await {
                                since = seq;
                            }
                        }
                    }
                    cache.set_synced(false);
                    tracing::debug!("the _changes feed ended; reconnecting");
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "the _changes feed was refused; retrying")
                }
                Err(error) => tracing::warn!(%error, "the _changes feed failed; retrying"),
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });
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

/// Applies one feed line; returns its sequence to resume from.
async fn apply(cache: &Cache, codec: &dyn Codec, line: &[u8]) -> Option<String> {
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
        let generation = change.changes.first().map_or(0, |c| doc::generation(&c.rev));
        let seen = Cached::Seen { generation };
        let cached = match change.doc.map(|raw| doc::parse(raw.get().as_bytes())) {
            Some(Ok(stored)) if !change.deleted => match stored.state(OffsetDateTime::now_utc()) {
                State::Live => match stored.data(codec) {
                    Ok(data) => Cached::Live {
                        data: Arc::new(data),
                        expires_at: stored.expires_at,
                        rev: Arc::from(stored.rev.as_str()),
                    },
                    Err(_) => seen,
                },
                State::Tombstone | State::Dead => seen,
            },
            _ => seen,
        };
        cache.observe(&id, cached).await;
    }
    Some(seq)
}

#[cfg(test)]
mod tests {
    use super::seq_number;

    #[test]
    fn sequences_of_both_servers_parse() {
        assert_eq!(seq_number("42"), Some(42));
        assert_eq!(seq_number("42-g1AAAAFTeJzLYWBg"), Some(42));
        assert_eq!(seq_number("now"), None);
    }
}
