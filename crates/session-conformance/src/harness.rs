//! What every check is built from: the context that hands out stores, the
//! failure type, assertion macros and small helpers.

use std::{
    collections::HashSet,
    fmt,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use serde_json::Value;
use session_core::{Error, Lifetimes, Session, SessionData, SessionId, Store};
use time::OffsetDateTime;

use crate::{Capabilities, Factory, Settings, settings::standard_lifetimes};

/// Why a check failed: a sentence that says what was expected and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check's name.
    pub check: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conformance check `{}` failed: {}", self.check, self.message)
    }
}

impl std::error::Error for Failure {}

/// A failed expectation inside a check, before the runner names the check.
#[derive(Debug)]
pub(crate) struct Fail(pub(crate) String);

pub(crate) type Outcome = Result<(), Fail>;

/// Fails the check with a formatted message unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::harness::Fail(format!($($msg)+)));
        }
    };
}

/// Fails unless both sides are equal, showing both.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::harness::Fail(format!(
                "{}: expected {:?}, got {:?}",
                format!($($msg)+), right, left
            )));
        }
    }};
}

/// Fails unless the result is an error matching the pattern.
macro_rules! ensure_err {
    ($result:expr, $pattern:pat, $($msg:tt)+) => {{
        let result = $result;
        if !matches!(result, Err($pattern)) {
            return Err($crate::harness::Fail(format!(
                "{}: expected Err({}), got {:?}",
                format!($($msg)+), stringify!($pattern), result
            )));
        }
    }};
}

pub(crate) use {ensure, ensure_eq, ensure_err};

/// Turns a store error into a failure that says which call failed.
pub(crate) trait Expect<T> {
    fn ok_or_fail(self, call: &str) -> Result<T, Fail>;
}

impl<T> Expect<T> for Result<T, Error> {
    fn ok_or_fail(self, call: &str) -> Result<T, Fail> {
        self.map_err(|e| Fail(format!("{call} returned an unexpected error: {e}")))
    }
}

/// A store a check built, with the settings it was built for.
type Built = (Settings, Arc<dyn Store>);

/// The context of one check run: builds stores, knows what they declare,
/// and clears and tears them down afterwards.
#[derive(Clone)]
pub(crate) struct Ctx {
    factory: Arc<dyn Factory>,
    capabilities: Arc<Capabilities>,
    built: Arc<Mutex<Vec<Built>>>,
}

impl Ctx {
    pub(crate) fn new(factory: Arc<dyn Factory>) -> Self {
        Self {
            capabilities: Arc::new(factory.capabilities()),
            factory,
            built: Arc::default(),
        }
    }

    /// What the stores under test declare about themselves.
    pub(crate) fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// A fresh store with a 1 hour TTL and a 60 second grace.
    pub(crate) async fn store(&self) -> Arc<dyn Store> {
        self.store_with(standard_lifetimes()).await
    }

    /// A fresh store with the given lifetimes.
    pub(crate) async fn store_with(&self, lifetimes: Lifetimes) -> Arc<dyn Store> {
        self.build(Settings::fresh(lifetimes)).await
    }

    /// A fresh store with the standard lifetimes, asked to keep at most
    /// `capacity` sessions.
    pub(crate) async fn bounded_store(&self, capacity: u64) -> Arc<dyn Store> {
        let mut settings = Settings::fresh(standard_lifetimes());
        settings.capacity = Some(capacity);
        self.build(settings).await
    }

    async fn build(&self, settings: Settings) -> Arc<dyn Store> {
        let store = self.factory.build(settings.clone()).await;
        if let Ok(mut built) = self.built.lock() {
            built.push((settings, Arc::clone(&store)));
        }
        store
    }

    /// Clears every store the check built (best effort: the teardown
    /// removes the rest), drops them, then tears each down.
    ///
    /// # Errors
    /// Why a teardown failed: it panicked, so something may be left behind.
    pub(crate) async fn clean_up(&self) -> Result<(), String> {
        let built = self
            .built
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default();
        let mut torn_down = Vec::with_capacity(built.len());
        for (settings, store) in built {
            let _ = store.clear().await;
            drop(store);
            torn_down.push(settings);
        }
        for settings in torn_down {
            let namespace = settings.namespace.clone();
            if let Err(panic) = tokio::spawn(self.factory.tear_down(settings)).await {
                return Err(format!("tearing down namespace {namespace} failed: {panic}"));
            }
        }
        Ok(())
    }
}

/// Lifetimes with the standard TTL and the given grace.
pub(crate) fn with_grace(grace: Duration) -> Lifetimes {
    Lifetimes::new(standard_lifetimes().default_ttl(), grace).unwrap_or_default()
}

/// Lifetimes with the given default TTL and the standard grace.
pub(crate) fn with_ttl(ttl: Duration) -> Lifetimes {
    Lifetimes::new(ttl, standard_lifetimes().tombstone_grace()).unwrap_or_default()
}

/// How long "soon expiring" sessions live: 2 seconds, so a backend under
/// load that takes a second to write still has a live session to read back.
pub(crate) const SHORT: Duration = Duration::from_secs(2);

/// Slack after a deadline before asserting something has lapsed.
const MARGIN: Duration = Duration::from_millis(150);

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub(crate) fn in_(duration: Duration) -> OffsetDateTime {
    now() + duration
}

pub(crate) fn in_an_hour() -> OffsetDateTime {
    in_(Duration::from_secs(3600))
}

/// Sleeps until `at` (at once if it has passed).
pub(crate) async fn sleep_until(at: OffsetDateTime) {
    tokio::time::sleep(Duration::try_from(at - now()).unwrap_or(Duration::ZERO)).await;
}

/// Sleeps until `deadline` plus a safety margin has passed.
pub(crate) async fn sleep_past(deadline: OffsetDateTime) {
    sleep_until(deadline + MARGIN).await;
}

pub(crate) fn id() -> SessionId {
    SessionId::generate()
}

pub(crate) fn parse_id(text: &str) -> Result<SessionId, Fail> {
    SessionId::parse(text).map_err(|e| Fail(format!("test id {text:?} is invalid: {e}")))
}

/// A JSON object from a `json!` value; anything else becomes `{"value": v}`.
pub(crate) fn object(value: Value) -> SessionData {
    match value {
        Value::Object(map) => map,
        other => SessionData::from_iter([("value".to_string(), other)]),
    }
}

/// A session with `data` that expires at `at`.
pub(crate) fn session(data: Value, at: OffsetDateTime) -> Session {
    Session::from_data(object(data)).expiring_at(at)
}

/// A session whose data names its id, so a store that pairs ids with the
/// wrong data is caught. Its expiry is fixed for the process (a day after
/// first use), so two calls for one id give equal sessions.
pub(crate) fn tagged(id: &SessionId) -> Session {
    static EXPIRY: OnceLock<OffsetDateTime> = OnceLock::new();
    let at = *EXPIRY.get_or_init(|| in_(Duration::from_secs(24 * 3600)));
    session(serde_json::json!({ "owner": id.as_str() }), at)
}

/// How many writes the bulk checks keep in flight at once: enough to fill a
/// store with thousands of sessions in well under a second, few enough for
/// any connection pool.
pub(crate) const IN_FLIGHT: usize = 32;

/// Runs `write` for every item, [`IN_FLIGHT`] at a time; fails with the
/// first error.
pub(crate) async fn concurrently<T, F, Fut>(items: impl IntoIterator<Item = T>, write: F) -> Outcome
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Outcome>,
{
    use futures_util::{StreamExt as _, TryStreamExt as _};
    futures_util::stream::iter(items)
        .map(write)
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await
}

/// Reads `id` and fails unless it is live with exactly `expected`'s data and expiry.
pub(crate) async fn expect_session(
    store: &dyn Store,
    id: &SessionId,
    expected: &Session,
    what: &str,
) -> Outcome {
    let got = store.get(id).await.ok_or_fail("get")?;
    let Some(got) = got else {
        return Err(Fail(format!("{what}: get returned None, expected the session")));
    };
    ensure!(
        got.data() == expected.data(),
        "{what}: the data read back differs from the data written"
    );
    ensure_eq!(got.expires_at(), expected.expires_at(), "{what}: expiry");
    Ok(())
}

/// Fails unless `id` has no live session.
pub(crate) async fn expect_gone(store: &dyn Store, id: &SessionId, what: &str) -> Outcome {
    let got = store.get(id).await.ok_or_fail("get")?;
    ensure!(got.is_none(), "{what}: get returned a session, expected None");
    Ok(())
}

/// Fails unless `length` is `expected`.
pub(crate) async fn expect_length(store: &dyn Store, expected: u64, what: &str) -> Outcome {
    let length = store.length().await.ok_or_fail("length")?;
    ensure_eq!(length, expected, "{what}: length");
    Ok(())
}

/// Runs `write` and fails unless `id` then expires `ttl` after the write,
/// to the millisecond: the default TTL applied at write time.
pub(crate) async fn expect_default_ttl_applied<F>(
    store: &dyn Store,
    id: &SessionId,
    ttl: Duration,
    write: F,
) -> Outcome
where
    F: Future<Output = Result<(), Error>>,
{
    let before = now() + ttl - Duration::from_millis(1);
    write.await.ok_or_fail("write without an expiry")?;
    let after = now() + ttl;
    let expiry = store
        .get(id)
        .await
        .ok_or_fail("get")?
        .and_then(|s| s.expires_at());
    ensure!(
        expiry.is_some_and(|at| at >= before && at <= after),
        "a write without expiry must expire default_ttl after the write; got {expiry:?}, expected {before} ..= {after}"
    );
    Ok(())
}

/// What a write to an id destroyed within the grace window must do: be
/// refused with `Destroyed`, the id staying gone; or, for a store declared
/// without tombstones, land, so `get` returns exactly what it wrote.
pub(crate) async fn expect_after_destroy(
    ctx: &Ctx,
    store: &dyn Store,
    id: &SessionId,
    answer: Result<(), Error>,
    written: &Session,
    what: &str,
) -> Outcome {
    if ctx.capabilities().tombstones {
        ensure_err!(answer, Error::Destroyed, "{what}");
        expect_gone(store, id, &format!("after the refused {what}")).await
    } else {
        answer.ok_or_fail(&format!("{what}, on a store declared without tombstones"))?;
        expect_session(
            store,
            id,
            written,
            &format!("{what} on a store declared without tombstones"),
        )
        .await
    }
}

/// Fails unless `length` is the number of `expected` sessions and `all`
/// yields each of them once, with its own data, and nothing else.
pub(crate) async fn expect_exactly(store: &dyn Store, expected: &HashSet<&SessionId>, what: &str) -> Outcome {
    expect_length(store, expected.len() as u64, what).await?;
    let listed = store.all().await.ok_or_fail("all")?;
    let mut seen = HashSet::with_capacity(listed.len());
    for (id, session) in &listed {
        ensure!(
            seen.insert(id),
            "{what}: all() yielded id {:?} twice",
            id.redacted()
        );
        ensure!(
            expected.contains(id),
            "{what}: all() yielded a session that is expired, destroyed or never written"
        );
        ensure!(
            session.data() == tagged(id).data(),
            "{what}: all() paired an id with another session's data"
        );
    }
    ensure_eq!(seen.len(), expected.len(), "{what}: sessions yielded by all()");
    Ok(())
}
