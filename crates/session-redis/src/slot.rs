//! What a key of the store's namespace counts as: the one rule `get`,
//! `length`, `all_stream` and `clear` share (rule 6 of the contract).
//!
//! Every key of the namespace is a session's slot, whatever wrote it: the
//! namespace is the store's (a prefix and a space, or a Node store's own
//! prefix), so nothing there is someone else's business. What a slot
//! holds is judged by [`Layout::session`](crate::Layout) for its value:
//!
//! | the key holds | `get` | `length`, `all_stream` | `clear` |
//! |---|---|---|---|
//! | a live session | the session | counted, yielded | removes it |
//! | an expired record, a tombstone | `None` | not seen | removes it |
//! | a value the layout cannot read, or a key of another Redis type | `Decode` | counted, one `Decode` item | removes it |
//! | either of the two above, under a name that is not a session id | (no id reaches it) | counted, one `InvalidId` item | removes it |
//!
//! Unreadable records count because the store cannot tell they are over:
//! hiding them would make `length` and `all` disagree with `get`. Keys
//! outside the namespace (another prefix, or a second space after ours)
//! are never seen at all.

use session_core::{Error, InvalidId, Result, Session, SessionId};

/// One item of a bulk read.
pub(crate) type Item = Result<(SessionId, Session)>;

/// The item for the key named `name`, whose value was judged `found`
/// (`Ok(None)`: nothing live); `None` when it is not counted.
pub(crate) fn item(name: Result<SessionId, InvalidId>, found: Result<Option<Session>>) -> Option<Item> {
    match (name, found) {
        (_, Ok(None)) => None,
        // Counted, but no caller could reach it by its name.
        (Err(invalid), _) => Some(Err(Error::InvalidId(invalid))),
        (Ok(id), Ok(Some(session))) => Some(Ok((id, session))),
        (Ok(_), Err(unreadable)) => Some(Err(unreadable)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreadable() -> Result<Option<Session>> {
        Err(Error::Decode("bad".into()))
    }

    #[test]
    fn live_and_unreadable_records_count_and_nothing_else_does() {
        let id = || SessionId::parse("x");
        let bad = || SessionId::parse("");
        assert!(matches!(item(id(), Ok(Some(Session::new()))), Some(Ok(_))));
        assert!(matches!(item(id(), unreadable()), Some(Err(Error::Decode(_)))));
        assert!(item(id(), Ok(None)).is_none());
        assert!(matches!(
            item(bad(), Ok(Some(Session::new()))),
            Some(Err(Error::InvalidId(_)))
        ));
        assert!(matches!(
            item(bad(), unreadable()),
            Some(Err(Error::InvalidId(_)))
        ));
        assert!(item(bad(), Ok(None)).is_none());
    }
}
