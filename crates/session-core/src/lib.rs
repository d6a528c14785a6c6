//! The contract of a session store: the [`Store`] trait, the [`Session`] and
//! [`SessionId`] types, expiry rules ([`Lifetimes`]), one [`Error`] type and
//! pluggable [`Codec`]s.
//!
//! Depend on this crate plus one backend (`session-memory`, `session-redis`,
//! `session-sql`, `session-couch`). Every backend passes the published
//! `session-conformance` suite, which checks each rule written on [`Store`].
//! [`migrate`] moves live sessions from one store to another with no one
//! logged out.
//!
//! ```
//! use session_core::{Session, SessionId, Store};
//! use time::{Duration, OffsetDateTime};
//!
//! async fn visit(store: &dyn Store, id: &SessionId) -> Result<u64, session_core::Error> {
//!     let mut session = store.get(id).await?.unwrap_or_default();
//!     let visits = session.get::<u64>("visits")?.unwrap_or(0) + 1;
//!     session.insert("visits", visits)?;
//!     session.set_expires_at(Some(OffsetDateTime::now_utc() + Duration::days(1)));
//!     store.set(id, &session).await?;
//!     Ok(visits)
//! }
//! ```
#![forbid(unsafe_code)]

pub mod backend;
mod changes;
pub mod clock;
mod codec;
mod error;
mod expiry;
mod id;
pub mod migrate;
mod purge;
mod session;
mod store;
mod update;
mod version;

pub use changes::Changes;
pub use clock::Clock;
pub use codec::{Codec, JsonCodec};
pub use error::{BoxError, Error, Result};
pub use expiry::Lifetimes;
pub use id::{InvalidId, Redacted, SessionId};
pub use purge::PurgeExpired;
pub use session::{Session, SessionData};
pub use store::{SessionStream, Store};
pub use version::{Version, Versioned};
