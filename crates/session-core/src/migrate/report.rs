//! What a migration did: counts while it runs, and a report at the end.

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::Error;

/// How many sessions ended each way. In a dry run, `copied` counts the
/// sessions that would be copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Created in the target.
    pub copied: u64,
    /// Left alone: the target already had a live session under the id (the
    /// copy of an earlier run, or a newer one the app wrote there).
    pub already_in_target: u64,
    /// Left alone: the target refused the id because it was destroyed there
    /// recently (a logout during the migration), so the logout sticks.
    pub destroyed_in_target: u64,
    /// Expired between being read and being written (or already expired
    /// when read), so there was nothing to keep.
    pub expired: u64,
    /// Skipped without a round trip: a [`Checkpoint`](super::Checkpoint)
    /// says an earlier run settled them.
    pub done_before: u64,
    /// Could not be read or written; see [`Report::failures`].
    pub failed: u64,
}

impl Counts {
    /// Every session the migration has dealt with, whichever way.
    pub fn seen(&self) -> u64 {
        self.copied
            + self.already_in_target
            + self.destroyed_in_target
            + self.expired
            + self.done_before
            + self.failed
    }
}

/// The counts of a running migration, shared with whoever shows progress
/// (see [`Migration::progress`](super::Migration::progress)).
#[derive(Debug, Default)]
pub struct Progress {
    copied: AtomicU64,
    already_in_target: AtomicU64,
    destroyed_in_target: AtomicU64,
    expired: AtomicU64,
    done_before: AtomicU64,
    failed: AtomicU64,
}

/// How one session ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tally {
    Copied,
    AlreadyInTarget,
    DestroyedInTarget,
    Expired,
    DoneBefore,
    Failed,
}

impl Progress {
    /// The counts so far.
    pub fn counts(&self) -> Counts {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Counts {
            copied: load(&self.copied),
            already_in_target: load(&self.already_in_target),
            destroyed_in_target: load(&self.destroyed_in_target),
            expired: load(&self.expired),
            done_before: load(&self.done_before),
            failed: load(&self.failed),
        }
    }

    pub(super) fn add(&self, tally: Tally) {
        let counter = match tally {
            Tally::Copied => &self.copied,
            Tally::AlreadyInTarget => &self.already_in_target,
            Tally::DestroyedInTarget => &self.destroyed_in_target,
            Tally::Expired => &self.expired,
            Tally::DoneBefore => &self.done_before,
            Tally::Failed => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One session that could not be copied, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The session's id, redacted to its first characters (ids are
    /// secrets); `None` when the source could not even read the id.
    pub id: Option<String>,
    /// What went wrong.
    pub error: Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "session {id}: {}", self.error),
            None => write!(f, "a source record: {}", self.error),
        }
    }
}

/// Why a migration ended before it had read every source session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Stopped {
    /// Reading the source failed (the stream's error, or a stream that
    /// ended on an error item).
    #[error("reading the source failed: {0}")]
    Source(#[source] Error),
    /// As many sessions failed as [`Migration::max_failures`](super::Migration::max_failures)
    /// allows.
    #[error("stopped after {0} failures")]
    TooManyFailures(u64),
    /// The checkpoint could not be written, so the run could not record
    /// what it settled.
    #[error("the checkpoint could not be written: {0}")]
    Checkpoint(#[source] Error),
}

/// What a finished (or stopped) migration did.
///
/// `Display` gives a summary for people, one count per line.
#[derive(Debug)]
#[must_use = "a migration may have stopped early or failed sessions: check the report"]
#[non_exhaustive]
pub struct Report {
    /// How many sessions ended each way.
    pub counts: Counts,
    /// The first failures, up to [`Migration::failures_listed`](super::Migration::failures_listed);
    /// [`Counts::failed`] has them all.
    pub failures: Vec<Failure>,
    /// Why the run ended early; `None` when it read the whole source.
    pub stopped: Option<Stopped>,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
}

impl Report {
    /// Whether every source session was read and none failed: a rerun would
    /// copy nothing new (except sessions written to the source since).
    pub fn is_complete(&self) -> bool {
        self.stopped.is_none() && self.counts.failed == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let copied = if self.dry_run { "would copy" } else { "copied" };
        writeln!(f, "{copied}: {}", c.copied)?;
        writeln!(f, "already in target: {}", c.already_in_target)?;
        writeln!(f, "destroyed in target: {}", c.destroyed_in_target)?;
        writeln!(f, "expired on the way: {}", c.expired)?;
        writeln!(f, "done by an earlier run: {}", c.done_before)?;
        writeln!(f, "failed: {}", c.failed)?;
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
        }
        if c.failed > self.failures.len() as u64 {
            writeln!(f, "  ... and {} more", c.failed - self.failures.len() as u64)?;
        }
        match &self.stopped {
            Some(why) => write!(f, "stopped early: {why}"),
            None => write!(f, "finished: every source session was read"),
        }
    }
}
