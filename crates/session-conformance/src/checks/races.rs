//! Concurrency: races on one id are decided atomically by the store.
//!
//! Each race starts its contenders on separate tasks behind a barrier, so on
//! a multi-threaded runtime they really run at the same time.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use session_core::{Error, SessionId, Store};
use tokio::{sync::Barrier, task::JoinSet};

use crate::harness::*;

/// Rounds each race runs, all at once.
pub(crate) const ROUNDS: usize = 100;

#[derive(Clone, Copy, Debug)]
enum Write {
    Set,
    Touch,
    Create,
}

/// One round: `write` and `destroy` race on a fresh id. With tombstones
/// the id must end up gone, the write either succeeding (it landed first and
/// was destroyed) or refused as destroyed. Without them a destroy simply
/// deletes: `set` and `create` succeed and the id ends up gone or holding
/// exactly what they wrote; `touch` succeeds or finds nothing, and the id
/// ends up gone.
async fn race_round(store: Arc<dyn Store>, write: Write, tombstones: bool) -> Outcome {
    let id = SessionId::generate();
    if let Write::Touch = write {
        store
            .set(&id, &tagged(&id))
            .await
            .ok_or_fail("set before the race")?;
    }
    let barrier = Arc::new(Barrier::new(2));
    let writer = tokio::spawn({
        let (store, id, barrier) = (Arc::clone(&store), id.clone(), Arc::clone(&barrier));
        async move {
            barrier.wait().await;
            match write {
                Write::Set => store.set(&id, &tagged(&id)).await,
                Write::Touch => store.touch(&id, Some(in_an_hour())).await,
                Write::Create => store.create(&id, &tagged(&id)).await,
            }
        }
    });
    let destroyer = tokio::spawn({
        let (store, id) = (Arc::clone(&store), id.clone());
        async move {
            barrier.wait().await;
            store.destroy(&id).await
        }
    });
    let (written, destroyed) = (writer.await, destroyer.await);
    let written = written.map_err(|e| Fail(format!("{write:?} task panicked: {e}")))?;
    destroyed
        .map_err(|e| Fail(format!("destroy task panicked: {e}")))?
        .ok_or_fail("destroy")?;
    let stored = store.get(&id).await.ok_or_fail("get")?;
    if tombstones {
        ensure!(
            matches!(written, Ok(()) | Err(Error::Destroyed)),
            "{write:?} racing destroy must succeed or be refused as Destroyed, got {written:?}"
        );
        ensure!(
            stored.is_none(),
            "{write:?} racing destroy resurrected the session (write answered {written:?})"
        );
        return Ok(());
    }
    match write {
        Write::Touch => {
            ensure!(
                matches!(written, Ok(()) | Err(Error::NotFound)),
                "touch racing destroy, without tombstones, must succeed or find nothing, got {written:?}"
            );
            ensure!(
                stored.is_none(),
                "touch racing destroy brought the session back (touch answered {written:?})"
            );
        }
        Write::Set | Write::Create => {
            ensure!(
                written.is_ok(),
                "{write:?} racing destroy, without tombstones, must land, got {written:?}"
            );
            ensure!(
                stored.as_ref().is_none_or(
                    |s| s.data() == tagged(&id).data() && s.expires_at() == tagged(&id).expires_at()
                ),
                "{write:?} racing destroy left a session that is not what it wrote"
            );
        }
    }
    Ok(())
}

async fn race_against_destroy(ctx: Ctx, write: Write) -> Outcome {
    let store = ctx.store().await;
    let tombstones = ctx.capabilities().tombstones;
    let mut rounds = JoinSet::new();
    for _ in 0..ROUNDS {
        rounds.spawn(race_round(Arc::clone(&store), write, tombstones));
    }
    every_round_passes(rounds).await?;
    if tombstones || matches!(write, Write::Touch) {
        expect_length(&*store, 0, "after every round").await?;
    }
    Ok(())
}

/// Waits for every round and fails with the first failure, counting them all.
pub(crate) async fn every_round_passes(mut rounds: JoinSet<Outcome>) -> Outcome {
    let mut failures = Vec::new();
    while let Some(round) = rounds.join_next().await {
        match round {
            Ok(Ok(())) => {}
            Ok(Err(Fail(message))) => failures.push(message),
            Err(panic) => failures.push(format!("a round panicked: {panic}")),
        }
    }
    ensure!(
        failures.is_empty(),
        "{} of {ROUNDS} rounds failed; first: {}",
        failures.len(),
        failures.first().map_or("", String::as_str)
    );
    Ok(())
}

pub(crate) async fn destroy_set_race_never_resurrects(ctx: Ctx) -> Outcome {
    race_against_destroy(ctx, Write::Set).await
}

pub(crate) async fn destroy_touch_race_never_resurrects(ctx: Ctx) -> Outcome {
    race_against_destroy(ctx, Write::Touch).await
}

pub(crate) async fn destroy_create_race_never_resurrects(ctx: Ctx) -> Outcome {
    race_against_destroy(ctx, Write::Create).await
}

pub(crate) async fn concurrent_creates_have_one_winner(ctx: Ctx) -> Outcome {
    const CONTENDERS: usize = 100;
    let store = ctx.store().await;
    let id = id();
    let barrier = Arc::new(Barrier::new(CONTENDERS));
    let mut tasks = JoinSet::new();
    for contender in 0..CONTENDERS {
        let (store, id, barrier) = (Arc::clone(&store), id.clone(), Arc::clone(&barrier));
        tasks.spawn(async move {
            let mine = session(json!({ "contender": contender }), in_an_hour());
            barrier.wait().await;
            (contender, store.create(&id, &mine).await)
        });
    }
    let (mut winners, mut unexpected) = (Vec::new(), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((contender, Ok(()))) => winners.push(contender),
            Ok((_, Err(Error::AlreadyExists))) => {}
            Ok((_, Err(other))) => unexpected.push(other.to_string()),
            Err(panic) => unexpected.push(format!("panicked: {panic}")),
        }
    }
    ensure!(
        unexpected.is_empty(),
        "losing creates must get AlreadyExists; got {unexpected:?}"
    );
    ensure_eq!(
        winners.len(),
        1,
        "{CONTENDERS} concurrent creates of one id: number of winners"
    );
    let stored = store.get(&id).await.ok_or_fail("get")?;
    let stored = stored.and_then(|s| s.get::<usize>("contender").ok().flatten());
    ensure_eq!(
        stored,
        Some(winners[0]),
        "the stored session must be the winner's"
    );
    Ok(())
}

pub(crate) async fn concurrent_sets_of_distinct_ids_all_land(ctx: Ctx) -> Outcome {
    const SESSIONS: usize = 200;
    let store = ctx.store().await;
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| id()).collect();
    let mut tasks = JoinSet::new();
    for id in &ids {
        let id = id.clone();
        let store = Arc::clone(&store);
        tasks.spawn(async move { store.set(&id, &tagged(&id)).await });
    }
    while let Some(joined) = tasks.join_next().await {
        joined
            .map_err(|e| Fail(format!("a set panicked: {e}")))?
            .ok_or_fail("concurrent set")?;
    }
    for id in &ids {
        expect_session(&*store, id, &tagged(id), "a session written concurrently").await?;
    }
    expect_length(&*store, SESSIONS as u64, "after concurrent sets").await
}

pub(crate) async fn concurrent_writes_never_tear(ctx: Ctx) -> Outcome {
    const WRITERS: usize = 4;
    const WRITES: usize = 25;
    let store = ctx.store().await;
    let id = id();
    let version = |k: usize| {
        session(
            json!({ "n": k, "copy": k, "body": k.to_string().repeat(2000) }),
            in_an_hour(),
        )
    };
    store.set(&id, &version(0)).await.ok_or_fail("set")?;
    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let (store, id) = (Arc::clone(&store), id.clone());
        writers.spawn(async move {
            for write in 0..WRITES {
                store.set(&id, &version(writer * WRITES + write + 1)).await?;
            }
            Ok::<_, Error>(())
        });
    }
    let mut reads = 0;
    while !writers.is_empty() {
        if let Some(seen) = store.get(&id).await.ok_or_fail("get during writes")? {
            let n = seen.get::<usize>("n").ok().flatten();
            ensure!(
                n.is_some()
                    && n == seen.get::<usize>("copy").ok().flatten()
                    && seen.get::<String>("body").ok().flatten() == n.map(|n| n.to_string().repeat(2000)),
                "a read during concurrent writes saw a torn session"
            );
            reads += 1;
        }
        while let Some(done) = writers.try_join_next() {
            done.map_err(|e| Fail(format!("a writer panicked: {e}")))?
                .ok_or_fail("set during writes")?;
        }
        tokio::task::yield_now().await;
    }
    ensure!(reads > 0, "no read completed while the writers ran");
    Ok(())
}

pub(crate) async fn touch_expiry_race_is_consistent(ctx: Ctx) -> Outcome {
    const SESSIONS: i64 = 21;
    let store = ctx.store().await;
    let expiry = in_(Duration::from_millis(600));
    let mut tasks = JoinSet::new();
    for i in 0..SESSIONS {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let id = SessionId::generate();
            store
                .set(&id, &session(json!({}), expiry))
                .await
                .ok_or_fail("set")?;
            // Touch from 50 ms before to 50 ms after the expiry.
            sleep_until(expiry + time::Duration::milliseconds(5 * (i - SESSIONS / 2))).await;
            let touched_to = in_an_hour();
            let answer = store.touch(&id, Some(touched_to)).await;
            let now_stored = store.get(&id).await.ok_or_fail("get")?;
            match (&answer, now_stored) {
                (Ok(()), Some(s)) if s.expires_at() == session(json!({}), touched_to).expires_at() => Ok(()),
                (Err(Error::NotFound), None) => Ok(()),
                (answer, stored) => Err(Fail(format!(
                    "touch at the moment of expiry answered {answer:?} but get then returned {stored:?}"
                ))),
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| Fail(format!("a task panicked: {e}")))??;
    }
    Ok(())
}
