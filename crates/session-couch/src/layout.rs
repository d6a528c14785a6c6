//! How sessions are laid out in the database: this crate's own documents,
//! or session-pouchdb-store's, so a Rust service and an Express app share
//! the same sessions.

/// The stored layout (set with
/// [`CouchStoreBuilder::layout`](crate::CouchStoreBuilder::layout)).
///
/// | | `Native` (default) | `PouchDbStore` |
/// |---|---|---|
/// | `_id` | `s:` + the id | the id itself (escaped only where CouchDB or URLs would misread it: a leading `_` as `%5F`, a leading `%` as `%25`, the ids `.` and `..` as `%2E` and `%2E%2E`) |
/// | body | `data` (the codec's output, as a string), `expires_at`, `destroyed` | express-session's JSON ([`session_core::backend::express`]): the `cookie` object exactly as Node wrote it (unknown keys included; one is always written) and the data's keys at the top level, plus `"$ts"` (unix ms of the write or touch, on the store's clock); no `"$dirty"`, so a Node process merging it keeps its own uncommitted change |
/// | expiry | `expires_at`, judged by the store's clock | `cookie.expires` (or, when it is `null`, `$ts` + `default_ttl`), judged by the store's clock on every read; the database has none, and Node never deletes: the purge does |
/// | logout | a tombstone document for the grace window | the document rewritten with every data key `null`, `cookie.expires` in the past and `$ts` 0, then deleted, the deleted revision carrying that body plus `"$destroyed"` (unix ms of the grace window's end): a deleted document that is the tombstone |
/// | cache | optional ([`cache`](crate::CouchStoreBuilder::cache)) | none: `build` refuses `cache(true)` with [`Error::InvalidInput`](session_core::Error::InvalidInput) |
///
/// ```no_run
/// use session_couch::{CouchStore, Layout};
///
/// # async fn run() -> Result<(), session_core::Error> {
/// // app.use(session({ store: new SessionStore("http://127.0.0.1:5984/sessions"), ... }))
/// let shared = CouchStore::builder()
///     .url("http://127.0.0.1:5984")
///     .database("sessions")
///     .layout(Layout::PouchDbStore)
///     .build()
///     .await?;
/// # let _ = shared; Ok(()) }
/// ```
///
/// # Sharing sessions with session-pouchdb-store 0.4.1
///
/// Reading strips CouchDB's keys (`_id`, `_rev`, `_deleted`, any other
/// starting with `_`) and the stores' (`$ts`, `$dirty`, `$commit`,
/// `$destroyed`), so they never surface as data. Writes carry the revision
/// they read (CouchDB refuses a stale one with 409, and the store then reads
/// again and decides again, as the native layout does); `touch` does what
/// Node's touch does: `cookie.expires` becomes the new expiry and `$ts` the
/// time of the touch. A cookie Node wrote with `"expires": null` (a browser
/// session) is judged by `$ts` plus `default_ttl`; `touch(id, None)` keeps
/// its `null`, and so does `set` of a session given no expiry of its own.
/// A session read from one comes back with that expiry, so writing it back
/// unchanged gives its cookie a date.
///
/// Node's store keeps every session it reads or writes in its process and
/// follows the database's `_changes` feed, merging each changed document
/// into the copy it holds, key by key; a deletion only adds `_deleted` to
/// that copy, which is never dropped for it. A plain delete would leave such
/// a process serving the logged-out user, so `destroy` is two
/// revision-checked writes. First the document with every data key `null`,
/// `cookie.expires` in the past and `$ts` 0: the merge takes the `null`s
/// (that process's user is logged out), and its scavenger drops a copy whose
/// `$ts` is that old within a second, after which Node finds the id deleted
/// and starts a fresh session. Then the deletion, whose revision carries the
/// same body (a feed read late shows only this revision) and `$destroyed`.
/// Both writes carry `$destroyed`: while it is ahead, `set`, `create` and
/// `touch` of the id are refused with `Destroyed`. Node keeps that
/// tombstone too: a process that had merged the deletion writes deleted
/// revisions from then on, and one that had not cached the session gets a
/// 404. With a zero `tombstone_grace` the same two writes happen without
/// `$destroyed`. `clear` deletes every session with that revoked body and
/// lifts every tombstone, walking the whole `_changes` feed (deleted
/// documents appear nowhere else).
///
/// # The contract's rules this layout cannot keep
///
/// * **Rule 8, data comes back exactly.** The data's keys are the
///   document's own, so `cookie` (express-session's), keys starting with
///   `_` (CouchDB's) and `$ts`, `$dirty`, `$commit`, `$destroyed` (the
///   stores') cannot be data: `set` and `create` refuse them with
///   [`Error::Encode`](session_core::Error::Encode), storing nothing. And the
///   data is plain JSON in the document: on a server written in JavaScript
///   (PouchDB Server) every number is a double, so integers past 2^53 come
///   back rounded and `-0.0` as `0`. (Node reads doubles anyway; the native
///   layout stores the data as a string to escape this.)
/// * **Rule 4, a destroy racing a write.** A write that finds no document at
///   all puts one without a revision, and CouchDB lets such a put land on a
///   deleted document. If a `destroy` of the never-stored id lands between
///   the write's read and its put, the put comes back with a later
///   revision than a first one; the write then reads the revision it
///   covered and, if that was a tombstone in force, ends the session again
///   and answers `Destroyed`. The session never outlives the race, but for
///   those few round trips a reader can see it.
/// * **Expiry is this store's.** Node never compares `cookie.expires` with
///   the time; this store does, with its clock, so it ends a session when
///   its cookie expires even where Node would go on serving it.
///
/// What Node's store does not do, this layout cannot do for it:
/// * a session Node created within its commit interval (a second) is not in
///   the database yet: a `destroy` here does not find it, and Node's commit,
///   a put without revision, lands on the tombstone and revives it;
/// * a Node request in flight during the logout saves its copy back into
///   that process's memory, which then serves it there (its writes stay
///   deleted revisions: no other process sees them);
/// * Node's commit does not catch a failed put: one that meets a revision
///   written since its process read the document (409) stops that
///   process's commits;
/// * one express-session id in 64 starts with `_`, an id CouchDB refuses:
///   Node cannot store those sessions at all. This layout stores them
///   escaped, so they work here but are never shared.
///
/// Every other rule holds: the conformance suite runs against this layout,
/// declaring the document's own keys and JavaScript's numbers as its
/// capabilities, and checks exactly that behaviour. The purge keeps a
/// Mango index in the design document `_design/session-cookie-expiry`,
/// which Node's `all` and `length` count as they count every document (and
/// its `clear` deletes; the next purge creates it again). The data are
/// express-session's JSON, so the [`codec`](crate::CouchStoreBuilder::codec)
/// is not used.
///
/// # Documents this layout cannot read
///
/// The database is session-pouchdb-store's, which holds only sessions (Node
/// counts every document as one, and its `clear` deletes them all), so here
/// every document is a session but CouchDB's own (ids starting with `_`:
/// design documents), which every call leaves alone. A session this layout
/// cannot read (no `cookie` object, data no Rust string holds, a
/// `cookie.expires` that is no date, an id no session id maps to) is live
/// until its expiry, or for good when that cannot be read either, as the
/// contract's rule 6 says: `length` counts it, `get` and `all_stream`
/// answer [`Error::Decode`](session_core::Error::Decode) for it, `all`
/// skips it. The writes take it as live too, so that none replaces a
/// session the reads count: `create` answers `AlreadyExists`, `touch`
/// `Decode`, `set` replaces it and `destroy` ends it (the revoked body nulls
/// every data key it can read). `clear` removes it with the rest, under an
/// id no Rust string holds too; the purge, which finds sessions by their
/// `cookie.expires`, deletes it only once that date, read, is past.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's own documents (see [`CouchStore`](crate::CouchStore)).
    #[default]
    Native,
    /// session-pouchdb-store 0.4.1's documents: `_id` the session id,
    /// express-session's JSON with `$ts`, no expiry in the
    /// database.
    PouchDbStore,
}

/// A new session id that session-pouchdb-store can hold, for the
/// middleware's `generate_id` (express-session's `genid` on the Node side):
/// [`SessionId::generate`](session_core::SessionId::generate)'s 32
/// characters, never starting with `_`.
///
/// One express-session id in 64 starts with `_`, which CouchDB reserves:
/// session-pouchdb-store cannot store such a session (its commit fails, and
/// the process ends on the unhandled rejection), and this layout stores it
/// under an escaped `_id` that Node never finds. Ids made here (and on the
/// Node side by a `genid` with the same rule) are shared. They keep
/// 191.97 of the 192 random bits.
///
/// ```
/// let id = session_couch::node_shareable_id();
/// assert_eq!(id.as_str().len(), 32);
/// assert!(!id.as_str().starts_with('_'));
/// ```
pub fn node_shareable_id() -> session_core::SessionId {
    loop {
        let id = session_core::SessionId::generate();
        if !id.as_str().starts_with('_') {
            return id;
        }
    }
}

#[cfg(test)]
mod shareable_id_tests {
    #[test]
    fn no_id_starts_with_an_underscore() {
        // Unfiltered, some 156 of 10 000 would.
        assert!((0..10_000).all(|_| !super::node_shareable_id().as_str().starts_with('_')));
    }
}
