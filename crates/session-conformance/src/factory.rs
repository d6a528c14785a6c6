//! How the suite gets stores: from a factory the user writes, with what the
//! store declares about itself and how to remove what a check left.

use std::{fmt, future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use session_core::Store;

use crate::{Capabilities, Settings};

/// Builds a fresh store for one check, says what the store declares about
/// itself, and removes what the check left behind.
///
/// Implemented for every `Fn(Settings) -> impl Future<Output = S>` where `S` is
/// a [`Store`], so an async closure is a factory (of a store that keeps the
/// whole contract and leaves nothing behind once cleared):
///
/// ```
/// use session_conformance::Settings;
/// use session_memory::MemoryStore;
///
/// let factory = |settings: Settings| async move {
///     MemoryStore::builder().lifetimes(settings.lifetimes).build().expect("valid options")
/// };
/// # fn is_factory(_: impl session_conformance::Factory) {}
/// # is_factory(factory);
/// ```
///
/// A factory for a server-backed store uses
/// [`Settings::namespace`](Settings::namespace) as its key prefix, table or
/// database, and honours [`Settings::lifetimes`](Settings::lifetimes); a
/// factory for a store that evicts applies
/// [`Settings::capacity`](Settings::capacity) as its bound. It may panic if
/// the server cannot be reached: the check then fails loudly. Wrap it in a
/// [`Subject`] to declare [`Capabilities`] or a teardown.
pub trait Factory: Send + Sync + 'static {
    /// Builds a store for `settings`.
    fn build(&self, settings: Settings) -> BoxFuture<'static, Arc<dyn Store>>;

    /// What the stores it builds declare about themselves (default: the
    /// whole contract).
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    /// Removes what remains of the store built for `settings` once the check
    /// is over and the store cleared and dropped: its table, database or
    /// file. Default: nothing to remove. A panic fails the check.
    fn tear_down(&self, settings: Settings) -> BoxFuture<'static, ()> {
        let _ = settings;
        Box::pin(std::future::ready(()))
    }
}

impl<F, Fut, S> Factory for F
where
    F: Fn(Settings) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = S> + Send + 'static,
    S: Store + 'static,
{
    fn build(&self, settings: Settings) -> BoxFuture<'static, Arc<dyn Store>> {
        let store = self(settings);
        Box::pin(async move { Arc::new(store.await) as Arc<dyn Store> })
    }
}

type TearDown = Box<dyn Fn(Settings) -> BoxFuture<'static, ()> + Send + Sync>;

/// A factory with what its stores declare and how to remove what a check
/// leaves: what [`suite!`](crate::suite)'s `capabilities:` and `teardown:`
/// build, and what [`run_all`](crate::run_all) takes for such a store.
///
/// ```
/// use session_conformance::{Capabilities, Settings, Subject};
/// use session_memory::MemoryStore;
///
/// let subject = Subject::new(|settings: Settings| async move {
///     MemoryStore::builder()
///         .lifetimes(settings.lifetimes)
///         .tombstone_grace(std::time::Duration::ZERO) // destroy deletes
///         .build()
///         .expect("valid options")
/// })
/// .capabilities(Capabilities::full().without_tombstones())
/// .teardown(|settings: Settings| async move {
///     // drop the table / database / key prefix named settings.namespace
///     let _ = settings.namespace;
/// });
/// # fn is_factory(_: impl session_conformance::Factory) {}
/// # is_factory(subject);
/// ```
pub struct Subject<F> {
    factory: F,
    capabilities: Capabilities,
    tear_down: Option<TearDown>,
}

impl<F: Factory> Subject<F> {
    /// `factory`'s stores, keeping the whole contract, with nothing to tear down.
    pub fn new(factory: F) -> Self {
        Self {
            factory,
            capabilities: Capabilities::full(),
            tear_down: None,
        }
    }

    /// Declares what the stores do differently by design.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Runs `tear_down` with each store's settings after its check, once the
    /// store is cleared and dropped.
    pub fn teardown<T, Fut>(mut self, tear_down: T) -> Self
    where
        T: Fn(Settings) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tear_down = Some(Box::new(move |settings| Box::pin(tear_down(settings))));
        self
    }
}

impl<F: Factory> Factory for Subject<F> {
    fn build(&self, settings: Settings) -> BoxFuture<'static, Arc<dyn Store>> {
        self.factory.build(settings)
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    fn tear_down(&self, settings: Settings) -> BoxFuture<'static, ()> {
        match &self.tear_down {
            Some(tear_down) => tear_down(settings),
            None => self.factory.tear_down(settings),
        }
    }
}

impl<F> fmt::Debug for Subject<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("capabilities", &self.capabilities)
            .field("teardown", &self.tear_down.is_some())
            .finish_non_exhaustive()
    }
}
