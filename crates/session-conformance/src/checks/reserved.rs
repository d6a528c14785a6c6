//! Rule 8 for keys: a data key the store keeps for itself (declared in
//! [`Capabilities`](crate::Capabilities)) is refused with `Error::Encode`,
//! never silently dropped or overwritten; every other key comes back.

use serde_json::{Value, json};
use session_core::Error;

use crate::harness::*;

/// Keys some store keeps for itself: express-session's `cookie`,
/// connect-redis-session's `lastModified`, CouchDB's `_id` and `_rev`,
/// session-pouchdb-store's `$ts`, `$dirty` and `$destroyed`, and names
/// JavaScript treats specially.
const PROBES: [&str; 10] = [
    "cookie",
    "lastModified",
    "_id",
    "_rev",
    "$ts",
    "$dirty",
    "$destroyed",
    "__proto__",
    "constructor",
    "expires",
];

pub(crate) async fn reserved_keys_are_refused_others_kept(ctx: Ctx) -> Outcome {
    let capabilities = ctx.capabilities();
    let mut keys: Vec<String> = PROBES.iter().map(|key| key.to_string()).collect();
    keys.extend(capabilities.reserved_keys.iter().cloned());
    keys.extend(
        capabilities
            .reserved_prefixes
            .iter()
            .map(|prefix| format!("{prefix}probe")),
    );
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    let (reserved, kept): (Vec<String>, Vec<String>) =
        keys.into_iter().partition(|key| capabilities.is_reserved(key));

    let store = ctx.store().await;
    let live = id();
    store.set(&live, &tagged(&live)).await.ok_or_fail("set")?;
    for key in &reserved {
        let holding = session(
            json!({ key.as_str(): {"nested": 1}, "other": "data" }),
            in_an_hour(),
        );
        let what = format!("data holding the key {key:?}, which the store declares its own");
        let fresh = id();
        ensure_err!(
            store.set(&fresh, &holding).await,
            Error::Encode(_),
            "set of {what}"
        );
        ensure_err!(
            store.create(&fresh, &holding).await,
            Error::Encode(_),
            "create of {what}"
        );
        expect_gone(&*store, &fresh, &format!("after refusing {what}")).await?;
        ensure_err!(
            store.set(&live, &holding).await,
            Error::Encode(_),
            "set over a live session of {what}"
        );
        expect_session(
            &*store,
            &live,
            &tagged(&live),
            &format!("a live session after refusing {what}"),
        )
        .await?;
    }
    let mut data: serde_json::Map<String, Value> = kept
        .iter()
        .enumerate()
        .map(|(n, key)| (key.clone(), json!({ "probe": n })))
        .collect();
    data.insert("other".into(), json!("data"));
    let written = session(Value::Object(data), in_an_hour());
    let fresh = id();
    store
        .set(&fresh, &written)
        .await
        .ok_or_fail("set of keys the store does not reserve")?;
    expect_session(
        &*store,
        &fresh,
        &written,
        &format!("data holding the keys {kept:?}, none declared reserved"),
    )
    .await?;
    expect_length(&*store, 2, "after the refusals and the round trip").await
}
