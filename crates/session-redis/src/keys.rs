//! Keys and namespaces: `prefix` + one space + id.
//!
//! Ids and prefixes are visible ASCII only, so the space can stand in
//! neither: a key names exactly one namespace (everything before its only
//! space) and one id. Two stores with different prefixes can never see each
//! other's keys, whatever their prefixes are (`sess` and `sess:admin`, or
//! `a` and `a*`), and a key written by another program without the space
//! (connect-redis' `sess:<id>`, say) is never taken for a session.

use fred::types::Key;
use session_core::{Error, InvalidId, SessionId};

/// What joins the prefix and the id in a key.
pub(crate) const SEPARATOR: char = ' ';

/// The longest accepted prefix, in bytes.
pub(crate) const MAX_PREFIX_LEN: usize = 256;

/// A store's namespace: its prefix, with the escaped SCAN pattern that
/// matches its keys and no other, both computed once.
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    /// The prefix and the separator: every key starts with exactly this.
    head: String,
    pattern: String,
}

impl Namespace {
    /// Checks `prefix`: 1 to 256 visible ASCII characters (no spaces).
    pub(crate) fn new(prefix: &str) -> Result<Self, Error> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::InvalidInput(format!(
                "a Redis key prefix is 1 to {MAX_PREFIX_LEN} visible ASCII characters, without spaces \
                 (the store puts a space between prefix and id)"
            )));
        }
        let head = format!("{prefix}{SEPARATOR}");
        Ok(Self {
            pattern: starting_with(&head),
            head,
        })
    }

    /// A namespace whose keys are `prefix` and the id, with nothing between:
    /// the layout Node's stores use (`sess:<id>`). Unlike [`new`](Self::new)
    /// it cannot keep nested prefixes apart, so it is only for those layouts.
    pub(crate) fn joined(prefix: &str) -> Result<Self, Error> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::InvalidInput(format!(
                "a Redis key prefix is 1 to {MAX_PREFIX_LEN} visible ASCII characters (an empty one \
                 would make clear() delete every key of the database)"
            )));
        }
        Ok(Self {
            head: prefix.to_owned(),
            pattern: starting_with(prefix),
        })
    }

    /// The prefix the store was given.
    pub(crate) fn prefix(&self) -> &str {
        self.head.strip_suffix(SEPARATOR).unwrap_or(&self.head)
    }

    /// The key of `id`.
    pub(crate) fn key(&self, id: &SessionId) -> Key {
        Key::from(self.key_string(id))
    }

    pub(crate) fn key_string(&self, id: &SessionId) -> String {
        let mut key = String::with_capacity(self.head.len() + id.as_str().len());
        key.push_str(&self.head);
        key.push_str(id.as_str());
        key
    }

    /// `MATCH` pattern for every key of this namespace. It can also match
    /// foreign keys holding more spaces; [`id_of`](Self::id_of) rejects them.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The session id in a key, or `None` when the key is not one of this
    /// namespace's or its name is not a valid id.
    pub(crate) fn id_of(&self, key: &Key) -> Option<SessionId> {
        self.name_of(key)?.ok()
    }

    /// The name after the prefix of a key SCAN returned, as a session id:
    /// `None` when the key is not this namespace's (SCAN's glob cannot say
    /// "no space after"), an error when it is but its name is not a valid
    /// id (another program's session, say; the bulk reads count it).
    pub(crate) fn name_of(&self, key: &Key) -> Option<Result<SessionId, InvalidId>> {
        let name = key.as_bytes().strip_prefix(self.head.as_bytes())?;
        // After our separator a second space names no namespace at all
        // (prefixes and ids never hold one): the key is no store's.
        if self.head.ends_with(SEPARATOR) && name.contains(&(SEPARATOR as u8)) {
            return None;
        }
        // A name that is not UTF-8 is refused for its first non-ASCII byte
        // all the same; the lossy text only feeds the check.
        Some(SessionId::parse(&String::from_utf8_lossy(name)))
    }
}

/// The `MATCH` pattern for every key that starts with `head`, its glob
/// characters escaped, so `a*` matches keys starting `a*` and no others.
pub(crate) fn starting_with(head: &str) -> String {
    format!("{}*", escape_glob(head))
}

/// Escapes Redis glob metacharacters so the text matches only itself.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(prefix: &str) -> Namespace {
        Namespace::new(prefix).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(namespace("sess").pattern(), "sess *");
        assert_eq!(namespace("a*").pattern(), "a\\* *");
        assert_eq!(namespace("[x]?\\").pattern(), "\\[x\\]\\?\\\\ *");
    }

    #[test]
    fn keys_and_ids_round_trip() {
        let ns = namespace("p");
        let id = SessionId::parse("a*b:c").unwrap_or_else(|e| unreachable!("{e}"));
        let key = ns.key(&id);
        assert_eq!(key.as_bytes(), b"p a*b:c");
        assert_eq!(ns.id_of(&key), Some(id));
        assert_eq!(ns.id_of(&Key::from("other x")), None);
        assert_eq!(
            ns.id_of(&Key::from("p:x")),
            None,
            "connect-redis' layout is not ours"
        );
        assert_eq!(ns.prefix(), "p");
    }

    #[test]
    fn names_that_are_no_id_are_told_apart_from_keys_of_no_namespace() {
        let (spaced, joined) = (
            namespace("p"),
            Namespace::joined("p:").unwrap_or_else(|e| unreachable!("{e}")),
        );
        for key in ["p caf\u{e9}", "p ", "p \u{1}"] {
            assert!(matches!(spaced.name_of(&Key::from(key)), Some(Err(_))), "{key:?}");
        }
        assert!(matches!(spaced.name_of(&Key::from(&b"p \xff"[..])), Some(Err(_))));
        assert_eq!(
            spaced.name_of(&Key::from("p a b")),
            None,
            "a second space: no namespace"
        );
        assert_eq!(spaced.name_of(&Key::from("q x")), None);
        assert!(matches!(joined.name_of(&Key::from("p:two words")), Some(Err(_))));
        assert!(matches!(joined.name_of(&Key::from("p:admin:x")), Some(Ok(_))));
        assert_eq!(joined.name_of(&Key::from("q:x")), None);
    }

    #[test]
    fn nested_prefixes_never_share_a_key() {
        let (outer, inner) = (namespace("sess"), namespace("sess:admin"));
        let id = SessionId::parse("x").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(outer.id_of(&inner.key(&id)), None);
        assert_eq!(inner.id_of(&outer.key(&id)), None);
        // Every id the outer store could hold maps to a key the inner one never has.
        let tricky = SessionId::parse("admin:x").unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(outer.key(&tricky).as_bytes(), inner.key(&id).as_bytes());
    }

    #[test]
    fn empty_spaced_long_and_non_ascii_prefixes_are_refused() {
        for bad in ["", "a b", "tab\t", "é", &"p".repeat(MAX_PREFIX_LEN + 1)] {
            assert!(
                matches!(Namespace::new(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
        assert!(Namespace::new(&"p".repeat(MAX_PREFIX_LEN)).is_ok());
    }
}
