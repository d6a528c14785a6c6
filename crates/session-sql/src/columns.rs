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
/// | string | the string (`NULL` if longer than 255 characters) | its integer, if it parses |
/// | integer | its decimal text | the integer |
/// | bool, float | its JSON text | `NULL` |
/// | missing, null, object, array | `NULL` | `NULL` |
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

/// One column's value for one write, ready to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bound {
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

    pub(crate) fn extract(&self, data: &SessionData) -> Bound {
        let value = data.get(&self.key);
        match self.kind {
            ColumnKind::Text => Bound::Text(match value {
                Some(Value::String(s)) if s.chars().count() <= Self::MAX_TEXT => Some(s.clone()),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
                _ => None,
            }),
            ColumnKind::BigInt => Bound::BigInt(match value {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }),
        }
    }

    /// `value` as this column stores it; `None` if it can never match.
    pub(crate) fn bind(&self, value: &ColumnValue) -> Option<Bound> {
        match (self.kind, value) {
            (ColumnKind::Text, ColumnValue::Text(s)) => Some(Bound::Text(Some(s.clone()))),
            (ColumnKind::Text, ColumnValue::BigInt(n)) => Some(Bound::Text(Some(n.to_string()))),
            (ColumnKind::BigInt, ColumnValue::BigInt(n)) => Some(Bound::BigInt(Some(*n))),
            (ColumnKind::BigInt, ColumnValue::Text(s)) => s.parse().ok().map(|n| Bound::BigInt(Some(n))),
        }
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
        let bound = |v: Value| column.extract(&data(json!({ "user": v })));
        assert_eq!(bound(json!("ada")), Bound::Text(Some("ada".into())));
        assert_eq!(bound(json!(42)), Bound::Text(Some("42".into())));
        assert_eq!(bound(json!(true)), Bound::Text(Some("true".into())));
        assert_eq!(bound(json!(null)), Bound::Text(None));
        assert_eq!(bound(json!({"a": 1})), Bound::Text(None));
        assert_eq!(bound(json!("x".repeat(256))), Bound::Text(None));
        assert_eq!(column.extract(&SessionData::new()), Bound::Text(None));
    }

    #[test]
    fn bigint_columns_take_integers() {
        let column = Column::bigint("org").from_key("tenant");
        let bound = |v: Value| column.extract(&data(json!({ "tenant": v })));
        assert_eq!(bound(json!(7)), Bound::BigInt(Some(7)));
        assert_eq!(bound(json!("8")), Bound::BigInt(Some(8)));
        assert_eq!(bound(json!(1.5)), Bound::BigInt(None));
        assert_eq!(bound(json!(u64::MAX)), Bound::BigInt(None));
    }

    #[test]
    fn reserved_and_hostile_names_are_refused() {
        for name in ["id", "DATA", "expires_at", "destroyed", "a;b", ""] {
            assert!(Column::text(name).validate().is_err(), "{name}");
        }
        assert!(Column::text("user_id").validate().is_ok());
    }
}
