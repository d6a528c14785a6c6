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
            no_tombstones: NO_TOMBSTONES,
            fails_by_design: {
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
