//! A tour of every `Store` method on the embedded memory store.
//!
//! Run it with `cargo run -p session-memory --example tour`.

use std::time::Duration;

use futures_util::StreamExt as _;
use session_core::{Error, Session, SessionId, Store};
use session_memory::MemoryStore;
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = MemoryStore::builder()
        .max_capacity(10_000)
        .default_ttl(Duration::from_secs(3600))
        .tombstone_grace(Duration::from_secs(2))
        .build()?;
    println!("store: {store:?}");

    // create: insert-if-absent, the safe way to start a session.
    let alice = SessionId::generate();
    let mut session = Session::new();
    session.insert("user", "alice")?;
    session.insert("visits", 1_u32)?;
    store.create(&alice, &session).await?;
    println!("create {alice:?}: ok (no expiry given, so the 1 h default TTL applies)");
    println!("create again: {}", describe(store.create(&alice, &session).await));

    // get: only live sessions come back.
    let loaded = store.get(&alice).await?.unwrap_or_default();
    println!(
        "get: user={:?} visits={:?} expires_at={:?}",
        loaded.get::<String>("user")?,
        loaded.get::<u32>("visits")?,
        loaded.expires_at()
    );

    // set: upsert with changed data.
    let mut changed = loaded.clone();
    changed.insert("visits", 2_u32)?;
    store.set(&alice, &changed).await?;
    println!(
        "set: visits is now {:?}",
        store
            .get(&alice)
            .await?
            .and_then(|s| s.get::<u32>("visits").ok().flatten())
    );

    // touch: move the expiry of a live session, never create one.
    let later = OffsetDateTime::now_utc() + Duration::from_secs(7200);
    store.touch(&alice, Some(later)).await?;
    println!(
        "touch: expiry moved to {:?}",
        store.get(&alice).await?.and_then(|s| s.expires_at())
    );
    println!(
        "touch of an unknown id: {}",
        describe(store.touch(&SessionId::generate(), None).await)
    );

    // Short-lived session: gone once its expiry passes.
    let brief = SessionId::generate();
    let short = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_millis(300));
    store.set(&brief, &short).await?;
    println!("length with a short-lived session: {}", store.length().await?);
    tokio::time::sleep(Duration::from_millis(400)).await;
    println!(
        "after 400 ms: get={:?}, length={}",
        store.get(&brief).await?.is_some(),
        store.length().await?
    );

    // all / all_stream: every live session, streamed or collected.
    for n in 0..3 {
        let mut guest = Session::new();
        guest.insert("guest", n)?;
        store.set(&SessionId::generate(), &guest).await?;
    }
    let mut stream = store.all_stream();
    let mut streamed = 0;
    while let Some(item) = stream.next().await {
        let (id, session) = item?;
        streamed += 1;
        println!("  all_stream: {id:?} with {} keys", session.len());
    }
    println!(
        "all: {} sessions collected, {streamed} streamed",
        store.all().await?.len()
    );

    // destroy: logout sticks, even against a slow request saving afterwards.
    store.destroy(&alice).await?;
    println!("destroy: get={:?}", store.get(&alice).await?.is_some());
    println!(
        "set after destroy: {}",
        describe(store.set(&alice, &changed).await)
    );
    println!(
        "destroy again (idempotent): {}",
        describe(store.destroy(&alice).await)
    );

    // clear: everything in this store goes.
    store.clear().await?;
    println!("clear: length={}", store.length().await?);
    Ok(())
}

fn describe(result: Result<(), Error>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => format!("refused ({e})"),
    }
}
