//! Lost updates: a `touch` racing a `set` moves the expiry of whatever is
//! stored when it lands, and never writes back data it read before the set.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use session_core::{SessionId, Store};
use tokio::{sync::Barrier, task::JoinSet};

use super::races::{ROUNDS, every_round_passes};
use crate::harness::*;

/// How the two writes of a [`touch_set_round`] start.
#[derive(Clone, Copy)]
enum Start {
    /// On two tasks behind a barrier: really in parallel on a multi-threaded runtime.
    Parallel,
    /// On one task, touch polled first: its read is under way before the
    /// set starts, so a touch that reads, then writes, has the set land in
    /// between.
    TouchFirst,
}

/// One round: `set` of new data and `touch` race on a live session. Both
/// succeed, and whichever lands last, the data is the set's.
async fn touch_set_round(store: Arc<dyn Store>, start: Start) -> Outcome {
    let id = SessionId::generate();
    store
        .set(&id, &session(json!({ "version": "old" }), in_an_hour()))
        .await
        .ok_or_fail("set before the race")?;
    let (set_expiry, touch_expiry) = (in_(Duration::from_secs(7200)), in_(Duration::from_secs(10_800)));
    let new = session(json!({ "version": "new", "owner": id.as_str() }), set_expiry);
    let (set, touched) = match start {
        Start::Parallel => {
            let barrier = Arc::new(Barrier::new(2));
            let setter = tokio::spawn({
                let (store, id, new, barrier) =
                    (Arc::clone(&store), id.clone(), new.clone(), Arc::clone(&barrier));
                async move {
                    barrier.wait().await;
                    store.set(&id, &new).await
                }
            });
            let toucher = tokio::spawn({
                let (store, id) = (Arc::clone(&store), id.clone());
                async move {
                    barrier.wait().await;
                    store.touch(&id, Some(touch_expiry)).await
                }
            });
            let set = setter
                .await
                .map_err(|e| Fail(format!("set task panicked: {e}")))?;
            let touched = toucher
                .await
                .map_err(|e| Fail(format!("touch task panicked: {e}")))?;
            (set, touched)
        }
        Start::TouchFirst => {
            let (touched, set) =
                futures_util::future::join(store.touch(&id, Some(touch_expiry)), store.set(&id, &new)).await;
            (set, touched)
        }
    };
    set.ok_or_fail("set racing touch")?;
    touched.ok_or_fail("touch racing set")?;
    let Some(stored) = store.get(&id).await.ok_or_fail("get")? else {
        return Err(Fail("after set raced touch, get returned None".into()));
    };
    ensure!(
        stored.data() == new.data(),
        "touch racing set lost the data set wrote: the session holds the data from before the set"
    );
    let expiries = [
        new.expires_at(),
        new.clone().expiring_at(touch_expiry).expires_at(),
    ];
    ensure!(
        expiries.contains(&stored.expires_at()),
        "after set raced touch the expiry is {:?}, neither the set's nor the touch's",
        stored.expires_at()
    );
    Ok(())
}

pub(crate) async fn touch_set_race_keeps_set_data(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let mut rounds = JoinSet::new();
    for round in 0..ROUNDS {
        let start = if round % 2 == 0 {
            Start::Parallel
        } else {
            Start::TouchFirst
        };
        rounds.spawn(touch_set_round(Arc::clone(&store), start));
    }
    every_round_passes(rounds).await
}
