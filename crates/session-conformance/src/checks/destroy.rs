//! Rule 4: destroy is idempotent and leaves a tombstone for the grace window.

use std::time::Duration;

use serde_json::json;

use crate::harness::*;

pub(crate) async fn destroy_removes_session(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    expect_gone(&*store, &id, "after destroy").await?;
    expect_length(&*store, 0, "after destroying the only session").await
}

pub(crate) async fn destroy_is_idempotent(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (id, never_written) = (id(), id());
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("first destroy")?;
    store.destroy(&id).await.ok_or_fail("second destroy")?;
    store
        .destroy(&never_written)
        .await
        .ok_or_fail("destroy of an id never written")?;
    expect_gone(&*store, &id, "after two destroys").await
}

pub(crate) async fn destroy_leaves_other_sessions(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (gone, kept) = (id(), id());
    store.set(&gone, &tagged(&gone)).await.ok_or_fail("set")?;
    store.set(&kept, &tagged(&kept)).await.ok_or_fail("set")?;
    store.destroy(&gone).await.ok_or_fail("destroy")?;
    expect_session(&*store, &kept, &tagged(&kept), "the other session").await?;
    expect_length(&*store, 1, "after destroying one of two").await
}

pub(crate) async fn set_after_destroy_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    let late = session(json!({"late": true}), in_an_hour());
    let answer = store.set(&id, &late).await;
    expect_after_destroy(&ctx, &*store, &id, answer, &late, "set after destroy").await?;
    let expected = u64::from(!ctx.capabilities().tombstones);
    expect_length(&*store, expected, "after a set after destroy").await
}

pub(crate) async fn create_after_destroy_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.create(&id, &tagged(&id)).await.ok_or_fail("create")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    let late = session(json!({"late": true}), in_an_hour());
    let answer = store.create(&id, &late).await;
    expect_after_destroy(&ctx, &*store, &id, answer, &late, "create after destroy").await
}

pub(crate) async fn destroy_of_unknown_id_still_guards_it(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.destroy(&id).await.ok_or_fail("destroy of an unknown id")?;
    let answer = store.set(&id, &tagged(&id)).await;
    expect_after_destroy(
        &ctx,
        &*store,
        &id,
        answer,
        &tagged(&id),
        "set after destroying an unknown id",
    )
    .await
}

pub(crate) async fn tombstone_lapses_after_grace(ctx: Ctx) -> Outcome {
    let store = ctx.store_with(with_grace(SHORT)).await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    let lapse = in_(SHORT);
    let within = session(json!({"within": "grace"}), in_an_hour());
    let answer = store.set(&id, &within).await;
    expect_after_destroy(&ctx, &*store, &id, answer, &within, "set within the grace window").await?;
    if !ctx.capabilities().tombstones {
        // Nothing to lapse: the write above already landed.
        return Ok(());
    }
    sleep_past(lapse).await;
    store
        .set(&id, &tagged(&id))
        .await
        .ok_or_fail("set after the grace window")?;
    expect_session(&*store, &id, &tagged(&id), "after the grace window").await
}

pub(crate) async fn zero_grace_disables_tombstones(ctx: Ctx) -> Outcome {
    let store = ctx.store_with(with_grace(Duration::ZERO)).await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    expect_gone(&*store, &id, "after destroy without tombstones").await?;
    store
        .set(&id, &tagged(&id))
        .await
        .ok_or_fail("set after destroy with zero grace")?;
    expect_session(
        &*store,
        &id,
        &tagged(&id),
        "written again after destroy with zero grace",
    )
    .await
}
