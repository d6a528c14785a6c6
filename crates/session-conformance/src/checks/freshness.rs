//! Rule 9: read your writes. Every write that returned `Ok` is seen by the
//! very next read on the same store, from this task or another: no cache
//! may serve what was there before.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use session_core::{Session, SessionId, Store};

use crate::harness::*;

/// Rounds of each write; every round writes data the store has not seen.
const ROUNDS: u64 = 20;

/// Reads `id` on another task and fails unless it holds `expected`
/// (`None`: no live session).
async fn expect_on_another_task(
    store: &Arc<dyn Store>,
    id: &SessionId,
    expected: Option<&Session>,
    what: String,
) -> Outcome {
    let (store, id, expected) = (Arc::clone(store), id.clone(), expected.cloned());
    tokio::spawn(async move {
        match expected {
            Some(session) => expect_session(&*store, &id, &session, &what).await,
            None => expect_gone(&*store, &id, &what).await,
        }
    })
    .await
    .map_err(|e| Fail(format!("the reading task panicked: {e}")))?
}

pub(crate) async fn reads_see_the_latest_write(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let id = id();
    for round in 0..ROUNDS {
        let later = |seconds: u64| in_(Duration::from_secs(3600 + 60 * round + seconds));

        let written = session(json!({ "round": round, "by": "set" }), later(0));
        store.set(&id, &written).await.ok_or_fail("set")?;
        expect_session(
            &*store,
            &id,
            &written,
            &format!("get right after set, round {round}"),
        )
        .await?;

        let touched = later(30);
        store.touch(&id, Some(touched)).await.ok_or_fail("touch")?;
        let written = written.expiring_at(touched);
        expect_session(
            &*store,
            &id,
            &written,
            &format!("get right after touch, round {round}"),
        )
        .await?;

        let elsewhere = session(json!({ "round": round, "by": "another task" }), later(1));
        let writer = Arc::clone(&store);
        let (id_there, session_there) = (id.clone(), elsewhere.clone());
        tokio::spawn(async move { writer.set(&id_there, &session_there).await })
            .await
            .map_err(|e| Fail(format!("the writing task panicked: {e}")))?
            .ok_or_fail("set on another task")?;
        let what = format!("get right after a set on another task, round {round}");
        expect_session(&*store, &id, &elsewhere, &what).await?;

        let here = session(json!({ "round": round, "by": "this task" }), later(2));
        store.set(&id, &here).await.ok_or_fail("set")?;
        let what = format!("get on another task right after set, round {round}");
        expect_on_another_task(&store, &id, Some(&here), what).await?;
    }
    for round in 0..ROUNDS {
        let fresh = SessionId::generate();
        let created = tagged(&fresh);
        store.create(&fresh, &created).await.ok_or_fail("create")?;
        let what = format!("get right after create, round {round}");
        if round % 2 == 0 {
            expect_session(&*store, &fresh, &created, &what).await?;
        } else {
            expect_on_another_task(&store, &fresh, Some(&created), what).await?;
        }
        store.destroy(&fresh).await.ok_or_fail("destroy")?;
        let what = format!("get right after destroy, round {round}");
        if round % 2 == 0 {
            expect_gone(&*store, &fresh, &what).await?;
        } else {
            expect_on_another_task(&store, &fresh, None, what).await?;
        }
    }
    Ok(())
}
