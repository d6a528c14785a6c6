//! Rule 3: touch moves the expiry of live sessions only.

use std::time::Duration;

use serde_json::json;
use session_core::Error;

use crate::harness::*;

pub(crate) async fn touch_extends_past_old_expiry(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, old) = (id(), in_(SHORT));
    let written = session(json!({"kept": "yes"}), old);
    store.set(&id, &written).await.ok_or_fail("set")?;
    let new = in_an_hour();
    store.touch(&id, Some(new)).await.ok_or_fail("touch")?;
    sleep_past(old).await;
    expect_session(
        &*store,
        &id,
        &written.clone().expiring_at(new),
        "after the old expiry passed",
    )
    .await
}

pub(crate) async fn touch_can_shorten_expiry(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    let soon = in_(SHORT);
    store.touch(&id, Some(soon)).await.ok_or_fail("touch")?;
    sleep_past(soon).await;
    expect_gone(&*store, &id, "after touching to an expiry that passed").await
}

pub(crate) async fn touch_keeps_data(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    let at = in_(Duration::from_secs(7200));
    store.touch(&id, Some(at)).await.ok_or_fail("touch")?;
    expect_session(&*store, &id, &tagged(&id).expiring_at(at), "after touch").await
}

pub(crate) async fn touch_without_expiry_uses_default_ttl(ctx: Ctx) -> Outcome {
    let ttl = Duration::from_secs(5400);
    let store = ctx.store_with(with_ttl(ttl)).await;
    let id = id();
    store
        .set(&id, &session(json!({}), in_(SHORT)))
        .await
        .ok_or_fail("set")?;
    expect_default_ttl_applied(&*store, &id, ttl, store.touch(&id, None)).await
}

pub(crate) async fn touch_to_past_ends_session(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store
        .touch(&id, Some(now() - Duration::from_secs(1)))
        .await
        .ok_or_fail("touch into the past")?;
    expect_gone(&*store, &id, "after touching to a past expiry").await
}

pub(crate) async fn touch_missing_creates_nothing(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    ensure_err!(
        store.touch(&id, Some(in_an_hour())).await,
        Error::NotFound,
        "touch of a missing id"
    );
    expect_gone(&*store, &id, "after touching a missing id").await?;
    expect_length(&*store, 0, "after touching a missing id").await
}

pub(crate) async fn touch_never_revives_expired(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, at) = (id(), in_(SHORT));
    store
        .set(&id, &session(json!({"n": 1}), at))
        .await
        .ok_or_fail("set")?;
    sleep_past(at).await;
    ensure_err!(
        store.touch(&id, Some(in_an_hour())).await,
        Error::NotFound,
        "touch of an expired session"
    );
    expect_gone(&*store, &id, "an expired session after touch").await?;
    expect_length(&*store, 0, "after touching an expired session").await
}

pub(crate) async fn touch_destroyed_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    let answer = store.touch(&id, Some(in_an_hour())).await;
    if ctx.capabilities().tombstones {
        ensure_err!(answer, Error::Destroyed, "touch after destroy");
    } else {
        ensure_err!(
            answer,
            Error::NotFound,
            "touch after destroy, on a store declared without tombstones"
        );
    }
    expect_gone(&*store, &id, "a destroyed session after touch").await
}
