//! The one conflict-retry loop every write and destroy runs in, of either
//! layout.
//!
//! Writes name the revision they read; a revision conflict (HTTP 409) means
//! the document changed meanwhile, so the write reads again and decides
//! again. The loop also holds the call's deadline: a write spends its time
//! here (round trips, back-offs), and applying the deadline here rather
//! than around the store's call keeps a write's call chain short.

use std::{future::Future, time::Duration};

use session_core::{Error, Result};

use crate::http::PutOutcome;

/// Attempts of a write that keeps meeting revision conflicts; between
/// attempts it backs off for a random while that doubles each time. The
/// deadline ends it sooner.
const ATTEMPTS: usize = 40;

/// How one attempt ended.
pub(crate) enum Attempt<T> {
    /// Finished with this answer.
    Done(T),
    /// Met a revision conflict: back off and try again.
    Conflict,
}

impl From<PutOutcome> for Attempt<()> {
    /// A write stored is done; one that met a conflict is tried again.
    fn from(outcome: PutOutcome) -> Self {
        match outcome {
            PutOutcome::Rev(_) => Self::Done(()),
            PutOutcome::Conflict => Self::Conflict,
        }
    }
}

/// Runs `attempt(0)`, `attempt(1)`, ... until one is done or fails, waiting
/// a random 0..2^n milliseconds (at most 64) after conflict `n`, so writers
/// that keep colliding on one document fall out of step.
///
/// # Errors
/// The first error an attempt returns; [`Error::Timeout`] once `timeout`
/// has passed since the call; [`Error::Backend`] after [`ATTEMPTS`]
/// conflicts.
pub(crate) async fn retry<T, F, Fut>(timeout: Duration, mut attempt: F) -> Result<T>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Attempt<T>>>,
{
    let attempts = async {
        for n in 0..ATTEMPTS {
            if let Attempt::Done(answer) = attempt(n).await? {
                return Ok(answer);
            }
            let mut byte = [0u8; 1];
            // Should randomness fail, the wait is zero: retries still end,
            // after `ATTEMPTS` or at the deadline.
            let _ = getrandom::fill(&mut byte);
            let ceiling = 1u64 << n.min(6);
            tokio::time::sleep(Duration::from_millis(u64::from(byte[0]) % ceiling)).await;
        }
        Err(Error::Backend(
            format!("gave up after {ATTEMPTS} revision conflicts").into(),
        ))
    };
    // `backend::within`, inlined: see the module's documentation.
    tokio::time::timeout(timeout, attempts)
        .await
        .unwrap_or(Err(Error::Timeout(timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_until_done_then_given_up() {
        let mut calls = 0;
        let done = retry(Duration::from_secs(60), |n| {
            calls += 1;
            async move {
                Ok(if n < 3 {
                    Attempt::Conflict
                } else {
                    Attempt::Done(n)
                })
            }
        })
        .await;
        assert_eq!((done.unwrap(), calls), (3, 4));

        let never = retry(Duration::from_secs(3600), |_| async {
            Ok(Attempt::<()>::Conflict)
        })
        .await;
        assert!(matches!(never, Err(Error::Backend(e)) if e.to_string().contains("40 revision conflicts")));
    }

    #[tokio::test(start_paused = true)]
    async fn errors_end_it_and_the_deadline_bounds_every_attempt() {
        let failed = retry(Duration::from_secs(1), |_| async {
            Err::<Attempt<()>, _>(Error::NotFound)
        })
        .await;
        assert!(matches!(failed, Err(Error::NotFound)));

        let timeout = Duration::from_millis(300);
        let hung = retry(timeout, |_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Attempt::Done(()))
        })
        .await;
        assert!(matches!(hung, Err(Error::Timeout(t)) if t == timeout));
    }
}
