//! Session identifiers: validated on construction, generated from the OS CSPRNG.

use std::{fmt, str::FromStr, sync::Arc};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

/// A validated session identifier.
///
/// # What is accepted
///
/// An id is 1 to [`SessionId::MAX_LEN`] (128) bytes long, and every byte is a
/// visible ASCII character: `0x21` (`!`) through `0x7E` (`~`). Spaces, control
/// characters and anything outside ASCII are refused with [`InvalidId`]. Ids are
/// compared byte for byte: `abc` and `ABC` are different sessions.
///
/// # Secrecy
///
/// An id is a bearer secret. [`Debug`](fmt::Debug) shows only its first four
/// characters, and there is deliberately no `Display`: call
/// [`as_str`](SessionId::as_str) where the whole id is really needed (a cookie).
///
/// Cloning is cheap (a reference count), so stores can keep ids as map keys.
///
/// ```
/// use session_core::SessionId;
///
/// let id = SessionId::generate();
/// assert_eq!(id.as_str().len(), 32);
/// assert_eq!(SessionId::parse(id.as_str())?, id);
/// assert!(SessionId::parse("has space").is_err());
/// assert!(!format!("{id:?}").contains(id.as_str()));
/// # Ok::<(), session_core::InvalidId>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

/// Why a string is not a valid [`SessionId`]. Never contains the rejected id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidId {
    /// The id is the empty string.
    #[error("session id is empty")]
    Empty,
    /// The id is longer than [`SessionId::MAX_LEN`] bytes.
    #[error("session id is {len} bytes long; at most {max} are allowed", max = SessionId::MAX_LEN)]
    TooLong {
        /// Length of the rejected id, in bytes.
        len: usize,
    },
    /// The id holds a byte that is not visible ASCII (`0x21..=0x7E`).
    #[error(
        "session id has byte 0x{byte:02x} at position {position}; only visible ASCII (0x21..=0x7E) is allowed"
    )]
    ForbiddenByte {
        /// Zero-based byte offset of the first forbidden byte.
        position: usize,
        /// The forbidden byte.
        byte: u8,
    },
}

/// Random bytes in a generated id: 192 bits, like express-session's default.
const GENERATED_BYTES: usize = 24;

impl SessionId {
    /// Longest accepted id, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Validates `id` and wraps it.
    ///
    /// # Errors
    /// [`InvalidId`] when `id` is empty, longer than [`MAX_LEN`](Self::MAX_LEN)
    /// or holds a byte outside `0x21..=0x7E`.
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        Self::validate(id)?;
        Ok(Self(Arc::from(id)))
    }

    /// Checks `id` against the rules without allocating.
    ///
    /// # Errors
    /// The same as [`parse`](Self::parse).
    pub fn validate(id: &str) -> Result<(), InvalidId> {
        if id.is_empty() {
            return Err(InvalidId::Empty);
        }
        if id.len() > Self::MAX_LEN {
            return Err(InvalidId::TooLong { len: id.len() });
        }
        match id.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
            Some(position) => Err(InvalidId::ForbiddenByte {
                position,
                byte: id.as_bytes()[position],
            }),
            None => Ok(()),
        }
    }

    /// A fresh id: 192 bits from the operating system's CSPRNG, encoded as
    /// 32 characters of unpadded URL-safe base64 (`A-Z a-z 0-9 - _`).
    ///
    /// # Panics
    /// Only if the operating system cannot supply randomness at all, in which
    /// case no secure id can exist and continuing would be worse.
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn generate() -> Self {
        let mut bytes = [0u8; GENERATED_BYTES];
        getrandom::fill(&mut bytes).expect("the OS random number generator failed");
        Self(Arc::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The whole id. Handle with care: it is a bearer secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, non-secret label for logs: the first four characters and `…`.
    pub fn redacted(&self) -> Redacted<'_> {
        Redacted(self)
    }
}

/// Display form of a [`SessionId`] that shows only its first four characters.
#[derive(Clone, Copy)]
pub struct Redacted<'a>(&'a SessionId);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ids are ASCII, so slicing by bytes cannot split a character.
        let id = self.0.as_str();
        write!(f, "{}…", &id[..id.len().min(4)])
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.redacted())
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for SessionId {
    type Err = InvalidId;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Self::parse(id)
    }
}

impl TryFrom<&str> for SessionId {
    type Error = InvalidId;

    fn try_from(id: &str) -> Result<Self, Self::Error> {
        Self::parse(id)
    }
}

impl TryFrom<String> for SessionId {
    type Error = InvalidId;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::validate(&id)?;
        Ok(Self(Arc::from(id)))
    }
}

impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&id).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_visible_ascii_byte() {
        let all: String = (0x21u8..=0x7e).map(char::from).collect();
        assert_eq!(SessionId::parse(&all).map(|id| id.as_str().len()), Ok(94));
    }

    #[test]
    fn accepts_max_len_and_refuses_one_more() {
        assert!(SessionId::parse(&"a".repeat(SessionId::MAX_LEN)).is_ok());
        assert_eq!(
            SessionId::parse(&"a".repeat(SessionId::MAX_LEN + 1)),
            Err(InvalidId::TooLong { len: 129 })
        );
    }

    #[test]
    fn refuses_empty_space_control_and_non_ascii() {
        assert_eq!(SessionId::parse(""), Err(InvalidId::Empty));
        for (id, position, byte) in [
            ("a b", 1, b' '),
            ("ab\n", 2, b'\n'),
            ("\u{0}", 0, 0),
            ("x\u{7f}", 1, 0x7f),
            ("é", 0, 0xc3),
        ] {
            assert_eq!(
                SessionId::parse(id),
                Err(InvalidId::ForbiddenByte { position, byte }),
                "{id:?}"
            );
        }
    }

    #[test]
    fn invalid_id_message_does_not_echo_the_id() {
        let secret = format!("secret-{}\n", "x".repeat(10));
        let Err(err) = SessionId::parse(&secret) else {
            unreachable!("a newline is refused")
        };
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn generated_ids_are_url_safe_unique_and_valid() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| SessionId::generate()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.as_str().len(), 32);
            assert!(
                id.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let id = SessionId::parse("abcdefghijkl").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(format!("{id:?}"), "SessionId(abcd…)");
        assert_eq!(id.redacted().to_string(), "abcd…");
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = SessionId::generate();
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(serde_json::from_str::<SessionId>(&json).ok(), Some(id));
        assert!(serde_json::from_str::<SessionId>("\"a b\"").is_err());
    }
}
