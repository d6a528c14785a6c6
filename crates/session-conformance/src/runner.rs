//! Running checks: one by name, or all of them with a report.

use std::{fmt, sync::Arc};

use futures_util::{StreamExt as _, future::BoxFuture, stream};

use crate::{
    Factory, Failure, checks,
    harness::{Ctx, Fail, Outcome},
};

/// One check of the suite.
#[derive(Clone, Copy)]
pub struct Check {
    /// Its name, also the name of the test the [`suite!`](crate::suite) macro emits.
    pub name: &'static str,
    /// The group it belongs to (`basics`, `touch`, `destroy`, `races`, ...).
    pub group: &'static str,
    pub(crate) run: fn(Ctx) -> BoxFuture<'static, Outcome>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Check({}::{})", self.group, self.name)
    }
}

crate::__for_each_check!(__check_table!());

impl Check {
    /// Finds a check by name.
    pub fn named(name: &str) -> Option<&'static Check> {
        CHECKS.iter().find(|check| check.name == name)
    }

    /// Runs this check against stores from `factory`, then clears and tears
    /// them down.
    ///
    /// # Errors
    /// The [`Failure`] that says what the store did wrong.
    pub async fn run(&self, factory: Arc<dyn Factory>) -> Result<(), Failure> {
        let ctx = Ctx::new(factory);
        let outcome = tokio::spawn((self.run)(ctx.clone())).await;
        let cleaned = ctx.clean_up().await;
        let message = match (outcome, cleaned) {
            (Ok(Ok(())), Ok(())) => return Ok(()),
            (Ok(Err(Fail(message))), _) => message,
            (Err(panic), _) => format!("the check panicked: {panic}"),
            (Ok(Ok(())), Err(teardown)) => teardown,
        };
        Err(Failure {
            check: self.name,
            message,
        })
    }
}

/// Runs the check called `name`.
///
/// # Errors
/// The check's [`Failure`], or one saying no check has that name.
pub async fn run(name: &str, factory: impl Factory) -> Result<(), Failure> {
    match Check::named(name) {
        Some(check) => check.run(Arc::new(factory)).await,
        None => Err(Failure {
            check: "unknown",
            message: format!("no conformance check is named {name:?}"),
        }),
    }
}

/// The outcome of [`run_all`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Names of the checks that passed.
    pub passed: Vec<&'static str>,
    /// The checks that failed, with why.
    pub failed: Vec<Failure>,
}

impl Report {
    /// Whether every check passed.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failed {
            writeln!(f, "FAILED {}: {}", failure.check, failure.message)?;
        }
        write!(f, "{} passed, {} failed", self.passed.len(), self.failed.len())
    }
}

/// How many checks [`run_all`] runs at once.
const PARALLEL_CHECKS: usize = 8;

/// Runs every check, several at a time, and reports. Needs a multi-threaded
/// Tokio runtime so the race checks really race.
///
/// ```
/// use session_conformance::{Settings, run_all};
/// use session_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "multi_thread")]
/// # async fn main() {
/// let report = run_all(|settings: Settings| async move {
///     MemoryStore::builder().lifetimes(settings.lifetimes).build().expect("valid options")
/// })
/// .await;
/// assert!(report.is_success(), "{report}");
/// # }
/// ```
pub async fn run_all(factory: impl Factory) -> Report {
    let factory: Arc<dyn Factory> = Arc::new(factory);
    let outcomes: Vec<_> = stream::iter(CHECKS)
        .map(|check| {
            let factory = Arc::clone(&factory);
            async move { (check.name, check.run(factory).await) }
        })
        .buffer_unordered(PARALLEL_CHECKS)
        .collect()
        .await;
    let mut report = Report::default();
    for (name, outcome) in outcomes {
        match outcome {
            Ok(()) => report.passed.push(name),
            Err(failure) => report.failed.push(failure),
        }
    }
    report
}
