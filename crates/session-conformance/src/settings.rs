//! What the suite asks a factory to build.

use std::time::Duration;

use session_core::Lifetimes;

/// What a factory must honour when it builds a store for one check.
///
/// Each check asks for its own store with a fresh [`namespace`](Self::namespace),
/// so checks can run in parallel against one shared server without seeing each
/// other's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// A namespace no other check uses: `sc_` plus 16 random lowercase hex
    /// digits (19 characters, `[a-z0-9_]`), valid as a key prefix, a SQL
    /// table name and a CouchDB database name. Use it as the prefix, table
    /// or database of the store you build.
    pub namespace: String,
    /// The default TTL and tombstone grace the store must apply.
    pub lifetimes: Lifetimes,
    /// The bound, in sessions, a bounded store (one that evicts, like an LRU
    /// cache) should apply as its capacity; unbounded stores ignore it. It
    /// is `None` for every check but `tombstones_survive_capacity_pressure`,
    /// which asks for 64, destroys an id, writes 256 other sessions and
    /// expects the id still refused: eviction may forget live sessions,
    /// never a tombstone within its grace window.
    pub capacity: Option<u64>,
}

/// The lifetimes most checks use: a 1 hour TTL and a 60 second grace window,
/// long enough that no tombstone lapses while a check runs.
pub(crate) fn standard_lifetimes() -> Lifetimes {
    Lifetimes::new(Duration::from_secs(3600), Duration::from_secs(60)).unwrap_or_default()
}

impl Settings {
    /// Settings with a fresh random namespace, the given lifetimes and no
    /// capacity bound.
    ///
    /// ```
    /// use session_conformance::Settings;
    ///
    /// let settings = Settings::fresh(session_core::Lifetimes::default());
    /// assert!(settings.namespace.starts_with("sc_"));
    /// assert_eq!(settings.capacity, None);
    /// ```
    pub fn fresh(lifetimes: Lifetimes) -> Self {
        Self {
            namespace: fresh_namespace(),
            lifetimes,
            capacity: None,
        }
    }
}

fn fresh_namespace() -> String {
    let mut bytes = [0u8; 8];
    // A failing OS RNG leaves zeros; the time keeps namespaces apart anyway.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        bytes = (nanos as u64).to_le_bytes();
    }
    let mut namespace = String::from("sc_");
    for byte in bytes {
        namespace.push_str(&format!("{byte:02x}"));
    }
    namespace
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_fresh_and_identifier_safe() {
        let a = Settings::fresh(Lifetimes::default()).namespace;
        let b = Settings::fresh(Lifetimes::default()).namespace;
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        );
    }
}
