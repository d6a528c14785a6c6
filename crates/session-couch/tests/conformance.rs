//! The whole conformance suite on a CouchDB-compatible server, with and
//! without the synced cache.

mod common;

use session_conformance::Settings;

mod uncached {
    session_conformance::suite!(|settings: super::Settings| super::common::store_for(settings, false));
}

mod cached {
    session_conformance::suite!(|settings: super::Settings| super::common::store_for(settings, true));
}
