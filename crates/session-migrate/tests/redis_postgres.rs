//! Redis -> PostgreSQL and back at scale, on real servers, with sessions
//! destroyed and expiring while the copy runs, and an interrupted copy
//! resumed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration as StdDuration;

use common::{
    SCALE, assert_holds, assert_lacks, fill, postgres_store, postgres_url, redis_and_postgres, redis_store,
    redis_url, remove_at_end, session, unique,
};
use session_core::{
    SessionId, Store,
    migrate::{DualWrite, Migration},
};
use session_migrate::{Endpoint, FileCheckpoint};
use time::{Duration, OffsetDateTime};

/// Every tenth session destroyed before the copy, every tenth destroyed
/// (through the dual-write store) while it runs, every tenth expiring while
/// it runs; the rest live for an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_to_postgres_and_back_with_logouts_and_expiries_during_the_copy() {
    let (old_prefix, table, back_prefix) = (unique("r2p"), unique("r2p"), unique("p2r"));
    let _removed = [
        Endpoint::new(redis_url()).prefix(&old_prefix),
        Endpoint::new(postgres_url()).table(&table),
        Endpoint::new(redis_url()).prefix(&back_prefix),
    ]
    .map(|made| remove_at_end(&made));
    let old = redis_store(&old_prefix).await;
    let new = postgres_store(&table).await;
    let start = OffsetDateTime::now_utc();
    let sessions: Vec<_> = (0..SCALE)
        .map(|n| {
            let expiry = if n % 10 == 2 {
                // Spread over the copy's first seconds.
                start + Duration::milliseconds(3_000 + (n as i64 * 7) % 4_000)
            } else {
                start + Duration::hours(1) + Duration::milliseconds(n as i64)
            };
            (SessionId::generate(), session(n, expiry))
        })
        .collect();
    fill(&old, &sessions).await;
    let class = |n: usize| n % 10;
    let ids_of = |wanted: usize| -> Vec<SessionId> {
        sessions
            .iter()
            .enumerate()
            .filter(|(n, _)| class(*n) == wanted)
            .map(|(_, (id, _))| id.clone())
            .collect()
    };
    for id in ids_of(0) {
        old.destroy(&id).await.unwrap();
    }
    tokio::time::sleep(StdDuration::from_secs(3)).await;

    let during = ids_of(1);
    let app = DualWrite::new(old.clone(), new.clone());
    let logouts = async {
        for (i, id) in during.iter().enumerate() {
            app.destroy(id).await.unwrap();
            if i % 64 == 0 {
                tokio::time::sleep(StdDuration::from_millis(1)).await;
            }
        }
    };
    let (report, ()) = tokio::join!(Migration::new(&old, &new).concurrency(16).run(), logouts);
    assert!(report.stopped.is_none() && report.counts.failed == 0, "{report}");
    let c = report.counts;
    let live: Vec<_> = sessions
        .iter()
        .enumerate()
        .filter(|(n, _)| class(*n) >= 3)
        .map(|(_, s)| s.clone())
        .collect();
    assert!(c.copied >= live.len() as u64, "{report}");
    assert!(
        c.copied <= (live.len() + during.len() + ids_of(2).len()) as u64,
        "{report}"
    );
    assert_eq!(c.already_in_target, 0, "{report}");
    println!("Redis -> PostgreSQL: {report}");

    assert_holds(&new, &live).await;
    assert_lacks(&new, &ids_of(0)).await;
    assert_lacks(&new, &during).await;
    // Once the last of them has expired, only the live ones are left.
    let last_expiry = start + Duration::milliseconds(7_000);
    let wait = last_expiry - OffsetDateTime::now_utc();
    if wait.is_positive() {
        tokio::time::sleep(wait.unsigned_abs()).await;
    }
    assert_lacks(&new, &ids_of(2)).await;
    assert_eq!(new.length().await.unwrap(), live.len() as u64);

    // And back, into a fresh Redis prefix.
    let back = redis_store(&back_prefix).await;
    let report = Migration::new(&new, &back).concurrency(16).run().await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.counts.copied, live.len() as u64, "{report}");
    assert_holds(&back, &live).await;
    assert_eq!(back.length().await.unwrap(), live.len() as u64);
    back.clear().await.unwrap();
    old.clear().await.unwrap();
    new.clear().await.unwrap();
}

/// The copy task is aborted a third of the way; a second run with the same
/// checkpoint file copies the rest, each session exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_copy_resumes_and_copies_the_rest_exactly_once() {
    let (prefix, table, _removed) = redis_and_postgres("abort");
    let old = redis_store(&prefix).await;
    let new = postgres_store(&table).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let count = SCALE / 2;
    let sessions: Vec<_> = (0..count)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;
    let path = std::env::temp_dir().join(format!("{}.ckpt", unique("abort")));

    let task = {
        let (old, new, path) = (old.clone(), new.clone(), path.clone());
        tokio::spawn(async move {
            let checkpoint = FileCheckpoint::open(&path, "abort test").unwrap();
            Migration::new(&old, &new)
                .concurrency(8)
                .checkpoint(&checkpoint)
                .run()
                .await
                .counts
        })
    };
    while new.length().await.unwrap() < (count / 3) as u64 {
        assert!(
            !task.is_finished(),
            "the copy ended before it could be interrupted"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // Creates the abort cut off mid-flight may still land: let them.
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let before = new.length().await.unwrap();
    assert!(before < count as u64, "interrupted midway: {before} of {count}");

    let checkpoint = FileCheckpoint::open(&path, "abort test").unwrap();
    let report = Migration::new(&old, &new)
        .concurrency(16)
        .checkpoint(&checkpoint)
        .run()
        .await;
    assert!(report.is_complete(), "{report}");
    let c = report.counts;
    assert_eq!(c.copied, count as u64 - before, "the rest, once: {report}");
    assert_eq!(c.done_before + c.already_in_target, before, "{report}");
    assert!(c.done_before > 0, "the checkpoint spared round trips: {report}");
    assert_holds(&new, &sessions).await;
    assert_eq!(new.length().await.unwrap(), count as u64);
    std::fs::remove_file(&path).unwrap();
    old.clear().await.unwrap();
    new.clear().await.unwrap();
}
