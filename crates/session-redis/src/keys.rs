//! Keys: `prefix + id`, and the SCAN pattern that matches exactly this prefix.

use fred::types::Key;
use session_core::{Error, SessionId};

/// The key prefix of a store, with its escaped SCAN pattern computed once.
#[derive(Debug, Clone)]
pub(crate) struct Prefix {
    prefix: String,
    pattern: String,
}

impl Prefix {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            pattern: format!("{}*", escape_glob(prefix)),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn key(&self, id: &SessionId) -> Key {
        let mut key = String::with_capacity(self.prefix.len() + id.as_str().len());
        key.push_str(&self.prefix);
        key.push_str(id.as_str());
        Key::from(key)
    }

    /// `MATCH` pattern for every key that starts with the prefix, and no other.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The session id of a key SCAN returned.
    pub(crate) fn id_of(&self, key: &Key) -> Result<SessionId, Error> {
        key.as_bytes()
            .strip_prefix(self.prefix.as_bytes())
            .and_then(|id| std::str::from_utf8(id).ok())
            .ok_or_else(|| Error::Decode("a scanned key lacks the store's prefix".into()))
            .and_then(|id| SessionId::parse(id).map_err(|e| Error::Decode(Box::new(e))))
    }
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

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(Prefix::new("sess:").pattern(), "sess:*");
        assert_eq!(Prefix::new("a*").pattern(), "a\\**");
        assert_eq!(Prefix::new("[x]?\\").pattern(), "\\[x\\]\\?\\\\*");
    }

    #[test]
    fn keys_and_ids_round_trip() {
        let prefix = Prefix::new("p:");
        let id = SessionId::parse("a*b").unwrap();
        let key = prefix.key(&id);
        assert_eq!(key.as_bytes(), b"p:a*b");
        assert_eq!(prefix.id_of(&key).unwrap(), id);
        assert!(matches!(
            prefix.id_of(&Key::from("other:x")),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            prefix.id_of(&Key::from("p:has space")),
            Err(Error::Decode(_))
        ));
    }
}
