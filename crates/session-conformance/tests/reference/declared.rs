//! What the reference store does differently when it is built to behave as
//! a store declaring [`Capabilities`] would: JavaScript's numbers,
//! reserved keys, a shorter id limit. (No tombstones is a zero grace.)

use serde_json::{Number, Value};
use session_conformance::{Capabilities, Numbers};
use session_core::{Error, Result, SessionData, SessionId};

use super::Bug;

/// `data` as a store keeping `numbers` holds it.
pub(crate) fn with_numbers(numbers: Numbers, data: SessionData) -> SessionData {
    match numbers {
        Numbers::JavaScript => data.into_iter().map(|(k, v)| (k, as_javascript(v))).collect(),
        _ => data,
    }
}

/// `value` after `JSON.parse(JSON.stringify(…))` in JavaScript, read back by
/// serde_json: every number a double, `-0` printed as `0`, whole numbers
/// below 10^21 printed without a fraction.
fn as_javascript(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::Number(javascript_number(&n)),
        Value::Array(items) => Value::Array(items.into_iter().map(as_javascript).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, as_javascript(v))).collect()),
        other => other,
    }
}

fn javascript_number(n: &Number) -> Number {
    let double = n.as_f64().unwrap_or(0.0);
    if double.fract() == 0.0 && double.abs() < 1e21 {
        // Printed as digits; serde_json reads them as an integer if one fits.
        let printed = format!("{:.0}", double.abs());
        let signed = if double < 0.0 {
            format!("-{printed}")
        } else {
            printed
        };
        if let Ok(Value::Number(parsed)) = serde_json::from_str::<Value>(&signed) {
            return parsed;
        }
    }
    Number::from_f64(double).unwrap_or_else(|| Number::from(0))
}

/// Refuses the keys `behaviour` reserves; with `Bug::DropsReservedKeys`
/// silently strips them instead, and `cookie` too.
pub(crate) fn reserved_keys(behaviour: &Capabilities, bug: Bug, data: &mut SessionData) -> Result<()> {
    if bug == Bug::DropsReservedKeys {
        data.retain(|key, _| !behaviour.is_reserved(key) && key != "cookie");
        return Ok(());
    }
    if !data.keys().any(|key| behaviour.is_reserved(key)) {
        return Ok(());
    }
    Err(Error::Encode("a key of the store's own cannot be data".into()))
}

/// Refuses ids longer than `behaviour` keeps, unless `Bug::TruncatesIdsToLimit`
/// (which then shortens the key instead).
pub(crate) fn id_fits(behaviour: &Capabilities, bug: Bug, id: &SessionId) -> Result<()> {
    if id.as_str().len() > behaviour.max_id_len && bug != Bug::TruncatesIdsToLimit {
        return Err(Error::InvalidInput(format!(
            "ids hold at most {} bytes",
            behaviour.max_id_len
        )));
    }
    Ok(())
}
