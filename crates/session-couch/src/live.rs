//! Rule 6 of the contract, decided here for both layouts: which stored
//! documents count as live sessions, for the reads and the writes alike.
//!
//! A document is live when its expiry and tombstone say so, and also when
//! they cannot be read: the store holds it, and only what it can read can
//! show that the session is over. So `length` counts it, and `get` and
//! `all_stream` answer the error that reading it gave instead of passing
//! over it in silence. Its data is read only once it is known to be live,
//! so an expired or destroyed session stays gone however unreadable its
//! data.
//!
//! The writes take it as the reads do, so that no write replaces a session
//! the reads count: `create` answers `AlreadyExists`, `touch` (which needs
//! its data) the error, and `set` and `destroy` do to it what they do to any
//! live session.

use session_core::{Result, backend::Occupant};

/// What one stored document is to the reads and the writes: `stored` is
/// what could be read of its expiry and tombstone, `occupant` what that
/// makes it now; `Live` when they cannot be read.
pub(crate) fn occupant<S>(stored: &Result<S>, occupant: impl FnOnce(&S) -> Occupant) -> Occupant {
    stored.as_ref().map_or(Occupant::Live, occupant)
}

/// What the reads make of one stored document, as [`occupant`] judges it:
/// `None` when it is not live; otherwise `read(stored)`, or the error that
/// kept its expiry or tombstone from being read.
pub(crate) fn judge<S, T>(
    stored: Result<S>,
    occupant: impl FnOnce(&S) -> Occupant,
    read: impl FnOnce(S) -> Result<T>,
) -> Option<Result<T>> {
    (self::occupant(&stored, occupant) == Occupant::Live).then(|| stored.and_then(read))
}

#[cfg(test)]
mod tests {
    use session_core::Error;

    use super::*;

    fn judged(stored: Result<Occupant>) -> Option<Result<&'static str>> {
        judge(stored, |occupant| *occupant, |_| Ok("read"))
    }

    #[test]
    fn only_live_documents_are_read_and_unreadable_ones_count_as_live() {
        assert!(matches!(judged(Ok(Occupant::Live)), Some(Ok("read"))));
        assert!(judged(Ok(Occupant::Vacant)).is_none());
        assert!(judged(Ok(Occupant::Tombstone)).is_none());
        let unreadable = judged(Err(Error::Decode("no expiry".into())));
        assert!(matches!(unreadable, Some(Err(Error::Decode(_)))));
    }

    #[test]
    fn to_the_writes_an_unreadable_document_is_live() {
        let unreadable: Result<Occupant> = Err(Error::Decode("no expiry".into()));
        assert_eq!(occupant(&unreadable, |occupant| *occupant), Occupant::Live);
        for readable in [Occupant::Live, Occupant::Vacant, Occupant::Tombstone] {
            assert_eq!(occupant(&Ok(readable), |occupant| *occupant), readable);
        }
    }
}
