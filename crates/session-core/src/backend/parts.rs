//! The parts of a [`Session`] only a store works with: its data as a shared
//! pointer (so a store keeps it without copying) and express-session's
//! `cookie` object (so an Express layout writes back what Node wrote).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::{Session, SessionData};

/// A [`Session`]'s store-side parts. Apps never need them; a store imports
/// this trait to reach them.
///
/// ```
/// use std::sync::Arc;
/// use session_core::{Session, backend::SessionParts};
///
/// let mut session = Session::new();
/// session.insert("user", 7)?;
/// // A store keeps the data behind its Arc: handing it out again costs a
/// // reference count, not a copy.
/// let kept = Arc::clone(session.shared_data());
/// let served = Session::from_shared(kept, session.expires_at());
/// assert!(Arc::ptr_eq(served.shared_data(), session.shared_data()));
/// assert_eq!(served.express_cookie(), None);
/// # Ok::<(), session_core::Error>(())
/// ```
pub trait SessionParts: sealed::Sealed {
    /// A session built from shared data, as stores hand them out; the expiry
    /// is truncated to milliseconds like every other.
    fn from_shared(data: Arc<SessionData>, expires_at: Option<OffsetDateTime>) -> Self;

    /// The data, shared: what a store keeps to avoid copying it.
    fn shared_data(&self) -> &Arc<SessionData>;

    /// express-session's `cookie` object, when the session was read through
    /// an Express layout (or given one): every key Node wrote, unknown ones
    /// included. Stores of this project's own layouts neither keep nor
    /// return it.
    fn express_cookie(&self) -> Option<&SessionData>;

    /// Sets or clears the `cookie` object an Express layout writes back.
    fn set_express_cookie(&mut self, cookie: Option<SessionData>);
}

impl SessionParts for Session {
    fn from_shared(data: Arc<SessionData>, expires_at: Option<OffsetDateTime>) -> Self {
        let mut session = Session::new();
        session.data = data;
        session.set_expires_at(expires_at);
        session
    }

    fn shared_data(&self) -> &Arc<SessionData> {
        &self.data
    }

    fn express_cookie(&self) -> Option<&SessionData> {
        self.express_cookie.as_deref()
    }

    fn set_express_cookie(&mut self, cookie: Option<SessionData>) {
        self.express_cookie = cookie.map(Arc::new);
    }
}

/// Only [`Session`] has these parts: the trait can grow without breaking
/// anyone.
mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Session {}
}
