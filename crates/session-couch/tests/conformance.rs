//! The whole conformance suite on a CouchDB-compatible server, with and
//! without the synced cache. Each check's database is deleted after it.

mod common;

use session_conformance::{Capabilities, Settings};

mod uncached {
    session_conformance::suite!(
        |settings: super::Settings| super::common::store_for(settings, false),
        teardown: super::common::delete_database,
    );
}

mod cached {
    session_conformance::suite!(
        |settings: super::Settings| super::common::store_for(settings, true),
        teardown: super::common::delete_database,
    );
}

/// session-pouchdb-store's layout, shared with Express apps: tombstones
/// hold (a deleted document carries them). The document's own keys
/// (CouchDB's `_…`, the store's `$ts`, `$dirty`, `$commit`, `$destroyed`,
/// express-session's `cookie`) cannot be data, and the data is plain JSON
/// in the document, so a JavaScript server (PouchDB Server, here) keeps
/// every number as a double.
fn pouch_db_store() -> Capabilities {
    Capabilities::full()
        .reserving_keys(["cookie", "$ts", "$dirty", "$commit", "$destroyed"])
        .reserving_prefix("_")
        .javascript_numbers()
}

mod pouch_db_store {
    session_conformance::suite!(
        |settings: super::Settings| super::common::layout_store_for(settings, session_couch::Layout::PouchDbStore),
        capabilities: super::pouch_db_store(),
        teardown: super::common::delete_database,
    );
}
