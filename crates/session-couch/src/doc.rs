//! One CouchDB document per session: its id, and its body both ways.
//!
//! ```text
//! { "_id": "s:<session id>", "_rev": "...", "expires_at": <unix ms>,
//!   "destroyed": false, "data": "<the codec's JSON text>" }
//! ```
//!
//! The `s:` prefix keeps every session id clear of the ids CouchDB reserves
//! (`_design/...`, `_local/...`, anything starting with `_`) and puts all
//! sessions in one key range that excludes design documents.
//!
//! `data` holds the codec's output as a string, not as a nested object: a
//! server written in JavaScript (PouchDB) would otherwise turn integers past
//! 2^53 into doubles. A codec whose output is not JSON stores base64 in
//! `data_b64` instead.

use session_core::backend::SessionParts;
use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::Deserialize;
use session_core::{
    Codec, Error, Session, SessionData, SessionId, backend,
    backend::{Occupant, encode},
};

pub(crate) const PREFIX: &str = "s:";

pub(crate) fn doc_id(id: &SessionId) -> String {
    format!("{PREFIX}{}", id.as_str())
}

pub(crate) fn session_id(doc_id: &str) -> Result<SessionId, Error> {
    let id = doc_id
        .strip_prefix(PREFIX)
        .ok_or_else(|| Error::Decode("a document outside the session range".into()))?;
    SessionId::parse(id).map_err(|e| Error::Decode(Box::new(e)))
}

/// A document id as one percent-encoded path segment.
pub(crate) fn encode_id(doc_id: &str) -> String {
    percent_encoding::utf8_percent_encode(doc_id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The path of a document: the database, then the percent-encoded id.
pub(crate) fn path(db: &str, doc_id: &str) -> String {
    format!("/{db}/{}", encode_id(doc_id))
}

/// A stored document as read back.
#[derive(Deserialize)]
pub(crate) struct Stored<'a> {
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
    #[serde(default)]
    pub(crate) expires_at: i64,
    #[serde(default)]
    pub(crate) destroyed: bool,
    #[serde(borrow, default)]
    data: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    data_b64: Option<String>,
}

impl Stored<'_> {
    /// What the document is to a write at `now_ms` (unix ms).
    pub(crate) fn occupant(&self, now_ms: i64) -> Occupant {
        Occupant::of(self.destroyed, self.expires_at, now_ms)
    }

    pub(crate) fn data(&self, codec: &dyn Codec) -> Result<SessionData, Error> {
        match (&self.data, &self.data_b64) {
            (Some(text), _) => codec.decode(text.as_bytes()),
            (None, Some(b64)) => codec.decode(&STANDARD.decode(b64).map_err(|e| Error::Decode(Box::new(e)))?),
            (None, None) => Err(Error::Decode("a session document without data".into())),
        }
    }

    pub(crate) fn session(&self, codec: &dyn Codec) -> Result<Session, Error> {
        Ok(Session::from_shared(
            Arc::new(self.data(codec)?),
            Some(backend::from_unix_millis(self.expires_at)?),
        ))
    }
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Stored<'_>, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Decode(Box::new(e)))
}

/// The body of a live session document. Data nested deeper than the
/// contract allows is refused here, before anything is sent.
pub(crate) fn live_body(
    codec: &dyn Codec,
    doc_id: &str,
    rev: Option<&str>,
    data: &SessionData,
    expires_at: i64,
) -> Result<Vec<u8>, Error> {
    let mut body = header(doc_id, rev, expires_at, false);
    if codec.is_json() {
        let text = String::from_utf8(encode(codec, data)?).map_err(|e| Error::Encode(Box::new(e)))?;
        body.extend_from_slice(b",\"data\":");
        body.extend_from_slice(json_string(&text).as_bytes());
    } else {
        let encoded = STANDARD.encode(encode(codec, data)?);
        body.extend_from_slice(b",\"data_b64\":\"");
        body.extend_from_slice(encoded.as_bytes());
        body.push(b'"');
    }
    body.push(b'}');
    Ok(body)
}

/// The body of a tombstone lasting until `until` (unix ms).
pub(crate) fn tombstone_body(doc_id: &str, rev: Option<&str>, until: i64) -> Vec<u8> {
    let mut body = header(doc_id, rev, until, true);
    body.extend_from_slice(b",\"data\":\"{}\"}");
    body
}

fn header(doc_id: &str, rev: Option<&str>, expires_at: i64, destroyed: bool) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(b"{\"_id\":");
    body.extend_from_slice(json_string(doc_id).as_bytes());
    if let Some(rev) = rev {
        body.extend_from_slice(b",\"_rev\":");
        body.extend_from_slice(json_string(rev).as_bytes());
    }
    body.extend_from_slice(format!(",\"expires_at\":{expires_at},\"destroyed\":{destroyed}").as_bytes());
    body
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The generation of a revision (`3-abc...` is 3).
pub(crate) fn generation(rev: &str) -> u64 {
    rev.split_once('-').and_then(|(n, _)| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::JsonCodec;

    #[test]
    fn ids_are_escaped_and_round_trip() {
        let id = SessionId::parse("_design/x\"y\\z").unwrap();
        let doc = doc_id(&id);
        assert_eq!(doc, "s:_design/x\"y\\z");
        assert_eq!(session_id(&doc).unwrap(), id);
        assert_eq!(path("db", &doc), "/db/s%3A%5Fdesign%2Fx%22y%5Cz");
        assert!(session_id("_design/idx").is_err());
    }

    #[test]
    fn bodies_parse_back() {
        let mut data = SessionData::new();
        data.insert("k".into(), "v\u{0}".into());
        let body = live_body(&JsonCodec, "s:a\"b", Some("1-x"), &data, 42).unwrap();
        let stored = parse(&body).unwrap();
        assert_eq!(
            (stored.rev.as_str(), stored.expires_at, stored.destroyed),
            ("1-x", 42, false)
        );
        assert_eq!(stored.data(&JsonCodec).unwrap(), data);
        let tomb = tombstone_body("s:a", None, 7);
        let body = [&tomb[..tomb.len() - 1], b",\"_rev\":\"2-y\"}"].concat();
        let stored = parse(&body).unwrap();
        assert!(stored.destroyed && stored.expires_at == 7);
    }

    #[test]
    fn data_nested_deeper_than_the_contract_allows_is_refused_before_sending() {
        let mut value = serde_json::json!(1);
        for _ in 0..session_core::backend::MAX_DEPTH {
            value = serde_json::Value::Array(vec![value]);
        }
        let data = SessionData::from_iter([("deep".to_owned(), value)]);
        let refused = live_body(&JsonCodec, "s:a", None, &data, 42);
        assert!(matches!(refused, Err(Error::Encode(_))));
    }

    #[test]
    fn generations_parse() {
        assert_eq!(generation("12-abc"), 12);
        assert_eq!(generation("garbage"), 0);
    }
}
