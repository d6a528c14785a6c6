//! What a store declares it does differently by design, and so what the
//! suite asserts instead.
//!
//! A store shared with a Node app keeps Node's rules: connect-redis deletes
//! on destroy (no tombstones), express-session keeps the data key `cookie`
//! for itself, a JavaScript server holds every number as a double,
//! connect-session-sequelize's `sid` column holds 36 bytes. Such a store
//! declares what it does, and every check the declaration touches asserts
//! the declared behaviour exactly: a check never passes either way.

use session_core::SessionId;

/// How a store keeps the numbers in session data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Numbers {
    /// Every integer in `i64`/`u64` exactly, every finite float bit for bit
    /// (`-0.0` included). The contract's rule 8.
    #[default]
    Exact,
    /// As JavaScript's `JSON.parse`/`JSON.stringify` keep them: every number
    /// becomes the nearest `f64` (integers past 2^53 rounded), `-0.0`
    /// becomes `0`, and every other double comes back bit for bit.
    JavaScript,
}

/// What a store declares about itself; [`Capabilities::full`] (the
/// default) is the whole contract.
///
/// Each declaration changes what some checks assert, never whether they
/// can fail:
///
/// | declaration | checks that change | what they then assert |
/// |---|---|---|
/// | [`without_tombstones`](Self::without_tombstones) | the tombstone checks (`set_after_destroy_is_refused`, `create_after_destroy_is_refused`, `touch_destroyed_is_refused`, `destroy_of_unknown_id_still_guards_it`, `tombstone_lapses_after_grace`, `tombstones_survive_capacity_pressure`, the three destroy races, `tombstones_are_per_namespace`, `errors_hide_secrets`) | `destroy` deletes: a later `set` or `create` succeeds and `get` returns exactly what it wrote; `touch` answers `NotFound`; a race with `destroy` ends with the id gone or holding exactly the racing write |
/// | [`reserving_keys`](Self::reserving_keys), [`reserving_prefix`](Self::reserving_prefix) | `reserved_keys_are_refused_others_kept` | `set` and `create` of data holding such a key fail with `Error::Encode`, store nothing and leave a live session untouched; every key not declared round-trips |
/// | [`javascript_numbers`](Self::javascript_numbers) | `floats_round_trip_bit_for_bit`, `round_trips_exact_integers` | each number comes back as JavaScript's double of it, bit for bit (see [`Numbers::JavaScript`]) |
/// | [`page_size`](Self::page_size) | `length_and_all_exact_at_page_edges` | `length`, `all` and `clear` exact one short of, at and one past that size too |
/// | [`max_id_len`](Self::max_id_len) | `longest_id_round_trips` | ids of the declared length and one shorter round-trip apart; one byte longer is refused with `Error::InvalidInput` by `set` and `create`, storing nothing |
/// | [`last_writer_wins`](Self::last_writer_wins) | the `updates` checks (rule 10) | `set_if_unchanged` is a plain `set`: a stale write lands; of 64 concurrent `update`s of distinct keys exactly one writer's key survives; a removal racing a write leaves one writer's whole session |
///
/// ```
/// use session_conformance::{Capabilities, Numbers};
///
/// // connect-session-sequelize's table: no tombstones, express-session's
/// // `cookie` key, a 36-byte `sid` column.
/// let sequelize = Capabilities::full()
///     .without_tombstones()
///     .reserving_keys(["cookie"])
///     .max_id_len(36);
/// assert!(!sequelize.tombstones);
/// assert!(sequelize.is_reserved("cookie") && !sequelize.is_reserved("cookies"));
/// assert_eq!(sequelize.numbers, Numbers::Exact);
/// assert_eq!(Capabilities::default(), Capabilities::full());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether `destroy` leaves a tombstone for the grace window (rule 4).
    pub tombstones: bool,
    /// Top-level data keys the store keeps for itself and refuses as data.
    pub reserved_keys: Vec<String>,
    /// Prefixes of top-level data keys the store refuses as data (CouchDB's
    /// `_`, say).
    pub reserved_prefixes: Vec<String>,
    /// How numbers come back.
    pub numbers: Numbers,
    /// The longest id, in bytes, the store keeps; at most
    /// [`SessionId::MAX_LEN`].
    pub max_id_len: usize,
    /// Page or batch sizes of the store's own, beside the suite's built-in
    /// 100, 500 and 1000: `length`, `all` and `clear` are checked one short
    /// of, at and one past each.
    pub page_sizes: Vec<usize>,
    /// Whether `set_if_unchanged` compares the version read (rule 10), so
    /// concurrent `update`s keep each other's keys.
    pub versions: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::full()
    }
}

impl Capabilities {
    /// The whole contract: tombstones, every data key, exact numbers, ids up
    /// to [`SessionId::MAX_LEN`] bytes.
    pub fn full() -> Self {
        Self {
            tombstones: true,
            reserved_keys: Vec::new(),
            reserved_prefixes: Vec::new(),
            numbers: Numbers::Exact,
            max_id_len: SessionId::MAX_LEN,
            page_sizes: Vec::new(),
            versions: true,
        }
    }

    /// `destroy` deletes and leaves no tombstone, so a later write lands.
    pub fn without_tombstones(mut self) -> Self {
        self.tombstones = false;
        self
    }

    /// These top-level data keys are the store's own: writing one is
    /// refused with `Error::Encode`.
    pub fn reserving_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.reserved_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Every top-level data key starting with `prefix` is the store's own.
    /// An empty prefix declares nothing.
    pub fn reserving_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        if !prefix.is_empty() {
            self.reserved_prefixes.push(prefix);
        }
        self
    }

    /// Numbers come back as a JavaScript server keeps them ([`Numbers::JavaScript`]).
    pub fn javascript_numbers(mut self) -> Self {
        self.numbers = Numbers::JavaScript;
        self
    }

    /// Ids longer than `len` bytes are refused with `Error::InvalidInput`.
    /// `len` is kept between 2 and [`SessionId::MAX_LEN`].
    pub fn max_id_len(mut self, len: usize) -> Self {
        self.max_id_len = len.clamp(2, SessionId::MAX_LEN);
        self
    }

    /// The store reads or deletes in pages (or batches) of `size`: the page
    /// edge check also writes `size - 1`, `size` and `size + 1` sessions.
    /// Sizes up to 10 000 are taken; larger ones would make the check slow
    /// and are ignored.
    pub fn page_size(mut self, size: usize) -> Self {
        if (2..=10_000).contains(&size) {
            self.page_sizes.push(size);
        }
        self
    }

    /// `set_if_unchanged` is the provided plain `set`: the store cannot
    /// compare versions, and of concurrent `update`s the last whole session
    /// wins (rule 10's documented alternative).
    pub fn last_writer_wins(mut self) -> Self {
        self.versions = false;
        self
    }

    /// Whether the top-level data key `key` is declared the store's own.
    pub fn is_reserved(&self, key: &str) -> bool {
        self.reserved_keys.iter().any(|reserved| reserved == key)
            || self
                .reserved_prefixes
                .iter()
                .any(|prefix| key.starts_with(prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_keep_to_what_a_check_can_use() {
        let declared = Capabilities::full()
            .reserving_prefix("")
            .reserving_prefix("_")
            .max_id_len(1)
            .page_size(1)
            .page_size(10_001)
            .page_size(250);
        assert!(!declared.is_reserved("user"), "an empty prefix reserves nothing");
        assert!(declared.is_reserved("_id") && !declared.is_reserved("id_"));
        assert_eq!(
            declared.max_id_len, 2,
            "an id limit of 2 leaves a shorter id to compare"
        );
        assert_eq!(
            Capabilities::full().max_id_len(1_000).max_id_len,
            SessionId::MAX_LEN
        );
        assert_eq!(declared.page_sizes, [250]);
    }
}
