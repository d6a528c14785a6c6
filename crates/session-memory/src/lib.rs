//! The embedded default session store: [`MemoryStore`], on [`moka`].
//!
//! Use it for a single process, for tests, and as the default before a shared
//! backend (Redis, SQL, CouchDB) is needed. It follows every rule of
//! [`session_core::Store`] and passes the `session-conformance` suite.
//!
//! ```
//! use std::time::Duration;
//! use session_core::{Session, SessionId, Store};
//! use session_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let store = MemoryStore::builder().max_capacity(1_000_000).build()?;
//! let id = SessionId::generate();
//! store.set(&id, &Session::new()).await?;
//! assert!(store.get(&id).await?.is_some());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod builder;
mod slot;
mod store;

pub use builder::MemoryStoreBuilder;
pub use store::MemoryStore;
