//! Data comes back exactly as written, whatever it holds.

use serde_json::{Value, json};

use crate::harness::*;

/// Writes `data` to a fresh store and fails unless `get` and `all` give it
/// back exactly.
pub(crate) async fn round_trip(ctx: &Ctx, data: Value, what: &str) -> Outcome {
    let store = ctx.store().await;
    let (id, session) = (id(), session(data, in_an_hour()));
    store.set(&id, &session).await.ok_or_fail("set")?;
    expect_session(&*store, &id, &session, what).await?;
    let listed = store.all().await.ok_or_fail("all")?;
    ensure!(
        listed.len() == 1 && listed[0].1.data() == session.data(),
        "{what}: all() did not return the data exactly as written"
    );
    Ok(())
}

pub(crate) async fn round_trips_unicode(ctx: Ctx) -> Outcome {
    let data = json!({
        "greek": "καλημέρα", "cjk": "日本語のテキスト", "emoji": "👩‍💻🚀🏳️‍🌈",
        "rtl": "مرحبا بالعالم", "combining": "e\u{301}", "bmp_edge": "\u{fffd}\u{ffff}",
        "astral": "𝕳𝖊𝖑𝖑𝖔", "ключ": "значение", "🔑": "key is an emoji"
    });
    round_trip(&ctx, data, "unicode keys and values").await
}

pub(crate) async fn round_trips_escapes_and_nul(ctx: Ctx) -> Outcome {
    let data = json!({
        "nul": "a\u{0}b", "controls": "\u{1}\u{1f}\t\r\n\u{7f}", "quotes": "'\"`",
        "backslash": "\\ \\\\ \\u0000", "sql": "'; DROP TABLE sessions; --",
        "glob": "*?[]{}", "html": "<script>alert(1)</script>", "": "empty key"
    });
    round_trip(&ctx, data, "escapes, NUL and control characters").await
}

pub(crate) async fn round_trips_nested(ctx: Ctx) -> Outcome {
    let mut deep = json!("bottom");
    for level in 0..64 {
        deep = if level % 2 == 0 {
            json!([deep, level])
        } else {
            json!({ "level": level, "inner": deep })
        };
    }
    let data = json!({
        "deep": deep, "array": [1, "two", null, true, {"x": [[], {}]}],
        "object": {"originalMaxAge": 86_400_000, "expires": "2030-01-01T00:00:00.000Z", "httpOnly": true, "path": "/"}
    });
    round_trip(&ctx, data, "nested objects and arrays").await
}

pub(crate) async fn round_trips_empty_data(ctx: Ctx) -> Outcome {
    round_trip(&ctx, json!({}), "an empty object").await
}

pub(crate) async fn round_trips_one_mebibyte(ctx: Ctx) -> Outcome {
    let blob: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    round_trip(&ctx, json!({ "blob": blob, "after": "end" }), "1 MiB of data").await
}

/// A string of about `bytes` bytes cycling through ASCII, two-, three- and
/// four-byte characters and the characters JSON escapes.
fn long_text(bytes: usize) -> String {
    const PALETTE: &str = "abc é日🚀\"\\\n\t/";
    let mut text = String::with_capacity(bytes + 4);
    for c in PALETTE.chars().cycle() {
        if text.len() >= bytes {
            break;
        }
        text.push(c);
    }
    text
}

pub(crate) async fn round_trips_long_strings_and_keys(ctx: Ctx) -> Outcome {
    // About 2.6 MiB as JSON: far past any 64 KiB field limit, well under
    // MariaDB's default 16 MiB packet.
    let data = Value::Object(serde_json::Map::from_iter([
        ("k".repeat(64 * 1024), json!("a 64 KiB ASCII key")),
        (long_text(64 * 1024), json!("a 64 KiB key of mixed characters")),
        ("text".to_string(), json!(long_text(2 * 1024 * 1024))),
        ("after".to_string(), json!("end")),
    ]));
    round_trip(&ctx, data, "64 KiB keys and a 2 MiB string of mixed characters").await
}

pub(crate) async fn round_trips_exact_integers(ctx: Ctx) -> Outcome {
    let data = json!({
        "i64_max": i64::MAX, "i64_min": i64::MIN, "u64_max": u64::MAX,
        "past_f64": 9_007_199_254_740_993_i64, "neg_past_f64": -9_007_199_254_740_993_i64,
        "zero": 0, "tenth": 0.1, "half": 0.5, "negative": -2.25
    });
    let numbers = ctx.capabilities().numbers;
    let store = ctx.store().await;
    let (id, written) = (id(), session(data, in_an_hour()));
    store.set(&id, &written).await.ok_or_fail("set")?;
    let Some(read) = store.get(&id).await.ok_or_fail("get")? else {
        return Err(Fail("get after a set of integers returned None".into()));
    };
    let what = "integers up to i64::MAX/u64::MAX and floats";
    super::floats::expect_same_numbers(numbers, written.data(), read.data(), what)?;
    let listed = store.all().await.ok_or_fail("all")?;
    ensure_eq!(listed.len(), 1, "{what}: sessions listed by all()");
    super::floats::expect_same_numbers(
        numbers,
        written.data(),
        listed[0].1.data(),
        &format!("{what}, from all()"),
    )
}

pub(crate) async fn round_trips_many_keys(ctx: Ctx) -> Outcome {
    // Past 16 384 (2^14), a limit some parsers and document stores apply.
    let data: serde_json::Map<String, Value> = (0..20_000).map(|i| (format!("key-{i}"), json!(i))).collect();
    round_trip(&ctx, Value::Object(data), "20 000 top-level keys").await
}

pub(crate) async fn keeps_expiry_to_the_millisecond(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    for offset_ms in [1_001, 59_999, 3_600_123, 86_400_999] {
        let id = id();
        let at = in_(std::time::Duration::from_millis(offset_ms));
        let session = session(json!({}), at);
        store.set(&id, &session).await.ok_or_fail("set")?;
        let got = store
            .get(&id)
            .await
            .ok_or_fail("get")?
            .and_then(|s| s.expires_at());
        ensure_eq!(
            got,
            session.expires_at(),
            "expiry {offset_ms} ms ahead, kept to the millisecond"
        );
    }
    Ok(())
}
