//! What one request knows about its session, from the first use to the end.

use session_core::backend::SessionParts;
use std::sync::Arc;

use session_core::{SessionData, SessionId, Version, Versioned};

use crate::compare::same_data;

/// A request's session, as its handlers have used it so far.
pub(crate) enum State {
    /// Not used yet: nothing read from the store.
    Unread,
    /// Used: read from the store, or started fresh.
    Ready(Current),
    /// The request is over; nothing more can be saved.
    Ended,
}

/// The session a request works on.
pub(crate) struct Current {
    /// The id it is stored under, or will be when it is saved.
    pub(crate) id: SessionId,
    /// Its data and expiry, as the handlers left them.
    pub(crate) session: session_core::Session,
    /// The data as the store holds it under `id`, read at the first use;
    /// `None` when the store holds nothing under `id` yet (a new session).
    pub(crate) stored: Option<Arc<SessionData>>,
    /// Whether this request destroyed a stored session. Unless a new one is
    /// saved, the browser is then told to drop its cookie.
    pub(crate) destroyed: bool,
    /// The version `stored` was read at, for the conditional save.
    pub(crate) version: Version,
}

impl Current {
    /// The session the store gave for `id`.
    pub(crate) fn loaded(id: SessionId, read: Versioned) -> Self {
        Self {
            id,
            stored: Some(Arc::clone(read.session.shared_data())),
            session: read.session,
            destroyed: false,
            version: read.version,
        }
    }

    /// A new, empty session under the fresh id `id`.
    pub(crate) fn fresh(id: SessionId, destroyed: bool) -> Self {
        Self {
            id,
            session: session_core::Session::new(),
            stored: None,
            destroyed,
            version: Version::unversioned(),
        }
    }

    /// Whether the data differs from what the store holds: for a new
    /// session, whether it holds anything at all.
    pub(crate) fn changed(&self) -> bool {
        match &self.stored {
            Some(stored) => !same_data(stored, self.session.shared_data()),
            None => !self.session.is_empty(),
        }
    }
}
