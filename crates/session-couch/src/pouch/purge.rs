//! Deleting the PouchDbStore layout's expired sessions (Node never does),
//! found through a Mango index on `cookie.expires` and `_id`.
//!
//! The purge runs two passes, `batch` documents per request:
//! * sessions with a date in `cookie.expires` at or before now: the dates
//!   are JavaScript's `YYYY-MM-DDTHH:MM:SS.mmmZ`, so they compare as text,
//!   and each one found is read again as a date before it is deleted;
//! * sessions whose cookie lasts for the browser session (`expires:
//!   null`), walked in `_id` order, deleted once `$ts` is `default_ttl`
//!   in the past.
//!
//! Only documents of this layout are ever deleted (the index holds only
//! documents with a `cookie` object), and none whose tombstone is in force.
//! Deletions are plain: an expired session is already over for this store,
//! and Node's copy of one it still holds is Node's.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use session_core::{Clock, Error, backend, backend::express};
use time::OffsetDateTime;

use super::doc::{self, DESTROYED, TS};
use crate::{
    bulk::{IdRev, Progress, delete},
    http::Couch,
};

/// The design document and name of the Mango index.
const INDEX: &str = "session-cookie-expiry";

/// What the purge reads of each document it finds.
const FIELDS: [&str; 5] = ["_id", "_rev", "cookie.expires", TS, DESTROYED];

/// Creates the index if it is missing (Node's `clear` deletes design
/// documents too).
pub(crate) async fn ensure_index(couch: &Couch) -> Result<(), Error> {
    let index = json!({
        "index": { "fields": ["cookie.expires", "_id"] },
        "name": INDEX, "ddoc": INDEX, "type": "json",
    });
    couch.post("_index", &index).await.map(drop)
}

#[derive(Deserialize)]
struct Found {
    docs: Vec<Candidate>,
}

/// A document the purge found.
#[derive(Deserialize)]
struct Candidate {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "_rev")]
    rev: String,
    #[serde(default)]
    cookie: Option<Value>,
    #[serde(rename = "$ts", default)]
    ts: Option<Value>,
    #[serde(rename = "$destroyed", default)]
    destroyed: Option<Value>,
}

impl Candidate {
    /// Whether the session expired by `now`, with no tombstone in force.
    fn is_due(&self, now: OffsetDateTime, default_ttl: Duration) -> bool {
        let now_ms = backend::unix_millis(now);
        let guarded = self
            .destroyed
            .as_ref()
            .and_then(doc::millis)
            .is_some_and(|until| until > now_ms);
        let expires = self.cookie.as_ref().and_then(|cookie| cookie.get("expires"));
        let expires_at = match expires {
            Some(Value::String(date)) => express::parse_js_date(date),
            Some(Value::Null) => self
                .ts
                .as_ref()
                .and_then(doc::millis)
                .and_then(|ts| backend::from_unix_millis(ts).ok())
                .zip(time::Duration::try_from(default_ttl).ok())
                .and_then(|(ts, ttl)| ts.checked_add(ttl)),
            _ => None,
        };
        !guarded && expires_at.is_some_and(|at| at <= now)
    }

    fn id_rev(self) -> Result<IdRev, Error> {
        IdRev::new(&self.id, self.rev)
    }
}

/// Deletes the expired sessions of this layout, `batch` at a time; returns
/// how many.
pub(crate) async fn purge(
    couch: &Couch,
    clock: &dyn Clock,
    default_ttl: Duration,
    batch: usize,
) -> Result<u64, Error> {
    ensure_index(couch).await?;
    let dated = purge_dated(couch, clock, default_ttl, batch).await?;
    let undated = purge_undated(couch, clock, default_ttl, batch).await?;
    Ok(dated + undated)
}

/// Finds `batch` documents for `selector` from `skip` on.
async fn find(couch: &Couch, selector: Value, skip: usize, batch: usize) -> Result<Vec<Candidate>, Error> {
    let query = json!({
        "selector": selector,
        "fields": FIELDS,
        "sort": [{ "cookie.expires": "asc" }, { "_id": "asc" }],
        "limit": batch,
        "skip": skip,
        "use_index": INDEX,
    });
    let found: Found = serde_json::from_slice(&couch.post("_find", &query).await?)
        .map_err(|e| Error::Backend(Box::new(e)))?;
    Ok(found.docs)
}

/// The sessions with a date in `cookie.expires`. Documents found but not
/// deleted (a tombstone in force, a date that does not read, a refused
/// delete) stay first in the index, so they are skipped over. (One whose
/// delete met a conflict because it was touched meanwhile may have left the
/// range: the skip then passes over one document too many, which the next
/// run finds.)
async fn purge_dated(
    couch: &Couch,
    clock: &dyn Clock,
    default_ttl: Duration,
    batch: usize,
) -> Result<u64, Error> {
    let (mut deleted, mut skip, mut progress) = (0, 0, Progress::new());
    loop {
        let now = clock.now();
        let selector = json!({ "cookie.expires": { "$gte": "", "$lte": express::js_date(now)? } });
        let found = find(couch, selector, skip, batch).await?;
        let count = found.len();
        let gone = delete_due(couch, found, now, default_ttl, &mut progress).await?;
        deleted += gone;
        skip += count.saturating_sub(usize::try_from(gone).unwrap_or(usize::MAX));
        if count < batch {
            return Ok(deleted);
        }
    }
}

/// Deletes those of `found` that are due at `now`; how many went.
async fn delete_due(
    couch: &Couch,
    found: Vec<Candidate>,
    now: OffsetDateTime,
    default_ttl: Duration,
    progress: &mut Progress,
) -> Result<u64, Error> {
    let due: Vec<IdRev> = found
        .into_iter()
        .filter(|doc| doc.is_due(now, default_ttl))
        .map(Candidate::id_rev)
        .collect::<Result<_, _>>()?;
    let due_count = due.len();
    let round = delete(couch, due).await?;
    progress.round("purge", due_count, &round)?;
    Ok(round.count)
}

/// The sessions whose cookie has no date, walked in `_id` order.
async fn purge_undated(
    couch: &Couch,
    clock: &dyn Clock,
    default_ttl: Duration,
    batch: usize,
) -> Result<u64, Error> {
    let (mut deleted, mut after, mut progress) = (0, String::new(), Progress::new());
    loop {
        let now = clock.now();
        let selector = json!({ "cookie.expires": null, "_id": { "$gt": after } });
        let found = find(couch, selector, 0, batch).await?;
        let count = found.len();
        let Some(last) = found.last().map(|doc| doc.id.clone()) else {
            return Ok(deleted);
        };
        deleted += delete_due(couch, found, now, default_ttl, &mut progress).await?;
        after = last;
        if count < batch {
            return Ok(deleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn candidate(body: Value) -> Candidate {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn only_sessions_over_by_the_stores_clock_are_due() {
        let now = datetime!(2030-01-02 00:00 UTC);
        let due = |body: Value| candidate(body).is_due(now, DAY);
        assert!(due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": "2030-01-02T00:00:00.000Z"}})
        ));
        assert!(!due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": "2030-01-02T00:00:00.001Z"}})
        ));
        assert!(!due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": "tomorrow"}})
        ));
        assert!(due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": null}, "$ts": 1_893_456_000_000_i64})
        ));
        assert!(!due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": null}, "$ts": 1_893_456_000_001_i64})
        ));
        assert!(!due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": null}})
        ));
        assert!(!due(
            json!({"_id": "a", "_rev": "1-a", "cookie": {"expires": "1970-01-01T00:00:00.000Z"},
                            "$destroyed": 1_893_542_400_001_i64})
        ));
    }
}
