//! The one error type every store returns.

use std::time::Duration;

use crate::InvalidId;

/// A boxed error from a codec or a backend client, kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a [`Store`](crate::Store) call can fail with.
///
/// The variants fall into four groups, so callers can react without parsing
/// messages:
///
/// | group | variants | what to do |
/// |---|---|---|
/// | refused by the contract | [`Destroyed`](Error::Destroyed), [`NotFound`](Error::NotFound), [`AlreadyExists`](Error::AlreadyExists), [`Conflict`](Error::Conflict) | expected outcomes: treat the session as gone, pick a new id, or read again |
/// | invalid input | [`InvalidId`](Error::InvalidId), [`InvalidInput`](Error::InvalidInput) | a bug or hostile input; nothing was written |
/// | encoding | [`Encode`](Error::Encode), [`Decode`](Error::Decode) | data that cannot be (de)serialized; other sessions are unaffected |
/// | the backend | [`Backend`](Error::Backend), [`Timeout`](Error::Timeout), [`Unavailable`](Error::Unavailable) | retry later; [`is_transient`](Error::is_transient) says which |
///
/// Messages never contain session data or whole session ids.
///
/// ```
/// use session_core::Error;
///
/// let refused = Error::Destroyed;
/// assert!(refused.is_refusal());
/// assert!(!refused.is_transient());
/// assert_eq!(refused.to_string(), "write refused: the session was destroyed");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The id was destroyed within the tombstone grace window, so this write
    /// (`set`, `touch` or `create`) was refused and nothing was stored.
    #[error("write refused: the session was destroyed")]
    Destroyed,
    /// `touch` found no live session (missing or expired) and created nothing.
    #[error("no live session with this id")]
    NotFound,
    /// `create` found a live session under this id and left it untouched.
    #[error("a live session with this id already exists")]
    AlreadyExists,
    /// `set_if_unchanged` found the session changed since it was read and
    /// stored nothing; or `update` kept meeting other writers of the same
    /// session until its bound (rule 10 of [`Store`](crate::Store)).
    #[error("the session changed since it was read")]
    Conflict,
    /// A session id failed validation.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// An option or argument was out of range; the message says which.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Session data could not be encoded by the codec.
    #[error("could not encode session data: {0}")]
    Encode(#[source] BoxError),
    /// Stored bytes could not be decoded into session data.
    #[error("could not decode stored session data: {0}")]
    Decode(#[source] BoxError),
    /// The backend answered with an error.
    #[error("backend error: {0}")]
    Backend(#[source] BoxError),
    /// The backend did not answer within the configured timeout.
    #[error("backend did not answer within {0:?}")]
    Timeout(Duration),
    /// The backend could not be reached.
    #[error("backend unavailable: {0}")]
    Unavailable(#[source] BoxError),
}

impl Error {
    /// A refusal the contract defines (destroyed, not found, already
    /// exists, changed meanwhile): the store worked, the answer is "no".
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Destroyed | Self::NotFound | Self::AlreadyExists | Self::Conflict
        )
    }

    /// A failure that may go away on retry (timeout, unreachable backend).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Unavailable(_))
    }
}

/// Result alias for store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_disjoint() {
        let all = [
            Error::Destroyed,
            Error::NotFound,
            Error::AlreadyExists,
            Error::Conflict,
            Error::InvalidId(InvalidId::Empty),
            Error::InvalidInput("x".into()),
            Error::Encode("e".into()),
            Error::Decode("d".into()),
            Error::Backend("b".into()),
            Error::Timeout(Duration::from_millis(5)),
            Error::Unavailable("u".into()),
        ];
        let refusals = all.iter().filter(|e| e.is_refusal()).count();
        let transient = all.iter().filter(|e| e.is_transient()).count();
        assert_eq!((refusals, transient), (4, 2));
        assert!(all.iter().all(|e| !(e.is_refusal() && e.is_transient())));
    }

    #[test]
    fn sources_are_kept() {
        let err = Error::Backend("connection reset".into());
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("connection reset"));
    }
}
