//! Sessions for axum and tower apps on any session [`Store`](session_core::Store),
//! with express-session's signed cookie, so a Rust service and an Express
//! app can share their logged-in users.
//!
//! [`CookieSigner`] makes and checks express-session's cookie value: `s:` +
//! the id + `.` + its HMAC-SHA256 signature; several secrets allow rotation.
#![forbid(unsafe_code)]

mod signing;

pub use signing::CookieSigner;
