//! Rule 1 and 2 basics: get, set, upsert, independence, privacy.

use serde_json::json;

use crate::harness::*;

pub(crate) async fn get_missing_is_none(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    expect_gone(&*store, &id(), "get of an id never written").await
}

pub(crate) async fn set_then_get_round_trips(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, session) = (id(), session(json!({"user": "ada", "n": 1}), in_an_hour()));
    store.set(&id, &session).await.ok_or_fail("set")?;
    expect_session(&*store, &id, &session, "after set").await
}

pub(crate) async fn set_replaces_existing(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({"v": 1, "old": true}), in_an_hour()))
        .await
        .ok_or_fail("first set")?;
    let second = session(json!({"v": 2}), in_(std::time::Duration::from_secs(7200)));
    store.set(&id, &second).await.ok_or_fail("second set")?;
    expect_session(&*store, &id, &second, "after the second set").await?;
    expect_length(&*store, 1, "one id set twice").await
}

pub(crate) async fn sessions_are_independent(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (a, b) = (id(), id());
    store.set(&a, &tagged(&a)).await.ok_or_fail("set a")?;
    store.set(&b, &tagged(&b)).await.ok_or_fail("set b")?;
    store
        .set(&a, &session(json!({"changed": true}), in_an_hour()))
        .await
        .ok_or_fail("set a again")?;
    store.destroy(&a).await.ok_or_fail("destroy a")?;
    expect_session(&*store, &b, &tagged(&b), "b after a was changed and destroyed").await
}

/// A secret to put in session data, then look for in output.
const SECRET: &str = "s3cr3t-payload-7d1f";

pub(crate) async fn debug_output_hides_secrets(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({ "password": SECRET }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let got = store.get(&id).await.ok_or_fail("get")?;
    ensure!(got.is_some(), "get after set returned None");
    let shown = format!("{store:?} {got:?} {id:?}");
    ensure!(
        !shown.contains(SECRET),
        "Debug output shows session data: {shown}"
    );
    ensure!(
        !shown.contains(id.as_str()),
        "Debug output shows a whole session id"
    );
    Ok(())
}

pub(crate) async fn errors_hide_secrets(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, missing) = (id(), id());
    let secret = session(json!({ "password": SECRET }), in_an_hour());
    store.set(&id, &secret).await.ok_or_fail("set")?;
    let mut too_deep = super::depth::too_deep(super::depth::Nesting::Objects);
    too_deep["password"] = json!(SECRET);
    let too_deep = session(too_deep, in_an_hour());
    let mut refusals = vec![
        ("create over a live session", store.create(&id, &secret).await),
        ("touch of a missing id", store.touch(&missing, None).await),
        ("set of data nested too deep", store.set(&id, &too_deep).await),
    ];
    let reserved = ctx.capabilities().reserved_keys.first().cloned();
    if let Some(key) = reserved {
        let holding = session(json!({ key: SECRET, "password": SECRET }), in_an_hour());
        refusals.push(("set of a reserved key", store.set(&id, &holding).await));
    }
    if ctx.capabilities().tombstones {
        store.destroy(&id).await.ok_or_fail("destroy")?;
        refusals.push(("set after destroy", store.set(&id, &secret).await));
    }
    for (what, refusal) in &refusals {
        let Err(error) = refusal else {
            return Err(Fail(format!("{what} must be refused, got Ok")));
        };
        let shown = format!("{error} {error:?}");
        ensure!(
            !shown.contains(id.as_str()) && !shown.contains(missing.as_str()),
            "the error of {what} shows a whole session id: {shown}"
        );
        ensure!(
            !shown.contains(SECRET),
            "the error of {what} shows session data: {shown}"
        );
    }
    Ok(())
}
