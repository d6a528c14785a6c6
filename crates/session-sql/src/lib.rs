//! A session store on PostgreSQL, MySQL/MariaDB and SQLite: [`SqlStore`], on
//! [`sqlx`].
//!
//! Enable the databases you use as cargo features: `postgres`, `mysql`
//! (MySQL and MariaDB), `sqlite`. The store follows every rule of
//! [`session_core::Store`] and passes the `session-conformance` suite on
//! each. See [`SqlStore`] for how it works and [`SqlStoreBuilder`] for every
//! option and its default. With the `tower-sessions` feature,
//! `TowerSessionsSource` reads the table tower-sessions-sqlx-store wrote,
//! so a migration moves its sessions into any store.
//!
//! ```no_run
//! use session_core::{Session, SessionId, Store};
//! use session_sql::SqlStore;
//!
//! # async fn run() -> Result<(), session_core::Error> {
//! let postgres = SqlStore::connect("postgres://127.0.0.1/app").await?;
//! let mariadb = SqlStore::connect("mysql://root@127.0.0.1/app").await?;
//! let sqlite = SqlStore::connect("sqlite:sessions.db").await?;
//! postgres.set(&SessionId::generate(), &Session::new()).await?;
//! # let _ = (mariadb, sqlite);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!("session-sql needs at least one database feature: postgres, mysql or sqlite");

mod bounds;
mod builder;
mod by_column;
mod clear;
mod conditional;
mod connect;
mod db;
mod dialect;
mod error;
mod extra_columns;
mod ident;
mod layout;
mod node;
mod pool;
mod purge;
mod row;
mod schema;
mod statement;
mod statements;
mod store;
mod time_zone;
#[cfg(feature = "tower-sessions")]
mod tower_sessions;
mod upsert;
mod writes;

pub use builder::SqlStoreBuilder;
pub use dialect::Dialect;
pub use extra_columns::{Column, ColumnKind, ColumnValue};
pub use layout::Layout;
pub use purge::PurgeReport;
pub use store::SqlStore;
#[cfg(feature = "tower-sessions")]
pub use tower_sessions::TowerSessionsSource;
