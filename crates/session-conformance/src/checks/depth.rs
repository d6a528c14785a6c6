//! Rule 8, depth: data nested up to `MAX_DEPTH` levels comes back exactly;
//! one level deeper is refused with `Encode` and changes nothing.

use serde_json::{Value, json};
use session_core::{Error, Store, backend::MAX_DEPTH};

use crate::harness::*;

/// The two ways to nest: arrays in arrays, objects in objects.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Nesting {
    Arrays,
    Objects,
}

const BOTH: [Nesting; 2] = [Nesting::Arrays, Nesting::Objects];

/// Session data nested `depth` levels deep, the data object itself being
/// level 1 (as [`MAX_DEPTH`] counts).
fn nested(depth: usize, nesting: Nesting) -> Value {
    let mut value = json!("bottom");
    for level in (2..=depth).rev() {
        value = match nesting {
            Nesting::Arrays => json!([level, value]),
            Nesting::Objects => json!({ "level": level, "inner": value }),
        };
    }
    json!({ "top": value })
}

fn deepest(nesting: Nesting) -> Value {
    nested(MAX_DEPTH, nesting)
}

/// One level deeper than a store must accept.
pub(crate) fn too_deep(nesting: Nesting) -> Value {
    nested(MAX_DEPTH + 1, nesting)
}

pub(crate) async fn deepest_nesting_round_trips(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    for nesting in BOTH {
        let written = session(deepest(nesting), in_an_hour());
        let (by_set, by_create) = (id(), id());
        store.set(&by_set, &written).await.ok_or_fail("set")?;
        store.create(&by_create, &written).await.ok_or_fail("create")?;
        let what = format!("{nesting:?} nested {MAX_DEPTH} levels, the deepest a store must accept");
        expect_session(&*store, &by_set, &written, &format!("{what}, written by set")).await?;
        expect_session(
            &*store,
            &by_create,
            &written,
            &format!("{what}, written by create"),
        )
        .await?;
    }
    let listed = store.all().await.ok_or_fail("all")?;
    ensure!(
        listed.len() == 4
            && listed
                .iter()
                .all(|(_, s)| BOTH.iter().any(|n| *s.data() == object(deepest(*n)))),
        "all() did not give back the {MAX_DEPTH}-level sessions exactly"
    );
    Ok(())
}

pub(crate) async fn too_deep_set_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    for nesting in BOTH {
        let refused = session(too_deep(nesting), in_an_hour());
        let (vacant, live) = (id(), id());
        ensure_err!(
            store.set(&vacant, &refused).await,
            Error::Encode(_),
            "set of data nested {} levels ({nesting:?})",
            MAX_DEPTH + 1
        );
        expect_gone(&*store, &vacant, "after set refused data nested too deep").await?;

        store.set(&live, &tagged(&live)).await.ok_or_fail("set")?;
        ensure_err!(
            store.set(&live, &refused).await,
            Error::Encode(_),
            "set of data nested {} levels ({nesting:?}) over a live session",
            MAX_DEPTH + 1
        );
        expect_untouched(&*store, &live, "set").await?;
    }
    expect_length(&*store, BOTH.len() as u64, "after every too-deep set was refused").await
}

pub(crate) async fn too_deep_create_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    for nesting in BOTH {
        let refused = session(too_deep(nesting), in_an_hour());
        let (vacant, live) = (id(), id());
        ensure_err!(
            store.create(&vacant, &refused).await,
            Error::Encode(_),
            "create of data nested {} levels ({nesting:?})",
            MAX_DEPTH + 1
        );
        expect_gone(&*store, &vacant, "after create refused data nested too deep").await?;
        store
            .create(&vacant, &tagged(&vacant))
            .await
            .ok_or_fail("create after a refused create of the same id")?;

        store.set(&live, &tagged(&live)).await.ok_or_fail("set")?;
        // Two refusals apply here; a store may report either.
        ensure_err!(
            store.create(&live, &refused).await,
            Error::Encode(_) | Error::AlreadyExists,
            "create of data nested {} levels ({nesting:?}) over a live session",
            MAX_DEPTH + 1
        );
        expect_untouched(&*store, &live, "create").await?;
    }
    expect_length(
        &*store,
        2 * BOTH.len() as u64,
        "after every too-deep create was refused",
    )
    .await
}

/// Fails unless `id` still holds its [`tagged`] session after a refused `write`.
async fn expect_untouched(store: &dyn Store, id: &session_core::SessionId, write: &str) -> Outcome {
    expect_session(
        store,
        id,
        &tagged(id),
        &format!("the live session after {write} refused data nested too deep"),
    )
    .await
}
