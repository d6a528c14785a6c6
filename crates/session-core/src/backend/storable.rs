//! What a store accepts as session data, and encoding it for a backend.
//!
//! Every store refuses data nested deeper than [`MAX_DEPTH`] with
//! [`Error::Encode`], before anything is written: deeper data could be
//! written but not read back by common parsers (serde_json stops at 128
//! levels), so accepting it would poison the session. The in-memory store,
//! which encodes nothing, applies the same rule, so every store agrees on
//! what is storable.

use serde_json::Value;

use crate::{Codec, Error, SessionData};

/// The deepest nesting of arrays and objects a store accepts, the session's
/// own data object counting as level 1.
pub const MAX_DEPTH: usize = 100;

/// Checks that `data` is storable: nested at most [`MAX_DEPTH`] levels.
///
/// ```
/// use session_core::{SessionData, backend::{MAX_DEPTH, check_storable}};
/// use serde_json::json;
///
/// let nest = |arrays: usize| {
///     let mut value = json!(1);
///     for _ in 0..arrays { value = json!([value]); }
///     SessionData::from_iter([("k".to_string(), value)])
/// };
/// assert!(check_storable(&nest(MAX_DEPTH - 1)).is_ok());
/// assert!(check_storable(&nest(MAX_DEPTH)).is_err()); // the data object adds a level
/// ```
///
/// # Errors
/// [`Error::Encode`] naming the limit when the data is nested deeper.
pub fn check_storable(data: &SessionData) -> Result<(), Error> {
    if data.values().any(|value| deeper_than(value, MAX_DEPTH - 1)) {
        return Err(Error::Encode(
            format!("session data nests deeper than {MAX_DEPTH} levels of arrays and objects").into(),
        ));
    }
    Ok(())
}

/// Whether `value` holds more than `levels` nested arrays and objects.
/// Recursion stops at `levels`, so no input can exhaust the stack.
fn deeper_than(value: &Value, levels: usize) -> bool {
    match value {
        Value::Array(items) => levels == 0 || items.iter().any(|child| deeper_than(child, levels - 1)),
        Value::Object(map) => levels == 0 || map.values().any(|child| deeper_than(child, levels - 1)),
        _ => false,
    }
}

/// Checks that `data` is storable, then appends its encoding to `buf`: what
/// every byte-storing store writes.
///
/// # Errors
/// [`Error::Encode`] for data nested too deep or that the codec refuses.
pub fn encode_into(codec: &dyn Codec, data: &SessionData, buf: &mut Vec<u8>) -> Result<(), Error> {
    check_storable(data)?;
    codec.encode_into(data, buf)
}

/// Checks that `data` is storable, then encodes it.
///
/// # Errors
/// As [`encode_into`].
pub fn encode(codec: &dyn Codec, data: &SessionData) -> Result<Vec<u8>, Error> {
    check_storable(data)?;
    codec.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JsonCodec;
    use serde_json::json;

    fn nested(levels: usize, object: bool) -> SessionData {
        let mut value = json!("bottom");
        for _ in 0..levels {
            value = if object {
                json!({ "k": value })
            } else {
                json!([value])
            };
        }
        SessionData::from_iter([("top".to_string(), value)])
    }

    #[test]
    fn the_deepest_accepted_data_round_trips_through_json() {
        for object in [false, true] {
            let deepest = nested(MAX_DEPTH - 1, object);
            let bytes = encode(&JsonCodec, &deepest).unwrap();
            assert_eq!(JsonCodec.decode(&bytes).unwrap(), deepest);
            assert!(matches!(
                encode(&JsonCodec, &nested(MAX_DEPTH, object)),
                Err(Error::Encode(_))
            ));
        }
    }

    #[test]
    fn refusal_says_why_and_leaves_the_buffer_alone() {
        let mut buf = b"head".to_vec();
        let error = encode_into(&JsonCodec, &nested(MAX_DEPTH, false), &mut buf).unwrap_err();
        assert!(error.to_string().contains("deeper than 100"), "{error}");
        assert_eq!(buf, b"head");
    }

    #[test]
    fn very_deep_data_is_refused_without_exhausting_the_stack() {
        // Built and dropped iteratively: serde_json's own drop would recurse.
        let mut value = json!(0);
        for _ in 0..200_000 {
            value = Value::Array(vec![value]); // json! would copy the value recursively
        }
        let data = SessionData::from_iter([("deep".to_string(), value)]);
        assert!(check_storable(&data).is_err());
        let mut stack = vec![data.into_iter().next().map(|(_, v)| v).unwrap_or_default()];
        while let Some(mut value) = stack.pop() {
            if let Value::Array(items) = &mut value {
                stack.append(items);
            }
        }
    }
}
