//! The whole conformance suite against standalone Redis and a 3-primary
//! Redis Cluster.

mod common;

mod standalone {
    session_conformance::suite!(|settings: session_conformance::Settings| {
        super::common::store_for(super::common::standalone_url(), settings)
    });
}

mod cluster {
    session_conformance::suite!(|settings: session_conformance::Settings| {
        super::common::store_for(super::common::cluster_url(), settings)
    });
}

/// The suite again with the near cache on: it must not change any answer.
mod standalone_near_cache {
    session_conformance::suite!(|settings: session_conformance::Settings| {
        super::common::near_cached_store_for(super::common::standalone_url(), settings)
    });
}

mod cluster_near_cache {
    session_conformance::suite!(|settings: session_conformance::Settings| {
        super::common::near_cached_store_for(super::common::cluster_url(), settings)
    });
}

/// connect-redis' layout, shared with Express apps: no tombstones, so every
/// check that needs one fails by design, each saying why.
macro_rules! connect_redis_suite {
    ($url:path) => {
        /// Why most of its by-design failures happen.
        const NO_TOMBSTONES: &str = "connect-redis deletes on destroy and keeps no tombstone, so a late \
            write after a logout lands (Node's connect-redis does the same)";

        session_conformance::suite!(
            |settings: session_conformance::Settings| {
                super::common::node_layout_store_for(session_redis::Layout::ConnectRedis, $url(), settings)
            },
            fails_by_design: {
                set_after_destroy_is_refused: NO_TOMBSTONES,
                create_after_destroy_is_refused: NO_TOMBSTONES,
                touch_destroyed_is_refused: "without a tombstone a destroyed id is simply absent: NotFound",
                destroy_of_unknown_id_still_guards_it: NO_TOMBSTONES,
                destroy_touch_race_never_resurrects: "touch after a destroy answers NotFound, not Destroyed \
                    (nothing is revived either way)",
                destroy_set_race_never_resurrects: NO_TOMBSTONES,
                destroy_create_race_never_resurrects: NO_TOMBSTONES,
                tombstone_lapses_after_grace: NO_TOMBSTONES,
                tombstones_survive_capacity_pressure: NO_TOMBSTONES,
                namespaces_are_isolated: "its create-after-destroy step needs a tombstone",
                debug_output_hides_secrets: "its refusal steps need a tombstone (the output check itself passes)",
                round_trips_nested: "its data holds a key `cookie`, which express-session keeps for its own",
            }
        );
    };
}

mod connect_redis {
    connect_redis_suite!(super::common::standalone_url);
}

mod connect_redis_cluster {
    connect_redis_suite!(super::common::cluster_url);
}

/// connect-redis-session's layout keeps every rule: its `TOMBSTONE` is a
/// tombstone. Only data holding its own keys cannot be stored.
macro_rules! connect_redis_session_suite {
    ($url:path) => {
        session_conformance::suite!(
            |settings: session_conformance::Settings| {
                super::common::node_layout_store_for(
                    session_redis::Layout::ConnectRedisSession,
                    $url(),
                    settings,
                )
            },
            fails_by_design: {
                round_trips_nested: "its data holds a key `cookie`, which express-session keeps for its own",
            }
        );
    };
}

mod connect_redis_session {
    connect_redis_session_suite!(super::common::standalone_url);
}

mod connect_redis_session_cluster {
    connect_redis_session_suite!(super::common::cluster_url);
}
