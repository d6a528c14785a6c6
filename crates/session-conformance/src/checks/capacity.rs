//! Rule 4 under memory pressure: a bounded store may evict live sessions,
//! but never a tombstone within its grace window, so a logout sticks
//! however many sessions are written after it.

use session_core::{Error, Store};

use crate::harness::*;

/// The bound asked for ([`Settings::capacity`](crate::Settings::capacity)).
const CAPACITY: u64 = 64;

/// Sessions written after the destroy: four times the bound.
const PRESSURE: u64 = 4 * CAPACITY;

pub(crate) async fn tombstones_survive_capacity_pressure(ctx: Ctx) -> Outcome {
    let bounded = ctx.bounded_store(CAPACITY).await;
    let store: &dyn Store = &*bounded;
    let destroyed = id();
    store
        .create(&destroyed, &tagged(&destroyed))
        .await
        .ok_or_fail("create")?;
    store.destroy(&destroyed).await.ok_or_fail("destroy")?;
    let others = (0..PRESSURE).map(|_| id());
    concurrently(others, |id| async move {
        store.set(&id, &tagged(&id)).await.ok_or_fail("set")
    })
    .await?;
    let after = format!("after {PRESSURE} other sessions were written to a store bounded at {CAPACITY}");
    expect_gone(store, &destroyed, &format!("the destroyed id {after}")).await?;
    let late = session(serde_json::json!({"late": true}), in_an_hour());
    let answer = store.set(&destroyed, &late).await;
    expect_after_destroy(
        &ctx,
        store,
        &destroyed,
        answer,
        &late,
        &format!("set of a destroyed id {after}"),
    )
    .await?;
    if !ctx.capabilities().tombstones {
        return Ok(());
    }
    ensure_err!(
        store.create(&destroyed, &tagged(&destroyed)).await,
        Error::Destroyed,
        "create of a destroyed id {after}"
    );
    expect_gone(store, &destroyed, &format!("the destroyed id {after}")).await
}
