//! For backend authors: what every store in this project is built from.
//!
//! Apps never need this module; a store author uses it to get the
//! contract's decisions and the shared machinery right once:
//!
//! * [`decide`] and its types: the write rules as one table (what `set`,
//!   `create` and `touch` do to what they find, and what they answer);
//! * [`check_storable`], [`encode`], [`encode_into`]: what data a store
//!   accepts, and encoding it;
//! * [`paged`]: the loop behind `all_stream`;
//! * [`unix_millis`], [`from_unix_millis`], [`truncate_to_millis`]: the
//!   millisecond clock every stored form uses;
//! * [`SessionParts`]: a session's shared data and express-session's
//!   `cookie` object, which only stores work with;
//! * [`express`]: express-session's JSON, for the layouts Node shares;
//! * [`Lease`]: when a cache may answer, given when its source of
//!   invalidations last proved alive;
//! * [`BuilderOptions`] and [`builder_options!`](crate::builder_options):
//!   the options every builder shares, with one meaning each;
//! * with the `tokio` feature, [`within`] (a call's deadline),
//!   [`spawn_purge`] and [`BackgroundTask`] (work that ends with its store).
//! * with the `tower-sessions` feature, [`tower_sessions`]: the records
//!   tower-sessions' own stores write, for backends that read them.

pub mod express;
mod lease;
mod millis;
mod options;
mod paging;
mod parts;
mod rules;
mod storable;
#[cfg(feature = "tokio")]
mod tasks;
#[cfg(feature = "tower-sessions")]
pub mod tower_sessions;

pub use lease::Lease;
pub use millis::{from_unix_millis, truncate_to_millis, unix_millis};
pub use options::BuilderOptions;
pub use paging::{Page, paged};
pub use parts::SessionParts;
pub use rules::{Decision, Effect, Occupant, Refusal, Write, decide};
pub use storable::{MAX_DEPTH, check_storable, encode, encode_into};
#[cfg(feature = "tokio")]
pub use tasks::{BackgroundTask, jittered, spawn_purge, within};
