//! A session store on Redis and Redis Cluster: [`RedisStore`], on [`fred`].
//!
//! It follows every rule of [`session_core::Store`] and passes the
//! `session-conformance` suite against standalone Redis and a 3-primary
//! cluster. See [`RedisStore`] for how it works and [`RedisStoreBuilder`] for
//! every option and its default. With the `tower-sessions` feature,
//! `TowerSessionsSource` reads the records tower-sessions-redis-store
//! wrote, so a migration moves them into any store.
//!
//! ```no_run
//! use session_core::{Session, SessionId, Store};
//! use session_redis::RedisStore;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), session_core::Error> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?; // keys `sess <id>`
//! let cluster = RedisStore::connect("redis-cluster://127.0.0.1:7101?node=127.0.0.1:7102").await?;
//! store.set(&SessionId::generate(), &Session::new()).await?;
//! # let _ = cluster;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod builder;
mod bulk;
mod call;
mod connection;
mod durability;
mod error;
mod keys;
mod layout;
mod near_cache;
mod record;
mod scan;
mod scripts;
mod slot;
mod store;
mod topology;
#[cfg(feature = "tower-sessions")]
mod tower_sessions;

pub use builder::RedisStoreBuilder;
pub use durability::Durability;
pub use layout::Layout;
pub use near_cache::NearCacheOptions;
pub use store::RedisStore;
#[cfg(feature = "tower-sessions")]
pub use tower_sessions::TowerSessionsSource;
