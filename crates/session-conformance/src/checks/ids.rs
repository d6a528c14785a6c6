//! Ids: invalid ones never reach the store; every valid one is its own key.

use session_core::{Error, SessionId};

use crate::harness::*;

pub(crate) async fn invalid_ids_are_refused_and_change_nothing(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let kept = id();
    store.set(&kept, &tagged(&kept)).await.ok_or_fail("set")?;
    let too_long = "a".repeat(SessionId::MAX_LEN + 1);
    let with_own_prefix = format!("{} x", kept.as_str());
    for bad in [
        "",
        " ",
        "a b",
        "tab\there",
        "line\nbreak",
        "nul\0",
        "é",
        "\u{7f}",
        &too_long,
        &with_own_prefix,
    ] {
        let parsed = SessionId::parse(bad).map_err(Error::from);
        ensure_err!(parsed, Error::InvalidId(_), "parsing the invalid id {bad:?}");
    }
    expect_session(
        &*store,
        &kept,
        &tagged(&kept),
        "the existing session after invalid ids were refused",
    )
    .await?;
    expect_length(&*store, 1, "after invalid ids were refused").await
}

pub(crate) async fn longest_id_round_trips(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let max = ctx.capabilities().max_id_len;
    let long = parse_id(&"Z".repeat(max))?;
    let shorter = parse_id(&"Z".repeat(max - 1))?;
    store
        .set(&long, &tagged(&long))
        .await
        .ok_or_fail(&format!("set with a {max}-byte id"))?;
    store
        .set(&shorter, &tagged(&shorter))
        .await
        .ok_or_fail(&format!("set with a {}-byte id", max - 1))?;
    if max < SessionId::MAX_LEN {
        let too_long = parse_id(&"Z".repeat(max + 1))?;
        let what = format!(
            "an id of {} bytes, on a store declared to keep at most {max}",
            max + 1
        );
        ensure_err!(
            store.set(&too_long, &tagged(&too_long)).await,
            Error::InvalidInput(_),
            "set of {what}"
        );
        ensure_err!(
            store.create(&too_long, &tagged(&too_long)).await,
            Error::InvalidInput(_),
            "create of {what}"
        );
        expect_length(&*store, 2, &format!("after refusing {what}")).await?;
    }
    expect_session(&*store, &long, &tagged(&long), &format!("{max}-byte id")).await?;
    expect_session(
        &*store,
        &shorter,
        &tagged(&shorter),
        &format!("{}-byte id", max - 1),
    )
    .await?;
    store.destroy(&long).await.ok_or_fail("destroy")?;
    expect_session(
        &*store,
        &shorter,
        &tagged(&shorter),
        &format!("{}-byte id after destroying the {max}-byte one", max - 1),
    )
    .await
}

/// Ids full of characters that are special somewhere: glob patterns, SQL
/// LIKE and quoting, CouchDB's reserved `_`, paths, URL encoding.
const SPECIAL_IDS: &[&str] = &[
    "a*",
    "ab",
    "a?",
    "a[b]",
    "a[!b]",
    "a\\*",
    "%",
    "a%b",
    "_",
    "a_b",
    "_design",
    "_all_docs",
    "'",
    "''",
    "\"",
    "\\",
    "/",
    "a/b",
    "..",
    "a:b",
    "a+b",
    "a%20b",
    "?q=1&r=2",
    "#frag",
    "{}",
    "~!@$^()",
    "sess:",
    "*",
];

pub(crate) async fn special_character_ids_are_distinct(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let mut ids = Vec::new();
    for text in SPECIAL_IDS {
        let id = parse_id(text)?;
        store
            .set(&id, &tagged(&id))
            .await
            .ok_or_fail(&format!("set of id {text:?}"))?;
        ids.push(id);
    }
    for id in &ids {
        expect_session(&*store, id, &tagged(id), &format!("id {:?}", id.as_str())).await?;
    }
    expect_length(&*store, ids.len() as u64, "ids with special characters").await?;
    let listed = store.all().await.ok_or_fail("all")?;
    ensure_eq!(listed.len(), ids.len(), "all() over ids with special characters");
    for (id, session) in &listed {
        ensure!(
            session.data() == tagged(id).data(),
            "all() paired id {:?} with another session's data",
            id.as_str()
        );
    }
    store.destroy(&ids[0]).await.ok_or_fail("destroy \"a*\"")?;
    expect_session(
        &*store,
        &ids[1],
        &tagged(&ids[1]),
        "\"ab\" after destroying \"a*\"",
    )
    .await?;
    expect_length(&*store, ids.len() as u64 - 1, "after destroying \"a*\"").await
}

pub(crate) async fn ids_differing_in_case_are_distinct(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let lower = parse_id("session-abc")?;
    let upper = parse_id("SESSION-ABC")?;
    store
        .set(&lower, &tagged(&lower))
        .await
        .ok_or_fail("set lower case")?;
    store
        .create(&upper, &tagged(&upper))
        .await
        .ok_or_fail("create of the upper-case id")?;
    expect_session(&*store, &lower, &tagged(&lower), "lower-case id").await?;
    expect_session(&*store, &upper, &tagged(&upper), "upper-case id").await?;
    store.destroy(&upper).await.ok_or_fail("destroy upper")?;
    expect_session(
        &*store,
        &lower,
        &tagged(&lower),
        "lower-case id after destroying the upper-case one",
    )
    .await
}

pub(crate) async fn ids_differing_in_trailing_characters_are_distinct(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let base = parse_id("trail")?;
    let longer = parse_id("trail.")?;
    let padded = parse_id("trail!")?;
    for id in [&base, &longer, &padded] {
        store
            .create(id, &tagged(id))
            .await
            .ok_or_fail(&format!("create {:?}", id.as_str()))?;
    }
    for id in [&base, &longer, &padded] {
        expect_session(&*store, id, &tagged(id), &format!("id {:?}", id.as_str())).await?;
    }
    Ok(())
}
