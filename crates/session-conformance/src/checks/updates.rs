//! Rule 10, no lost updates: `update` lands one request's changes on the
//! session as stored, so concurrent requests keep each other's keys; it is
//! built on `get_versioned` and `set_if_unchanged`.
//!
//! A store declaring [`last_writer_wins`](crate::Capabilities::last_writer_wins)
//! keeps the provided `set_if_unchanged`, a plain `set`: the checks then
//! assert exactly that (a stale write lands; of concurrent updates the
//! last whole session wins), never "either".

use std::sync::Arc;

use serde_json::{Value, json};
use session_core::{Changes, Error, Session, SessionId, Store, Versioned};
use tokio::{sync::Barrier, task::JoinSet};

use super::races::{ROUNDS, every_round_passes};
use crate::harness::*;

/// Writers of one session at once, as a page firing parallel requests.
const WRITERS: usize = 64;

/// The session under `id` with its version; fails when there is none.
async fn read(store: &dyn Store, id: &SessionId, what: &str) -> Result<Versioned, Fail> {
    store
        .get_versioned(id)
        .await
        .ok_or_fail(what)?
        .ok_or_else(|| Fail(format!("{what}: get_versioned found no session")))
}

/// `read` with `changes` made, as a request leaves it.
fn changed(read: &Versioned, changes: &Changes) -> Session {
    changes.applied_to(&read.session)
}

pub(crate) async fn a_stale_conditional_write_is_refused(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({ "by": "first" }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let first = read(&*store, &id, "read").await?;
    let second = session(json!({ "by": "second" }), in_an_hour());
    store
        .set(&id, &second)
        .await
        .ok_or_fail("set by another writer")?;
    let stale = session(json!({ "by": "stale" }), in_an_hour());
    let written = store.set_if_unchanged(&id, &stale, &first.version).await;
    let stored = store.get(&id).await.ok_or_fail("get")?.map(|s| s.data().clone());
    if ctx.capabilities().versions {
        ensure_err!(written, Error::Conflict, "set_if_unchanged after another write");
        ensure_eq!(
            stored,
            Some(second.data().clone()),
            "the other writer's data must stay"
        );
    } else {
        ensure!(
            written.is_ok(),
            "declared last-writer-wins: set_if_unchanged is a plain set, got {written:?}"
        );
        ensure_eq!(
            stored,
            Some(stale.data().clone()),
            "declared last-writer-wins: the last write"
        );
    }
    Ok(())
}

pub(crate) async fn a_current_conditional_write_lands_and_moves_the_version(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({ "n": 1 }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let first = read(&*store, &id, "read").await?;
    let next = session(json!({ "n": 2 }), in_an_hour());
    store
        .set_if_unchanged(&id, &next, &first.version)
        .await
        .ok_or_fail("set_if_unchanged at the version read")?;
    expect_session(&*store, &id, &next, "after the conditional write").await?;
    let again = store
        .set_if_unchanged(&id, &session(json!({ "n": 3 }), in_an_hour()), &first.version)
        .await;
    if ctx.capabilities().versions {
        ensure_err!(
            again,
            Error::Conflict,
            "a second write at the version it replaced"
        );
        expect_session(&*store, &id, &next, "after the refused write").await?;
    } else {
        ensure!(
            again.is_ok(),
            "declared last-writer-wins: a plain set, got {again:?}"
        );
    }
    Ok(())
}

pub(crate) async fn a_conditional_write_after_destroy_stores_nothing(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
    let before = read(&*store, &id, "read").await?;
    store.destroy(&id).await.ok_or_fail("destroy")?;
    let written = store
        .set_if_unchanged(
            &id,
            &session(json!({ "back": true }), in_an_hour()),
            &before.version,
        )
        .await;
    let (tombstones, versions) = (ctx.capabilities().tombstones, ctx.capabilities().versions);
    match (tombstones, versions) {
        (true, _) => ensure_err!(written, Error::Destroyed, "set_if_unchanged of a destroyed id"),
        (false, true) => ensure_err!(written, Error::Conflict, "set_if_unchanged of a deleted id"),
        (false, false) => {
            ensure!(
                written.is_ok(),
                "declared: no tombstones, a plain set; got {written:?}"
            );
            return Ok(());
        }
    }
    expect_gone(&*store, &id, "after the refused write").await
}

pub(crate) async fn concurrent_updates_keep_every_key(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    store
        .set(&id, &session(json!({ "base": true }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let (store, id, barrier) = (Arc::clone(&store), id.clone(), Arc::clone(&barrier));
        writers.spawn(async move {
            // Every writer reads before any writes, as parallel requests do.
            let read = read(&*store, &id, "read").await?;
            barrier.wait().await;
            let mut changes = Changes::new();
            changes.set(format!("key{writer}"), json!(writer));
            let session = changed(&read, &changes);
            store
                .update(&id, &session, &changes, &read.version)
                .await
                .ok_or_fail("update")
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined.map_err(|e| Fail(format!("a writer panicked: {e}")))??;
    }
    let stored = store.get(&id).await.ok_or_fail("get")?;
    let data = stored.map(Session::into_data).unwrap_or_default();
    let kept = (0..WRITERS)
        .filter(|writer| data.get(&format!("key{writer}")) == Some(&json!(writer)))
        .count();
    ensure_eq!(data.get("base"), Some(&json!(true)), "the key no writer changed");
    if ctx.capabilities().versions {
        ensure_eq!(
            kept,
            WRITERS,
            "{WRITERS} concurrent updates of distinct keys: keys kept"
        );
    } else {
        ensure_eq!(kept, 1, "declared last-writer-wins: one writer's whole session");
    }
    ensure_eq!(data.len(), 1 + kept, "keys beside the base and the writers'");
    Ok(())
}

/// One round: `a` removed by one request while another sets `b`.
async fn removal_round(store: Arc<dyn Store>, versions: bool) -> Outcome {
    let id = SessionId::generate();
    store
        .set(&id, &session(json!({ "a": 1, "b": 1 }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let (remover, setter) = (
        read(&*store, &id, "read").await?,
        read(&*store, &id, "read").await?,
    );
    let mut removal = Changes::new();
    removal.remove("a");
    let mut write = Changes::new();
    write.set("b", json!(2));
    let (removed, set) = (changed(&remover, &removal), changed(&setter, &write));
    let barrier = Arc::new(Barrier::new(2));
    let tasks = [(removed, removal, remover.version), (set, write, setter.version)].map(
        |(session, changes, version)| {
            let (store, id, barrier) = (Arc::clone(&store), id.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                store.update(&id, &session, &changes, &version).await
            })
        },
    );
    for task in tasks {
        task.await
            .map_err(|e| Fail(format!("a writer panicked: {e}")))?
            .ok_or_fail("update")?;
    }
    let stored = store.get(&id).await.ok_or_fail("get")?;
    let data = Value::Object(stored.map(Session::into_data).unwrap_or_default());
    if versions {
        ensure_eq!(data, json!({ "b": 2 }), "a removal racing a write of another key");
    } else {
        ensure!(
            data == json!({ "b": 1 }) || data == json!({ "a": 1, "b": 2 }),
            "declared last-writer-wins: one writer's whole session, got {data}"
        );
    }
    Ok(())
}

pub(crate) async fn a_removal_racing_a_write_of_another_key_sticks(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let versions = ctx.capabilities().versions;
    let mut rounds = JoinSet::new();
    for _ in 0..ROUNDS {
        rounds.spawn(removal_round(Arc::clone(&store), versions));
    }
    every_round_passes(rounds).await
}

/// A value big enough that a mix of two would show.
fn whole(writer: &str) -> Value {
    json!({ "writer": writer, "items": vec![writer; 64] })
}

async fn same_key_round(store: Arc<dyn Store>) -> Outcome {
    let id = SessionId::generate();
    store
        .set(&id, &session(json!({ "k": "old" }), in_an_hour()))
        .await
        .ok_or_fail("set")?;
    let barrier = Arc::new(Barrier::new(2));
    let tasks = ["x", "y"].map(|writer| {
        let (store, id, barrier) = (Arc::clone(&store), id.clone(), Arc::clone(&barrier));
        tokio::spawn(async move {
            let read = read(&*store, &id, "read").await?;
            barrier.wait().await;
            let mut changes = Changes::new();
            changes.set("k", whole(writer));
            let session = changed(&read, &changes);
            store
                .update(&id, &session, &changes, &read.version)
                .await
                .ok_or_fail("update")
        })
    });
    for task in tasks {
        task.await
            .map_err(|e| Fail(format!("a writer panicked: {e}")))??;
    }
    let stored = store.get(&id).await.ok_or_fail("get")?;
    let value = stored.and_then(|s| s.data().get("k").cloned());
    ensure!(
        value == Some(whole("x")) || value == Some(whole("y")),
        "two updates of one key must leave one of the two values whole, got {value:?}"
    );
    Ok(())
}

pub(crate) async fn updates_of_one_key_leave_one_whole_value(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let mut rounds = JoinSet::new();
    for _ in 0..ROUNDS {
        rounds.spawn(same_key_round(Arc::clone(&store)));
    }
    every_round_passes(rounds).await
}
