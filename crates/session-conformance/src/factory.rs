//! How the suite gets stores: from a factory the user writes.

use std::{future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use session_core::Store;

use crate::Settings;

/// Builds a fresh store for one check.
///
/// Implemented for every `Fn(Settings) -> impl Future<Output = S>` where `S` is
/// a [`Store`], so an async closure is a factory:
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
/// the server cannot be reached: the check then fails loudly.
pub trait Factory: Send + Sync + 'static {
    /// Builds a store for `settings`.
    fn build(&self, settings: Settings) -> BoxFuture<'static, Arc<dyn Store>>;
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
