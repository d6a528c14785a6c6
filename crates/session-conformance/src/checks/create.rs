//! Rule 5: create inserts only when the id has no live session.

use std::time::Duration;

use serde_json::json;
use session_core::Error;

use crate::harness::*;

pub(crate) async fn create_inserts_when_absent(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.create(&id, &tagged(&id)).await.ok_or_fail("create")?;
    expect_session(&*store, &id, &tagged(&id), "after create").await
}

pub(crate) async fn create_refuses_live_session(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    let first = session(json!({"owner": "first"}), in_an_hour());
    store.set(&id, &first).await.ok_or_fail("set")?;
    let intruder = session(json!({"owner": "intruder"}), in_an_hour());
    ensure_err!(
        store.create(&id, &intruder).await,
        Error::AlreadyExists,
        "create over a live session"
    );
    expect_session(&*store, &id, &first, "the original after a refused create").await
}

pub(crate) async fn create_replaces_expired_session(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, at) = (id(), in_(SHORT));
    store
        .set(&id, &session(json!({"old": true}), at))
        .await
        .ok_or_fail("set")?;
    sleep_past(at).await;
    store
        .create(&id, &tagged(&id))
        .await
        .ok_or_fail("create over an expired session")?;
    expect_session(&*store, &id, &tagged(&id), "after create over an expired session").await
}

pub(crate) async fn create_already_expired_stores_nothing(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    let expired = session(json!({}), now() - Duration::from_secs(1));
    store
        .create(&id, &expired)
        .await
        .ok_or_fail("create of an expired session")?;
    expect_gone(&*store, &id, "after creating an expired session").await?;
    store
        .create(&id, &tagged(&id))
        .await
        .ok_or_fail("create after the expired create")?;
    Ok(())
}
