//! Rules 6 and 7: all, length and clear see exactly this namespace's live
//! sessions.

use std::collections::HashSet;

use futures_util::StreamExt as _;
use serde_json::json;
use session_core::SessionId;

use crate::harness::*;

/// Writes `live` tagged sessions, one that expires in about a second, and
/// one destroyed; returns the live ids and the moment the short one expires.
async fn populate(
    store: &dyn session_core::Store,
    live: usize,
) -> Result<(Vec<SessionId>, time::OffsetDateTime), Fail> {
    let mut ids = Vec::with_capacity(live);
    for _ in 0..live {
        let id = id();
        store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
        ids.push(id);
    }
    let (short, at) = (id(), in_(SHORT));
    store
        .set(&short, &session(json!({"short": true}), at))
        .await
        .ok_or_fail("set short")?;
    let destroyed = id();
    store
        .set(&destroyed, &tagged(&destroyed))
        .await
        .ok_or_fail("set")?;
    store.destroy(&destroyed).await.ok_or_fail("destroy")?;
    Ok((ids, at))
}

pub(crate) async fn length_counts_live_sessions(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    expect_length(&*store, 0, "an empty store").await?;
    let (ids, _) = populate(&*store, 7).await?;
    expect_length(
        &*store,
        ids.len() as u64 + 1,
        "7 live, 1 expiring soon, 1 destroyed",
    )
    .await
}

pub(crate) async fn length_excludes_expired(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (ids, at) = populate(&*store, 3).await?;
    sleep_past(at).await;
    expect_length(&*store, ids.len() as u64, "after one session expired").await
}

pub(crate) async fn all_pairs_ids_with_their_data(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (ids, _) = populate(&*store, 23).await?;
    let listed = store.all().await.ok_or_fail("all")?;
    let mut seen = HashSet::new();
    for (id, session) in &listed {
        ensure!(
            seen.insert(id.clone()),
            "all() yielded id {:?} twice",
            id.redacted()
        );
        if ids.contains(id) {
            ensure!(
                session.data() == tagged(id).data(),
                "all() paired an id with another session's data"
            );
            ensure!(
                session.expires_at().is_some(),
                "all() returned a session without its expiry"
            );
        }
    }
    ensure_eq!(
        listed.len(),
        ids.len() + 1,
        "all() over 23 live, 1 expiring soon, 1 destroyed"
    );
    Ok(())
}

pub(crate) async fn all_excludes_expired_and_destroyed(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (ids, at) = populate(&*store, 4).await?;
    sleep_past(at).await;
    let listed: HashSet<SessionId> = store
        .all()
        .await
        .ok_or_fail("all")?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    ensure_eq!(
        listed,
        ids.iter().cloned().collect::<HashSet<_>>(),
        "ids listed by all() after expiry and destroy"
    );
    Ok(())
}

pub(crate) async fn all_stream_yields_each_session_once(ctx: Ctx) -> Outcome {
    const SESSIONS: usize = 1_537;
    let store = ctx.store().await;
    let mut expected = HashSet::new();
    for _ in 0..SESSIONS {
        let id = id();
        store.set(&id, &tagged(&id)).await.ok_or_fail("set")?;
        expected.insert(id);
    }
    let mut stream = store.all_stream();
    let mut seen = HashSet::new();
    while let Some(item) = stream.next().await {
        let (id, session) = item.ok_or_fail("all_stream item")?;
        ensure!(
            session.data() == tagged(&id).data(),
            "all_stream paired an id with another session's data"
        );
        ensure!(seen.insert(id), "all_stream yielded an id twice");
    }
    ensure!(
        seen == expected,
        "all_stream over {SESSIONS} sessions yielded {} of them",
        seen.intersection(&expected).count()
    );
    Ok(())
}

pub(crate) async fn clear_removes_sessions_and_tombstones(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let (ids, _) = populate(&*store, 13).await?;
    let destroyed = id();
    store.destroy(&destroyed).await.ok_or_fail("destroy")?;
    store.clear().await.ok_or_fail("clear")?;
    expect_length(&*store, 0, "after clear").await?;
    ensure!(
        store.all().await.ok_or_fail("all")?.is_empty(),
        "all() after clear is not empty"
    );
    for id in &ids {
        expect_gone(&*store, id, "a session after clear").await?;
    }
    store
        .set(&destroyed, &tagged(&destroyed))
        .await
        .ok_or_fail("set of a tombstoned id after clear")?;
    expect_length(&*store, 1, "after writing again after clear").await
}

pub(crate) async fn clear_leaves_other_namespaces(ctx: Ctx) -> Outcome {
    let (mine, theirs) = (ctx.store().await, ctx.store().await);
    let (their_ids, short_until) = populate(&*theirs, 7).await?;
    populate(&*mine, 9).await?;
    mine.clear().await.ok_or_fail("clear")?;
    expect_length(&*mine, 0, "the cleared namespace").await?;
    // Theirs: the live sessions, and the short one while it lives (on a
    // busy server the check may outlast it; a count that straddles its
    // expiry may see it or not).
    let before = time::OffsetDateTime::now_utc();
    let counted = theirs.length().await.ok_or_fail("length of another namespace")?;
    let after = time::OffsetDateTime::now_utc();
    let live = their_ids.len() as u64;
    if after < short_until {
        ensure_eq!(counted, live + 1, "another namespace after clear");
    } else if before >= short_until {
        ensure_eq!(
            counted,
            live,
            "another namespace after clear, its short session expired"
        );
    } else {
        ensure!(
            counted == live || counted == live + 1,
            "another namespace after clear: {counted} sessions, expected {live} and the short one"
        );
    }
    for id in &their_ids {
        expect_session(
            &*theirs,
            id,
            &tagged(id),
            "another namespace's session after clear",
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn namespaces_are_isolated(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.store().await, ctx.store().await);
    let id = id();
    a.set(&id, &tagged(&id)).await.ok_or_fail("set in a")?;
    expect_gone(&*b, &id, "another namespace's session").await?;
    expect_length(&*b, 0, "a namespace with nothing written").await?;
    ensure!(
        b.all().await.ok_or_fail("all")?.is_empty(),
        "all() lists another namespace's sessions"
    );
    let theirs = session(json!({"in": "b"}), in_an_hour());
    b.set(&id, &theirs).await.ok_or_fail("set of the same id in b")?;
    expect_session(&*a, &id, &tagged(&id), "a's session after b wrote the same id").await?;
    b.destroy(&id).await.ok_or_fail("destroy in b")?;
    expect_session(
        &*a,
        &id,
        &tagged(&id),
        "a's session after b destroyed the same id",
    )
    .await?;
    expect_length(&*a, 1, "a after b wrote and destroyed the same id").await
}

pub(crate) async fn tombstones_are_per_namespace(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.store().await, ctx.store().await);
    let id = id();
    a.set(&id, &tagged(&id)).await.ok_or_fail("set in a")?;
    b.destroy(&id).await.ok_or_fail("destroy in b")?;
    let mine = session(json!({"still": "mine"}), in_an_hour());
    a.set(&id, &mine)
        .await
        .ok_or_fail("set in a after b destroyed the same id")?;
    let theirs = session(json!({"in": "b"}), in_an_hour());
    let answer = b.create(&id, &theirs).await;
    expect_after_destroy(
        &ctx,
        &*b,
        &id,
        answer,
        &theirs,
        "create in b after b destroyed the id",
    )
    .await?;
    expect_session(&*a, &id, &mine, "a's session after b's destroy and create").await
}
