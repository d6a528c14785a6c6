//! What the data defects do to session data on its way into the store.

use serde_json::Value;
use session_core::SessionData;

use super::Bug;

/// `data` as a store with `bug` keeps it.
pub(crate) fn as_stored(bug: Bug, data: &SessionData) -> SessionData {
    match bug {
        Bug::MangledUnicode
        | Bug::NulTruncates
        | Bug::DropsArrays
        | Bug::DropsLargeValues
        | Bug::LossyNumbers
        | Bug::NaiveFloatParsing
        | Bug::NegativeZeroBecomesZero => data
            .iter()
            .map(|(k, v)| (k.clone(), mangle(bug, v.clone())))
            .collect(),
        Bug::KeysCappedAt16384 => data
            .iter()
            .take(16_384)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Bug::TruncatesLongKeys => data
            .iter()
            .map(|(k, v)| (k.chars().take(4096).collect(), v.clone()))
            .collect(),
        _ => data.clone(),
    }
}

fn mangle(bug: Bug, value: Value) -> Value {
    match (value, bug) {
        (Value::String(s), Bug::MangledUnicode) => {
            Value::String(s.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect())
        }
        (Value::String(s), Bug::NulTruncates) => Value::String(s.split('\0').next().unwrap_or("").into()),
        (Value::String(s), Bug::DropsLargeValues) if s.len() > 65_536 => Value::String(s[..65_536].into()),
        (Value::Number(n), Bug::LossyNumbers) => n.as_f64().map_or(Value::Null, Value::from),
        (Value::Number(n), Bug::NaiveFloatParsing) if n.is_f64() => {
            Value::from(naive_parse(n.as_f64().unwrap_or(0.0)))
        }
        (Value::Number(n), Bug::NegativeZeroBecomesZero) if n.as_f64().is_some_and(is_negative_zero) => {
            Value::from(0.0)
        }
        (Value::Array(_), Bug::DropsArrays) => Value::Null,
        (Value::Object(map), _) => Value::Object(map.into_iter().map(|(k, v)| (k, mangle(bug, v))).collect()),
        (Value::Array(items), _) => Value::Array(items.into_iter().map(|v| mangle(bug, v)).collect()),
        (other, _) => other,
    }
}

fn is_negative_zero(value: f64) -> bool {
    value == 0.0 && value.is_sign_negative()
}

/// `value` printed exactly, then read back as naive parsers do: the digits
/// as one `f64` times a power of ten, so the last bit is often wrong and
/// subnormals vanish.
fn naive_parse(value: f64) -> f64 {
    let printed = format!("{:e}", value.abs());
    let (mantissa, exponent) = printed.split_once('e').unwrap_or((&printed, "0"));
    let fraction_digits = mantissa.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    let digits = mantissa.replace('.', "").parse::<u64>().map_or(0.0, |d| d as f64);
    let exponent = exponent.parse::<i32>().unwrap_or(0) - fraction_digits as i32;
    let magnitude = if exponent < 0 {
        digits / 10f64.powi(-exponent)
    } else {
        digits * 10f64.powi(exponent)
    };
    magnitude.copysign(value)
}
