//! Table and schema names: validated, then quoted. Nothing else from
//! outside ever becomes SQL text.

use session_core::Error;

/// A validated SQL identifier: 1 to 63 ASCII letters, digits and `_`, not
/// starting with a digit. 63 is PostgreSQL's limit and within MySQL's 64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident(String);

impl Ident {
    pub(crate) const MAX_LEN: usize = 63;

    pub(crate) fn new(what: &str, name: &str) -> Result<Self, Error> {
        let valid_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let valid_rest = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_start || !valid_rest || name.len() > Self::MAX_LEN {
            return Err(Error::InvalidInput(format!(
                "{what} must be 1 to {} ASCII letters, digits or `_`, not starting with a digit",
                Self::MAX_LEN
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for name in ["sessions", "_x", "Sess_2024", &"a".repeat(63)] {
            assert!(Ident::new("table", name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_hostile_or_odd_names() {
        for name in [
            "",
            "1abc",
            "a b",
            "a;drop table x",
            "a\"b",
            "a`b",
            "a'b",
            "a.b",
            "a-b",
            "é",
            "a\0",
            &"a".repeat(64),
        ] {
            let error = Ident::new("table name", name).unwrap_err();
            assert!(matches!(error, Error::InvalidInput(_)), "{name:?}");
        }
    }
}
