//! The version token of rule 10, for both layouts: the revision
//! `get_versioned` read (what `set_if_unchanged` names in its `PUT`, so
//! CouchDB itself does the comparing) and the expiry the session had at
//! that revision.
//!
//! The expiry rides along because a revision check alone cannot see time
//! pass: a session that expired since it was read is still at the same
//! revision, and the contract answers `Conflict` there. A revision pins the
//! document's content, so the expiry read with it is the document's own
//! until the revision changes, and the write compares it with its clock
//! without asking the server.

use session_core::Version;

/// What a token says, once read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen<'a> {
    /// The revision read: `<generation>-<hash>`.
    pub(crate) rev: &'a str,
    /// The session's expiry at that revision (unix ms).
    pub(crate) expires_ms: i64,
}

/// The version of a session read at revision `rev`, expiring at
/// `expires_ms` (unix ms): `<expires_ms> <rev>`.
pub(crate) fn issue(rev: &str, expires_ms: i64) -> Version {
    Version::from_token(format!("{expires_ms} {rev}"))
}

/// What `token` says; `None` for bytes this store did not hand out, which
/// must never match (nor reach the server, which refuses a malformed
/// revision with 400, not 409).
pub(crate) fn read(token: &[u8]) -> Option<Seen<'_>> {
    let (expires, rev) = std::str::from_utf8(token).ok()?.split_once(' ')?;
    let (generation, hash) = rev.split_once('-')?;
    let well_formed = generation.parse::<u64>().is_ok_and(|g| g > 0)
        && !hash.is_empty()
        && hash.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(Seen {
        rev,
        expires_ms: expires.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_what_it_was_issued_with() {
        let version = issue("3-0123abcdef", -5);
        let seen = version.token().and_then(read);
        assert_eq!(
            seen,
            Some(Seen {
                rev: "3-0123abcdef",
                expires_ms: -5
            })
        );
    }

    #[test]
    fn bytes_it_did_not_issue_read_as_nothing() {
        for garbage in [
            &b""[..],
            b"\xff\xfe",
            b"garbage",
            b"12",
            b"12 ",
            b"x 1-a",
            b"12 zz",
            b"12 0-a",
            b"12 1-",
            b"12 1-a\"b",
            b"12 -1-a",
        ] {
            assert_eq!(read(garbage), None, "{garbage:?}");
        }
    }
}
