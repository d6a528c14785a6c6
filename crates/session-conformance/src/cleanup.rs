//! Removing what a test made on a shared server, whether it passes or fails.

use std::{fmt, future::Future, time::Duration};

use futures_util::future::BoxFuture;

/// How long a [`Cleanup`] may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs an async cleanup (drop a table, delete keys or a database) when it
/// goes out of scope: at the end of a test, passed or failed. Keep it in a
/// variable (`let _cleanup = …`, not `let _ = …`) for the whole test.
///
/// The cleanup runs on a thread and runtime of its own, so it works from
/// any runtime, one thread busy in the drop included; it must end within
/// 30 s. If it panics or times out, the drop panics, unless the test is
/// already failing (a second panic would abort the process).
///
/// ```
/// use session_conformance::Cleanup;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (done, seen) = std::sync::mpsc::channel();
/// {
///     let _cleanup = Cleanup::new(async move {
///         // drop the test's table here
///         done.send(()).unwrap();
///     });
///     // the test
/// }
/// assert!(seen.try_recv().is_ok(), "ran when the test's scope ended");
/// # }
/// ```
pub struct Cleanup(Option<BoxFuture<'static, ()>>);

impl Cleanup {
    /// A cleanup that runs `work` when dropped.
    pub fn new(work: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Some(Box::pin(work)))
    }
}

impl fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Cleanup(pending)"
        } else {
            "Cleanup(done)"
        })
    }
}

impl Drop for Cleanup {
    #[allow(clippy::panic)]
    fn drop(&mut self) {
        let Some(work) = self.0.take() else { return };
        // `drop` cannot await, and the test's runtime may have one thread,
        // busy here: the cleanup gets a thread and runtime of its own.
        let finished = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("no runtime for the cleanup: {e}"))?;
            // The timer is made inside the runtime, which it needs.
            runtime
                .block_on(async { tokio::time::timeout(LIMIT, work).await })
                .map_err(|_| format!("the cleanup did not end within {LIMIT:?}"))
        })
        .join();
        let failure = match finished {
            Ok(Ok(())) => return,
            Ok(Err(why)) => why,
            Err(_) => "the cleanup panicked (see above)".to_owned(),
        };
        if !std::thread::panicking() {
            panic!("{failure}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::panic)]
    fn a_cleanup_that_fails_fails_the_test() {
        let dropped = std::panic::catch_unwind(|| drop(Cleanup::new(async { panic!("no server") })));
        assert!(dropped.is_err(), "a failed cleanup must not pass silently");
    }

    #[test]
    fn a_cleanup_runs_once_from_inside_a_busy_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"));
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&runs);
        runtime.block_on(async move {
            let _cleanup = Cleanup::new(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        });
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
