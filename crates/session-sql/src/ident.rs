//! Table and schema names: validated, then quoted. Nothing else from
//! outside ever becomes SQL text.

use session_core::Error;

use crate::Dialect;

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

/// `table`, in `schema` if given, quoted for `dialect`: the name a
/// statement's `{table}` stands for.
pub(crate) fn qualified(dialect: Dialect, schema: Option<&Ident>, table: &Ident) -> String {
    match schema {
        Some(schema) => format!(
            "{}.{}",
            dialect.quote(schema.as_str()),
            dialect.quote(table.as_str())
        ),
        None => dialect.quote(table.as_str()),
    }
}

/// The name of the index on `column` of `table`: `{table}_{column}_idx`
/// when that fits in [`Ident::MAX_LEN`] bytes; otherwise its first bytes
/// and a hash of the whole, so long names stay distinct instead of being
/// cut to one (PostgreSQL truncates silently, MySQL refuses them).
pub(crate) fn index_name(table: &Ident, column: &str) -> String {
    let full = format!("{}_{column}_idx", table.as_str());
    if full.len() <= Ident::MAX_LEN {
        return full;
    }
    // Stable across releases (unlike std's hasher): an index keeps its name.
    let hash = crc32fast::hash(format!("{}.{column}", table.as_str()).as_bytes());
    let suffix = format!("_{hash:08x}_idx");
    // Identifiers are ASCII, so any byte offset is a character boundary.
    let kept = full.get(..Ident::MAX_LEN - suffix.len()).unwrap_or_default();
    format!("{kept}{suffix}")
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
    fn index_names_fit_and_stay_distinct() {
        let short = Ident::new("table", "sessions").unwrap();
        assert_eq!(index_name(&short, "expires_at"), "sessions_expires_at_idx");
        let long = Ident::new("table", &"t".repeat(63)).unwrap();
        let longer_twin = Ident::new("table", &format!("{}x", "t".repeat(62))).unwrap();
        let names = [
            index_name(&long, "expires_at"),
            index_name(&long, "user_id"),
            index_name(&longer_twin, "expires_at"),
        ];
        for name in &names {
            assert_eq!(name.len(), Ident::MAX_LEN, "{name}");
            assert!(Ident::new("index", name).is_ok(), "{name}");
        }
        assert!(names[0] != names[1] && names[0] != names[2] && names[1] != names[2]);
        assert_eq!(index_name(&long, "user_id"), names[1], "the same name every time");
    }

    #[test]
    fn qualified_names_are_quoted_per_dialect() {
        let (schema, table) = (
            Ident::new("schema", "app").unwrap(),
            Ident::new("table", "s").unwrap(),
        );
        assert_eq!(
            qualified(Dialect::Postgres, Some(&schema), &table),
            "\"app\".\"s\""
        );
        assert_eq!(qualified(Dialect::MySql, Some(&schema), &table), "`app`.`s`");
        assert_eq!(qualified(Dialect::Sqlite, None, &table), "\"s\"");
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
