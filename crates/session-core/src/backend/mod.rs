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
//! * [`Lease`]: when a cache may answer, given when its source of
//!   invalidations last proved alive;
//! * [`BuilderOptions`] and [`builder_options!`](crate::builder_options):
//!   the options every builder shares, with one meaning each;
//! * with the `tokio` feature, [`within`] (a call's deadline),
//!   [`spawn_purge`] and [`BackgroundTask`] (work that ends with its store).

mod lease;
mod options;
mod paging;
mod rules;
mod storable;
#[cfg(feature = "tokio")]
mod tasks;

pub use lease::Lease;
pub use options::BuilderOptions;
pub use paging::{Page, paged};
pub use rules::{Decision, Effect, Occupant, Refusal, Write, decide};
pub use storable::{MAX_DEPTH, check_storable, encode, encode_into};
#[cfg(feature = "tokio")]
pub use tasks::{BackgroundTask, jittered, spawn_purge, within};
