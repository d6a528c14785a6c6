//! What a write finds under an id: the document's winning leaf revision,
//! deleted or not (a plain `GET` hides deleted documents, and with them the
//! tombstones this layout keeps in them). Whether a session is live is
//! decided in [`live`](crate::live), as for the reads: one whose expiry
//! cannot be read is.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Error, Result, Session, backend, backend::Occupant};
use time::OffsetDateTime;

use super::{
    doc::{self, Meta},
    expiry,
};
use crate::{http::Couch, live, revision::generation};

/// How much of the winning leaf a write needs told.
#[derive(Clone, Copy)]
pub(crate) enum Need {
    /// Only whether it is a tombstone in force: enough for `set` and
    /// `destroy`, which do the same to a live session and an expired one
    /// ([`Write::needs_liveness`](session_core::backend::Write::needs_liveness)),
    /// so the session is never decoded.
    Tombstone,
    /// Whether it is a live session too, and that session (`create`,
    /// `touch`); a cookie without a date expires `$ts` plus this default
    /// TTL.
    Liveness(Duration),
}

/// The winning leaf of a document, as a write sees it.
pub(crate) struct Found {
    /// Its revision; `None` when the id never held a document.
    pub(crate) rev: Option<String>,
    /// Whether it is a document that is not deleted (expired or not).
    pub(crate) undeleted: bool,
    /// What it is to the rule table. Judged for tombstones only, a session
    /// is `Vacant`, live or not.
    pub(crate) occupant: Occupant,
    /// The live session it holds, or why it cannot be read (judged for
    /// liveness only).
    pub(crate) session: Option<Result<Session>>,
    /// Its body.
    pub(crate) raw: Option<Vec<u8>>,
}

impl Found {
    /// An id that never held a document.
    pub(crate) const NOTHING: Self = Self {
        rev: None,
        undeleted: false,
        occupant: Occupant::Vacant,
        session: None,
        raw: None,
    };
}

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow, default)]
    ok: Option<&'a RawValue>,
}

/// Reads every leaf of `doc_id` and judges the winner at `now`, as far as
/// the write needs.
///
/// # Errors
/// A backend error, or [`Error::Decode`] when a leaf's revision or
/// tombstone cannot be read.
pub(crate) async fn find(couch: &Couch, doc_id: &str, now: OffsetDateTime, need: Need) -> Result<Found> {
    let Some(body) = couch.leaves(doc_id).await? else {
        return Ok(Found::NOTHING);
    };
    let replies: Vec<Reply<'_>> = serde_json::from_slice(&body).map_err(|e| Error::Backend(Box::new(e)))?;
    let mut winner: Option<(Meta, &RawValue)> = None;
    for raw in replies.iter().filter_map(|reply| reply.ok) {
        let meta = Meta::of(raw.get().as_bytes())?;
        if winner.as_ref().is_none_or(|(best, _)| wins(&meta, best)) {
            winner = Some((meta, raw));
        }
    }
    let Some((meta, raw)) = winner else {
        return Ok(Found::NOTHING);
    };
    Ok(judge(meta, raw.get().as_bytes(), now, need))
}

/// CouchDB's choice among conflicting leaves: a document that is not
/// deleted wins over a deleted one, then the longer history, then the
/// greater revision id.
fn wins(leaf: &Meta, over: &Meta) -> bool {
    let rank = |meta: &Meta| (!meta.deleted, generation(&meta.rev));
    (rank(leaf), leaf.rev.as_str()) > (rank(over), over.rev.as_str())
}

/// What the leaf `meta` (with body `raw`) is at `now`, as far as `need` asks.
fn judge(meta: Meta, raw: &[u8], now: OffsetDateTime, need: Need) -> Found {
    let mut found = Found {
        rev: None,
        undeleted: !meta.deleted,
        occupant: Occupant::Vacant,
        session: None,
        raw: Some(raw.to_vec()),
    };
    if meta.is_tombstone_at(backend::unix_millis(now)) {
        found.occupant = Occupant::Tombstone;
    } else if !meta.deleted
        && let Need::Liveness(default_ttl) = need
    {
        let stored = expiry::occupant(raw, now, default_ttl);
        found.occupant = live::occupant(&stored, |occupant| *occupant);
        found.session = live::judge(stored, |occupant| *occupant, |_| doc::decode(raw, default_ttl));
    }
    found.rev = Some(meta.rev);
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);
    const NOW: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

    fn judged_as(need: Need, body: serde_json::Value) -> Found {
        // A lone surrogate: JSON that no Rust string can hold.
        let raw = body.to_string().replace("LONE", "\\ud800").into_bytes();
        judge(Meta::of(&raw).unwrap(), &raw, NOW, need)
    }

    fn judged(body: serde_json::Value) -> Found {
        judged_as(Need::Liveness(DAY), body)
    }

    #[test]
    fn leaves_are_told_apart_as_the_rule_table_needs() {
        let live = judged(json!({"_rev": "2-a", "cookie": {"expires": "2030-01-01T00:00:01.000Z"}, "n": 1}));
        assert_eq!(
            (live.occupant, live.rev.as_deref()),
            (Occupant::Live, Some("2-a"))
        );
        assert!(live.undeleted && matches!(live.session, Some(Ok(_))));

        let expired = judged(json!({"_rev": "2-a", "cookie": {"expires": "2030-01-01T00:00:00.000Z"}}));
        assert_eq!(expired.occupant, Occupant::Vacant);

        let tombstone = judged(json!({"_rev": "3-b", "_deleted": true, "$destroyed": 1_893_456_000_001_i64}));
        assert_eq!(tombstone.occupant, Occupant::Tombstone);
        assert!(!tombstone.undeleted);

        let lapsed = judged(json!({"_rev": "3-b", "_deleted": true, "$destroyed": 1_893_456_000_000_i64}));
        assert_eq!(lapsed.occupant, Occupant::Vacant);

        let revoking = judged(
            json!({"_rev": "2-c", "cookie": {"expires": "1970-01-01T00:00:00.000Z"},
                                     "$destroyed": 1_893_456_060_000_i64}),
        );
        assert_eq!(revoking.occupant, Occupant::Tombstone);
    }

    #[test]
    fn a_session_that_cannot_be_read_is_live_as_the_reads_count_it() {
        for unreadable in [
            json!({"_rev": "1-a", "cookie": {"expires": "2030-01-01T00:00:01.000Z"}, "n": "LONE"}),
            json!({"_rev": "1-a", "cookie": {"expires": "next tuesday"}}),
            json!({"_rev": "1-a", "views": {}}),
        ] {
            let found = judged(unreadable.clone());
            assert_eq!(found.occupant, Occupant::Live, "{unreadable}");
            assert!(
                matches!(found.session, Some(Err(Error::Decode(_)))),
                "{unreadable}"
            );
        }
        // Its data stays unread once it is over.
        let expired =
            judged(json!({"_rev": "1-a", "cookie": {"expires": "2029-01-01T00:00:00.000Z"}, "n": "LONE"}));
        assert_eq!(expired.occupant, Occupant::Vacant);
        assert!(expired.session.is_none());
    }

    #[test]
    fn judged_for_tombstones_only_a_session_is_never_decoded() {
        let tombstones = |body| judged_as(Need::Tombstone, body);
        let live = tombstones(json!({"_rev": "2-a", "cookie": {"expires": "2030-01-01T00:00:01.000Z"}}));
        assert_eq!(
            (live.occupant, live.rev.as_deref()),
            (Occupant::Vacant, Some("2-a"))
        );
        assert!(live.undeleted && live.session.is_none() && live.raw.is_some());

        let tombstone =
            tombstones(json!({"_rev": "3-b", "_deleted": true, "$destroyed": 1_893_456_000_001_i64}));
        assert_eq!(tombstone.occupant, Occupant::Tombstone);

        let unreadable = tombstones(json!({"_rev": "1-d", "views": {}}));
        assert_eq!(unreadable.occupant, Occupant::Vacant);
    }

    #[test]
    fn the_winner_is_couchdbs() {
        let meta = |rev: &str, deleted: bool| {
            Meta::of(json!({"_rev": rev, "_deleted": deleted}).to_string().as_bytes()).unwrap()
        };
        assert!(wins(&meta("1-a", false), &meta("5-z", true)));
        assert!(wins(&meta("3-a", false), &meta("2-z", false)));
        assert!(wins(&meta("3-b", false), &meta("3-a", false)));
        assert!(!wins(&meta("3-a", true), &meta("1-a", false)));
    }
}
