//! What the cache holds per id, and the pure decisions each write makes on it.
//!
//! Every write runs its decision under the id's stripe lock, so the decision
//! and the write are one atomic step for that id.

use std::{sync::Arc, time::Duration};

use moka::{Expiry, ops::compute::Op};
use session_core::{Error, Session, SessionData, SessionId};
use time::OffsetDateTime;

/// One cache entry: a live session or a tombstone.
#[derive(Clone)]
pub(crate) enum Slot {
    Live {
        data: Arc<SessionData>,
        expires_at: OffsetDateTime,
    },
    Tombstone {
        until: OffsetDateTime,
    },
}

impl Slot {
    /// When moka may drop the entry.
    fn deadline(&self) -> OffsetDateTime {
        match self {
            Self::Live { expires_at, .. } => *expires_at,
            Self::Tombstone { until } => *until,
        }
    }

    /// The session, if this is a live one at `now`.
    pub(crate) fn live_at(&self, now: OffsetDateTime) -> Option<Session> {
        match self {
            Self::Live { data, expires_at } if *expires_at > now => {
                Some(Session::from_shared(Arc::clone(data), Some(*expires_at)))
            }
            _ => None,
        }
    }

    pub(crate) fn is_live_at(&self, now: OffsetDateTime) -> bool {
        matches!(self, Self::Live { expires_at, .. } if *expires_at > now)
    }

    fn is_tombstone_at(&self, now: OffsetDateTime) -> bool {
        matches!(self, Self::Tombstone { until } if *until > now)
    }
}

/// A decision: what to do to the entry, and what to tell the caller.
pub(crate) type Decision = (Op<Slot>, Result<(), Error>);

fn put_or_drop(
    current: Option<&Slot>,
    data: &Arc<SessionData>,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Op<Slot> {
    if expires_at > now {
        Op::Put(Slot::Live {
            data: Arc::clone(data),
            expires_at,
        })
    } else if current.is_some() {
        Op::Remove // rule 2: an expired write ends whatever was there
    } else {
        Op::Nop
    }
}

pub(crate) fn set(
    current: Option<&Slot>,
    data: &Arc<SessionData>,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Decision {
    if current.is_some_and(|slot| slot.is_tombstone_at(now)) {
        return (Op::Nop, Err(Error::Destroyed));
    }
    (put_or_drop(current, data, expires_at, now), Ok(()))
}

pub(crate) fn create(
    current: Option<&Slot>,
    data: &Arc<SessionData>,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Decision {
    match current {
        Some(slot) if slot.is_tombstone_at(now) => (Op::Nop, Err(Error::Destroyed)),
        Some(slot) if slot.is_live_at(now) => (Op::Nop, Err(Error::AlreadyExists)),
        _ => (put_or_drop(current, data, expires_at, now), Ok(())),
    }
}

pub(crate) fn touch(current: Option<&Slot>, expires_at: OffsetDateTime, now: OffsetDateTime) -> Decision {
    match current {
        Some(slot) if slot.is_tombstone_at(now) => (Op::Nop, Err(Error::Destroyed)),
        Some(Slot::Live {
            data,
            expires_at: old,
        }) if *old > now => (put_or_drop(current, data, expires_at, now), Ok(())),
        _ => (Op::Nop, Err(Error::NotFound)),
    }
}

pub(crate) fn destroy(tombstone_until: Option<OffsetDateTime>) -> Decision {
    match tombstone_until {
        Some(until) => (Op::Put(Slot::Tombstone { until }), Ok(())),
        None => (Op::Remove, Ok(())),
    }
}

/// Moka's timer keeps nanoseconds in a u64 (about 584 years); sessions set to
/// expire later than this are kept for this long and then dropped.
const LONGEST_KEEP: Duration = Duration::from_secs(200 * 366 * 24 * 3600);

/// Tells moka to drop each entry at its own deadline.
pub(crate) struct SlotExpiry;

impl SlotExpiry {
    fn keep_for(slot: &Slot) -> Option<Duration> {
        let left = slot.deadline() - OffsetDateTime::now_utc();
        Some(
            Duration::try_from(left)
                .unwrap_or(Duration::ZERO)
                .min(LONGEST_KEEP),
        )
    }
}

impl Expiry<SessionId, Slot> for SlotExpiry {
    fn expire_after_create(&self, _: &SessionId, slot: &Slot, _: std::time::Instant) -> Option<Duration> {
        Self::keep_for(slot)
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        slot: &Slot,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::keep_for(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-01-01 12:00 UTC);
    const LATER: OffsetDateTime = datetime!(2030-01-01 13:00 UTC);
    const EARLIER: OffsetDateTime = datetime!(2030-01-01 11:00 UTC);

    fn live(expires_at: OffsetDateTime) -> Slot {
        Slot::Live {
            data: Arc::default(),
            expires_at,
        }
    }

    fn tombstone(until: OffsetDateTime) -> Slot {
        Slot::Tombstone { until }
    }

    fn op_name(op: &Op<Slot>) -> &'static str {
        match op {
            Op::Put(Slot::Live { .. }) => "put-live",
            Op::Put(Slot::Tombstone { .. }) => "put-tombstone",
            Op::Remove => "remove",
            Op::Nop => "nop",
        }
    }

    fn outcome((op, result): Decision) -> (&'static str, String) {
        (
            op_name(&op),
            result.map_or_else(|e| e.to_string(), |()| "ok".into()),
        )
    }

    #[test]
    fn set_decisions() {
        let data = Arc::default();
        let ok = |op: &'static str| (op, "ok".to_string());
        assert_eq!(outcome(set(None, &data, LATER, NOW)), ok("put-live"));
        assert_eq!(
            outcome(set(Some(&live(LATER)), &data, LATER, NOW)),
            ok("put-live")
        );
        assert_eq!(
            outcome(set(Some(&live(LATER)), &data, EARLIER, NOW)),
            ok("remove")
        );
        assert_eq!(outcome(set(None, &data, EARLIER, NOW)), ok("nop"));
        assert_eq!(
            outcome(set(Some(&tombstone(EARLIER)), &data, LATER, NOW)),
            ok("put-live")
        );
        assert_eq!(
            outcome(set(Some(&tombstone(LATER)), &data, LATER, NOW)),
            ("nop", Error::Destroyed.to_string())
        );
    }

    #[test]
    fn create_decisions() {
        let data = Arc::default();
        assert_eq!(outcome(create(None, &data, LATER, NOW)).0, "put-live");
        assert_eq!(
            outcome(create(Some(&live(EARLIER)), &data, LATER, NOW)).0,
            "put-live"
        );
        assert_eq!(
            outcome(create(Some(&live(LATER)), &data, LATER, NOW)),
            ("nop", Error::AlreadyExists.to_string())
        );
        assert_eq!(
            outcome(create(Some(&tombstone(LATER)), &data, LATER, NOW)),
            ("nop", Error::Destroyed.to_string())
        );
    }

    #[test]
    fn touch_decisions() {
        assert_eq!(outcome(touch(Some(&live(LATER)), LATER, NOW)).0, "put-live");
        assert_eq!(outcome(touch(Some(&live(LATER)), EARLIER, NOW)).0, "remove");
        for current in [
            None,
            Some(live(NOW)),
            Some(live(EARLIER)),
            Some(tombstone(EARLIER)),
        ] {
            assert_eq!(
                outcome(touch(current.as_ref(), LATER, NOW)),
                ("nop", Error::NotFound.to_string())
            );
        }
        assert_eq!(
            outcome(touch(Some(&tombstone(LATER)), LATER, NOW)),
            ("nop", Error::Destroyed.to_string())
        );
    }

    #[test]
    fn destroy_decisions() {
        assert_eq!(outcome(destroy(Some(LATER))).0, "put-tombstone");
        assert_eq!(outcome(destroy(None)).0, "remove");
    }

    #[test]
    fn expiry_is_the_time_left_clamped() {
        let keep = |slot: &Slot| SlotExpiry::keep_for(slot).unwrap_or(Duration::MAX);
        let past = OffsetDateTime::now_utc() - Duration::from_secs(1);
        assert_eq!(keep(&live(past)), Duration::ZERO);
        let soon = OffsetDateTime::now_utc() + Duration::from_secs(60);
        assert!(keep(&live(soon)) <= Duration::from_secs(60));
        assert!(keep(&live(soon)) > Duration::from_secs(58));
        assert_eq!(keep(&tombstone(datetime!(9999-12-31 0:00 UTC))), LONGEST_KEEP);
    }
}
