//! The published behaviour suite for session stores.
//!
//! Every backend of this project passes it, and you can run it against your
//! own [`Store`](session_core::Store) with one line. It checks each rule
//! written on the `Store` trait in 77 checks (see [`CHECKS`]):
//!
//! * **data comes back exactly** (rule 8): unicode, NUL, megabyte strings,
//!   64 KiB keys, 20 000 keys, exact 64-bit integers; every float bit for
//!   bit (`-0.0`, subnormals, `f64::MAX`, 17-digit values, a fixed
//!   pseudo-random spread of hundreds more); nesting up to
//!   [`MAX_DEPTH`](session_core::backend::MAX_DEPTH) levels kept, one level
//!   deeper refused by `set` and `create` with `Error::Encode`, storing
//!   nothing and leaving a live session under that id untouched; keys a
//!   store keeps for itself refused, never silently dropped;
//! * **expiry**: within seconds, to the millisecond, the default TTL;
//!   `touch`, which never revives, and never loses a racing `set`'s data;
//! * **tombstones**: logout sticks through races, its grace window, and a
//!   bounded store's evictions ([`Settings::capacity`]), per namespace;
//! * **create-if-absent** with one winner among 100;
//! * **read your writes** (rule 9): every write is seen by the very next
//!   read, from any task;
//! * **ids and namespaces**: special characters, case, isolation;
//! * **secrets**: neither `Debug` output nor an error shows data or a whole id;
//! * **all, length and clear**, exact at a few sessions, one short of, at
//!   and one past every page size (100, 500, 1000 and any the store
//!   declares), and at thousands (2 503 live among 251 destroyed and 257
//!   expiring: counts no multiple of any page size, so rounding shows).
//!
//! A store that does something differently by design (no tombstones,
//! reserved data keys, JavaScript's numbers, a shorter id limit) declares
//! it in [`Capabilities`]; every check the declaration touches then asserts
//! exactly the declared behaviour, so no check passes either way.
//!
//! # In a test file: one line
//!
//! [`suite!`] expands into one `#[tokio::test]` per check, named after the
//! check, for the store factory you give it. A factory is an async closure
//! that builds a store from [`Settings`]: use its `namespace` as your key
//! prefix, table or database, apply its `lifetimes`, and, if your store
//! evicts (an LRU cache, say), apply its `capacity` as the bound.
//!
//! ```
//! // tests/conformance.rs of your crate (dev-dependency: session-conformance).
//! // Here the store is the memory store; use yours, with `settings.namespace`
//! // as its key prefix, table or database.
//! session_conformance::suite!(|settings: session_conformance::Settings| async move {
//!     let builder = session_memory::MemoryStore::builder()
//!         .default_ttl(settings.lifetimes.default_ttl())
//!         .tombstone_grace(settings.lifetimes.tombstone_grace());
//!     match settings.capacity {
//!         Some(sessions) => builder.max_capacity(sessions),
//!         None => builder,
//!     }
//!     .build()
//!     .expect("valid options")
//! });
//! # fn main() {}
//! ```
//!
//! Put several suites in one file by wrapping each in its own `mod`.
//!
//! # In a custom harness: plain async functions
//!
//! [`run_all`] runs every check and returns a [`Report`]; [`run`] runs one by
//! name; [`CHECKS`] lists them. They need a multi-threaded Tokio runtime so
//! the race checks really race.
//!
//! # What a check needs from your store
//!
//! * Each check builds its own stores through your factory, each with a fresh
//!   namespace, so checks may run in parallel against one server; when a check
//!   ends its stores are cleared, dropped, then torn down (see [`Subject`]):
//!   a store that leaves a table, database or file behind removes it there.
//! * No check sleeps longer than about 2.2 s (the scale check waits longer
//!   only for a store that takes over a second to read its 2 503 sessions
//!   or ten seconds to write them); bulk writes go 32 at a time, so a whole suite takes a few
//!   seconds on a local server.
//! * The largest session written is about 2.6 MiB as JSON, well under
//!   MariaDB's default 16 MiB packet.
#![forbid(unsafe_code)]

mod capabilities;
mod checks;
mod cleanup;
mod factory;
mod harness;
mod runner;
mod settings;

pub use capabilities::{Capabilities, Numbers};
pub use cleanup::Cleanup;
pub use factory::{Factory, Subject};
pub use harness::Failure;
pub use runner::{CHECKS, Check, Report, run, run_all};
pub use settings::Settings;

/// Expands into one `#[tokio::test]` per conformance check for `factory`.
///
/// `factory` is an expression (usually an async closure) implementing
/// [`Factory`]; it is evaluated once per test. Each test fails with the
/// check's explanation when the store breaks a rule. The tests run on a
/// multi-threaded runtime provided by this crate, so you need no Tokio
/// features of your own; the crate must be a dependency under its own name
/// `session_conformance`.
///
/// ```
/// mod memory {
///     session_conformance::suite!(|settings: session_conformance::Settings| async move {
///         session_memory::MemoryStore::builder()
///             .lifetimes(settings.lifetimes)
///             .build()
///             .expect("valid options")
///     });
/// }
/// # fn main() {}
/// ```
///
/// A store that does some things differently by design (one shared with a
/// Node store that keeps no tombstones, say) declares them with
/// `capabilities:`, and every check those touch then asserts the declared
/// behaviour instead (see [`Capabilities`]). A store that leaves something
/// behind once cleared (a table, a database, a file) removes it with
/// `teardown:`, which runs after each check for every store the check
/// built. Either may be left out.
///
/// ```
/// mod deletes_on_destroy {
///     use session_conformance::{Capabilities, Settings};
///
///     session_conformance::suite!(
///         |settings: Settings| async move {
///             session_memory::MemoryStore::builder()
///                 .lifetimes(settings.lifetimes)
///                 .tombstone_grace(std::time::Duration::ZERO) // destroy deletes
///                 .build()
///                 .expect("valid options")
///         },
///         capabilities: Capabilities::full().without_tombstones(),
///         teardown: |settings: Settings| async move {
///             // Drop the table or database named `settings.namespace`.
///             let _ = settings;
///         },
///     );
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! suite {
    (
        $factory:expr
        $(, capabilities: $capabilities:expr)?
        $(, teardown: $teardown:expr)?
        $(,)?
    ) => {
        $crate::__for_each_check!(__emit_tests!(
            $crate::Subject::new($factory)
                $(.capabilities($capabilities))?
                $(.teardown($teardown))?
        ));
    };
}

/// Emits the tests for [`suite!`]: one per check name.
#[doc(hidden)]
#[macro_export]
macro_rules! __emit_tests {
    (($subject:expr) $($module:ident :: $name:ident),* $(,)?) => {$(
        #[$crate::__private::tokio::test(
            flavor = "multi_thread",
            worker_threads = 4,
            crate = "session_conformance::__private::tokio"
        )]
        async fn $name() {
            $crate::__private::run_test(stringify!($name), $subject).await;
        }
    )*};
}

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    /// Runs one check and panics with its explanation if it fails.
    #[allow(clippy::panic)]
    pub async fn run_test(name: &str, factory: impl crate::Factory) {
        if let Err(failure) = crate::run(name, factory).await {
            panic!("{failure}");
        }
    }
}
