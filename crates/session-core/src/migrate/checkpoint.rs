//! Remembering which sessions a migration has settled, so a rerun after an
//! interruption skips them without a round trip.

use std::{
    collections::HashSet,
    fmt,
    sync::{Mutex, PoisonError},
};

use crate::{Result, SessionId};

/// A record of the sessions earlier runs of one migration settled.
///
/// A rerun is already safe without one: the copy only ever uses the target's
/// atomic [`create`](crate::Store::create), so a session copied before is
/// refused (`AlreadyExists`) and counted as already there, never written
/// twice. What a checkpoint saves is that round trip per session: at
/// millions of sessions, a resume after 90 % costs a tenth of a run instead
/// of a whole one.
///
/// The migration marks a session only once its outcome is final (copied,
/// already in the target, destroyed there, or expired), never a failed one,
/// and only after the target has answered. A mark lost to a crash only
/// costs the resume one refused `create`. [`flush`](Checkpoint::flush) is
/// called when the run ends; an implementation that buffers should also
/// write out on its own from time to time, so a killed process loses little.
///
/// A checkpoint belongs to one source and one target: reusing it for
/// another pair would skip sessions that were never copied there.
///
/// ```
/// use session_core::{SessionId, migrate::{Checkpoint, MemoryCheckpoint}};
///
/// let checkpoint = MemoryCheckpoint::new();
/// let id = SessionId::generate();
/// assert!(!checkpoint.is_done(&id));
/// checkpoint.mark_done(&id)?;
/// assert!(checkpoint.is_done(&id));
/// # Ok::<(), session_core::Error>(())
/// ```
pub trait Checkpoint: Send + Sync + fmt::Debug {
    /// Whether an earlier run settled `id`.
    fn is_done(&self, id: &SessionId) -> bool;

    /// Records that `id` is settled.
    ///
    /// # Errors
    /// When the record cannot be kept; the migration then stops
    /// ([`Stopped::Checkpoint`](super::Stopped::Checkpoint)).
    fn mark_done(&self, id: &SessionId) -> Result<()>;

    /// Makes every mark so far durable. The default does nothing.
    ///
    /// # Errors
    /// When the marks cannot be written.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// A checkpoint in memory: for retrying a migration within one process (a
/// task that was aborted, a run that stopped on failures). It holds every
/// settled id, so it grows with the number of sessions.
#[derive(Default)]
pub struct MemoryCheckpoint {
    done: Mutex<HashSet<SessionId>>,
}

impl MemoryCheckpoint {
    /// An empty checkpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions are marked done.
    pub fn len(&self) -> usize {
        self.done.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no session is marked done.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ids are secrets: show how many there are only.
        f.debug_struct("MemoryCheckpoint")
            .field("done", &self.len())
            .finish()
    }
}

impl Checkpoint for MemoryCheckpoint {
    fn is_done(&self, id: &SessionId) -> bool {
        // A panic elsewhere cannot leave a set half-inserted: keep using it.
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    fn mark_done(&self, id: &SessionId) -> Result<()> {
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone());
        Ok(())
    }
}
