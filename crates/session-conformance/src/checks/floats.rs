//! Rule 8, floats: every finite `f64` comes back bit for bit (or, for a
//! store declared to keep JavaScript's numbers, as JavaScript gives it back).
//!
//! serde_json's `Value` equality says `-0.0 == 0.0`, so these checks compare
//! `to_bits` as well as the values.

use serde_json::{Map, Number, Value, json};
use session_core::SessionData;

use crate::Numbers;

use crate::harness::*;

/// How many pseudo-random bit patterns and decimals the spread holds.
const SPREAD: usize = 300;

/// The values that break float printing and parsing, by name.
fn edge_cases() -> Map<String, Value> {
    let near_120_million = (120_000_000.0_f64).to_bits();
    let named = [
        ("negative_zero", -0.0),
        ("zero", 0.0),
        ("smallest_subnormal", 5e-324),
        ("negative_smallest_subnormal", -5e-324),
        (
            "largest_subnormal",
            f64::from_bits(f64::MIN_POSITIVE.to_bits() - 1),
        ),
        ("mid_subnormal", f64::from_bits(0x0000_1234_5678_9abc)),
        ("min_positive", f64::MIN_POSITIVE),
        ("max", f64::MAX),
        ("min", f64::MIN),
        ("epsilon", f64::EPSILON),
        ("seventeen_digits", 123_456_789.123_456_78),
        ("near_1_2e8", f64::from_bits(near_120_million + 12_345)),
        ("tenth", 0.1),
        ("third", 1.0 / 3.0),
        ("ten_to_23", 1e23),
        ("past_2_to_53", 9_007_199_254_740_994.0),
        ("whole", 42.0),
    ];
    named
        .into_iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect()
}

/// SplitMix64: a fixed, well-mixed sequence, so every run tests the same values.
fn split_mix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Finite floats from random bit patterns: every exponent, subnormals included.
fn random_bits(seed: &mut u64) -> Vec<Value> {
    std::iter::repeat_with(|| f64::from_bits(split_mix(seed)))
        .filter(|value| value.is_finite())
        .take(SPREAD)
        .map(|value| json!(value))
        .collect()
}

/// Subnormals with random mantissas: the floats parsers most often lose.
fn random_subnormals(seed: &mut u64) -> Vec<Value> {
    const MANTISSA: u64 = (1 << 52) - 1;
    (0..SPREAD / 3)
        .map(|_| json!(f64::from_bits(split_mix(seed) & MANTISSA)))
        .collect()
}

/// 17-significant-digit decimals of every magnitude, parsed exactly: the
/// values a lossy parser gets one bit wrong.
fn random_decimals(seed: &mut u64) -> Vec<Value> {
    (0..SPREAD)
        .filter_map(|_| {
            let digits = 10_000_000_000_000_000 + split_mix(seed) % 90_000_000_000_000_000;
            let exponent = (split_mix(seed) % 601) as i64 - 300;
            format!("{digits}e{exponent}").parse::<f64>().ok()
        })
        .filter(|value| value.is_finite())
        .map(|value| json!(value))
        .collect()
}

/// Every float just above 1.2e8, where 17 digits are needed.
fn near_120_million() -> Vec<Value> {
    let start = (120_000_000.0_f64).to_bits();
    (start..start + 100)
        .map(|bits| json!(f64::from_bits(bits)))
        .collect()
}

fn float_data() -> Value {
    let mut seed = 0x5e55_1015_c0de_f00d;
    let mut data = edge_cases();
    data.insert("random_bits".into(), Value::Array(random_bits(&mut seed)));
    data.insert(
        "random_subnormals".into(),
        Value::Array(random_subnormals(&mut seed)),
    );
    data.insert("random_decimals".into(), Value::Array(random_decimals(&mut seed)));
    data.insert("near_120_million".into(), Value::Array(near_120_million()));
    Value::Object(data)
}

/// The number a store declared to keep `numbers` gives back for `wrote`,
/// as an `f64`: the same; or, as JavaScript keeps it, its nearest double
/// with `-0` turned into `0`.
fn expected_number(numbers: Numbers, wrote: &Number) -> f64 {
    let value = wrote.as_f64().unwrap_or(f64::NAN);
    match numbers {
        Numbers::JavaScript if value == 0.0 => 0.0,
        _ => value,
    }
}

/// Where `got` differs from `expected`, comparing numbers bit for bit as
/// `numbers` keeps them; `None` when they are the same. Recurses only as
/// deep as the data written here (two levels).
fn first_difference(numbers: Numbers, expected: &Value, got: Option<&Value>, path: &str) -> Option<String> {
    match (expected, got) {
        (Value::Object(expected), Some(Value::Object(got))) if expected.len() == got.len() => {
            expected.iter().find_map(|(key, value)| {
                first_difference(numbers, value, got.get(key), &format!("{path}.{key}"))
            })
        }
        (Value::Array(expected), Some(Value::Array(got))) if expected.len() == got.len() => expected
            .iter()
            .enumerate()
            .find_map(|(i, value)| first_difference(numbers, value, got.get(i), &format!("{path}[{i}]"))),
        (Value::Number(wrote), Some(Value::Number(read))) => {
            let (wrote, read) = (expected_number(numbers, wrote), read.as_f64().unwrap_or(f64::NAN));
            (wrote.to_bits() != read.to_bits()).then(|| {
                format!(
                    "{path}: expected {wrote:e} (bits {:#018x}), read {read:e} (bits {:#018x})",
                    wrote.to_bits(),
                    read.to_bits()
                )
            })
        }
        (expected, got) => (Some(expected) != got).then(|| format!("{path}: wrote {expected}, read {got:?}")),
    }
}

/// Fails unless `got` holds `expected`'s numbers as a store keeping
/// `numbers` gives them back: exactly (integers too), or as JavaScript does.
pub(crate) fn expect_same_numbers(
    numbers: Numbers,
    expected: &SessionData,
    got: &SessionData,
    what: &str,
) -> Outcome {
    let difference = first_difference(
        numbers,
        &Value::Object(expected.clone()),
        Some(&Value::Object(got.clone())),
        "data",
    );
    ensure!(
        difference.is_none(),
        "{what}: a number changed: {}",
        difference.unwrap_or_default()
    );
    ensure!(
        numbers == Numbers::JavaScript || got == expected,
        "{what}: the data read back differs from the data written"
    );
    Ok(())
}

pub(crate) async fn floats_round_trip_bit_for_bit(ctx: Ctx) -> Outcome {
    let numbers = ctx.capabilities().numbers;
    let store = ctx.store().await;
    let written = session(float_data(), in_an_hour());
    let (by_set, by_create) = (id(), id());
    store.set(&by_set, &written).await.ok_or_fail("set")?;
    store.create(&by_create, &written).await.ok_or_fail("create")?;
    for (id, how) in [(&by_set, "set"), (&by_create, "create")] {
        let Some(read) = store.get(id).await.ok_or_fail("get")? else {
            return Err(Fail(format!("get after {how} of floats returned None")));
        };
        expect_same_numbers(numbers, written.data(), read.data(), &format!("get after {how}"))?;
    }
    let listed = store.all().await.ok_or_fail("all")?;
    ensure_eq!(listed.len(), 2, "sessions listed by all()");
    for (_, read) in &listed {
        expect_same_numbers(numbers, written.data(), read.data(), "all()")?;
    }
    Ok(())
}
