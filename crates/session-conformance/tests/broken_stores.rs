//! The suite proves itself: a simple reference store passes every check,
//! as it is and as a store declaring each capability; each deliberately
//! broken variant of it fails the check aimed at its defect; and a store
//! that declares a capability falsely, or breaks a rule a declaration does
//! not excuse, is caught.

mod reference;

use reference::{Bug, ODD_PAGE, RefStore};
use session_conformance::{Capabilities, Factory, Settings, Subject};

fn factory(bug: Bug) -> impl Factory {
    move |settings: Settings| async move { RefStore::new(settings, bug) }
}

/// A reference store with `bug` that behaves as a store declaring
/// `behaviour` would, and declares `claim`.
fn declaring(claim: Capabilities, behaviour: Capabilities, bug: Bug) -> impl Factory {
    Subject::new(move |settings: Settings| {
        let behaviour = behaviour.clone();
        async move { RefStore::behaving(settings, bug, behaviour) }
    })
    .capabilities(claim)
}

fn without_tombstones() -> Capabilities {
    Capabilities::full().without_tombstones()
}

fn reserving() -> Capabilities {
    Capabilities::full()
        .reserving_keys(["cookie", "$ts"])
        .reserving_prefix("_")
}

fn javascript_numbers() -> Capabilities {
    Capabilities::full().javascript_numbers()
}

fn short_ids() -> Capabilities {
    Capabilities::full().max_id_len(36)
}

fn odd_pages() -> Capabilities {
    Capabilities::full().page_size(ODD_PAGE)
}

fn last_writer_wins() -> Capabilities {
    Capabilities::full().last_writer_wins()
}

/// Every declaration at once, as a Node table would make them.
fn everything_declared() -> Capabilities {
    Capabilities::full()
        .without_tombstones()
        .reserving_keys(["cookie"])
        .reserving_prefix("_")
        .javascript_numbers()
        .max_id_len(36)
        .page_size(ODD_PAGE)
}

/// The correct reference store passes the whole suite (through the macro, as
/// a user would run it), as it is and as a store declaring each capability.
mod reference_passes {
    use super::*;
    session_conformance::suite!(factory(Bug::None));
}

/// The correct reference store, behaving as a store declaring
/// `capabilities()` does and declaring just that, passes the whole suite.
macro_rules! reference_passes_as {
    ($($module:ident: $capabilities:ident;)+) => {$(
        mod $module {
            use super::*;
            session_conformance::suite!(
                |settings: Settings| async move { RefStore::behaving(settings, Bug::None, $capabilities()) },
                capabilities: $capabilities(),
            );
        }
    )+};
}

reference_passes_as! {
    reference_without_tombstones_passes: without_tombstones;
    reference_reserving_keys_passes: reserving;
    reference_with_javascript_numbers_passes: javascript_numbers;
    reference_with_short_ids_passes: short_ids;
    reference_declaring_everything_passes: everything_declared;
    reference_declaring_last_writer_wins_passes: last_writer_wins;
}

/// Fails the test unless `check` fails for the stores `factory` builds.
async fn assert_caught(check: &str, factory: impl Factory, store: &str) {
    let outcome = session_conformance::run(check, factory).await;
    assert!(
        outcome.is_err(),
        "check `{check}` did not catch the store `{store}`"
    );
}

/// One test per defect: `Bug => the checks that must catch it`.
macro_rules! caught_by {
    ($($bug:ident => $($check:ident),+;)+) => {
        /// Every check some defect is aimed at.
        const AIMED: &[&str] = &[$($(stringify!($check)),+),+];
        $(
        #[allow(non_snake_case)]
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $bug() {
            $(
                assert_caught(stringify!($check), factory(Bug::$bug), stringify!($bug)).await;
            )+
        }
    )+};
}

caught_by! {
    GetMissingReturnsEmpty => get_missing_is_none;
    GetDropsExpiry => set_then_get_round_trips, keeps_expiry_to_the_millisecond;
    SetMergesData => set_replaces_existing;
    DestroyRemovesAll => sessions_are_independent, destroy_leaves_other_sessions;
    DebugLeaksData => debug_output_hides_secrets;
    MangledUnicode => round_trips_unicode;
    NulTruncates => round_trips_escapes_and_nul;
    DropsArrays => round_trips_nested;
    EmptyDataIsMissing => round_trips_empty_data;
    DropsLargeValues => round_trips_one_mebibyte;
    LossyNumbers => round_trips_exact_integers;
    KeysCappedAt16384 => round_trips_many_keys;
    TruncatesLongKeys => round_trips_long_strings_and_keys;
    NaiveFloatParsing => floats_round_trip_bit_for_bit;
    NegativeZeroBecomesZero => floats_round_trip_bit_for_bit;
    AcceptsTooDeep => too_deep_set_is_refused, too_deep_create_is_refused;
    DepthLimitOffByOne => deepest_nesting_round_trips;
    TooDeepClobbersOld => too_deep_set_is_refused;
    CreateSkipsDepthCheck => too_deep_create_is_refused;
    ExpiryInSeconds => keeps_expiry_to_the_millisecond;
    GetReturnsExpired => expires_within_seconds;
    NoDefaultTtl => default_ttl_applies_without_expiry, default_ttl_expires_session;
    SetKeepsExpired => set_already_expired_is_not_kept;
    ExpiredSetKeepsOld => set_already_expired_removes_live_session;
    TouchIgnoresExpiry => touch_extends_past_old_expiry, touch_can_shorten_expiry;
    TouchDropsData => touch_keeps_data;
    TouchNoneKeepsExpiry => touch_without_expiry_uses_default_ttl;
    TouchToPastKeeps => touch_to_past_ends_session;
    TouchCreates => touch_missing_creates_nothing;
    TouchRevivesExpired => touch_never_revives_expired;
    TouchOkOnExpired => touch_expiry_race_is_consistent;
    TouchIgnoresTombstone => touch_destroyed_is_refused;
    TouchWritesBackStaleData => touch_set_race_keeps_set_data;
    DestroyKeepsLive => destroy_removes_session;
    DestroyNotIdempotent => destroy_is_idempotent;
    NoTombstone => set_after_destroy_is_refused, create_after_destroy_is_refused;
    SilentRefusal => set_after_destroy_is_refused;
    TombstoneOnlyIfPresent => destroy_of_unknown_id_still_guards_it;
    TombstoneNeverLapses => tombstone_lapses_after_grace;
    ZeroGraceStillTombstones => zero_grace_disables_tombstones;
    CapacityEvictsTombstones => tombstones_survive_capacity_pressure;
    CreateOverwrites => create_refuses_live_session;
    CreateStoresNothing => create_inserts_when_absent;
    ExpiredBlocksCreate => create_replaces_expired_session;
    CreateKeepsExpired => create_already_expired_stores_nothing;
    SetChecksThenWrites => destroy_set_race_never_resurrects;
    TouchChecksThenWrites => destroy_touch_race_never_resurrects;
    CreateChecksThenWrites => concurrent_creates_have_one_winner, destroy_create_race_never_resurrects;
    DropsPastCapacity => concurrent_sets_of_distinct_ids_all_land;
    TornWrites => concurrent_writes_never_tear;
    StaleReadCache => reads_see_the_latest_write;
    TruncatesLongIds => longest_id_round_trips;
    DestroyGlobs => special_character_ids_are_distinct;
    CaseInsensitiveIds => ids_differing_in_case_are_distinct;
    TrimsTrailingPunctuation => ids_differing_in_trailing_characters_are_distinct;
    LengthCountsTombstones => length_counts_live_sessions;
    LengthCountsExpired => length_excludes_expired;
    ApproximateLength => length_and_all_exact_at_scale;
    AllMispairsIds => all_pairs_ids_with_their_data;
    AllIncludesExpired => all_excludes_expired_and_destroyed;
    AllFiltersFirstPageOnly => length_and_all_exact_at_scale;
    StreamRepeats => all_stream_yields_each_session_once;
    ClearKeepsTombstones => clear_removes_sessions_and_tombstones;
    ClearIgnoresNamespace => clear_leaves_other_namespaces;
    IgnoresNamespace => namespaces_are_isolated, tombstones_are_per_namespace;
    TombstonesShared => tombstones_are_per_namespace;
    ErrorsLeakData => errors_hide_secrets;
    LengthWrongAtFullPage500 => length_and_all_exact_at_page_edges;
    DropsReservedKeys => reserved_keys_are_refused_others_kept;
    WholeRecordLastWriterWins => a_stale_conditional_write_is_refused,
        a_current_conditional_write_lands_and_moves_the_version, concurrent_updates_keep_every_key,
        a_removal_racing_a_write_of_another_key_sticks;
    UpdateOverwritesOnConflict => concurrent_updates_keep_every_key,
        a_removal_racing_a_write_of_another_key_sticks;
    UpdateMergesNestedValues => updates_of_one_key_leave_one_whole_value;
    ConditionalWriteResurrects => a_conditional_write_after_destroy_stores_nothing;
}

/// One test per false or broken declaration: `name: claim, behaviour, bug
/// => the checks that must catch it`.
macro_rules! declared_and_caught {
    ($($name:ident: $claim:expr, $behaviour:expr, $bug:ident => $($check:ident),+;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            $(
                let store = declaring($claim, $behaviour, Bug::$bug);
                assert_caught(stringify!($check), store, stringify!($name)).await;
            )+
        }
    )+};
}

declared_and_caught! {
    // Declares no tombstones, keeps them: every check that expects the late
    // write to land sees it refused.
    claims_no_tombstones_but_keeps_them: without_tombstones(), Capabilities::full(), None =>
        set_after_destroy_is_refused, create_after_destroy_is_refused, touch_destroyed_is_refused,
        destroy_of_unknown_id_still_guards_it, tombstone_lapses_after_grace,
        tombstones_survive_capacity_pressure, tombstones_are_per_namespace;
    // Declares no tombstones, but a write after a destroy answers Ok and
    // stores nothing: the declared alternative is checked, not waved through.
    claims_no_tombstones_but_drops_late_writes: without_tombstones(), Capabilities::full(), SilentRefusal =>
        set_after_destroy_is_refused, destroy_of_unknown_id_still_guards_it, tombstone_lapses_after_grace;
    // Claims tombstones, keeps none.
    claims_tombstones_but_keeps_none: Capabilities::full(), without_tombstones(), None =>
        set_after_destroy_is_refused, create_after_destroy_is_refused, touch_destroyed_is_refused,
        destroy_of_unknown_id_still_guards_it, tombstones_are_per_namespace, errors_hide_secrets;
    // Declares reserved keys, stores them as data.
    claims_reserved_keys_but_stores_them: reserving(), Capabilities::full(), None =>
        reserved_keys_are_refused_others_kept;
    // Declares reserved keys, silently strips them instead of refusing.
    strips_reserved_keys_silently: reserving(), reserving(), DropsReservedKeys =>
        reserved_keys_are_refused_others_kept;
    // Declares nothing, silently strips `cookie`, `$ts` and `_…`.
    strips_undeclared_keys: Capabilities::full(), reserving(), DropsReservedKeys =>
        reserved_keys_are_refused_others_kept;
    // Declares JavaScript's numbers, keeps them exactly (-0.0 stays -0.0).
    claims_javascript_numbers_but_keeps_them_exact: javascript_numbers(), Capabilities::full(), None =>
        floats_round_trip_bit_for_bit;
    // Declares JavaScript's numbers, and loses bits a JavaScript server keeps.
    javascript_numbers_with_naive_float_parsing: javascript_numbers(), javascript_numbers(), NaiveFloatParsing =>
        floats_round_trip_bit_for_bit;
    // Declares exact numbers, keeps JavaScript's.
    claims_exact_numbers_but_keeps_javascript_ones: Capabilities::full(), javascript_numbers(), None =>
        floats_round_trip_bit_for_bit, round_trips_exact_integers;
    // Declares 36-byte ids, takes longer ones.
    claims_short_ids_but_takes_long_ones: short_ids(), Capabilities::full(), None =>
        longest_id_round_trips;
    // Declares 36-byte ids, truncates longer ones instead of refusing them.
    truncates_ids_past_the_declared_limit: short_ids(), short_ids(), TruncatesIdsToLimit =>
        longest_id_round_trips;
    // Declares full-length ids, keeps 36 bytes.
    claims_long_ids_but_keeps_short_ones: Capabilities::full(), short_ids(), None =>
        longest_id_round_trips;
    // A page size of its own, miscounted at its edges: only the declaration finds it.
    miscounts_at_its_declared_page_size: odd_pages(), Capabilities::full(), LengthWrongAtFullPage =>
        length_and_all_exact_at_page_edges;
    // Checks split from a bundle now run on stores declaring capabilities:
    // before, each was skipped on such a store as failing by design.
    nested_data_on_a_store_reserving_keys: reserving(), reserving(), DropsArrays =>
        round_trips_nested;
    debug_output_on_a_store_without_tombstones: without_tombstones(), without_tombstones(), DebugLeaksData =>
        debug_output_hides_secrets;
    error_messages_on_a_store_without_tombstones: without_tombstones(), without_tombstones(), ErrorsLeakData =>
        errors_hide_secrets;
    namespaces_on_a_store_without_tombstones: without_tombstones(), without_tombstones(), IgnoresNamespace =>
        namespaces_are_isolated, tombstones_are_per_namespace;
    clear_on_a_store_without_tombstones: without_tombstones(), without_tombstones(), ClearIgnoresNamespace =>
        clear_leaves_other_namespaces;
    races_on_a_store_without_tombstones: without_tombstones(), without_tombstones(), TornWrites =>
        concurrent_writes_never_tear;
    exact_integers_on_a_store_with_short_ids: short_ids(), short_ids(), LossyNumbers =>
        round_trips_exact_integers;
    // Declares last writer wins, compares versions: every update check
    // that expects the stale write to land catches it.
    claims_last_writer_wins_but_compares: last_writer_wins(), Capabilities::full(), None =>
        a_stale_conditional_write_is_refused, concurrent_updates_keep_every_key;
    // Declares versions, keeps none.
    claims_versions_but_keeps_none: Capabilities::full(), last_writer_wins(), None =>
        a_stale_conditional_write_is_refused, concurrent_updates_keep_every_key;
    // Without tombstones a write over a deleted id must be a conflict.
    whole_record_writes_on_a_store_without_tombstones: without_tombstones(), without_tombstones(),
        WholeRecordLastWriterWins => a_conditional_write_after_destroy_stores_nothing;
}

/// Every check is aimed at by at least one defect above, except the one
/// whose subject is `SessionId` validation: a store never sees an invalid id.
#[test]
fn every_check_has_a_defect_aimed_at_it() {
    let missing: Vec<_> = session_conformance::CHECKS
        .iter()
        .map(|check| check.name)
        .filter(|name| *name != "invalid_ids_are_refused_and_change_nothing")
        .filter(|name| !AIMED.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "checks with no broken store aimed at them: {missing:?}"
    );
}

/// The number of checks the docs promise is the number there are.
#[test]
fn the_documented_number_of_checks_is_right() {
    let checks = session_conformance::CHECKS.len();
    assert!(
        include_str!("../src/lib.rs").contains(&format!("in {checks} checks")),
        "the crate docs give another number of checks than {checks}"
    );
    assert!(
        include_str!("../../../README.md").contains(&format!("into {checks} named")),
        "the README gives another number of checks than {checks}"
    );
}
