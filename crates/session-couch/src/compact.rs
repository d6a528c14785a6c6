//! Reclaiming the space of old revisions: compaction.
//!
//! CouchDB keeps every document it ever held. Each write leaves the previous
//! revision's body behind until the database is compacted, and a deleted
//! session (purged, or cleared) stays as a deleted revision on top of its
//! last body. Compaction drops every body that is no longer a leaf, so what
//! remains of a deleted session is a stub: its id and revision history,
//! some 100 bytes. Dropping the stubs too takes CouchDB's `_purge` (2.3 and
//! later), which servers like PouchDB Server do not offer.

use serde_json::json;
use session_core::Error;

use crate::http::Couch;

/// Asks the server to compact the database. CouchDB compacts in the
/// background after answering; PouchDB Server answers when it is done.
pub(crate) async fn compact(couch: &Couch) -> Result<(), Error> {
    couch.post("_compact", &json!({})).await.map(drop)
}
