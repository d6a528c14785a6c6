//! The suite proves itself: a simple reference store passes every check,
//! and each deliberately broken variant of it fails the check aimed at its
//! defect.

mod reference;

use reference::{Bug, RefStore};
use session_conformance::Settings;

fn factory(bug: Bug) -> impl session_conformance::Factory {
    move |settings: Settings| async move { RefStore::new(settings, bug) }
}

/// The correct reference store passes the whole suite (through the macro, as
/// a user would run it).
mod reference_passes {
    use super::*;
    session_conformance::suite!(factory(Bug::None));
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
                let outcome = session_conformance::run(stringify!($check), factory(Bug::$bug)).await;
                assert!(
                    outcome.is_err(),
                    "check `{}` did not catch a store with defect {:?}",
                    stringify!($check),
                    Bug::$bug
                );
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
    IgnoresNamespace => namespaces_are_isolated;
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
