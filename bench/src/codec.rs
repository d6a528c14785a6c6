//! The codec alone: the default (serde_json, with `float_roundtrip`)
//! against a SIMD JSON parser (sonic-rs) and MessagePack (rmp-serde),
//! encoding and decoding the bench's 1 KiB session. Before any timing, each
//! must keep what the store contract demands: exact floats and integers,
//! NUL in strings, 100 levels of nesting, and a refusal (not a crash) of
//! input nested without bound.

use std::time::Instant;

use serde::Deserialize as _;
use serde_json::{Value, json};
use session_core::{SessionData, backend::MAX_DEPTH};

use crate::{harness::Measurement, subject::data};

/// The nesting at which a decoder must refuse (serde_json stops at 128).
const DECODE_DEPTH_LIMIT: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    SerdeJson,
    SonicRs,
    MessagePack,
}

impl Candidate {
    pub const ALL: [Candidate; 3] = [Candidate::SerdeJson, Candidate::SonicRs, Candidate::MessagePack];

    pub fn name(self) -> &'static str {
        match self {
            Candidate::SerdeJson => "serde_json (reference, the default)",
            Candidate::SonicRs => "sonic-rs (JSON, SIMD)",
            Candidate::MessagePack => "rmp-serde (MessagePack)",
        }
    }

    pub fn encode(self, data: &SessionData) -> Result<Vec<u8>, String> {
        match self {
            Candidate::SerdeJson => serde_json::to_vec(data).map_err(|e| e.to_string()),
            Candidate::SonicRs => sonic_rs::to_vec(data).map_err(|e| e.to_string()),
            Candidate::MessagePack => rmp_serde::to_vec(data).map_err(|e| e.to_string()),
        }
    }

    pub fn decode(self, bytes: &[u8]) -> Result<SessionData, String> {
        match self {
            Candidate::SerdeJson => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Candidate::SonicRs => sonic_rs::from_slice(bytes).map_err(|e| e.to_string()),
            Candidate::MessagePack => {
                // rmp-serde allows 1024 levels by default, enough to exhaust a
                // 2 MiB task stack; a store would cap it as serde_json does.
                let mut decoder = rmp_serde::Deserializer::from_read_ref(bytes);
                decoder.set_max_depth(DECODE_DEPTH_LIMIT);
                SessionData::deserialize(&mut decoder).map_err(|e| e.to_string())
            }
        }
    }

    /// Bytes of a value nested `levels` deep in this codec's format, under
    /// key "k" (written by hand: the encoders may refuse such depth).
    fn nested_bytes(self, levels: usize) -> Vec<u8> {
        match self {
            Candidate::SerdeJson | Candidate::SonicRs => {
                format!("{{\"k\":{}1{}}}", "[".repeat(levels), "]".repeat(levels)).into_bytes()
            }
            Candidate::MessagePack => {
                // A one-entry map, key "k", then `levels` one-element arrays around 1.
                let mut bytes = vec![0x81, 0xa1, b'k'];
                bytes.extend(std::iter::repeat_n(0x91, levels));
                bytes.push(0x01);
                bytes
            }
        }
    }
}

/// Every finite float worth trying: edge cases and a deterministic spread
/// over all exponents (xorshift).
fn floats() -> Vec<f64> {
    let mut floats = vec![
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 3.0,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        0.1 + 0.2,
        1.0 / 3.0,
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    while floats.len() < 20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let float = f64::from_bits(state);
        if float.is_finite() {
            floats.push(float);
        }
    }
    floats
}

/// A value nested `levels` deep (arrays), the data object not counted.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!([inner]))
}

/// Checks one candidate against the contract's data rules; `Err` names the
/// first rule it breaks.
pub fn check(candidate: Candidate) -> Result<(), String> {
    let round_trip =
        |data: &SessionData| -> Result<SessionData, String> { candidate.decode(&candidate.encode(data)?) };
    if round_trip(&data())? != data() {
        return Err("the 1 KiB session came back different".into());
    }
    let floats = floats();
    let as_data: SessionData = floats
        .iter()
        .enumerate()
        .map(|(i, f)| (i.to_string(), Value::from(*f)))
        .collect();
    let back = round_trip(&as_data)?;
    let changed: Vec<(f64, Option<f64>)> = floats
        .iter()
        .enumerate()
        .map(|(i, float)| (*float, back.get(&i.to_string()).and_then(Value::as_f64)))
        .filter(|(float, got)| got.map(f64::to_bits) != Some(float.to_bits()))
        .collect();
    if let Some((float, got)) = changed.first() {
        let one: SessionData = [("f".to_string(), Value::from(*float))].into_iter().collect();
        let encoded = candidate.encode(&one)?;
        return Err(format!(
            "{} of {} floats came back different, first {float:e} as {got:?} (encoded as {:?})",
            changed.len(),
            floats.len(),
            String::from_utf8_lossy(&encoded)
        ));
    }
    let exact: SessionData = [
        ("max".to_string(), json!(u64::MAX)),
        ("min".to_string(), json!(i64::MIN)),
        ("nul".to_string(), json!("a\u{0}b")),
        ("deepest".to_string(), nested(MAX_DEPTH - 1)),
    ]
    .into_iter()
    .collect();
    if round_trip(&exact)? != exact {
        return Err(format!(
            "u64::MAX, i64::MIN, a NUL or {MAX_DEPTH} levels of nesting came back different"
        ));
    }
    if candidate.decode(&candidate.nested_bytes(10_000)).is_ok() {
        return Err("decoded 10 000 levels of nesting: no depth limit".into());
    }
    Ok(())
}

/// Times `iterations` encodes and decodes of the 1 KiB session per candidate.
pub fn measure(iterations: usize) -> Result<Vec<Measurement>, String> {
    let data = data();
    let mut rows = Vec::new();
    for candidate in Candidate::ALL {
        let bytes = candidate.encode(&data)?;
        let subject = format!("{} ({} bytes)", candidate.name(), bytes.len());
        let encode = time(iterations, || candidate.encode(&data).map(drop))?;
        let decode = time(iterations, || candidate.decode(&bytes).map(drop))?;
        for (workload, latencies) in [("encode", encode), ("decode", decode)] {
            rows.push(row(&subject, workload, iterations, latencies));
        }
    }
    Ok(rows)
}

/// The latency of each of `iterations` calls, ns, sorted.
fn time(iterations: usize, mut op: impl FnMut() -> Result<(), String>) -> Result<Vec<u64>, String> {
    let mut latencies = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let began = Instant::now();
        std::hint::black_box(op()?);
        latencies.push(began.elapsed().as_nanos() as u64);
    }
    latencies.sort_unstable();
    Ok(latencies)
}

fn row(subject: &str, workload: &str, iterations: usize, latencies: Vec<u64>) -> Measurement {
    let total_ns: u64 = latencies.iter().sum();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    Measurement {
        backend: "codec".into(),
        subject: subject.into(),
        workload: workload.into(),
        concurrency: 1,
        ops: iterations,
        ops_per_sec: iterations as f64 / (total_ns.max(1) as f64 / 1e9),
        p50_us: pick(0.5),
        p99_us: pick(0.99),
        errors: 0,
        first_error: None,
    }
}
