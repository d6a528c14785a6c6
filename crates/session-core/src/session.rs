//! The session value: a JSON object of data plus an absolute expiry.

use std::{fmt, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{Error, backend::truncate_to_millis};

/// The data of a session: a JSON object.
pub type SessionData = serde_json::Map<String, Value>;

/// A session: a JSON object of data and an optional absolute expiry.
///
/// * **Expiry.** Stores keep expiries with millisecond precision, so the
///   constructors and setters truncate sub-millisecond parts: what you set is
///   exactly what [`Store::get`](crate::Store::get) gives back. A session with
///   no expiry ([`None`]) is given its store's default TTL when it is written,
///   counted from the moment of the write (see [`Lifetimes`](crate::Lifetimes));
///   sessions read back from a store always carry `Some(expiry)`.
/// * **Sharing.** The data sits behind an [`Arc`] and is copied on the first
///   write only, so cloning a session, or an in-memory store handing one out,
///   costs a reference count rather than a deep copy.
/// * **Express.** A session read through an Express layout also carries
///   express-session's `cookie` object, kept exactly as Node wrote it so it
///   is written back unchanged; it is not part of the data. Stores reach it
///   through [`SessionParts`](crate::backend::SessionParts).
/// * **Privacy.** [`Debug`](fmt::Debug) shows how many keys the session has and
///   its expiry, never the data.
///
/// ```
/// use session_core::Session;
/// use time::{Duration, OffsetDateTime};
///
/// let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::hours(1));
/// session.insert("user_id", 42_u64)?;
/// assert_eq!(session.get::<u64>("user_id")?, Some(42));
/// assert_eq!(session.get::<u64>("missing")?, None);
/// assert!(!format!("{session:?}").contains("42"));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Session {
    pub(crate) data: Arc<SessionData>,
    expires_at: Option<OffsetDateTime>,
    pub(crate) express_cookie: Option<Arc<SessionData>>,
}

impl Session {
    /// An empty session with no expiry of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session holding `data`, with no expiry of its own.
    pub fn from_data(data: SessionData) -> Self {
        Self {
            data: Arc::new(data),
            expires_at: None,
            express_cookie: None,
        }
    }

    /// This session with its expiry set to `at` (truncated to milliseconds).
    #[must_use]
    pub fn expiring_at(mut self, at: OffsetDateTime) -> Self {
        self.set_expires_at(Some(at));
        self
    }

    /// The absolute expiry, if one is set.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// Sets or clears the absolute expiry (truncated to milliseconds).
    pub fn set_expires_at(&mut self, at: Option<OffsetDateTime>) {
        self.expires_at = at.map(truncate_to_millis);
    }

    /// Whether the session has an expiry at or before `now`. A session without
    /// an expiry is not expired: its store's default TTL applies when written.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The data.
    pub fn data(&self) -> &SessionData {
        &self.data
    }

    /// The data, for changing. Copies it first if another clone shares it.
    pub fn data_mut(&mut self) -> &mut SessionData {
        Arc::make_mut(&mut self.data)
    }

    /// The data, taken out (copied only if another clone shares it).
    pub fn into_data(self) -> SessionData {
        Arc::unwrap_or_clone(self.data)
    }

    /// Reads `key` as a `T`. `Ok(None)` when the key is absent.
    ///
    /// # Errors
    /// [`Error::Decode`] when the value is present but not a valid `T`. The
    /// message names the key and the type, never the value (serde's own
    /// message would quote it, and session data must not reach logs).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.data
            .get(key)
            .map(|value| {
                T::deserialize(value).map_err(|_| {
                    Error::Decode(
                        format!(
                            "the value under key {key:?} is not a {}",
                            std::any::type_name::<T>()
                        )
                        .into(),
                    )
                })
            })
            .transpose()
    }

    /// Stores `value` under `key`, returning the previous value.
    ///
    /// # Errors
    /// [`Error::Encode`] when `value` cannot be represented as JSON (for
    /// example a map with non-string keys); the session is then unchanged.
    pub fn insert<T: Serialize>(&mut self, key: impl Into<String>, value: T) -> Result<Option<Value>, Error> {
        let value = serde_json::to_value(value).map_err(|e| Error::Encode(Box::new(e)))?;
        Ok(self.data_mut().insert(key.into(), value))
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        if !self.data.contains_key(key) {
            return None; // avoid copying shared data for a no-op
        }
        self.data_mut().remove(key)
    }

    /// Number of top-level keys.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the data has no keys.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl From<SessionData> for Session {
    fn from(data: SessionData) -> Self {
        Self::from_data(data)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("keys", &self.data.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::SessionParts;
    use time::macros::datetime;

    #[test]
    fn expiry_is_truncated_to_milliseconds() {
        let at = datetime!(2030-01-02 03:04:05.123_456_789 UTC);
        let session = Session::new().expiring_at(at);
        assert_eq!(session.expires_at(), Some(datetime!(2030-01-02 03:04:05.123 UTC)));
    }

    #[test]
    fn typed_get_and_insert() {
        let mut session = Session::new();
        assert_eq!(session.insert("n", 7_i64).unwrap(), None);
        assert_eq!(session.insert("n", 8_i64).unwrap(), Some(Value::from(7)));
        assert_eq!(session.get::<i64>("n").unwrap(), Some(8));
        assert!(matches!(session.get::<String>("n"), Err(Error::Decode(_))));
        assert_eq!(session.remove("n"), Some(Value::from(8)));
        assert!(session.is_empty());
    }

    #[test]
    fn a_mistyped_read_never_quotes_the_value() {
        let mut session = Session::new();
        session.insert("password", "hunter2").unwrap();
        let error = session.get::<u64>("password").unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(matches!(error, Error::Decode(_)));
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("password") && text.contains("u64"), "{text}");
    }

    #[test]
    fn insert_refuses_non_json_values_and_keeps_the_session() {
        let mut session = Session::new();
        let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(matches!(session.insert("bad", bad), Err(Error::Encode(_))));
        assert!(session.is_empty());
    }

    #[test]
    fn clones_share_data_until_written() {
        let mut a = Session::new();
        a.insert("k", "v").unwrap();
        let mut b = a.clone();
        assert!(Arc::ptr_eq(a.shared_data(), b.shared_data()));
        b.insert("k", "w").unwrap();
        assert_eq!(a.get::<String>("k").unwrap().as_deref(), Some("v"));
        assert_eq!(b.get::<String>("k").unwrap().as_deref(), Some("w"));
    }

    #[test]
    fn expired_only_with_an_expiry_at_or_before_now() {
        let now = datetime!(2030-01-01 00:00 UTC);
        assert!(!Session::new().is_expired_at(now));
        assert!(Session::new().expiring_at(now).is_expired_at(now));
        assert!(
            !Session::new()
                .expiring_at(now + time::Duration::milliseconds(1))
                .is_expired_at(now)
        );
    }

    #[test]
    fn debug_hides_data() {
        let mut session = Session::new();
        session.insert("password", "hunter2").unwrap();
        let shown = format!("{session:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("password"),
            "{shown}"
        );
    }
}
