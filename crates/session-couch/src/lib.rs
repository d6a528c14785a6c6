//! A session store on CouchDB (and servers that speak its API, like PouchDB
//! Server): [`CouchStore`], on [`couch_rs`], with an optional in-process
//! cache kept in sync across processes through the `_changes` feed.
//!
//! It follows every rule of [`session_core::Store`] and passes the
//! `session-conformance` suite with and without the cache. See
//! [`CouchStore`] for how it works and [`CouchStoreBuilder`] for every option.
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
mod builder;
mod cache;
mod compact;
mod doc;
mod errors;
mod feed;
mod http;
mod marks;
mod purge;
mod read;
mod store;
mod write;

pub use builder::CouchStoreBuilder;
pub use store::CouchStore;
