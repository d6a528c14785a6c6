//! Deadlines and background work for stores built on Tokio.

use std::time::Duration;

use crate::{Error, Result};

/// `interval` scaled by a random factor in `[0.5, 1.5)`, so processes that
/// started together do not purge in step (like connect-pg-simple's
/// randomized prune interval).
///
/// ```
/// use std::time::Duration;
/// use session_core::backend::jittered;
///
/// let wait = jittered(Duration::from_secs(60));
/// assert!(wait >= Duration::from_secs(30) && wait < Duration::from_secs(90));
/// ```
pub fn jittered(interval: Duration) -> Duration {
    let mut byte = [0u8; 1];
    // Without randomness the interval itself is still a fine choice.
    let random = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 256.0
    } else {
        0.5
    };
    // `mul_f64` would panic past `Duration::MAX`; a huge interval stays as is.
    Duration::try_from_secs_f64(interval.as_secs_f64() * (0.5 + random)).unwrap_or(interval)
}

/// Runs `op` with a hard deadline, so no store call outlives its timeout,
/// retries and reconnects included: past it, `op` is dropped and the
/// answer is [`Error::Timeout`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use session_core::{Error, backend::within};
///
/// let slow = async {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok(())
/// };
/// assert!(matches!(within(Duration::from_millis(10), slow).await, Err(Error::Timeout(_))));
/// # }
/// ```
pub async fn within<T>(timeout: Duration, op: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(timeout, op)
        .await
        .unwrap_or(Err(Error::Timeout(timeout)))
}

/// A background task of a store: it stops when this handle is dropped, even
/// in the middle of its work, so it never outlives the store that owns it.
#[derive(Debug)]
pub struct BackgroundTask(tokio::task::AbortHandle);

impl BackgroundTask {
    /// Spawns `task` on the current Tokio runtime.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as [`tokio::spawn`] does.
    pub fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(tokio::spawn(task).abort_handle())
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts a store's background purge: `purge` runs every `interval` (give or
/// take half of it at random), each run cut off after `deadline`; failures
/// are logged and retried at the next interval. The purge stops when the
/// returned task is dropped.
pub fn spawn_purge<F, Fut>(interval: Duration, deadline: Duration, purge: F) -> BackgroundTask
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64>> + Send + 'static,
{
    BackgroundTask::spawn(async move {
        loop {
            tokio::time::sleep(jittered(interval)).await;
            match within(deadline, purge()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "purged expired sessions"),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed; will retry"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    #[test]
    fn a_huge_interval_never_panics() {
        for _ in 0..50 {
            let d = jittered(Duration::MAX);
            assert!(d >= Duration::MAX / 2, "{d:?}");
        }
    }

    #[test]
    fn jitter_stays_within_half_the_interval() {
        let base = Duration::from_secs(100);
        for _ in 0..200 {
            let d = jittered(base);
            assert!(
                d >= Duration::from_secs(50) && d < Duration::from_secs(150),
                "{d:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_purge_stops_when_its_task_is_dropped_even_mid_run() {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&runs);
        let task = spawn_purge(Duration::from_secs(10), Duration::from_secs(3600), move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1000)).await; // a purge that hangs
                Ok(0)
            }
        });
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "started once, still running");
        drop(task);
        tokio::time::sleep(Duration::from_secs(5000)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "never ran again after the drop");
    }

    #[tokio::test(start_paused = true)]
    async fn each_purge_run_is_cut_off_at_its_deadline() {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&runs);
        let _task = spawn_purge(Duration::from_secs(10), Duration::from_secs(2), move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1000)).await;
                Ok(0)
            }
        });
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(
            runs.load(Ordering::SeqCst) >= 5,
            "hung runs are abandoned, later ones start"
        );
    }
}
