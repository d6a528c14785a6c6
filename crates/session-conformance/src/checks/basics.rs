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

pub(crate) async fn debug_output_hides_secrets(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    let secret = "s3cr3t-payload-7d1f";
    store
        .set(&id, &session(json!({ "password": secret }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let got = store.get(&id).await.ok_or_fail("get")?;
    let shown = format!("{store:?} {got:?} {id:?}");
    ensure!(
        !shown.contains(secret),
        "Debug output shows session data: {shown}"
    );
    ensure!(
        !shown.contains(id.as_str()),
        "Debug output shows a whole session id"
    );
    let refusals = [
        store.create(&id, &tagged(&id)).await.err(),
        store.destroy(&id).await.err(),
        store.set(&id, &tagged(&id)).await.err(),
    ];
    ensure!(
        refusals[0].is_some() && refusals[2].is_some(),
        "create over a live session and set after destroy must be refused"
    );
    for error in refusals.iter().flatten() {
        let shown = format!("{error} {error:?}");
        ensure!(
            !shown.contains(id.as_str()) && !shown.contains(secret),
            "an error message shows secrets: {shown}"
        );
    }
    Ok(())
}
