//! tower-sessions' stored record: MessagePack of `Record { id, data,
//! expiry_date }`, as its Redis and SQL stores write it.

use std::str::FromStr;

use session_core::{Error, Session, SessionId};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};

/// The session `bytes` hold, stored under the id `key_id`; `None` when it
/// has expired (the stores keep expired records until they purge them).
///
/// # Errors
/// [`Error::Decode`] when the bytes are not a record, or hold the record
/// of another id.
pub(crate) fn decode(
    key_id: &str,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<Option<(SessionId, Session)>, Error> {
    let record: Record = rmp_serde::from_slice(bytes)
        .map_err(|e| Error::Decode(format!("not a tower-sessions record: {e}").into()))?;
    let id = record.id.to_string();
    if id != key_id {
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
/// characters of unpadded URL-safe base64 for 16 bytes), so a key or row
/// of another program is never taken for a session.
pub(crate) fn is_id(name: &str) -> bool {
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
