//! Moving live sessions between stores with no one logged out: the
//! `session-migrate` command-line tool, and what it is built from.
//!
//! The copy itself is [`session_core::migrate::Migration`]; the store an
//! app runs on while it runs is [`session_core::migrate::DualWrite`]. This
//! crate adds what a command line needs around them:
//!
//! * [`Endpoint`] and [`open_source`] / [`open_target`]: a store from a URL
//!   (every scheme of `RedisStore`, `SqlStore` and `CouchStore`) plus a
//!   prefix, table, schema or database;
//! * the tower-sessions layout ([`Layout::TowerSessions`]): the records
//!   tower-sessions' own Redis and SQL stores write, read by the backends
//!   themselves (`session_redis::TowerSessionsSource`,
//!   `session_sql::TowerSessionsSource`), so an app moving from them to
//!   `session-tower` keeps its sessions;
//! * [`FileCheckpoint`]: a checkpoint on disk, so a killed run resumes
//!   without asking the target about what it already settled;
//! * [`redact`]: URLs without their passwords, for every message.
//!
//! ```no_run
//! use session_core::migrate::Migration;
//! use session_migrate::{Endpoint, OpenOptions, open_source, open_target};
//!
//! # async fn run() -> Result<(), session_core::Error> {
//! let options = OpenOptions::default();
//! let source = open_source(&Endpoint::new("redis://127.0.0.1:6379").prefix("sess"), &options).await?;
//! let target = open_target(&Endpoint::new("postgres://app@db/app"), &options).await?;
//! let report = Migration::new(&*source, &*target).run().await;
//! println!("{report}");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod checkpoint;
mod endpoint;
mod open;
mod redact;

pub use checkpoint::FileCheckpoint;
pub use endpoint::{Backend, Endpoint, Layout};
pub use open::{OpenOptions, open_source, open_target};
pub use redact::redact;
