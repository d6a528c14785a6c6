//! The millisecond clock every store agrees on: expiries are kept to the
//! millisecond, and the stored forms count milliseconds since the epoch.

use time::OffsetDateTime;

use crate::Error;

/// Drops everything below the millisecond: the precision every store keeps.
pub fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at - time::Duration::nanoseconds(i64::from(nanos % 1_000_000))
}

/// Milliseconds since the Unix epoch (negative before 1970).
///
/// ```
/// use session_core::backend::{from_unix_millis, unix_millis};
/// use time::macros::datetime;
///
/// let at = datetime!(2030-01-01 00:00:00.250 UTC);
/// assert_eq!(unix_millis(at), 1_893_456_000_250);
/// assert_eq!(from_unix_millis(1_893_456_000_250)?, at);
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn unix_millis(at: OffsetDateTime) -> i64 {
    // Every OffsetDateTime (years ±9999) fits easily: i64 ms spans ±292 million years.
    let millis = at.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX })
}

/// The instant `millis` milliseconds after the Unix epoch, in UTC.
///
/// # Errors
/// [`Error::Decode`] when the value is outside the representable range
/// (years ±9999): it can only come from corrupt stored data.
pub fn from_unix_millis(millis: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|e| Error::Decode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn unix_millis_round_trips_before_and_after_the_epoch() {
        for at in [
            datetime!(1969-12-31 23:59:59.999 UTC),
            datetime!(1970-01-01 00:00 UTC),
            datetime!(9999-12-31 23:59:59.999 UTC),
            datetime!(-9999-01-01 00:00 UTC),
        ] {
            assert_eq!(from_unix_millis(unix_millis(at)).unwrap(), at);
        }
        assert_eq!(unix_millis(datetime!(1969-12-31 23:59:59.999_9 UTC)), -1);
        assert!(matches!(from_unix_millis(i64::MAX), Err(Error::Decode(_))));
    }
}
