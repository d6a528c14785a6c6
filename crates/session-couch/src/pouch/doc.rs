//! One session-pouchdb-store document: its id, and its body both ways.
//!
//! ```text
//! { "_id": "<session id>", "_rev": "...",
//!   "cookie": { "originalMaxAge": ..., "expires": "2030-01-02T03:04:05.678Z", "httpOnly": true, "path": "/" },
//!   "<data key>": <value>, ...,
//!   "$ts": <unix ms of the write> }
//! ```
//!
//! The body between `_id`/`_rev` and `$ts` is exactly what
//! [`session_core::backend::express`] writes. Reading strips every key that is
//! CouchDB's (`_id`, `_rev`, `_deleted`, any other starting with `_`) or the
//! stores' (`$ts`, `$dirty`, `$commit`, `$destroyed`), so they never surface
//! as data, and writing refuses data holding one of them.

use std::{borrow::Cow, collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{
    Value,
    value::{RawValue, to_raw_value},
};
use session_core::{
    Error, Session, SessionId, backend,
    backend::express::{self, COOKIE_KEY, Flavor},
};
use time::OffsetDateTime;

use super::expiry;

/// When Node last wrote or touched the session (unix ms).
pub(crate) const TS: &str = "$ts";
/// Node's "not yet committed" flag; always `false` in the database.
const DIRTY: &str = "$dirty";
/// Node's "commit now" flag.
const COMMIT: &str = "$commit";
/// Until when (unix ms) the id stays destroyed: the tombstone.
pub(crate) const DESTROYED: &str = "$destroyed";

/// The stores' own top-level keys.
const STORE_KEYS: [&str; 4] = [TS, DIRTY, COMMIT, DESTROYED];

/// `cookie.expires` of a revoked session: the Unix epoch, long past.
pub(crate) const REVOKED_EXPIRES: &str = "1970-01-01T00:00:00.000Z";

/// How the ids CouchDB reserves (a leading `_`) are stored, and how ids
/// that would look like them (a leading `%`) are kept apart.
const ESCAPED_UNDERSCORE: &str = "%5F";
const ESCAPED_PERCENT: &str = "%25";
/// The ids `.` and `..`: as a URL path segment, even percent-encoded, they
/// mean "this" and "up" (the WHATWG URL rules), so a request for either
/// would reach the database itself.
const DOTS: [(&str, &str); 2] = [(".", "%2E"), ("..", "%2E%2E")];

/// Whether a top-level key is CouchDB's or the stores', never data.
pub(crate) fn is_store_key(key: &str) -> bool {
    key.starts_with('_') || STORE_KEYS.contains(&key)
}

/// Whether a document id is CouchDB's own (a design document): the only
/// documents of the database that are not sessions, as a session id with a
/// leading `_` is stored escaped.
pub(crate) fn is_couchdbs(doc_id: &str) -> bool {
    doc_id.starts_with('_')
}

/// The document id of a session: the id itself, except that a leading `_`
/// (reserved by CouchDB) becomes `%5F`, the ids `.` and `..` become `%2E`
/// and `%2E%2E`, and a leading `%` becomes `%25`, so the mapping stays
/// one-to-one.
pub(crate) fn doc_id(id: &SessionId) -> Cow<'_, str> {
    let id = id.as_str();
    if let Some((_, escaped)) = DOTS.iter().find(|(dots, _)| *dots == id) {
        Cow::Borrowed(escaped)
    } else if let Some(rest) = id.strip_prefix('_') {
        Cow::Owned(format!("{ESCAPED_UNDERSCORE}{rest}"))
    } else if let Some(rest) = id.strip_prefix('%') {
        Cow::Owned(format!("{ESCAPED_PERCENT}{rest}"))
    } else {
        Cow::Borrowed(id)
    }
}

/// The session id a document id stands for; `None` for ids no session
/// maps to (design documents, other escapes, ids that are not valid
/// session ids).
pub(crate) fn session_id(doc_id: &str) -> Option<SessionId> {
    let id = if let Some((dots, _)) = DOTS.iter().find(|(_, escaped)| *escaped == doc_id) {
        Cow::Borrowed(*dots)
    } else if let Some(rest) = doc_id.strip_prefix(ESCAPED_UNDERSCORE) {
        Cow::Owned(format!("_{rest}"))
    } else if let Some(rest) = doc_id.strip_prefix(ESCAPED_PERCENT) {
        Cow::Owned(format!("%{rest}"))
    } else if doc_id.starts_with(['_', '%']) {
        return None;
    } else {
        Cow::Borrowed(doc_id)
    };
    SessionId::parse(&id).ok()
}

/// A session as express-session stores it, without the object's braces:
/// what a write's body holds between `_id`/`_rev` and `$ts`.
pub(crate) struct Encoded(Vec<u8>);

/// `session` as express-session stores it, expiring at `expires_at`,
/// written at `now`: encoded once per write, before anything is read or
/// sent, so data this layout cannot store never reaches the server.
///
/// # Errors
/// [`Error::Encode`] when the data holds a key that is not data here, or
/// anything [`express::encode_as`] refuses.
pub(crate) fn encode(
    session: &Session,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Encoded, Error> {
    refuse_keys(session)?;
    // This also refuses data nested deeper than the contract allows.
    let express = express::encode_as(Flavor::Json, session, expires_at, now)?;
    // `{"cookie":{...},...}`: never empty, it always has its cookie.
    let members = express
        .strip_prefix(b"{")
        .and_then(|rest| rest.strip_suffix(b"}"))
        .filter(|members| !members.is_empty())
        .ok_or_else(|| Error::Encode("express-session's JSON is not an object with a cookie".into()))?;
    Ok(Encoded(members.to_vec()))
}

/// The body `set`, `create` and `touch` write: the session, under its id
/// and the revision it replaces, stamped `now`.
pub(crate) fn body(doc_id: &str, rev: Option<&str>, session: &Encoded, now: OffsetDateTime) -> Vec<u8> {
    let mut body = Vec::with_capacity(session.0.len() + doc_id.len() + 96);
    body.extend_from_slice(b"{\"_id\":");
    body.extend_from_slice(json_string(doc_id).as_bytes());
    if let Some(rev) = rev {
        body.extend_from_slice(b",\"_rev\":");
        body.extend_from_slice(json_string(rev).as_bytes());
    }
    body.push(b',');
    body.extend_from_slice(&session.0);
    // No `$dirty`: a Node process merges this document into its cached
    // copy, and a `false` there would cancel a change it has not committed
    // yet (its commit timer writes only dirty sessions).
    let stamp = format!(",\"{TS}\":{}}}", backend::unix_millis(now));
    body.extend_from_slice(stamp.as_bytes());
    body
}

/// Refuses data keys that are not data in this layout: CouchDB's, the
/// stores', and express-session's `cookie`.
///
/// # Errors
/// [`Error::Encode`], saying why.
fn refuse_keys(session: &Session) -> Result<(), Error> {
    let data = session.data();
    let refused = if data.keys().any(|key| key.starts_with('_')) {
        Some("keys starting with `_` belong to CouchDB")
    } else if let Some(key) = STORE_KEYS.iter().find(|key| data.contains_key(**key)) {
        Some(match *key {
            TS => "the key `$ts` belongs to session-pouchdb-store",
            DIRTY => "the key `$dirty` belongs to session-pouchdb-store",
            COMMIT => "the key `$commit` belongs to session-pouchdb-store",
            _ => "the key `$destroyed` marks a destroyed session",
        })
    } else {
        None
    };
    if let Some(why) = refused {
        return Err(Error::Encode(
            format!("{why}; the PouchDbStore layout cannot store it as data").into(),
        ));
    }
    if data.contains_key(COOKIE_KEY) {
        return Err(Error::Encode(
            "the key `cookie` belongs to express-session; an Express layout cannot store it as data".into(),
        ));
    }
    Ok(())
}

/// What every write and destroy needs to know of a stored revision.
#[derive(Deserialize)]
pub(crate) struct Meta {
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
    #[serde(rename = "_deleted", default)]
    pub(crate) deleted: bool,
    #[serde(rename = "$destroyed", default)]
    destroyed: Option<Value>,
}

impl Meta {
    /// Reads the revision's metadata from its body.
    pub(crate) fn of(raw: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(raw).map_err(|e| Error::Decode(Box::new(e)))
    }

    /// When its tombstone lapses, if it carries one.
    pub(crate) fn destroyed_until(&self) -> Option<i64> {
        self.destroyed.as_ref().and_then(millis)
    }

    /// Whether it is a tombstone still within its grace window at `now_ms`.
    pub(crate) fn is_tombstone_at(&self, now_ms: i64) -> bool {
        self.destroyed_until().is_some_and(|until| until > now_ms)
    }
}

/// A number of milliseconds, as Node writes them (an integer; a double is
/// taken too).
pub(crate) fn millis(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|ms| ms.is_finite())
            // Saturates: no stored time is near i64's range.
            .map(|ms| ms as i64)
    })
}

/// A stored session: its data without CouchDB's or the stores' keys, its
/// cookie object, and its expiry (`cookie.expires`, or `$ts` plus
/// `default_ttl` when that is `null`).
///
/// # Errors
/// [`Error::Decode`] for a session this layout cannot read: no `cookie`
/// object, data no Rust string holds, an expiry that cannot be told.
pub(crate) fn decode(raw: &[u8], default_ttl: Duration) -> Result<Session, Error> {
    let mut session = express::decode(raw)?;
    let data = session.data_mut();
    let written = data.get(TS).and_then(millis);
    data.retain(|key, _| !is_store_key(key));
    let expires_at = expiry::expires_at(session.expires_at(), written, default_ttl)?;
    session.set_expires_at(Some(expires_at));
    Ok(session)
}

/// The live session a document holds at `now`: `None` when it expired or
/// carries a tombstone, whether or not its data can be read.
///
/// # Errors
/// As [`decode`], for a live document or one whose expiry or tombstone
/// cannot be read.
pub(crate) fn live(raw: &[u8], now: OffsetDateTime, default_ttl: Duration) -> Result<Option<Session>, Error> {
    let occupant = expiry::occupant(raw, now, default_ttl);
    crate::live::judge(occupant, |occupant| *occupant, |_| decode(raw, default_ttl)).transpose()
}

/// The session id of a session document: [`session_id`], or why not.
///
/// # Errors
/// [`Error::Decode`] when no session id maps to `doc_id` (a session
/// another program wrote under an id this layout cannot hold).
pub(crate) fn read_id(doc_id: &str) -> Result<SessionId, Error> {
    session_id(doc_id)
        .ok_or_else(|| Error::Decode("a session document under an id no session id maps to".into()))
}

/// A member of a revoked body. Those kept from the stored body stay the
/// JSON the server sent: a body holding what no Rust string can (a lone
/// surrogate, in the id or the data) is revoked like any other.
#[derive(Serialize)]
#[serde(untagged)]
enum Member<'a> {
    Kept(&'a RawValue),
    Object(Object<'a>),
    Text(&'a str),
    Number(i64),
    Flag(bool),
    Null,
}

type Object<'a> = BTreeMap<Cow<'a, str>, Member<'a>>;

/// The body that revokes the session in `raw` (a document of this layout,
/// or a deleted revision): every data key `null`, `cookie.expires` in the
/// past, `$ts` 0 (so Node's scavenger drops its cached copy at its next
/// run), `_deleted` when `deleted`, and `$destroyed` when `until` (unix ms)
/// is given.
///
/// # Errors
/// [`Error::Encode`] should the body not serialize.
pub(crate) fn revoked(
    raw: &[u8],
    doc_id: &str,
    rev: Option<&str>,
    deleted: bool,
    until: Option<i64>,
) -> Result<Vec<u8>, Error> {
    let doc_id = to_raw_value(doc_id).map_err(|e| Error::Encode(Box::new(e)))?;
    let body = revoked_doc(raw, &doc_id, rev, deleted, until)?;
    Ok(Box::<str>::from(body).into_string().into_bytes())
}

/// [`revoked`], for `_bulk_docs`, under the id `doc_id` as the server sent
/// it.
///
/// # Errors
/// As [`revoked`].
pub(crate) fn revoked_doc(
    raw: &[u8],
    doc_id: &RawValue,
    rev: Option<&str>,
    deleted: bool,
    until: Option<i64>,
) -> Result<Box<RawValue>, Error> {
    // A key no Rust string holds leaves nothing of the body to read: no
    // data key is nulled then, and `$ts` 0 still has Node drop its copy.
    let stored: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_slice(raw).unwrap_or_default();
    let mut body = Object::new();
    body.insert("_id".into(), Member::Kept(doc_id));
    if let Some(rev) = rev {
        body.insert("_rev".into(), Member::Text(rev));
    }
    if deleted {
        body.insert("_deleted".into(), Member::Flag(true));
    }
    if let Some(cookie) = stored.get(COOKIE_KEY).and_then(|cookie| revoked_cookie(cookie)) {
        body.insert(COOKIE_KEY.into(), cookie);
    }
    for key in stored.keys() {
        if key != COOKIE_KEY && !is_store_key(key) {
            body.insert(key.clone(), Member::Null);
        }
    }
    body.insert(TS.into(), Member::Number(0));
    body.insert(DIRTY.into(), Member::Flag(false));
    if let Some(until) = until {
        body.insert(DESTROYED.into(), Member::Number(until));
    }
    to_raw_value(&body).map_err(|e| Error::Encode(Box::new(e)))
}

/// The cookie object `cookie` with `expires` in the past; `None` when it
/// is not an object (or holds a key no Rust string can).
fn revoked_cookie(cookie: &RawValue) -> Option<Member<'_>> {
    let cookie: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(cookie.get()).ok()?;
    let mut cookie: Object<'_> = cookie
        .into_iter()
        .map(|(key, value)| (key, Member::Kept(value)))
        .collect();
    cookie.insert("expires".into(), Member::Text(REVOKED_EXPIRES));
    Some(Member::Object(cookie))
}

/// The body of a tombstone for an id that holds no document.
pub(crate) fn bare_tombstone(doc_id: &str, until: i64) -> Vec<u8> {
    format!(
        "{{\"_id\":{},\"_deleted\":true,\"{TS}\":0,\"{DIRTY}\":false,\"{DESTROYED}\":{until}}}",
        json_string(doc_id)
    )
    .into_bytes()
}

fn json_string(text: &str) -> String {
    Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use session_core::backend::SessionParts;
    use time::macros::datetime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn bytes(value: &Value) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn ids_map_one_to_one_and_reserved_ones_are_escaped() {
        for (id, stored) in [
            ("abc", "abc"),
            ("_design", "%5Fdesign"),
            ("_", "%5F"),
            ("%", "%25"),
            ("%5Fx", "%255Fx"),
            ("a_b%", "a_b%"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "..."),
            ("%2E", "%252E"),
        ] {
            let id = SessionId::parse(id).unwrap();
            assert_eq!(doc_id(&id), stored);
            assert_eq!(session_id(stored), Some(id));
        }
        for foreign in ["_design/idx", "%41", "%", "%2E.", "a b"] {
            assert_eq!(session_id(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn the_body_is_express_json_with_the_stores_stamps() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let expires = datetime!(2030-01-02 00:00:00.5 UTC);
        let mut session = Session::new().expiring_at(expires);
        session.insert("user", "ada").unwrap();
        let body = body("abc", Some("1-x"), &encode(&session, expires, now).unwrap(), now);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["_id"], json!("abc"));
        assert_eq!(body["_rev"], json!("1-x"));
        assert_eq!(body["cookie"]["expires"], json!("2030-01-02T00:00:00.500Z"));
        assert_eq!(body["user"], json!("ada"));
        assert_eq!(body["$ts"], json!(1_893_456_000_000_i64));
        assert_eq!(body.get("$dirty"), None, "never cancels a Node commit");
    }

    #[test]
    fn keys_that_are_not_data_here_are_refused() {
        let now = datetime!(2030-01-01 00:00 UTC);
        for key in [
            "_id",
            "_rev",
            "_attachments",
            "$ts",
            "$dirty",
            "$commit",
            "$destroyed",
            "cookie",
        ] {
            let mut session = Session::new();
            session.insert(key, 1).unwrap();
            let refused = encode(&session, now, now);
            assert!(matches!(refused, Err(Error::Encode(_))), "{key}");
        }
        let mut fine = Session::new();
        fine.insert("$other", 1).unwrap();
        assert!(encode(&fine, now, now).is_ok());
    }

    #[test]
    fn reading_strips_what_is_not_data_and_takes_the_cookies_date() {
        let node = json!({
            "cookie": {"originalMaxAge": 60_000, "expires": "2030-01-01T00:01:00.000Z", "httpOnly": true,
                       "path": "/", "sameSite": "lax"},
            "user": "ada", "_id": "abc", "_rev": "2-y", "$ts": 1_893_455_940_000_i64, "$dirty": false,
            "$commit": true, "_deleted": false, "$destroyed": 5
        });
        let session = decode(&bytes(&node), DAY).unwrap();
        assert_eq!(session.data().len(), 1);
        assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ada"));
        assert_eq!(session.expires_at(), Some(datetime!(2030-01-01 00:01 UTC)));
        assert_eq!(
            session.express_cookie().and_then(|c| c.get("sameSite")),
            Some(&json!("lax"))
        );
    }

    #[test]
    fn a_browser_session_cookie_lives_the_default_ttl_from_its_last_write() {
        let node = json!({"cookie": {"originalMaxAge": null, "expires": null, "httpOnly": true, "path": "/"},
                          "$ts": 1_893_456_000_000_i64, "$dirty": false});
        let session = decode(&bytes(&node), DAY).unwrap();
        assert_eq!(session.expires_at(), Some(datetime!(2030-01-02 00:00 UTC)));
        let untimed = json!({"cookie": {"expires": null}});
        assert!(matches!(decode(&bytes(&untimed), DAY), Err(Error::Decode(_))));
    }

    #[test]
    fn a_tombstone_hides_the_session_until_it_lapses() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let raw = bytes(
            &json!({"_rev": "3-z", "cookie": {"expires": "2030-01-02T00:00:00.000Z"},
                                "$destroyed": 1_893_456_000_001_i64}),
        );
        assert!(live(&raw, now, DAY).unwrap().is_none());
        let later = datetime!(2030-01-01 00:00:00.001 UTC);
        assert!(live(&raw, later, DAY).unwrap().is_some());
    }

    #[test]
    fn the_revoked_body_nulls_every_data_key_and_keeps_the_cookie() {
        let node = json!({"_id": "abc", "_rev": "1-x", "cookie": {"expires": "2030-01-01T00:00:00.000Z",
                          "path": "/"}, "user": "ada", "cart": [1, 2], "$ts": 5, "$dirty": false});
        let body = revoked(&bytes(&node), "abc", Some("1-x"), true, Some(42)).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"_id": "abc", "_rev": "1-x", "_deleted": true,
                   "cookie": {"expires": REVOKED_EXPIRES, "path": "/"}, "user": null, "cart": null,
                   "$ts": 0, "$dirty": false, "$destroyed": 42})
        );
        let bare: Value = serde_json::from_slice(&bare_tombstone("a\"b", 7)).unwrap();
        assert_eq!(
            bare,
            json!({"_id": "a\"b", "_deleted": true, "$ts": 0, "$dirty": false, "$destroyed": 7})
        );
    }

    #[test]
    fn what_no_rust_string_holds_is_revoked_too() {
        // A lone surrogate: JSON that no Rust string can hold.
        let lone = |text: &str| text.replace("LONE", "\\ud800");
        let id = RawValue::from_string(lone(r#""aLONE""#)).unwrap();
        let stored = lone(r#"{"_id":"aLONE","cookie":{"expires":"LONE","path":"LONE"},"user":"LONE"}"#);
        let body = revoked_doc(stored.as_bytes(), &id, Some("1-a"), true, None).unwrap();
        let cookie = lone(r#""cookie":{"expires":"1970-01-01T00:00:00.000Z","path":"LONE"}"#);
        for member in [&lone(r#""_id":"aLONE""#), &cookie, r#""user":null"#] {
            assert!(body.get().contains(member), "{member} in {body}");
        }
        // A key none holds: nothing of the body is read, the revoke still goes.
        let keyed = lone(r#"{"LONE":1,"user":"ada"}"#);
        let body = revoked_doc(keyed.as_bytes(), &id, Some("1-a"), true, None).unwrap();
        let bare = lone(r#"{"$dirty":false,"$ts":0,"_deleted":true,"_id":"aLONE","_rev":"1-a"}"#);
        assert_eq!(body.get(), bare);
    }
}
