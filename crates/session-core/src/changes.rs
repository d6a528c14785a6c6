//! What one request did to a session's data, key by key, so that it lands
//! on the session as stored when it is saved rather than replacing it
//! (rule 10 of [`Store`](crate::Store)).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Session, SessionData};

/// The keys one request set and removed, in effect order: a later change
/// of a key replaces an earlier one, and [`clear`](Self::clear) forgets
/// every change before it.
///
/// Applied onto the latest stored session by [`Store::update`](crate::Store::update),
/// so concurrent requests that change different keys keep each other's
/// changes.
///
/// ```
/// use serde_json::json;
/// use session_core::{Changes, Session};
///
/// let mut stored = Session::new();
/// stored.insert("cart", 3)?;
/// stored.insert("theme", "dark")?;
///
/// let mut changes = Changes::new();
/// changes.set("user", json!("ada"));
/// changes.remove("theme");
/// let merged = changes.applied_to(&stored);
/// assert_eq!(merged.get::<u32>("cart")?, Some(3)); // another request's key stays
/// assert_eq!(merged.get::<String>("user")?.as_deref(), Some("ada"));
/// assert_eq!(merged.get::<String>("theme")?, None);
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Every key was removed first (the request emptied the session).
    cleared: bool,
    /// Each changed key: its new value, or `None` when it was removed.
    keys: BTreeMap<String, Option<Value>>,
}

impl Changes {
    /// No change.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key` now holds `value`.
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        self.keys.insert(key.into(), Some(value));
    }

    /// `key` is gone.
    pub fn remove(&mut self, key: impl Into<String>) {
        self.keys.insert(key.into(), None);
    }

    /// Every key is gone, whoever set it; later changes apply after that.
    pub fn clear(&mut self) {
        self.cleared = true;
        self.keys.clear();
    }

    /// What turned `before` into `after`: every key whose value differs or
    /// is new is set, every key `after` lacks is removed. A key set to the
    /// value it already had is no change.
    ///
    /// ```
    /// use serde_json::json;
    /// use session_core::{Changes, Session};
    ///
    /// let mut read = Session::new();
    /// read.insert("cart", 1)?;
    /// read.insert("theme", "dark")?;
    /// let mut left = read.clone();
    /// left.insert("cart", 2)?;
    /// left.remove("theme");
    /// let changes = Changes::between(read.data(), left.data());
    /// let keys: Vec<_> = changes.keys().map(|(key, value)| (key, value.cloned())).collect();
    /// assert_eq!(keys, [("cart", Some(json!(2))), ("theme", None)]);
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn between(before: &SessionData, after: &SessionData) -> Self {
        let mut changes = Self::new();
        for (key, value) in after {
            if before.get(key) != Some(value) {
                changes.set(key.clone(), value.clone());
            }
        }
        for key in before.keys() {
            if !after.contains_key(key) {
                changes.remove(key.clone());
            }
        }
        changes
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.cleared && self.keys.is_empty()
    }

    /// Whether the changes empty the session before anything else.
    pub fn clears(&self) -> bool {
        self.cleared
    }

    /// The changed keys: the new value, or `None` for a removed key.
    pub fn keys(&self) -> impl Iterator<Item = (&str, Option<&Value>)> {
        self.keys
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_ref()))
    }

    /// Applies the changes to `data`.
    pub fn apply(&self, data: &mut SessionData) {
        if self.cleared {
            data.clear();
        }
        for (key, value) in &self.keys {
            match value {
                Some(value) => {
                    data.insert(key.clone(), value.clone());
                }
                None => {
                    data.remove(key);
                }
            }
        }
    }

    /// `stored` with the changes applied; its expiry and cookie as they are.
    pub fn applied_to(&self, stored: &Session) -> Session {
        let mut merged = stored.clone();
        if !self.is_empty() {
            self.apply(merged.data_mut());
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(value: Value) -> SessionData {
        match value {
            Value::Object(map) => map,
            _ => SessionData::new(),
        }
    }

    #[test]
    fn the_last_change_of_a_key_wins() {
        let mut changes = Changes::new();
        changes.set("a", json!(1));
        changes.remove("a");
        changes.set("b", json!(1));
        changes.set("b", json!(2));
        let mut stored = data(json!({ "a": 0, "c": 3 }));
        changes.apply(&mut stored);
        assert_eq!(Value::Object(stored), json!({ "b": 2, "c": 3 }));
    }

    #[test]
    fn clear_empties_what_another_request_stored_then_applies_what_came_after() {
        let mut changes = Changes::new();
        changes.set("before", json!(1));
        changes.clear();
        changes.set("after", json!(2));
        let mut stored = data(json!({ "other": true }));
        changes.apply(&mut stored);
        assert_eq!(Value::Object(stored), json!({ "after": 2 }));
        assert!(changes.clears() && !changes.is_empty());
    }

    #[test]
    fn nothing_changed_is_empty() {
        assert!(Changes::new().is_empty());
        let mut removed = Changes::new();
        removed.remove("x");
        assert!(!removed.is_empty());
    }
}
