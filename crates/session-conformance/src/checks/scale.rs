//! Rule 6 at realistic sizes: `length` and `all` stay exact with thousands
//! of sessions, past any page or batch size, with destroyed and expired
//! ones mixed in.

use std::collections::HashSet;

use session_core::{SessionId, Store};

use crate::harness::*;

// Counts that are no multiple of 10 or of any page size, so rounding shows.
const LIVE: usize = 2_503;
const DESTROYED: usize = 251;
const EXPIRING: usize = 257;

fn fresh_ids(count: usize) -> Vec<SessionId> {
    (0..count).map(|_| id()).collect()
}

pub(crate) async fn length_and_all_exact_at_scale(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let store: &dyn Store = &*store;
    let (live, destroyed, expiring) = (fresh_ids(LIVE), fresh_ids(DESTROYED), fresh_ids(EXPIRING));
    let started = std::time::Instant::now();
    concurrently(live.clone(), |id| async move {
        store.set(&id, &tagged(&id)).await.ok_or_fail("set")
    })
    .await?;
    concurrently(destroyed, |id| async move {
        store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
        store.destroy(&id).await.ok_or_fail("destroy")
    })
    .await?;
    let written = started.elapsed();
    // Read them all once before the expiring ones go in: an exact answer
    // here is part of the rule too, and its time tells how long the reads
    // below will take on this store, under this load.
    let reading = std::time::Instant::now();
    let live_only: HashSet<&SessionId> = live.iter().collect();
    expect_exactly(store, &live_only, "2 503 live among 251 destroyed").await?;
    let read = reading.elapsed();
    // Written last, so the reads below start early in their lifetime, which
    // is long enough to write them (a tenth of the writes so far) and read
    // everything again, twice over.
    let at = in_(SHORT.max(2 * (written / 10 + read)));
    concurrently(expiring.clone(), |id| async move {
        store
            .set(&id, &tagged(&id).expiring_at(at))
            .await
            .ok_or_fail("set expiring")
    })
    .await?;

    let before: HashSet<&SessionId> = live.iter().chain(&expiring).collect();
    let outcome = expect_exactly(store, &before, "2 503 live, 257 expiring soon, 251 destroyed").await;
    ensure!(
        now() < at,
        "writing {EXPIRING} sessions and reading length and all took longer than their lifetime \
         ({:?}: twice a tenth of the earlier writes plus one full read), so the check cannot tell what should be live",
        SHORT.max(2 * (written / 10 + read))
    );
    outcome?;

    sleep_past(at).await;
    let after: HashSet<&SessionId> = live.iter().collect();
    expect_exactly(store, &after, "after 257 of them expired").await
}
