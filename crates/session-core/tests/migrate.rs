//! `migrate::Migration` between in-process stores: what is copied, what is
//! left alone, and how a rerun resumes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration as StdDuration};

use async_trait::async_trait;
use futures_util::stream;
use session_core::{
    Error, Result, Session, SessionId, SessionStream, Store,
    migrate::{Checkpoint, MemoryCheckpoint, Migration, Source, Stopped},
};
use session_memory::MemoryStore;
use time::{Duration, OffsetDateTime};

/// A session holding `n`, expiring `minutes` from now at a whole millisecond
/// plus `n` (so every expiry differs).
fn session(n: u64, minutes: i64) -> Session {
    let mut session = Session::new().expiring_at(
        OffsetDateTime::now_utc() + Duration::minutes(minutes) + Duration::milliseconds(n as i64),
    );
    session.insert("n", n).unwrap();
    session.insert("user", format!("user-{n}")).unwrap();
    session
}

async fn filled(count: u64) -> (MemoryStore, Vec<(SessionId, Session)>) {
    let store = MemoryStore::new();
    let mut written = Vec::new();
    for n in 0..count {
        let (id, session) = (SessionId::generate(), session(n, 30));
        store.set(&id, &session).await.unwrap();
        written.push((id, session));
    }
    (store, written)
}

#[tokio::test]
async fn copies_ids_data_and_expiry_to_the_millisecond() {
    let (old, written) = filled(200).await;
    let new = MemoryStore::new();
    let report = Migration::new(&old, &new).concurrency(8).run().await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.counts.copied, 200);
    assert_eq!(report.counts.seen(), 200);
    for (id, session) in &written {
        let copied = new.get(id).await.unwrap().expect("copied");
        assert_eq!(copied.data(), session.data());
        assert_eq!(copied.expires_at(), session.expires_at());
    }
    assert_eq!(new.length().await.unwrap(), 200);
}

#[tokio::test]
async fn never_overwrites_a_live_session_nor_revives_a_destroyed_one() {
    let old = MemoryStore::new();
    let new = MemoryStore::new();
    let (kept, refused, fresh) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    for id in [&kept, &refused, &fresh] {
        old.set(id, &session(1, 30)).await.unwrap();
    }
    new.set(&kept, &session(2, 60)).await.unwrap(); // newer, written by the app
    new.destroy(&refused).await.unwrap(); // a logout during the move

    let report = Migration::new(&old, &new).run().await;
    let c = report.counts;
    assert_eq!(
        (c.copied, c.already_in_target, c.destroyed_in_target),
        (1, 1, 1),
        "{report}"
    );
    assert_eq!(
        new.get(&kept).await.unwrap().unwrap().get::<u64>("n").unwrap(),
        Some(2)
    );
    assert!(new.get(&refused).await.unwrap().is_none());
    assert!(new.get(&fresh).await.unwrap().is_some());
}

/// A source that yields what `items` makes, once per call.
#[derive(Debug)]
struct Scripted(fn() -> Vec<Result<(SessionId, Session)>>);

#[async_trait]
impl Source for Scripted {
    fn sessions(&self) -> SessionStream<'_> {
        Box::pin(stream::iter((self.0)()))
    }
    async fn count(&self) -> Result<u64> {
        Ok((self.0)().len() as u64)
    }
}

#[tokio::test]
async fn expired_and_expiryless_sessions_are_not_copied() {
    let source = Scripted(|| {
        vec![
            Ok((SessionId::generate(), session(1, -1))), // expired on the way
            Ok((SessionId::generate(), Session::new())), // no expiry of its own
            Ok((SessionId::generate(), session(2, 5))),
        ]
    });
    let new = MemoryStore::new();
    let report = Migration::new(&source, &new).run().await;
    let c = report.counts;
    assert_eq!((c.copied, c.expired, c.failed), (1, 1, 1), "{report}");
    assert!(report.failures[0].to_string().contains("without an expiry"));
    assert_eq!(new.length().await.unwrap(), 1);
}

#[tokio::test]
async fn an_unreadable_record_fails_alone_and_a_failed_read_stops_the_run() {
    let one_bad = Scripted(|| {
        vec![
            Ok((SessionId::generate(), session(1, 5))),
            Err(Error::Decode("not ours".into())),
            Ok((SessionId::generate(), session(2, 5))),
        ]
    });
    let report = Migration::new(&one_bad, &MemoryStore::new()).run().await;
    assert_eq!((report.counts.copied, report.counts.failed), (2, 1), "{report}");
    assert!(report.stopped.is_none());
    assert_eq!(report.failures[0].id, None);

    let broken = Scripted(|| {
        vec![
            Ok((SessionId::generate(), session(1, 5))),
            Err(Error::Unavailable("connection reset".into())),
        ]
    });
    let report = Migration::new(&broken, &MemoryStore::new())
        .concurrency(1)
        .run()
        .await;
    assert!(
        matches!(report.stopped, Some(Stopped::Source(Error::Unavailable(_)))),
        "{report}"
    );
    assert!(!report.is_complete());

    let ends_on_decode_error = Scripted(|| vec![Err(Error::Decode("truncated page".into()))]);
    let report = Migration::new(&ends_on_decode_error, &MemoryStore::new())
        .run()
        .await;
    assert!(
        matches!(report.stopped, Some(Stopped::Source(_))),
        "a stream that ends on an error may be cut short"
    );
}

/// A target whose every write fails, slowly enough to be counted.
#[derive(Debug)]
struct Down;

#[async_trait]
impl Store for Down {
    async fn get(&self, _: &SessionId) -> Result<Option<Session>> {
        Err(Error::Unavailable("down".into()))
    }
    async fn set(&self, _: &SessionId, _: &Session) -> Result<()> {
        Err(Error::Unavailable("down".into()))
    }
    async fn create(&self, _: &SessionId, _: &Session) -> Result<()> {
        Err(Error::Timeout(StdDuration::from_millis(1)))
    }
    async fn touch(&self, _: &SessionId, _: Option<OffsetDateTime>) -> Result<()> {
        Err(Error::Unavailable("down".into()))
    }
    async fn destroy(&self, _: &SessionId) -> Result<()> {
        Err(Error::Unavailable("down".into()))
    }
    fn all_stream(&self) -> SessionStream<'_> {
        Box::pin(stream::empty())
    }
    async fn length(&self) -> Result<u64> {
        Ok(0)
    }
    async fn clear(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_unreachable_target_stops_the_run_with_a_bounded_list_of_reasons() {
    let (old, _) = filled(100).await;
    let checkpoint = MemoryCheckpoint::new();
    let report = Migration::new(&old, &Down)
        .max_failures(10)
        .failures_listed(3)
        .checkpoint(&checkpoint)
        .run()
        .await;
    assert!(
        matches!(report.stopped, Some(Stopped::TooManyFailures(10))),
        "{report}"
    );
    assert_eq!(report.failures.len(), 3);
    assert!(
        report.failures[0].to_string().contains("did not answer"),
        "{report}"
    );
    assert!(checkpoint.is_empty(), "failed sessions are never marked done");
    assert!(report.to_string().contains("and 7 more"), "{report}");
}

#[tokio::test]
async fn a_rerun_copies_nothing_twice_and_a_checkpoint_spares_the_round_trips() {
    let (old, _) = filled(300).await;
    let new = MemoryStore::new();
    let checkpoint = MemoryCheckpoint::new();
    let first = Migration::new(&old, &new).checkpoint(&checkpoint).run().await;
    assert_eq!(first.counts.copied, 300);
    assert_eq!(checkpoint.len(), 300);

    let with_checkpoint = Migration::new(&old, &new).checkpoint(&checkpoint).run().await;
    assert_eq!(with_checkpoint.counts.done_before, 300, "{with_checkpoint}");
    assert_eq!(with_checkpoint.counts.copied, 0);

    let without = Migration::new(&old, &new).run().await;
    assert_eq!(without.counts.already_in_target, 300, "{without}");
    assert_eq!(new.length().await.unwrap(), 300);
}

/// A target that takes a moment per create, so a run can be interrupted.
#[derive(Debug, Clone)]
struct Slow(MemoryStore);

#[async_trait]
impl Store for Slow {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        self.0.get(id).await
    }
    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.0.set(id, session).await
    }
    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        tokio::time::sleep(StdDuration::from_millis(2)).await;
        self.0.create(id, session).await
    }
    async fn touch(&self, id: &SessionId, at: Option<OffsetDateTime>) -> Result<()> {
        self.0.touch(id, at).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<()> {
        self.0.destroy(id).await
    }
    fn all_stream(&self) -> SessionStream<'_> {
        self.0.all_stream()
    }
    async fn length(&self) -> Result<u64> {
        self.0.length().await
    }
    async fn clear(&self) -> Result<()> {
        self.0.clear().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_run_resumes_and_copies_the_rest_exactly_once() {
    let (old, written) = filled(2_000).await;
    let old = Arc::new(old);
    let new = Slow(MemoryStore::new());
    let checkpoint = Arc::new(MemoryCheckpoint::new());

    let task = {
        let (old, new, checkpoint) = (Arc::clone(&old), new.clone(), Arc::clone(&checkpoint));
        tokio::spawn(async move {
            let report = Migration::new(&*old, &new)
                .concurrency(4)
                .checkpoint(&*checkpoint)
                .run()
                .await;
            report.counts
        })
    };
    while new.length().await.unwrap() < 200 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let before = new.length().await.unwrap();
    assert!(
        before < 2_000,
        "the copy was interrupted midway ({before} copied)"
    );

    let report = Migration::new(&*old, &new)
        .concurrency(16)
        .checkpoint(&*checkpoint)
        .run()
        .await;
    assert!(report.is_complete(), "{report}");
    let c = report.counts;
    // What the checkpoint missed (creates in flight when the task was
    // aborted) is refused by the target, never written twice.
    assert_eq!(c.copied, 2_000 - before, "{report}");
    assert_eq!(c.done_before + c.already_in_target, before, "{report}");
    assert!(
        c.already_in_target <= 4,
        "at most the creates in flight: {report}"
    );
    for (id, session) in &written {
        assert_eq!(new.get(id).await.unwrap().as_ref(), Some(session));
    }
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let (old, written) = filled(20).await;
    let new = MemoryStore::new();
    new.set(&written[0].0, &written[0].1).await.unwrap();
    let checkpoint = MemoryCheckpoint::new();
    let report = Migration::new(&old, &new)
        .dry_run(true)
        .checkpoint(&checkpoint)
        .run()
        .await;
    assert!(report.dry_run);
    assert_eq!((report.counts.copied, report.counts.already_in_target), (19, 1));
    assert!(report.to_string().starts_with("would copy: 19"), "{report}");
    assert_eq!(new.length().await.unwrap(), 1);
    assert!(checkpoint.is_empty());
}

#[tokio::test]
async fn progress_is_visible_while_and_after_running() {
    let (old, _) = filled(50).await;
    let new = MemoryStore::new();
    let migration = Migration::new(&old, &new);
    let progress = migration.progress();
    assert_eq!(progress.counts().seen(), 0);
    let report = migration.run().await;
    assert_eq!(progress.counts(), report.counts);
}

#[test]
fn checkpoint_debug_shows_no_ids() {
    let checkpoint = MemoryCheckpoint::new();
    let id = SessionId::generate();
    checkpoint.mark_done(&id).unwrap();
    let shown = format!("{checkpoint:?}");
    assert!(!shown.contains(id.as_str()) && shown.contains('1'), "{shown}");
}
