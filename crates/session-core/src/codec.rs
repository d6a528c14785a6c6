//! Pluggable encoding of session data, like connect-redis' `serializer`.

use std::fmt;

use crate::{Error, SessionData};

/// Turns session data into bytes for a backend and back.
///
/// Stores that keep bytes (Redis, SQL, CouchDB) take an `Arc<dyn Codec>`;
/// [`JsonCodec`] is the default. The in-memory store keeps values as they are
/// and needs no codec. A codec must round-trip every [`SessionData`] exactly,
/// including integers up to `u64::MAX` and strings holding `\u{0}`.
///
/// ```
/// use session_core::{Codec, Error, JsonCodec, SessionData};
///
/// /// Pretty-printed JSON, for stores an operator reads by hand.
/// #[derive(Debug)]
/// struct PrettyJson;
///
/// impl Codec for PrettyJson {
///     fn encode(&self, data: &SessionData) -> Result<Vec<u8>, Error> {
///         serde_json::to_vec_pretty(data).map_err(|e| Error::Encode(e.into()))
///     }
///     fn decode(&self, bytes: &[u8]) -> Result<SessionData, Error> {
///         JsonCodec.decode(bytes)
///     }
///     fn is_json(&self) -> bool {
///         true
///     }
/// }
///
/// let mut data = SessionData::new();
/// data.insert("n".into(), 1.into());
/// assert_eq!(PrettyJson.decode(&PrettyJson.encode(&data)?)?, data);
/// # Ok::<(), Error>(())
/// ```
pub trait Codec: Send + Sync + fmt::Debug + 'static {
    /// Encodes `data`.
    ///
    /// # Errors
    /// [`Error::Encode`] when the data cannot be represented.
    fn encode(&self, data: &SessionData) -> Result<Vec<u8>, Error>;

    /// Appends the encoding of `data` to `buf`, so a store can put a header
    /// and the payload in one buffer without copying. On error `buf` may hold
    /// a partial encoding and must be discarded. The default calls
    /// [`encode`](Codec::encode); override it to write in place.
    ///
    /// # Errors
    /// [`Error::Encode`] when the data cannot be represented.
    fn encode_into(&self, data: &SessionData, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.extend_from_slice(&self.encode(data)?);
        Ok(())
    }

    /// Decodes bytes written by [`encode`](Codec::encode).
    ///
    /// # Errors
    /// [`Error::Decode`] when the bytes are not valid for this codec.
    fn decode(&self, bytes: &[u8]) -> Result<SessionData, Error>;

    /// Whether the output is UTF-8 JSON text, so a store may keep it in a JSON
    /// column. Defaults to `false` (opaque bytes).
    fn is_json(&self) -> bool {
        false
    }
}

/// The default codec: compact JSON (`serde_json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    fn encode(&self, data: &SessionData) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(data).map_err(|e| Error::Encode(Box::new(e)))
    }

    fn encode_into(&self, data: &SessionData, buf: &mut Vec<u8>) -> Result<(), Error> {
        serde_json::to_writer(buf, data).map_err(|e| Error::Encode(Box::new(e)))
    }

    fn decode(&self, bytes: &[u8]) -> Result<SessionData, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Decode(Box::new(e)))
    }

    fn is_json(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_exact_integers_and_nul() {
        let serde_json::Value::Object(data) = json!({
            "max": u64::MAX, "min": i64::MIN, "big": 9_007_199_254_740_993_i64,
            "nul": "a\u{0}b", "nested": {"a": [1, {"b": null}]}, "f": 0.1
        }) else {
            unreachable!()
        };
        let bytes = JsonCodec.encode(&data).unwrap();
        assert_eq!(JsonCodec.decode(&bytes).unwrap(), data);
    }

    #[test]
    fn encode_into_appends_after_existing_bytes() {
        let mut data = SessionData::new();
        data.insert("k".into(), json!("v"));
        let mut buf = b"head".to_vec();
        JsonCodec.encode_into(&data, &mut buf).unwrap();
        assert_eq!(buf, b"head{\"k\":\"v\"}");

        #[derive(Debug)]
        struct Plain;
        impl Codec for Plain {
            fn encode(&self, _: &SessionData) -> Result<Vec<u8>, Error> {
                Ok(b"x".to_vec())
            }
            fn decode(&self, _: &[u8]) -> Result<SessionData, Error> {
                Ok(SessionData::new())
            }
        }
        let mut buf = b"h".to_vec();
        Plain.encode_into(&data, &mut buf).unwrap();
        assert_eq!(buf, b"hx", "the default appends encode()'s output");
    }

    #[test]
    fn every_finite_float_round_trips_bit_for_bit() {
        let mut floats = vec![
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 3.0, // subnormal
            5e-324,                  // the smallest subnormal
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            0.1 + 0.2,
            123_456_789.123_456_78,
            1.2e8 + 0.000_000_015,
        ];
        // A deterministic spread over every exponent and many mantissas.
        let mut bits: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let value = f64::from_bits(bits);
            if value.is_finite() {
                floats.push(value);
            }
        }
        let data: SessionData = floats
            .iter()
            .enumerate()
            .map(|(i, f)| (i.to_string(), serde_json::Value::from(*f)))
            .collect();
        let back = JsonCodec.decode(&JsonCodec.encode(&data).unwrap()).unwrap();
        for (i, float) in floats.iter().enumerate() {
            let got = back[&i.to_string()].as_f64().unwrap();
            assert_eq!(got.to_bits(), float.to_bits(), "{float:e} came back as {got:e}");
        }
    }

    #[test]
    fn decode_errors_are_typed() {
        assert!(matches!(JsonCodec.decode(b"{not json"), Err(Error::Decode(_))));
        assert!(matches!(JsonCodec.decode(b"[1,2]"), Err(Error::Decode(_))));
    }
}
