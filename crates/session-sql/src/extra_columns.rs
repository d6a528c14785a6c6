//! Extra columns filled from session data on every write, so apps can find
//! and destroy sessions by what they hold (for example every session of a
//! user).

use serde_json::Value;
use session_core::{Error, SessionData};

use crate::ident::Ident;

/// The SQL type of an extra column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text of up to [`Column::MAX_TEXT`] characters (`VARCHAR(255)`,
    /// compared byte for byte on MySQL).
    Text,
    /// A 64-bit integer (`BIGINT`).
    BigInt,
}

/// An extra, indexed column whose value is taken from the session data on
/// every write. Tombstones hold `NULL`.
///
/// What gets stored, from the value under [`key`](Self::from_key):
///
/// | data value | `Text` column | `BigInt` column |
/// |---|---|---|
/// | string | the string (`NULL` if longer than 255 characters); refused if it holds a NUL character | its integer, if it parses |
/// | integer | its decimal text | the integer |
/// | bool, float | its JSON text | `NULL` |
/// | missing, null, object, array | `NULL` | `NULL` |
///
/// No database stores a NUL character the same way (PostgreSQL cannot
/// store one at all), so a write whose text column would hold one is
/// refused with [`Error::InvalidInput`] naming the column, and nothing is
/// written; so is a [`ColumnValue`] holding one.
///
/// ```
/// use session_sql::Column;
///
/// let user = Column::text("user_id");                  // filled from data["user_id"]
/// let tenant = Column::bigint("tenant").from_key("org"); // filled from data["org"]
/// # let _ = (user, tenant);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) kind: ColumnKind,
    pub(crate) key: String,
}

/// A value to look sessions up by, for [`SqlStore::sessions_where`](crate::SqlStore::sessions_where)
/// and [`SqlStore::destroy_where`](crate::SqlStore::destroy_where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnValue {
    /// For a `Text` column (an integer column parses it).
    Text(String),
    /// For a `BigInt` column (a text column compares its decimal text).
    BigInt(i64),
}

impl From<&str> for ColumnValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for ColumnValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for ColumnValue {
    fn from(number: i64) -> Self {
        Self::BigInt(number)
    }
}

/// What one extra column holds for one row (or is compared with), ready
/// to bind: `None` is SQL `NULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExtraValue {
    Text(Option<String>),
    BigInt(Option<i64>),
}

impl Column {
    /// Longest text stored in a `Text` column, in characters.
    pub const MAX_TEXT: usize = 255;

    /// A text column named `name`, filled from `data[name]`.
    pub fn text(name: impl Into<String>) -> Self {
        Self::new(name.into(), ColumnKind::Text)
    }

    /// An integer column named `name`, filled from `data[name]`.
    pub fn bigint(name: impl Into<String>) -> Self {
        Self::new(name.into(), ColumnKind::BigInt)
    }

    fn new(name: String, kind: ColumnKind) -> Self {
        Self {
            key: name.clone(),
            name,
            kind,
        }
    }

    /// Fill the column from `data[key]` instead of `data[name]`.
    #[must_use]
    pub fn from_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn validate(&self) -> Result<Ident, Error> {
        let ident = Ident::new("column name", &self.name)?;
        if ["id", "data", "expires_at", "destroyed"].contains(&self.name.to_ascii_lowercase().as_str()) {
            return Err(Error::InvalidInput(format!(
                "column name {:?} is taken by the store",
                self.name
            )));
        }
        Ok(ident)
    }

    /// What this column holds for a session with `data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the column when the text holds a NUL.
    pub(crate) fn extract(&self, data: &SessionData) -> Result<ExtraValue, Error> {
        let value = data.get(&self.key);
        Ok(match self.kind {
            ColumnKind::Text => ExtraValue::Text(match value {
                Some(Value::String(s)) if s.chars().count() <= Self::MAX_TEXT => {
                    Some(self.storable_text(s)?.to_owned())
                }
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
                _ => None,
            }),
            ColumnKind::BigInt => ExtraValue::BigInt(match value {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }),
        })
    }

    /// `value` as this column stores it; `None` if it can never match.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the column when the text holds a NUL.
    pub(crate) fn lookup(&self, value: &ColumnValue) -> Result<Option<ExtraValue>, Error> {
        Ok(match (self.kind, value) {
            (ColumnKind::Text, ColumnValue::Text(s)) => {
                Some(ExtraValue::Text(Some(self.storable_text(s)?.to_owned())))
            }
            (ColumnKind::Text, ColumnValue::BigInt(n)) => Some(ExtraValue::Text(Some(n.to_string()))),
            (ColumnKind::BigInt, ColumnValue::BigInt(n)) => Some(ExtraValue::BigInt(Some(*n))),
            (ColumnKind::BigInt, ColumnValue::Text(s)) => s.parse().ok().map(|n| ExtraValue::BigInt(Some(n))),
        })
    }

    fn storable_text<'a>(&self, text: &'a str) -> Result<&'a str, Error> {
        if text.contains('\0') {
            return Err(Error::InvalidInput(format!(
                "extra column {:?} cannot hold text with a NUL character (from data key {:?})",
                self.name, self.key
            )));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> SessionData {
        let Value::Object(map) = value else { unreachable!() };
        map
    }

    #[test]
    fn text_columns_take_strings_and_scalars() {
        let column = Column::text("user");
        let bound = |v: Value| column.extract(&data(json!({ "user": v }))).unwrap();
        assert_eq!(bound(json!("ada")), ExtraValue::Text(Some("ada".into())));
        assert_eq!(bound(json!(42)), ExtraValue::Text(Some("42".into())));
        assert_eq!(bound(json!(true)), ExtraValue::Text(Some("true".into())));
        assert_eq!(bound(json!(null)), ExtraValue::Text(None));
        assert_eq!(bound(json!({"a": 1})), ExtraValue::Text(None));
        assert_eq!(bound(json!("x".repeat(256))), ExtraValue::Text(None));
        assert_eq!(
            column.extract(&SessionData::new()).unwrap(),
            ExtraValue::Text(None)
        );
    }

    #[test]
    fn bigint_columns_take_integers() {
        let column = Column::bigint("org").from_key("tenant");
        let bound = |v: Value| column.extract(&data(json!({ "tenant": v }))).unwrap();
        assert_eq!(bound(json!(7)), ExtraValue::BigInt(Some(7)));
        assert_eq!(bound(json!("8")), ExtraValue::BigInt(Some(8)));
        assert_eq!(bound(json!(1.5)), ExtraValue::BigInt(None));
        assert_eq!(bound(json!(u64::MAX)), ExtraValue::BigInt(None));
    }

    #[test]
    fn text_holding_nul_is_refused_naming_the_column() {
        let column = Column::text("user_id").from_key("user");
        let error = column.extract(&data(json!({ "user": "a\u{0}b" }))).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput(m) if m.contains("\"user_id\"") && m.contains("NUL")),
            "{error}"
        );
        let error = column.lookup(&ColumnValue::from("a\0")).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput(m) if m.contains("\"user_id\"")),
            "{error}"
        );
        let numbers = Column::bigint("org");
        assert_eq!(
            numbers.lookup(&ColumnValue::from("a\0")).unwrap(),
            None,
            "never matches a number"
        );
    }

    #[test]
    fn reserved_and_hostile_names_are_refused() {
        for name in ["id", "DATA", "expires_at", "destroyed", "a;b", ""] {
            assert!(Column::text(name).validate().is_err(), "{name}");
        }
        assert!(Column::text("user_id").validate().is_ok());
    }
}
