//! The published behaviour suite for session stores.
//!
//! Every backend of this project passes it, and you can run it against your
//! own [`Store`](session_core::Store) with one line. It checks each rule
//! written on the `Store` trait in 67 checks (see [`CHECKS`]):
//!
//! * **data comes back exactly** (rule 8): unicode, NUL, megabyte strings,
//!   64 KiB keys, 20 000 keys, exact 64-bit integers; every float bit for
//!   bit (`-0.0`, subnormals, `f64::MAX`, 17-digit values, a fixed
//!   pseudo-random spread of hundreds more); nesting up to
//!   [`MAX_DEPTH`](session_core::backend::MAX_DEPTH) levels kept, one level
//!   deeper refused by `set` and `create` with `Error::Encode`, storing
//!   nothing and leaving a live session under that id untouched;
//! * **expiry**: within seconds, to the millisecond, the default TTL;
//!   `touch`, which never revives, and never loses a racing `set`'s data;
//! * **tombstones**: logout sticks through races, its grace window, and a
//!   bounded store's evictions ([`Settings::capacity`]);
//! * **create-if-absent** with one winner among 100;
//! * **read your writes** (rule 9): every write is seen by the very next
//!   read, from any task;
//! * **ids and namespaces**: special characters, case, isolation;
//! * **all, length and clear**, exact at a few sessions and at thousands
//!   (2 500 live among 250 destroyed and 250 expiring), past any page or
//!   batch size.
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
//!   ends its stores are cleared.
//! * No check sleeps longer than about 2.2 s (the scale check waits longer
//!   only for a store that takes over a second to write its 2 750
//!   sessions); bulk writes go 32 at a time, so a whole suite takes a few
//!   seconds on a local server.
//! * The largest session written is about 2.6 MiB as JSON, well under
//!   MariaDB's default 16 MiB packet.
#![forbid(unsafe_code)]

mod checks;
mod factory;
mod harness;
mod runner;
mod settings;

pub use factory::Factory;
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
/// A store whose stored layout cannot keep some rule (one shared with a
/// Node store that has no tombstones, say) lists those checks, each with why.
/// Their tests pass either way and say in their output (`--nocapture`) that
/// the check failed by design, or passed this time (a race may go either
/// way); a name that is no check of the suite fails every test.
///
/// ```
/// mod without_tombstones {
///     session_conformance::suite!(
///         |settings: session_conformance::Settings| async move {
///             session_memory::MemoryStore::builder()
///                 .lifetimes(settings.lifetimes)
///                 .build()
///                 .expect("valid options")
///         },
///         fails_by_design: {
///             // (The memory store keeps every rule; a real list names checks it fails.)
///         }
///     );
/// }
/// # fn main() {}
/// ```
///
/// A store that keeps no tombstones at all (a destroy deletes, as Node's
/// connect-redis, connect-pg-simple and connect-session-sequelize do) names
/// why once, with `no_tombstones`: every check that needs a tombstone is
/// then listed as failing by design, with that reason or a more exact one,
/// beside any others the store lists.
///
/// ```
/// mod deletes_on_destroy {
///     session_conformance::suite!(
///         |settings: session_conformance::Settings| async move {
///             session_memory::MemoryStore::builder()
///                 .lifetimes(settings.lifetimes)
///                 .build()
///                 .expect("valid options")
///         },
///         no_tombstones: "destroy deletes, so a late write after a logout lands",
///         fails_by_design: {}
///     );
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! suite {
    ($factory:expr $(,)?) => {
        $crate::suite!($factory, fails_by_design: {});
    };
    (
        $factory:expr,
        no_tombstones: $why:expr,
        fails_by_design: { $($check:ident: $reason:expr),* $(,)? } $(,)?
    ) => {
        $crate::suite!(
            $factory,
            fails_by_design: {
                set_after_destroy_is_refused: $why,
                create_after_destroy_is_refused: $why,
                touch_destroyed_is_refused: "without a tombstone a destroyed id is simply absent: NotFound",
                destroy_of_unknown_id_still_guards_it: $why,
                destroy_touch_race_never_resurrects: "touch after a destroy answers NotFound, not Destroyed \
                    (nothing is revived either way)",
                destroy_set_race_never_resurrects: $why,
                destroy_create_race_never_resurrects: $why,
                tombstone_lapses_after_grace: $why,
                tombstones_survive_capacity_pressure: $why,
                namespaces_are_isolated: "its create-after-destroy step needs a tombstone",
                debug_output_hides_secrets: "its refusal steps need a tombstone (the output check itself passes)",
                $($check: $reason),*
            }
        );
    };
    ($factory:expr, fails_by_design: { $($check:ident: $why:expr),* $(,)? } $(,)?) => {
        /// The checks this store fails by design, and why.
        const FAILS_BY_DESIGN: &[(&str, &str)] = &[$((stringify!($check), $why)),*];
        $crate::__for_each_check!(__emit_tests!($factory));
    };
}

/// Emits the tests for [`suite!`]: one per check name.
#[doc(hidden)]
#[macro_export]
macro_rules! __emit_tests {
    (($factory:expr) $($module:ident :: $name:ident),* $(,)?) => {$(
        #[$crate::__private::tokio::test(
            flavor = "multi_thread",
            worker_threads = 4,
            crate = "session_conformance::__private::tokio"
        )]
        async fn $name() {
            $crate::__private::run_test(stringify!($name), $factory, FAILS_BY_DESIGN).await;
        }
    )*};
}

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    /// Runs one check and panics with its explanation if it fails, unless
    /// it is listed as failing by design (then it only says how it went).
    #[allow(clippy::panic)]
    pub async fn run_test(name: &str, factory: impl crate::Factory, fails_by_design: &[(&str, &str)]) {
        if let Some((listed, _)) = fails_by_design
            .iter()
            .find(|(listed, _)| crate::Check::named(listed).is_none())
        {
            panic!("`{listed}` is listed as failing by design, but the suite has no such check");
        }
        let by_design = fails_by_design.iter().find(|(listed, _)| *listed == name);
        match (crate::run(name, factory).await, by_design) {
            (Ok(()), None) => {}
            (Err(failure), None) => panic!("{failure}"),
            (Err(failure), Some((_, why))) => {
                println!("conformance check `{name}` fails by design: {why}\n  (it reports: {failure})");
            }
            (Ok(()), Some((_, why))) => {
                println!("conformance check `{name}` passed this time; it may fail by design: {why}");
            }
        }
    }
}
