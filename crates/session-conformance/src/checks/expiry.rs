//! Rules 1 and 2 over time: expiry, default TTL, already-expired writes.

use std::time::Duration;

use serde_json::json;
use session_core::Session;

use crate::harness::*;

pub(crate) async fn expires_within_seconds(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, at) = (id(), in_(SHORT));
    store
        .set(&id, &session(json!({"n": 1}), at))
        .await
        .ok_or_fail("set")?;
    ensure!(
        store.get(&id).await.ok_or_fail("get")?.is_some(),
        "a session 2 s from expiry was not returned"
    );
    sleep_past(at).await;
    expect_gone(&*store, &id, "get after the expiry passed").await
}

pub(crate) async fn default_ttl_applies_without_expiry(ctx: Ctx) -> Outcome {
    let ttl = Duration::from_secs(90 * 60);
    let store = ctx.store_with(with_ttl(ttl)).await;
    let id = id();
    expect_default_ttl_applied(&*store, &id, ttl, store.set(&id, &Session::new())).await
}

pub(crate) async fn default_ttl_expires_session(ctx: Ctx) -> Outcome {
    let store = ctx.store_with(with_ttl(SHORT)).await;
    let id = id();
    store
        .set(&id, &Session::new())
        .await
        .ok_or_fail("set without expiry")?;
    ensure!(
        store.get(&id).await.ok_or_fail("get")?.is_some(),
        "session missing right after set"
    );
    sleep_past(in_(SHORT)).await;
    expect_gone(&*store, &id, "a session without expiry after a 1 s default TTL").await
}

pub(crate) async fn set_already_expired_is_not_kept(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({"n": 1}), now() - Duration::from_secs(5)))
        .await
        .ok_or_fail("set of an expired session")?;
    expect_gone(&*store, &id, "an expired session written with set").await?;
    expect_length(&*store, 0, "after writing only an expired session").await
}

pub(crate) async fn set_already_expired_removes_live_session(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store
        .set(&id, &session(json!({}), now() - Duration::from_millis(1)))
        .await
        .ok_or_fail("set expired")?;
    expect_gone(&*store, &id, "a live session overwritten with an expired one").await
}
