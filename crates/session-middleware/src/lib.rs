//! Sessions for axum and tower apps on any session [`Store`](session_core::Store),
//! with express-session's signed cookie, so a Rust service and an Express
//! app can share their logged-in users.
//!
//! * [`SessionLayer`] is the middleware: build it with a store and a secret.
//! * [`Session`] is what handlers take: `get`, `insert`, `remove`, `id`,
//!   `regenerate` (on login) and `destroy` (on logout).
//! * The cookie is express-session's: `connect.sid` by default, holding
//!   `s:` + the id + `.` + its HMAC-SHA256 signature, percent-encoded.
//!   [`CookieSigner`] makes and checks it; several secrets allow rotation.
//! * What happens when follows express-session with `resave: false` and
//!   `saveUninitialized: false`, except that nothing is read from the store
//!   until a handler uses the session. [`SessionLayer`] has the details.
//!
//! ```
//! use std::sync::Arc;
//!
//! use axum::{Router, routing::get};
//! use session_core::Store;
//! use session_middleware::{Session, SessionError, SessionLayer};
//!
//! async fn visits(session: Session) -> Result<String, SessionError> {
//!     let n = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
//!     session.insert("visits", n).await?;
//!     Ok(format!("visit number {n}"))
//! }
//!
//! fn app(store: Arc<dyn Store>) -> Result<Router, session_core::Error> {
//!     let sessions = SessionLayer::builder(store).secret("keyboard cat").build()?;
//!     Ok(Router::new().route("/", get(visits)).layer(sessions))
//! }
//! # app(Arc::new(session_memory::MemoryStore::new()))?;
//! # Ok::<(), session_core::Error>(())
//! ```
//!
//! Sharing sessions with Express takes the same secrets, cookie name and
//! path on both sides, and a store layout both read (see each backend).
#![forbid(unsafe_code)]

mod builder;
mod commit;
mod compare;
mod config;
mod cookie;
mod error;
mod handle;
mod layer;
mod node_cookie;
mod signing;
mod state;
mod uri_component;

pub use builder::SessionLayerBuilder;
pub use cookie::SameSite;
pub use error::SessionError;
pub use handle::Session;
pub use layer::{SessionLayer, SessionService};
pub use signing::CookieSigner;
