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
