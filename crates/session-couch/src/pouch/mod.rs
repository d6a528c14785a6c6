//! The [`Layout::PouchDbStore`](crate::Layout::PouchDbStore) layout:
//! session-pouchdb-store's documents, read and written so a Node process
//! using that store shares every session with this one.
//!
//! * [`doc`]: the document (its id, its body both ways, the revoked body);
//! * [`leaf`]: what a write finds under an id, deleted revisions included;
//! * [`read`]: `get`, `all_stream` and `length`;
//! * [`write`]: `set`, `create` and `touch`, decided by the rule table;
//! * [`destroy`]: the two-step logout and its tombstone;
//! * [`purge`]: deleting expired sessions (Node never does);
//! * [`clear`]: every session deleted, every tombstone lifted.

pub(crate) mod clear;
pub(crate) mod destroy;
pub(crate) mod doc;
pub(crate) mod leaf;
pub(crate) mod purge;
pub(crate) mod read;
pub(crate) mod write;
