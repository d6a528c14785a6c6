//! Expiry rules shared by every store: default TTL and tombstone grace.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{Error, backend::truncate_to_millis};

/// How long sessions without an expiry live, and how long a destroyed id stays
/// refused. Every store takes one of these (through its builder).
///
/// * `default_ttl` (default 24 hours, like connect-redis' `ttl`): a session
///   written with no expiry of its own expires this long after the write. It
///   must be positive.
/// * `tombstone_grace` (default 300 seconds, like connect-redis-session's
///   `concurrencyGraceSeconds`): after [`Store::destroy`](crate::Store::destroy),
///   writes to the id are refused with [`Error::Destroyed`] for this long, so a
///   slow request that finishes after a logout cannot save the session again.
///   Zero turns tombstones off: destroy then simply deletes.
///
/// Both are at most [`Lifetimes::MAX`] (about 100 years), which keeps every
/// expiry a store computes far inside the range of dates it can represent.
///
/// ```
/// use std::time::Duration;
/// use session_core::{Lifetimes, Session};
/// use time::OffsetDateTime;
///
/// let lifetimes = Lifetimes::new(Duration::from_secs(3600), Duration::from_secs(60))?;
/// let now = OffsetDateTime::now_utc();
/// let expiry = lifetimes.expiry_of(&Session::new(), now);
/// assert!(expiry > now + Duration::from_secs(3599) && expiry <= now + Duration::from_secs(3600));
/// assert!(Lifetimes::new(Duration::ZERO, Duration::ZERO).is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    default_ttl: Duration,
    tombstone_grace: Duration,
}

impl Lifetimes {
    /// Default TTL for sessions written without an expiry: 24 hours.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
    /// Default tombstone grace window: 300 seconds.
    pub const DEFAULT_TOMBSTONE_GRACE: Duration = Duration::from_secs(300);
    /// Longest accepted TTL or grace window: 100 years of 365.25 days.
    pub const MAX: Duration = Duration::from_secs(100 * 36_525 * 24 * 36);

    /// Checks and combines both settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `default_ttl` is zero or either value
    /// exceeds [`Lifetimes::MAX`].
    pub fn new(default_ttl: Duration, tombstone_grace: Duration) -> Result<Self, Error> {
        if default_ttl.is_zero() {
            return Err(Error::InvalidInput("default_ttl must be positive".into()));
        }
        for (name, value) in [("default_ttl", default_ttl), ("tombstone_grace", tombstone_grace)] {
            if value > Self::MAX {
                return Err(Error::InvalidInput(format!(
                    "{name} of {value:?} exceeds the maximum of {:?}",
                    Self::MAX
                )));
            }
        }
        Ok(Self {
            default_ttl,
            tombstone_grace,
        })
    }

    /// The TTL given to sessions written without an expiry.
    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    /// How long a destroyed id stays refused; zero means no tombstones.
    pub fn tombstone_grace(&self) -> Duration {
        self.tombstone_grace
    }

    /// The absolute expiry a store records for `session` written at `now`.
    pub fn expiry_of(&self, session: &crate::Session, now: OffsetDateTime) -> OffsetDateTime {
        self.expiry_or_default(session.expires_at(), now)
    }

    /// `at`, or `now` plus the default TTL when `at` is `None`, in milliseconds.
    pub fn expiry_or_default(&self, at: Option<OffsetDateTime>, now: OffsetDateTime) -> OffsetDateTime {
        truncate_to_millis(at.unwrap_or(now + self.default_ttl))
    }

    /// When a tombstone written at `now` lapses; `None` when tombstones are off.
    pub fn tombstone_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        (!self.tombstone_grace.is_zero()).then(|| truncate_to_millis(now + self.tombstone_grace))
    }
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            default_ttl: Self::DEFAULT_TTL,
            tombstone_grace: Self::DEFAULT_TOMBSTONE_GRACE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn defaults_match_the_documentation() {
        let lifetimes = Lifetimes::default();
        assert_eq!(lifetimes.default_ttl(), Duration::from_secs(86_400));
        assert_eq!(lifetimes.tombstone_grace(), Duration::from_secs(300));
    }

    #[test]
    fn refuses_zero_ttl_and_values_over_the_maximum() {
        assert!(matches!(
            Lifetimes::new(Duration::ZERO, Duration::ZERO),
            Err(Error::InvalidInput(_))
        ));
        let over = Lifetimes::MAX + Duration::from_secs(1);
        assert!(Lifetimes::new(over, Duration::ZERO).is_err());
        assert!(Lifetimes::new(Duration::from_secs(1), over).is_err());
        assert!(Lifetimes::new(Lifetimes::MAX, Lifetimes::MAX).is_ok());
    }

    #[test]
    fn explicit_expiry_wins_over_default_ttl() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let lifetimes = Lifetimes::default();
        let at = datetime!(2030-01-01 00:05:00.123_9 UTC);
        assert_eq!(
            lifetimes.expiry_or_default(Some(at), now),
            datetime!(2030-01-01 00:05:00.123 UTC)
        );
        assert_eq!(
            lifetimes.expiry_or_default(None, now),
            datetime!(2030-01-02 00:00 UTC)
        );
    }

    #[test]
    fn zero_grace_means_no_tombstone() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let off = Lifetimes::new(Duration::from_secs(1), Duration::ZERO).unwrap();
        assert_eq!(off.tombstone_until(now), None);
        let on = Lifetimes::new(Duration::from_secs(1), Duration::from_secs(2)).unwrap();
        assert_eq!(on.tombstone_until(now), Some(datetime!(2030-01-01 00:00:02 UTC)));
    }
}
