//! Whether a handler changed the session's data: the test that decides
//! between saving and touching at the end of a request.

use std::sync::Arc;

use serde_json::Value;
use session_core::SessionData;

/// Whether `a` and `b` hold exactly the same data. Like `==`, except that
/// floats compare bit for bit: stores keep `-0.0` apart from `0.0`, so a
/// change from one to the other must be saved. Key order does not matter.
pub(crate) fn same_data(a: &Arc<SessionData>, b: &Arc<SessionData>) -> bool {
    // Data a handler never wrote to is still the very map that was loaded.
    Arc::ptr_eq(a, b) || same_map(a, b)
}

fn same_map(a: &SessionData, b: &SessionData) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(key, x)| b.get(key).is_some_and(|y| same_value(x, y)))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
            x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => same_map(x, y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(value: Value) -> Arc<SessionData> {
        match value {
            Value::Object(map) => Arc::new(map),
            _ => unreachable!("test data is an object"),
        }
    }

    #[test]
    fn equal_data_is_the_same_in_any_key_order() {
        let a = data(json!({"a": 1, "b": [1.5, {"c": null}], "d": "x"}));
        let b = data(json!({"d": "x", "b": [1.5, {"c": null}], "a": 1}));
        assert!(same_data(&a, &b));
        assert!(same_data(&a, &a.clone()));
    }

    #[test]
    fn every_difference_counts() {
        let base = json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2], "o": {"k": true}});
        for changed in [
            json!({"n": -0.0, "i": 1, "s": "x", "l": [1, 2], "o": {"k": true}}),
            json!({"n": 0.0, "i": 1.0, "s": "x", "l": [1, 2], "o": {"k": true}}),
            json!({"n": 0.0, "i": 1, "s": "y", "l": [1, 2], "o": {"k": true}}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [2, 1], "o": {"k": true}}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2, 3], "o": {"k": true}}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2], "o": {"k": false}}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2], "o": {"k": true, "j": 1}}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2]}),
            json!({"n": 0.0, "i": 1, "s": "x", "l": [1, 2], "o": {"k": true}, "new": null}),
        ] {
            assert!(
                !same_data(&data(base.clone()), &data(changed.clone())),
                "{changed}"
            );
        }
    }
}
