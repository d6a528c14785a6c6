//! What a store read a session at, so that a later write can tell whether
//! anyone wrote in between (rule 10 of [`Store`](crate::Store)).

use std::sync::Arc;

use crate::Session;

/// The state a session was read at: opaque to the app, compared by the
/// store in [`Store::set_if_unchanged`](crate::Store::set_if_unchanged).
///
/// Each store decides what it holds (a revision, a counter, a digest of the
/// stored bytes); [`Version::unversioned`] is what a store that cannot
/// compare hands out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(Option<Arc<[u8]>>);

impl Version {
    /// A store's token for the state it read.
    ///
    /// ```
    /// use session_core::Version;
    ///
    /// let read = Version::from_token(7_u64.to_be_bytes());
    /// assert_eq!(read.token(), Some(&7_u64.to_be_bytes()[..]));
    /// assert_ne!(read, Version::from_token(8_u64.to_be_bytes()));
    /// ```
    pub fn from_token(token: impl AsRef<[u8]>) -> Self {
        Self(Some(Arc::from(token.as_ref())))
    }

    /// The version of a store that keeps none: its
    /// [`set_if_unchanged`](crate::Store::set_if_unchanged) is a plain `set`.
    pub fn unversioned() -> Self {
        Self(None)
    }

    /// The store's token; `None` when [`unversioned`](Self::unversioned).
    pub fn token(&self) -> Option<&[u8]> {
        self.0.as_deref()
    }
}

/// A session and the version it was read at, from
/// [`Store::get_versioned`](crate::Store::get_versioned).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The session as stored.
    pub session: Session,
    /// What to hand back to [`set_if_unchanged`](crate::Store::set_if_unchanged).
    pub version: Version,
}
