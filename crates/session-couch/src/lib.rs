//! A session store on CouchDB (and servers that speak its API, like PouchDB
//! Server): [`CouchStore`], on [`couch_rs`], with an optional in-process
//! cache kept in sync across processes through the `_changes` feed.
//!
//! It follows every rule of [`session_core::Store`] and passes the
//! `session-conformance` suite with and without the cache. See
//! [`CouchStore`] for how it works and [`CouchStoreBuilder`] for every option.
//!
//! With [`Layout::PouchDbStore`] it reads and writes the documents of the
//! npm package session-pouchdb-store 0.4.1 instead, so a Rust service and an
//! Express app share live sessions, logouts included; [`Layout`] says how,
//! and which rules of the contract that layout cannot keep.
//!
//! ```no_run
//! use session_core::{Session, SessionId, Store};
//! use session_couch::CouchStore;
//!
//! # async fn run() -> Result<(), session_core::Error> {
//! let store = CouchStore::builder().url("http://127.0.0.1:5984").cache(true).build().await?;
//! store.set(&SessionId::generate(), &Session::new()).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod address;
mod all_docs;
mod builder;
mod bulk;
mod cache;
mod compact;
mod doc_path;
mod documents;
mod errors;
mod feed;
mod http;
mod layout;
mod live;
mod marks;
mod native;
mod pouch;
mod retry;
mod revision;
mod store;
mod token;

pub use builder::CouchStoreBuilder;
pub use layout::{Layout, node_shareable_id};
pub use store::CouchStore;
