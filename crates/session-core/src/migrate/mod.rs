//! Moving live sessions from one store to another with no one logged out.
//!
//! * [`Migration`] copies every live session of a [`Source`] (any
//!   [`Store`](crate::Store), or a reader of another program's records) into
//!   a target store: streaming, with bounded concurrency, keeping ids, data
//!   and expiries, never overwriting what the target already has, and safe
//!   to rerun after an interruption (optionally with a [`Checkpoint`]).
//! * [`DualWrite`] is the store an app runs on while the copy runs: it
//!   writes to both stores, so nothing written during the move is lost, and
//!   destroys in both, so a logout during the move sticks.
//!
//! The `session-migrate` command-line tool runs a [`Migration`] between
//! store URLs, with a progress bar.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! use session_core::{Store, migrate::{DualWrite, Migration}};
//! # let (old, new) = (session_memory::MemoryStore::new(), session_memory::MemoryStore::new());
//!
//! // 1. Every app instance runs on both stores.
//! let app_store = DualWrite::new(old.clone(), new.clone());
//! // 2. The copy fills the new store with what only the old one has.
//! let report = Migration::new(&old, &new).run().await;
//! assert!(report.is_complete(), "{report}");
//! // 3. The app moves to the new store alone.
//! # let _ = app_store;
//! # Ok(()) }
//! ```

mod checkpoint;
mod copy;
mod dual;
mod report;
mod source;

pub use checkpoint::{Checkpoint, MemoryCheckpoint};
pub use copy::Migration;
pub use dual::{DualWrite, Reads};
pub use report::{Counts, Failure, Progress, Report, Stopped};
pub use source::Source;
