//! The copy itself: stream the source, create each session in the target.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures_util::{StreamExt as _, future::Either};

use super::{
    Checkpoint, Source,
    report::{Failure, Progress, Report, Stopped, Tally},
};
use crate::{Clock, Error, Session, SessionId, Store, clock::SystemClock};

/// Copies every live session of a [`Source`] into a [`Store`], keeping each
/// id, its data and its expiry to the millisecond.
///
/// * **Never overwrites.** Each session goes through the target's atomic
///   [`create`](Store::create): a live session already under the id (an
///   earlier copy, or a newer one the app wrote there through
///   [`DualWrite`](super::DualWrite)) is left alone and counted
///   `already_in_target`; a tombstone (a logout) refuses it, counted
///   `destroyed_in_target`, so a logout during the migration sticks.
/// * **Never copies a destroyed session.** Destroyed sessions are not in the
///   source's stream; one destroyed after it was read is refused by the
///   target's tombstone when the app destroys through `DualWrite` (which
///   destroys in both stores). This needs the target's tombstones on: a
///   `tombstone_grace` (default 300 s) far longer than a session waits
///   between being read and being created (a page's worth, under a second).
/// * **Bounded memory and concurrency.** The source is streamed (one page at
///   a time) and at most [`concurrency`](Self::concurrency) creates are in
///   flight, so memory does not grow with the number of sessions.
/// * **Resumable.** Because of `create`, rerunning after an interruption
///   (a crash, a kill, an aborted task, a run stopped on failures) is always
///   safe: what was copied is refused, not duplicated, and what was not is
///   copied once. With a [`Checkpoint`], a rerun also skips what an earlier
///   run settled without asking the target.
/// * **Expiry.** A session whose expiry has passed when it is read, or by the
///   time the target answered, is counted `expired`, not copied. A session
///   without an expiry (no conforming store yields one) fails: copying it
///   would give it the target's default lifetime instead of its own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use session_core::{Store, migrate::Migration};
/// # use session_core::{Session, SessionId};
/// # use time::{Duration, OffsetDateTime};
/// # let (old, new) = (session_memory::MemoryStore::new(), session_memory::MemoryStore::new());
/// # let _ = (&old, &new);
/// # #[cfg(any())]
/// let (old, new) = (open_old().await?, open_new().await?);
/// # let session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::hours(1));
/// # old.set(&SessionId::generate(), &session).await?;
///
/// let report = Migration::new(&old, &new).concurrency(32).run().await;
/// println!("{report}");
/// assert!(report.is_complete());
/// assert_eq!(report.counts.copied, 1);
/// # Ok(()) }
/// ```
#[must_use = "a migration does nothing until `run` is awaited"]
pub struct Migration<'a, S: ?Sized, T: ?Sized> {
    source: &'a S,
    target: &'a T,
    concurrency: usize,
    max_failures: u64,
    failures_listed: usize,
    dry_run: bool,
    checkpoint: Option<&'a dyn Checkpoint>,
    clock: Arc<dyn Clock>,
    progress: Arc<Progress>,
}

impl<S: ?Sized + fmt::Debug, T: ?Sized + fmt::Debug> fmt::Debug for Migration<'_, S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("source", &self.source)
            .field("target", &self.target)
            .field("concurrency", &self.concurrency)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

/// How one source item ended.
enum Outcome {
    Settled(Tally),
    Failed(Failure),
    /// The source could not be read further.
    SourceFailed(Error),
    /// The checkpoint could not record a settled session.
    CheckpointFailed(Error),
}

impl<'a, S: Source + ?Sized, T: Store + ?Sized> Migration<'a, S, T> {
    /// Default number of creates in flight at once.
    pub const DEFAULT_CONCURRENCY: usize = 16;
    /// Default number of failed sessions after which the run stops.
    pub const DEFAULT_MAX_FAILURES: u64 = 100;
    /// Default number of failures kept, with their reasons, in the report.
    pub const DEFAULT_FAILURES_LISTED: usize = 20;

    /// A migration from `source` into `target`, with every option at its
    /// default.
    pub fn new(source: &'a S, target: &'a T) -> Self {
        Self {
            source,
            target,
            concurrency: Self::DEFAULT_CONCURRENCY,
            max_failures: Self::DEFAULT_MAX_FAILURES,
            failures_listed: Self::DEFAULT_FAILURES_LISTED,
            dry_run: false,
            checkpoint: None,
            clock: Arc::new(SystemClock),
            progress: Arc::default(),
        }
    }

    /// How many creates may be in flight at once (default 16; at least 1).
    /// A SQL target needs at least this many pool connections to use them.
    pub fn concurrency(mut self, creates: usize) -> Self {
        self.concurrency = creates.max(1);
        self
    }

    /// Stop after this many sessions failed (default 100; at least 1): an
    /// unreachable target should end the run, not fail a million sessions
    /// one timeout at a time. Failed sessions are retried by a rerun.
    pub fn max_failures(mut self, failures: u64) -> Self {
        self.max_failures = failures.max(1);
        self
    }

    /// How many failures the report lists with their reasons (default 20);
    /// all are counted.
    pub fn failures_listed(mut self, failures: usize) -> Self {
        self.failures_listed = failures;
        self
    }

    /// Write nothing: read the source, and ask the target with
    /// [`get`](Store::get) whether each session is there. `copied` then
    /// counts what would be copied; a target's tombstones are invisible to
    /// `get`, so `destroyed_in_target` stays zero (those count as copied).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Skip sessions `checkpoint` says an earlier run settled, and mark the
    /// ones this run settles (not in a dry run).
    pub fn checkpoint(mut self, checkpoint: &'a dyn Checkpoint) -> Self {
        self.checkpoint = Some(checkpoint);
        self
    }

    /// The clock expiries are compared with (default the system clock):
    /// give the one the stores use.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The live counts, for a progress bar: read them from another task
    /// while [`run`](Self::run) works.
    pub fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.progress)
    }

    /// Runs the copy to the end of the source, or until it has to stop
    /// (see [`Report::stopped`]). Dropping the future stops it at once;
    /// a rerun then picks up safely.
    pub async fn run(self) -> Report {
        let mut failures = Vec::new();
        let mut stopped = None;
        // Whether the last item the source yielded was an error: a stream
        // that ends right after one may have ended because of it.
        let ended_on_error = AtomicBool::new(false);
        {
            let this = &self;
            let flag = &ended_on_error;
            let mut outcomes = this
                .source
                .sessions()
                .map(move |item| {
                    flag.store(item.is_err(), Ordering::Relaxed);
                    match item {
                        Ok((id, session)) => Either::Left(this.settle(id, session)),
                        Err(error) => Either::Right(std::future::ready(source_error(error))),
                    }
                })
                .buffer_unordered(self.concurrency);
            while let Some(outcome) = outcomes.next().await {
                let failure = match outcome {
                    Outcome::Settled(tally) => {
                        self.progress.add(tally);
                        continue;
                    }
                    Outcome::Failed(failure) => failure,
                    Outcome::SourceFailed(error) => {
                        stopped = Some(Stopped::Source(error));
                        break;
                    }
                    Outcome::CheckpointFailed(error) => {
                        stopped = Some(Stopped::Checkpoint(error));
                        break;
                    }
                };
                self.progress.add(Tally::Failed);
                if failures.len() < self.failures_listed {
                    failures.push(failure);
                }
                let failed = self.progress.counts().failed;
                if failed >= self.max_failures {
                    stopped = Some(Stopped::TooManyFailures(failed));
                    break;
                }
            }
        }
        if stopped.is_none() && ended_on_error.load(Ordering::Relaxed) {
            stopped = Some(Stopped::Source(Error::Backend(
                "the source's stream ended on an error; sessions after it may not have been read".into(),
            )));
        }
        if let Some(checkpoint) = self.checkpoint.filter(|_| !self.dry_run)
            && let Err(error) = checkpoint.flush()
        {
            stopped.get_or_insert(Stopped::Checkpoint(error));
        }
        Report {
            counts: self.progress.counts(),
            failures,
            stopped,
            dry_run: self.dry_run,
        }
    }

    /// Copies (or, in a dry run, looks up) one session and says how it
    /// ended; marks the checkpoint when the outcome is final.
    async fn settle(&self, id: SessionId, session: Session) -> Outcome {
        let checkpoint = self.checkpoint.filter(|_| !self.dry_run);
        if checkpoint.is_some_and(|c| c.is_done(&id)) {
            return Outcome::Settled(Tally::DoneBefore);
        }
        let Some(expiry) = session.expires_at() else {
            let error = Error::InvalidInput("the source gave a session without an expiry".into());
            return failed(&id, error);
        };
        let tally = if expiry <= self.clock.now() {
            Tally::Expired
        } else if self.dry_run {
            match self.target.get(&id).await {
                Ok(Some(_)) => Tally::AlreadyInTarget,
                Ok(None) => Tally::Copied,
                Err(error) => return failed(&id, error),
            }
        } else {
            match self.target.create(&id, &session).await {
                // Created, unless it expired on the way: then the target
                // stored nothing or keeps a session that is already over.
                Ok(()) if expiry <= self.clock.now() => Tally::Expired,
                Ok(()) => Tally::Copied,
                Err(Error::AlreadyExists) => Tally::AlreadyInTarget,
                Err(Error::Destroyed) => Tally::DestroyedInTarget,
                Err(error) => return failed(&id, error),
            }
        };
        if let Some(checkpoint) = checkpoint
            && let Err(error) = checkpoint.mark_done(&id)
        {
            return Outcome::CheckpointFailed(error);
        }
        Outcome::Settled(tally)
    }
}

fn failed(id: &SessionId, error: Error) -> Outcome {
    Outcome::Failed(Failure {
        id: Some(id.redacted().to_string()),
        error,
    })
}

/// A source error: one unreadable record (the stream goes on), or a failed
/// read (it does not).
fn source_error(error: Error) -> Outcome {
    match error {
        Error::Decode(_) | Error::InvalidId(_) => Outcome::Failed(Failure { id: None, error }),
        other => Outcome::SourceFailed(other),
    }
}
