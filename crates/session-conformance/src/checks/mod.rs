//! Every check, one file per rule. The list below is the single source of
//! truth: the table behind [`crate::run_all`] and the tests the
//! [`suite!`](crate::suite) macro emits are both generated from it.

pub(crate) mod basics;
pub(crate) mod bulk;
pub(crate) mod capacity;
pub(crate) mod create;
pub(crate) mod depth;
pub(crate) mod destroy;
pub(crate) mod expiry;
pub(crate) mod floats;
pub(crate) mod freshness;
pub(crate) mod ids;
pub(crate) mod lost_updates;
pub(crate) mod pages;
pub(crate) mod races;
pub(crate) mod reserved;
pub(crate) mod roundtrip;
pub(crate) mod scale;
pub(crate) mod touch;
pub(crate) mod updates;

/// Calls `$callback!` with the name of every check, each as `module::name`.
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_check {
    ($callback:ident! $args:tt) => {
        $crate::$callback! { $args
            basics::get_missing_is_none,
            basics::set_then_get_round_trips,
            basics::set_replaces_existing,
            basics::sessions_are_independent,
            basics::debug_output_hides_secrets,
            basics::errors_hide_secrets,
            roundtrip::round_trips_unicode,
            roundtrip::round_trips_escapes_and_nul,
            roundtrip::round_trips_nested,
            roundtrip::round_trips_empty_data,
            roundtrip::round_trips_one_mebibyte,
            roundtrip::round_trips_exact_integers,
            roundtrip::round_trips_many_keys,
            roundtrip::round_trips_long_strings_and_keys,
            reserved::reserved_keys_are_refused_others_kept,
            depth::deepest_nesting_round_trips,
            depth::too_deep_set_is_refused,
            depth::too_deep_create_is_refused,
            floats::floats_round_trip_bit_for_bit,
            roundtrip::keeps_expiry_to_the_millisecond,
            expiry::expires_within_seconds,
            expiry::default_ttl_applies_without_expiry,
            expiry::default_ttl_expires_session,
            expiry::set_already_expired_is_not_kept,
            expiry::set_already_expired_removes_live_session,
            touch::touch_extends_past_old_expiry,
            touch::touch_can_shorten_expiry,
            touch::touch_keeps_data,
            touch::touch_without_expiry_uses_default_ttl,
            touch::touch_to_past_ends_session,
            touch::touch_missing_creates_nothing,
            touch::touch_never_revives_expired,
            touch::touch_destroyed_is_refused,
            destroy::destroy_removes_session,
            destroy::destroy_is_idempotent,
            destroy::destroy_leaves_other_sessions,
            destroy::set_after_destroy_is_refused,
            destroy::create_after_destroy_is_refused,
            destroy::destroy_of_unknown_id_still_guards_it,
            destroy::tombstone_lapses_after_grace,
            destroy::zero_grace_disables_tombstones,
            capacity::tombstones_survive_capacity_pressure,
            create::create_inserts_when_absent,
            create::create_refuses_live_session,
            create::create_replaces_expired_session,
            create::create_already_expired_stores_nothing,
            races::destroy_set_race_never_resurrects,
            races::destroy_touch_race_never_resurrects,
            races::destroy_create_race_never_resurrects,
            races::concurrent_creates_have_one_winner,
            races::concurrent_sets_of_distinct_ids_all_land,
            races::concurrent_writes_never_tear,
            races::touch_expiry_race_is_consistent,
            lost_updates::touch_set_race_keeps_set_data,
            updates::a_stale_conditional_write_is_refused,
            updates::a_current_conditional_write_lands_and_moves_the_version,
            updates::a_conditional_write_after_destroy_stores_nothing,
            updates::concurrent_updates_keep_every_key,
            updates::a_removal_racing_a_write_of_another_key_sticks,
            updates::updates_of_one_key_leave_one_whole_value,
            freshness::reads_see_the_latest_write,
            ids::invalid_ids_are_refused_and_change_nothing,
            ids::longest_id_round_trips,
            ids::special_character_ids_are_distinct,
            ids::ids_differing_in_case_are_distinct,
            ids::ids_differing_in_trailing_characters_are_distinct,
            bulk::length_counts_live_sessions,
            bulk::length_excludes_expired,
            bulk::all_pairs_ids_with_their_data,
            bulk::all_excludes_expired_and_destroyed,
            bulk::all_stream_yields_each_session_once,
            bulk::clear_removes_sessions_and_tombstones,
            bulk::clear_leaves_other_namespaces,
            bulk::namespaces_are_isolated,
            bulk::tombstones_are_per_namespace,
            scale::length_and_all_exact_at_scale,
            pages::length_and_all_exact_at_page_edges,
        }
    };
}

/// Builds the table of checks from the list above.
#[doc(hidden)]
#[macro_export]
macro_rules! __check_table {
    (() $($module:ident :: $name:ident),* $(,)?) => {
        /// Every check of the suite, in a stable order.
        pub const CHECKS: &[Check] = &[$(
            Check {
                name: stringify!($name),
                group: stringify!($module),
                run: |ctx| Box::pin(checks::$module::$name(ctx)),
            }
        ),*];
    };
}
