//! The layout of a stored value.
//!
//! ```text
//! live session: 0x01 | expiry, unix ms, i64 big-endian | codec payload
//! tombstone:    0x02 | lapses at, unix ms, i64 big-endian
//! ```
//!
//! The expiry travels inside the value so that `get` is one plain `GET`
//! (atomic, no script) and every expiry comparison uses the application's
//! clock; Redis' own key expiry (`PX`, relative, so the server's clock never
//! matters) only reclaims memory, never before the application would
//! consider the record over. A value that does not start with one of these
//! two kinds is foreign: no write of this store ever changes it.

use bytes::Bytes;
use session_core::{
    Codec, Error, Session, SessionData,
    backend::{self, Occupant},
};
use time::OffsetDateTime;

pub(crate) const LIVE: u8 = 1;
pub(crate) const TOMBSTONE: u8 = 2;
pub(crate) const HEADER_LEN: usize = 9;

/// A decoded value, borrowing the payload from the bytes Redis returned.
pub(crate) enum Record<'a> {
    Live { expires_at: i64, payload: &'a [u8] },
    Tombstone { until: i64 },
}

impl Record<'_> {
    /// What this record is at `now_ms`.
    pub(crate) fn occupant(&self, now_ms: i64) -> Occupant {
        match *self {
            Self::Live { expires_at, .. } => Occupant::of(false, expires_at, now_ms),
            Self::Tombstone { until } => Occupant::of(true, until, now_ms),
        }
    }
}

/// The 8 bytes of an instant, as stored in a header.
pub(crate) fn millis_bytes(at: OffsetDateTime) -> [u8; 8] {
    backend::unix_millis(at).to_be_bytes()
}

pub(crate) fn live(
    codec: &dyn Codec,
    data: &SessionData,
    expires_at: OffsetDateTime,
) -> Result<Bytes, Error> {
    let mut buf = Vec::with_capacity(HEADER_LEN + 64);
    buf.push(LIVE);
    buf.extend_from_slice(&millis_bytes(expires_at));
    backend::encode_into(codec, data, &mut buf)?;
    Ok(Bytes::from(buf))
}

pub(crate) fn tombstone(until: OffsetDateTime) -> Bytes {
    let mut buf = Vec::with_capacity(HEADER_LEN);
    buf.push(TOMBSTONE);
    buf.extend_from_slice(&millis_bytes(until));
    Bytes::from(buf)
}

/// The record in `bytes`, or `None` for a value this store did not write.
pub(crate) fn parse(bytes: &[u8]) -> Option<Record<'_>> {
    let (header, payload) = bytes.split_at_checked(HEADER_LEN)?;
    let mut at = [0u8; 8];
    at.copy_from_slice(&header[1..]);
    let at = i64::from_be_bytes(at);
    match header[0] {
        LIVE => Some(Record::Live {
            expires_at: at,
            payload,
        }),
        TOMBSTONE if payload.is_empty() => Some(Record::Tombstone { until: at }),
        _ => None,
    }
}

/// The live session in `bytes` at `now`, if any.
///
/// # Errors
/// [`Error::Decode`] when the value is foreign or its payload does not decode.
pub(crate) fn session_at(
    codec: &dyn Codec,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Session>, Error> {
    match parse(bytes).ok_or_else(|| foreign(bytes))? {
        Record::Live { expires_at, payload } if expires_at > backend::unix_millis(now) => {
            let data = codec.decode(payload)?;
            let at = backend::from_unix_millis(expires_at)?;
            Ok(Some(Session::from_data(data).expiring_at(at)))
        }
        _ => Ok(None),
    }
}

/// Whether the header in `bytes` (at least its first 9 bytes) is a live session at `now`.
pub(crate) fn is_live_at(bytes: &[u8], now: OffsetDateTime) -> bool {
    let header = bytes.get(..HEADER_LEN).unwrap_or(bytes);
    // A header alone parses as a tombstone only with no payload: judge the kind byte.
    match header.first() {
        Some(&LIVE) => parse(header).is_some_and(|r| r.occupant(backend::unix_millis(now)) == Occupant::Live),
        _ => false,
    }
}

/// Whether `bytes` (the first byte of a value is enough) is one of ours.
pub(crate) fn is_ours(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&(LIVE | TOMBSTONE)))
}

/// The error for a value this store did not write; it shows only the
/// value's length and first byte, never its content.
pub(crate) fn foreign(bytes: &[u8]) -> Error {
    Error::Decode(
        format!(
            "the key holds a value this store did not write (length {}, first byte {:?}); it is left alone",
            bytes.len(),
            bytes.first()
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::JsonCodec;
    use time::macros::datetime;

    #[test]
    fn live_records_round_trip_and_respect_the_clock() {
        let mut data = SessionData::new();
        data.insert("k".into(), "v".into());
        let at = datetime!(2030-01-01 00:00:00.123 UTC);
        let bytes = live(&JsonCodec, &data, at).unwrap();
        assert_eq!(&bytes[HEADER_LEN..], br#"{"k":"v"}"#);
        let before = datetime!(2029-12-31 0:00 UTC);
        let session = session_at(&JsonCodec, &bytes, before).unwrap().unwrap();
        assert_eq!((session.data(), session.expires_at()), (&data, Some(at)));
        assert!(
            session_at(&JsonCodec, &bytes, at).unwrap().is_none(),
            "expired at its own instant"
        );
        assert!(is_live_at(&bytes[..HEADER_LEN], before) && !is_live_at(&bytes, at));
    }

    #[test]
    fn tombstones_are_never_sessions() {
        let until = datetime!(2030-01-01 0:00 UTC);
        let bytes = tombstone(until);
        let record = parse(&bytes).unwrap();
        assert_eq!(record.occupant(0), Occupant::Tombstone);
        assert!(
            session_at(&JsonCodec, &bytes, datetime!(2000-01-01 0:00 UTC))
                .unwrap()
                .is_none()
        );
        assert!(!is_live_at(&bytes, datetime!(2000-01-01 0:00 UTC)));
    }

    #[test]
    fn foreign_values_are_recognised_and_never_echoed() {
        let connect_redis = br#"{"cookie":{"originalMaxAge":null},"user":"secret-user"}"#;
        for bytes in [&b""[..], connect_redis, b"\x01short", b"\x02123456789extra"] {
            assert!(parse(bytes).is_none(), "{bytes:?}");
            let error = session_at(&JsonCodec, bytes, datetime!(2000-01-01 0:00 UTC)).unwrap_err();
            assert!(matches!(error, Error::Decode(_)));
            assert!(!error.to_string().contains("secret"), "{error}");
        }
        assert!(!is_ours(connect_redis) && is_ours(b"\x01") && is_ours(b"\x02"));
    }
}
