//! The layout of a stored value.
//!
//! ```text
//! live session: 0x01 | expiry, unix ms, i64 big-endian | codec payload
//! tombstone:    0x02 | lapses at, unix ms, i64 big-endian
//! ```
//!
//! The expiry travels inside the value so that `get` is one plain `GET`
//! (atomic, no script) and every expiry comparison uses the application's
//! clock; Redis' own key expiry (`PXAT`, same instant) only reclaims memory.

use bytes::Bytes;
use session_core::{Codec, Error, Session, SessionData, expiry};
use time::OffsetDateTime;

pub(crate) const LIVE: u8 = 1;
pub(crate) const TOMBSTONE: u8 = 2;
pub(crate) const HEADER_LEN: usize = 9;

/// A decoded value, borrowing the payload from the bytes Redis returned.
pub(crate) enum Record<'a> {
    Live { expires_at: i64, payload: &'a [u8] },
    Tombstone,
}

/// The 8 bytes of an instant, as stored in a header.
pub(crate) fn millis_bytes(at: OffsetDateTime) -> [u8; 8] {
    expiry::unix_millis(at).to_be_bytes()
}

pub(crate) fn live(
    codec: &dyn Codec,
    data: &SessionData,
    expires_at: OffsetDateTime,
) -> Result<Bytes, Error> {
    let mut buf = Vec::with_capacity(HEADER_LEN + 64);
    buf.push(LIVE);
    buf.extend_from_slice(&millis_bytes(expires_at));
    codec.encode_into(data, &mut buf)?;
    Ok(Bytes::from(buf))
}

pub(crate) fn tombstone(until: OffsetDateTime) -> Bytes {
    let mut buf = Vec::with_capacity(HEADER_LEN);
    buf.push(TOMBSTONE);
    buf.extend_from_slice(&millis_bytes(until));
    Bytes::from(buf)
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Record<'_>, Error> {
    let Some((header, payload)) = bytes.split_at_checked(HEADER_LEN) else {
        return Err(corrupt(bytes));
    };
    let mut at = [0u8; 8];
    at.copy_from_slice(&header[1..]);
    match header[0] {
        LIVE => Ok(Record::Live {
            expires_at: i64::from_be_bytes(at),
            payload,
        }),
        TOMBSTONE => Ok(Record::Tombstone),
        _ => Err(corrupt(bytes)),
    }
}

/// The live session in `bytes` at `now`, if any.
pub(crate) fn session_at(
    codec: &dyn Codec,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Session>, Error> {
    match parse(bytes)? {
        Record::Live { expires_at, payload } if expires_at > expiry::unix_millis(now) => {
            let data = codec.decode(payload)?;
            let at = expiry::from_unix_millis(expires_at)?;
            Ok(Some(Session::from_data(data).expiring_at(at)))
        }
        _ => Ok(None),
    }
}

/// Whether the header in `bytes` (at least its first 9 bytes) is a live session at `now`.
pub(crate) fn is_live_at(bytes: &[u8], now: OffsetDateTime) -> bool {
    matches!(parse(bytes), Ok(Record::Live { expires_at, .. }) if expires_at > expiry::unix_millis(now))
}

fn corrupt(bytes: &[u8]) -> Error {
    Error::Decode(
        format!(
            "not a session record (length {}, first byte {:?})",
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
        let bytes = tombstone(datetime!(2030-01-01 0:00 UTC));
        assert!(matches!(parse(&bytes), Ok(Record::Tombstone)));
        assert!(
            session_at(&JsonCodec, &bytes, datetime!(2000-01-01 0:00 UTC))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn foreign_values_are_decode_errors() {
        for bytes in [&b""[..], b"{\"json\":1}", b"\x01short"] {
            assert!(matches!(parse(bytes), Err(Error::Decode(_))), "{bytes:?}");
        }
    }
}
