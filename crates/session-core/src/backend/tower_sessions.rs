//! tower-sessions' stored record, for backends that read what tower-sessions'
//! own stores wrote (feature `tower-sessions`).
//!
//! tower-sessions-redis-store and tower-sessions-sqlx-store keep each session
//! as the MessagePack of tower-sessions' `Record { id, data, expiry_date }`,
//! under its id: a Redis key named by the id, a row whose `id` column holds
//! it. [`is_id`] tells such a name from anything else a program keeps there;
//! [`decode`] turns the stored bytes into the same session under the same id,
//! so an app that moves to one of this project's stores (and serves it
//! through `session-tower`) logs no one out.
//!
//! ```
//! use session_core::backend::tower_sessions;
//! use time::OffsetDateTime;
//!
//! # fn main() -> Result<(), session_core::Error> {
//! // What tower-sessions' stores write, here made by hand.
//! let record = tower_sessions_core::session::Record {
//!     id: Default::default(),
//!     data: [("user".to_owned(), serde_json::json!("ada"))].into(),
//!     expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
//! };
//! let (name, bytes) = (record.id.to_string(), rmp_serde::to_vec(&record).unwrap());
//!
//! assert!(tower_sessions::is_id(&name));
//! let (id, session) = tower_sessions::decode(&name, &bytes, OffsetDateTime::now_utc())?
//!     .expect("live until the record's expiry");
//! assert_eq!(id.as_str(), name);
//! assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));
//! # Ok(()) }
//! ```

use std::str::FromStr;

use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};

use crate::{Error, Session, SessionId};

/// The session the record `bytes` holds, stored under the id `name` (a Redis
/// key without its prefix, a row's `id`), at `now`; `None` once the record
/// has expired (tower-sessions' SQL store keeps expired rows until it
/// purges them). The session keeps the record's data and its expiry, to the
/// millisecond.
///
/// # Errors
/// [`Error::Decode`] when the bytes are not a tower-sessions record, or are
/// the record of another id: either way the place holds something that is
/// not this session, which a reader reports as a failed item rather than
/// copying it under the wrong id. [`Error::InvalidId`] should the id not be
/// one of ours (tower-sessions' ids always are).
///
/// ```
/// use session_core::{Error, backend::tower_sessions::decode};
/// use time::OffsetDateTime;
///
/// let now = OffsetDateTime::now_utc();
/// let not_a_record = decode("AAAAAAAAAAAAAAAAAAAAAA", br#"{"json": true}"#, now);
/// assert!(matches!(not_a_record, Err(Error::Decode(_))));
/// ```
pub fn decode(name: &str, bytes: &[u8], now: OffsetDateTime) -> Result<Option<(SessionId, Session)>, Error> {
    let record: Record = rmp_serde::from_slice(bytes)
        .map_err(|e| Error::Decode(format!("not a tower-sessions record: {e}").into()))?;
    let id = record.id.to_string();
    if id != name {
        return Err(Error::Decode(
            "a tower-sessions record stored under another id".into(),
        ));
    }
    if record.expiry_date <= now {
        return Ok(None);
    }
    let id = SessionId::parse(&id)?;
    let data = record.data.into_iter().collect();
    Ok(Some((
        id,
        Session::from_data(data).expiring_at(record.expiry_date),
    )))
}

/// Whether `name` is a tower-sessions id in its canonical form (22
/// characters of unpadded URL-safe base64 for 16 bytes), so that a key or a
/// row another program keeps beside tower-sessions' is never taken for a
/// session: a reader skips every other name.
///
/// ```
/// use session_core::backend::tower_sessions::is_id;
///
/// assert!(is_id("AAAAAAAAAAAAAAAAAAAAAA"));
/// assert!(!is_id("cache:users")); // another program's key
/// assert!(!is_id("AAAAAAAAAAAAAAAAAAAAA_")); // not how tower-sessions writes an id
/// ```
pub fn is_id(name: &str) -> bool {
    name.len() == 22 && Id::from_str(name).is_ok_and(|id| id.to_string() == name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::Duration;

    use super::*;

    fn record(expiry_date: OffsetDateTime) -> Record {
        let data = HashMap::from([("user".to_owned(), serde_json::json!({"id": 7, "name": "ada"}))]);
        Record {
            id: Id::default(),
            data,
            expiry_date,
        }
    }

    #[test]
    fn a_record_becomes_the_same_session() {
        let now = OffsetDateTime::now_utc();
        let record = record(now + Duration::minutes(5));
        let bytes = rmp_serde::to_vec(&record).unwrap();
        let key = record.id.to_string();
        let (id, session) = decode(&key, &bytes, now).unwrap().unwrap();
        assert_eq!(id.as_str(), key);
        assert_eq!(
            session.get::<serde_json::Value>("user").unwrap(),
            Some(record.data["user"].clone())
        );
        assert_eq!(
            session.expires_at(),
            Session::new().expiring_at(record.expiry_date).expires_at()
        );
    }

    #[test]
    fn expired_foreign_and_misplaced_records() {
        let now = OffsetDateTime::now_utc();
        let old = record(now - Duration::seconds(1));
        let bytes = rmp_serde::to_vec(&old).unwrap();
        assert!(decode(&old.id.to_string(), &bytes, now).unwrap().is_none());
        assert!(matches!(
            decode(&Id::default().to_string(), &bytes, now),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            decode("x", b"{\"json\": true}", now),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn only_canonical_ids_are_ids() {
        let id = Id::default().to_string();
        assert!(is_id(&id));
        assert!(!is_id("sess 0123456789012345678901"));
        assert!(!is_id(&id[..21]));
        assert!(!is_id("AAAAAAAAAAAAAAAAAAAAA_")); // last character carries stray bits
    }
}
