//! express-session's stored JSON, written once for every backend's Express
//! layouts.
//!
//! Node's express-session hands its stores the session as one JSON object:
//! a `cookie` object (`originalMaxAge`, `expires`, `httpOnly`, `path`, and
//! whatever else the app configured) beside the app's own keys. Here the
//! app's keys are the [`Session`]'s data, the `cookie` object rides along
//! untouched in [`Session::express_cookie`], and the expiry is
//! `cookie.expires`:
//!
//! ```
//! use session_core::{Session, backend::{SessionParts, express}};
//! use time::macros::datetime;
//!
//! let json = br#"{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-02T03:04:05.678Z",
//!                 "httpOnly":true,"path":"/","sameSite":"lax"},"user":"ada"}"#;
//! let session = express::decode(json)?;
//! assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));
//! assert_eq!(session.expires_at(), Some(datetime!(2030-01-02 03:04:05.678 UTC)));
//! assert_eq!(session.express_cookie().and_then(|c| c.get("sameSite")), Some(&"lax".into()));
//!
//! // Written back with the expiry the store decided, every other cookie key kept.
//! let again = express::encode(&session, datetime!(2030-01-02 04:00:00 UTC))?;
//! let again = express::decode(&again)?;
//! assert_eq!(again.expires_at(), Some(datetime!(2030-01-02 04:00:00 UTC)));
//! assert_eq!(again.express_cookie().and_then(|c| c.get("sameSite")), Some(&"lax".into()));
//! # Ok::<(), session_core::Error>(())
//! ```
//!
//! A session created in Rust gets the cookie express-session would have
//! made: `{"originalMaxAge": <its lifetime in ms>, "expires": …,
//! "httpOnly": true, "path": "/"}`, so Node's next touch slides it by the
//! same lifetime. The data may not hold a key `cookie` (it is
//! express-session's own): [`encode`] refuses it with [`Error::Encode`].

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Error, Session, SessionData,
    backend::{SessionParts, check_storable, from_unix_millis, truncate_to_millis, unix_millis},
};

/// The top-level key express-session keeps its cookie object under.
pub const COOKIE_KEY: &str = "cookie";

/// The top-level key connect-redis-session stamps each write with.
pub const LAST_MODIFIED_KEY: &str = "lastModified";

/// How a Node store writes express-session's object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// As express-session hands it to every store with a JSON serializer
    /// (connect-redis, connect-pg-simple, connect-session-sequelize,
    /// session-pouchdb-store): `cookie.expires` an ISO 8601 date.
    #[default]
    Json,
    /// connect-redis-session's serializer: `cookie.expires` in unix
    /// milliseconds (and `cookie._expires`, when present, an ISO date), and
    /// a top-level `lastModified` in unix milliseconds, which is not data.
    ConnectRedisSession,
}

impl Flavor {
    /// Top-level keys the store keeps for itself.
    fn reserved(self) -> &'static [&'static str] {
        match self {
            Self::Json => &[COOKIE_KEY],
            Self::ConnectRedisSession => &[COOKIE_KEY, LAST_MODIFIED_KEY],
        }
    }
}

/// The session as express-session stores it, expiring at `expires_at` (the
/// absolute expiry the store applies: the session's own, or its default).
///
/// `cookie.expires` becomes `expires_at`, except for a session that has no
/// expiry of its own and came from Node with `"expires": null` (a cookie
/// that lasts for the browser session), which keeps its `null`.
///
/// # Errors
/// [`Error::Encode`] when the data holds a `cookie` key, nests deeper than
/// [`MAX_DEPTH`](crate::backend::MAX_DEPTH), or the expiry lies outside the
/// years JavaScript dates write as `YYYY`.
pub fn encode(session: &Session, expires_at: OffsetDateTime) -> Result<Vec<u8>, Error> {
    encode_as(Flavor::Json, session, expires_at, OffsetDateTime::now_utc())
}

/// [`encode`] for a store of `flavor`, written at `now`.
///
/// # Errors
/// As [`encode`]; with [`Flavor::ConnectRedisSession`] a data key
/// `lastModified` is refused too.
pub fn encode_as(
    flavor: Flavor,
    session: &Session,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    if let Some(key) = flavor
        .reserved()
        .iter()
        .find(|key| session.data().contains_key(**key))
    {
        return Err(Error::Encode(
            format!("the key `{key}` belongs to the Node store; an Express layout cannot store it as data")
                .into(),
        ));
    }
    check_storable(session.data())?;
    let mut cookie = cookie_for(session, expires_at)?;
    let last_modified = match flavor {
        Flavor::Json => None,
        Flavor::ConnectRedisSession => {
            if let Some(iso) = cookie.get("expires").cloned().filter(Value::is_string) {
                if cookie.contains_key("_expires") {
                    cookie.insert("_expires".into(), iso);
                }
                cookie.insert("expires".into(), Value::from(unix_millis(expires_at)));
            }
            Some(unix_millis(now))
        }
    };
    serde_json::to_vec(&Stored {
        cookie: &cookie,
        last_modified,
        data: session.data(),
    })
    .map_err(|e| Error::Encode(Box::new(e)))
}

/// A session from express-session's JSON: the data without `cookie`, the
/// cookie object kept, the expiry from `cookie.expires` (none when `null`).
///
/// # Errors
/// [`Error::Decode`] when the bytes are not a JSON object, or it has no
/// `cookie` object (express-session itself fails on such a record), or
/// `cookie.expires` is neither `null` nor a date.
pub fn decode(bytes: &[u8]) -> Result<Session, Error> {
    decode_as(Flavor::Json, bytes)
}

/// [`decode`] for a store of `flavor`; `cookie.expires` may be an ISO date
/// or unix milliseconds whatever the flavor.
///
/// # Errors
/// As [`decode`].
pub fn decode_as(flavor: Flavor, bytes: &[u8]) -> Result<Session, Error> {
    let mut data: SessionData = serde_json::from_slice(bytes).map_err(|e| Error::Decode(Box::new(e)))?;
    if flavor == Flavor::ConnectRedisSession {
        data.remove(LAST_MODIFIED_KEY);
    }
    let Some(Value::Object(cookie)) = data.remove(COOKIE_KEY) else {
        return Err(Error::Decode(
            "an express-session record without its `cookie` object".into(),
        ));
    };
    let expires_at = match cookie.get("expires") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            parse_js_date(text)
                .ok_or_else(|| Error::Decode("`cookie.expires` is not an ISO 8601 date".into()))?,
        ),
        Some(Value::Number(ms)) => Some(
            ms.as_i64()
                .and_then(|ms| from_unix_millis(ms).ok())
                .ok_or_else(|| Error::Decode("`cookie.expires` is not a time in unix milliseconds".into()))?,
        ),
        Some(_) => {
            return Err(Error::Decode(
                "`cookie.expires` is neither a date nor null".into(),
            ));
        }
    };
    let mut session = Session::from_data(data);
    session.set_expires_at(expires_at);
    session.set_express_cookie(Some(cookie));
    Ok(session)
}

/// `at` as JavaScript's `Date.prototype.toISOString` writes it:
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC.
///
/// # Errors
/// [`Error::Encode`] for years outside 0 to 9999 (JavaScript writes those
/// with six digits and a sign, which no Express store expects).
pub fn js_date(at: OffsetDateTime) -> Result<String, Error> {
    let at = at.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&at.year()) {
        return Err(Error::Encode(
            "an expiry outside the years 0 to 9999 has no four-digit JavaScript date".into(),
        ));
    }
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    ))
}

/// Reads an ISO 8601 date as Node writes it (`2030-01-02T03:04:05.678Z`;
/// any RFC 3339 form is accepted), truncated to the millisecond.
pub fn parse_js_date(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(truncate_to_millis)
}

/// How far a store's own expiry may lie from `cookie.expires` while both
/// describe the same write: Node stores round to whole seconds (a Redis TTL,
/// a SQL timestamp), and a TTL is only known to the moment of the read.
pub const SAME_WRITE: time::Duration = time::Duration::seconds(2);

/// The expiry of a session a Node store holds: the store's own record of it
/// (`stored`: a key's TTL, a row's timestamp) is the truth, since Node's
/// `touch` moves only that, but it is coarser than `cookie.expires`, which
/// is exact to the millisecond as written. The cookie's date is taken while
/// it lies within [`SAME_WRITE`] of the store's; otherwise the store's.
///
/// ```
/// use session_core::backend::express::reconcile_expiry;
/// use time::{Duration, macros::datetime};
///
/// let written = datetime!(2030-01-01 00:00:00.123 UTC);
/// let rounded_up = datetime!(2030-01-01 00:00:01 UTC);
/// assert_eq!(reconcile_expiry(rounded_up, Some(written)), written);
/// let touched = written + Duration::minutes(5);
/// assert_eq!(reconcile_expiry(touched, Some(written)), touched);
/// ```
pub fn reconcile_expiry(stored: OffsetDateTime, cookie: Option<OffsetDateTime>) -> OffsetDateTime {
    match cookie {
        Some(cookie) if (stored - cookie).abs() <= SAME_WRITE => cookie,
        _ => stored,
    }
}

/// The cookie object to write: the one read from Node with `expires` brought
/// up to date, or the one express-session makes for a new session.
fn cookie_for(session: &Session, expires_at: OffsetDateTime) -> Result<SessionData, Error> {
    let expires = Value::String(js_date(expires_at)?);
    Ok(match session.express_cookie() {
        Some(cookie) => {
            let mut cookie = cookie.clone();
            let browser_session =
                session.expires_at().is_none() && matches!(cookie.get("expires"), None | Some(Value::Null));
            if !browser_session {
                cookie.insert("expires".into(), expires);
            }
            cookie
        }
        None => {
            let lifetime = session
                .expires_at()
                .map(|at| (at - OffsetDateTime::now_utc()).whole_milliseconds().max(0))
                .and_then(|ms| i64::try_from(ms).ok());
            let mut cookie = SessionData::new();
            cookie.insert("originalMaxAge".into(), lifetime.map_or(Value::Null, Value::from));
            cookie.insert("expires".into(), expires);
            cookie.insert("httpOnly".into(), Value::Bool(true));
            cookie.insert("path".into(), Value::from("/"));
            cookie
        }
    })
}

/// The stored object: `cookie` first, as express-session writes it, then
/// the store's stamp if it has one, then the data's keys, serialised in
/// place (the data is never copied).
struct Stored<'a> {
    cookie: &'a SessionData,
    last_modified: Option<i64>,
    data: &'a SessionData,
}

impl Serialize for Stored<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.data.len() + 2))?;
        map.serialize_entry(COOKIE_KEY, self.cookie)?;
        if let Some(at) = self.last_modified {
            map.serialize_entry(LAST_MODIFIED_KEY, &at)?;
        }
        for (key, value) in self.data {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap_or_default()
    }

    #[test]
    fn node_dates_round_trip_to_the_millisecond() {
        let at = datetime!(2026-11-26 18:50:19.911_999 UTC);
        assert_eq!(js_date(at).ok().as_deref(), Some("2026-11-26T18:50:19.911Z"));
        assert_eq!(
            parse_js_date("2026-11-26T18:50:19.911Z"),
            Some(datetime!(2026-11-26 18:50:19.911 UTC))
        );
        assert_eq!(
            parse_js_date("2026-11-26T19:50:19.911+01:00"),
            Some(datetime!(2026-11-26 18:50:19.911 UTC))
        );
        assert_eq!(parse_js_date("tomorrow"), None);
        assert!(js_date(datetime!(-0001-01-01 00:00 UTC)).is_err());
    }

    #[test]
    fn every_cookie_key_survives_and_expires_follows_the_store() {
        let node = bytes(json!({
            "cookie": {"originalMaxAge": 86_400_000, "partitioned": true, "priority": "high",
                       "expires": "2030-01-01T00:00:00.000Z", "secure": true, "httpOnly": true,
                       "domain": "example.com", "path": "/app", "sameSite": "strict"},
            "user": "ada", "n": 1.5
        }));
        let session = decode(&node).unwrap_or_default();
        assert_eq!(session.data().len(), 2);
        let written = encode(&session, datetime!(2030-02-01 00:00 UTC)).unwrap_or_default();
        let written: Value = serde_json::from_slice(&written).unwrap_or_default();
        assert_eq!(
            written,
            json!({
                "cookie": {"originalMaxAge": 86_400_000, "partitioned": true, "priority": "high",
                           "expires": "2030-02-01T00:00:00.000Z", "secure": true, "httpOnly": true,
                           "domain": "example.com", "path": "/app", "sameSite": "strict"},
                "user": "ada", "n": 1.5
            })
        );
    }

    #[test]
    fn a_browser_session_cookie_keeps_its_null_expiry() {
        let node = bytes(
            json!({"cookie": {"originalMaxAge": null, "expires": null, "httpOnly": true,
                                           "path": "/"}, "user": "ada"}),
        );
        let session = decode(&node).unwrap_or_default();
        assert_eq!(session.expires_at(), None);
        let written = encode(&session, datetime!(2030-01-01 00:00 UTC)).unwrap_or_default();
        let written: Value = serde_json::from_slice(&written).unwrap_or_default();
        assert_eq!(written["cookie"]["expires"], Value::Null);
    }

    #[test]
    fn a_rust_session_gets_the_cookie_express_would_make() {
        let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let mut session = Session::new().expiring_at(expires);
        assert!(session.insert("user", "ada").is_ok());
        let written = encode(&session, expires).unwrap_or_default();
        let written: Value = serde_json::from_slice(&written).unwrap_or_default();
        let cookie = &written["cookie"];
        assert_eq!(cookie["httpOnly"], json!(true));
        assert_eq!(cookie["path"], json!("/"));
        assert_eq!(cookie["expires"], json!(js_date(expires).unwrap_or_default()));
        let max_age = cookie["originalMaxAge"].as_i64().unwrap_or_default();
        assert!((3_590_000..=3_600_000).contains(&max_age), "{max_age}");
        assert_eq!(written["user"], json!("ada"));
    }

    #[test]
    fn connect_redis_session_writes_epoch_milliseconds_and_a_stamp() {
        let node = bytes(json!({
            "cookie": {"path": "/", "_expires": "2030-01-01T00:00:00.000Z", "originalMaxAge": 60_000,
                       "httpOnly": true, "expires": 1_893_456_000_000_i64},
            "lastModified": 1_893_455_940_000_i64, "n": 1
        }));
        let session = decode_as(Flavor::ConnectRedisSession, &node).unwrap_or_default();
        assert_eq!(session.expires_at(), Some(datetime!(2030-01-01 00:00 UTC)));
        assert_eq!(session.data().len(), 1, "lastModified is not data");
        let now = datetime!(2030-01-01 00:00:30 UTC);
        let written = encode_as(
            Flavor::ConnectRedisSession,
            &session,
            datetime!(2030-01-01 00:01:30 UTC),
            now,
        )
        .unwrap_or_default();
        let written: Value = serde_json::from_slice(&written).unwrap_or_default();
        assert_eq!(written["cookie"]["expires"], json!(1_893_456_090_000_i64));
        assert_eq!(written["cookie"]["_expires"], json!("2030-01-01T00:01:30.000Z"));
        assert_eq!(written["lastModified"], json!(1_893_456_030_000_i64));
        assert_eq!(written["n"], json!(1));
        let mut stamped = Session::new();
        assert!(stamped.insert("lastModified", 1).is_ok());
        assert!(encode_as(Flavor::ConnectRedisSession, &stamped, now, now).is_err());
        assert!(encode_as(Flavor::Json, &stamped, now, now).is_ok());
    }

    #[test]
    fn records_express_cannot_read_are_refused() {
        let mut session = Session::new();
        assert!(session.insert("cookie", "mine").is_ok());
        assert!(matches!(
            encode(&session, datetime!(2030-01-01 00:00 UTC)),
            Err(Error::Encode(_))
        ));
        for bad in [
            json!({"user": "ada"}),
            json!({"cookie": "not an object"}),
            json!({"cookie": {"expires": true}}),
            json!({"cookie": {"expires": 1e300}}),
            json!({"cookie": {"expires": "soon"}}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(decode(&bytes(bad.clone())), Err(Error::Decode(_))),
                "{bad}"
            );
        }
    }
}
