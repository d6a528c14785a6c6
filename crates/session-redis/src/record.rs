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
//! consider the record over. A value that is neither is foreign: `set`,
//! `create` and `touch` never change it, and it counts as a record the
//! store cannot read (see [`slot`](crate::slot)).

use bytes::Bytes;
use session_core::{Codec, Error, Session, SessionData, backend};
use time::OffsetDateTime;

pub(crate) const LIVE: u8 = 1;
pub(crate) const TOMBSTONE: u8 = 2;
pub(crate) const HEADER_LEN: usize = 9;

/// A decoded value, borrowing the payload from the bytes Redis returned.
pub(crate) enum Record<'a> {
    Live {
        expires_at: i64,
        payload: &'a [u8],
    },
    /// Never a session, live or lapsed: only the write scripts read its
    /// time, in Lua.
    Tombstone,
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
        TOMBSTONE if payload.is_empty() => Some(Record::Tombstone),
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
    }

    #[test]
    fn tombstones_are_never_sessions() {
        let until = datetime!(2030-01-01 0:00 UTC);
        let bytes = tombstone(until);
        assert!(matches!(parse(&bytes), Some(Record::Tombstone)));
        assert!(
            session_at(&JsonCodec, &bytes, datetime!(2000-01-01 0:00 UTC))
                .unwrap()
                .is_none()
        );
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
    }
}
