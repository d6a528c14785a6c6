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
use serde_json::value::RawValue;
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

/// A stored document as read back. Its data members are kept as the JSON
/// the server sent and read only by [`data`](Stored::data): a document
/// whose data this store cannot read (another program wrote it) still
/// tells its expiry and tombstone.
#[derive(Deserialize)]
pub(crate) struct Stored<'a> {
    #[serde(rename = "_rev")]
    pub(crate) rev: String,
    #[serde(default)]
    pub(crate) expires_at: i64,
    #[serde(default)]
    pub(crate) destroyed: bool,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data_b64: Option<&'a RawValue>,
}

impl Stored<'_> {
    /// What the document is to a write at `now_ms` (unix ms).
    pub(crate) fn occupant(&self, now_ms: i64) -> Occupant {
        Occupant::of(self.destroyed, self.expires_at, now_ms)
    }

    pub(crate) fn data(&self, codec: &dyn Codec) -> Result<SessionData, Error> {
        match (self.data, self.data_b64) {
            (Some(text), _) => codec.decode(string(text)?.as_bytes()),
            (None, Some(b64)) => codec.decode(
                &STANDARD
                    .decode(string(b64)?)
                    .map_err(|e| Error::Decode(Box::new(e)))?,
            ),
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

/// The revision of a stored document, read alone: a write names it even
/// when the rest of the document cannot be read.
pub(crate) fn rev(bytes: &[u8]) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct Rev {
        #[serde(rename = "_rev")]
        rev: String,
    }
    let stored: Rev = serde_json::from_slice(bytes).map_err(|e| Error::Decode(Box::new(e)))?;
    Ok(stored.rev)
}

/// The string a data member holds.
fn string(member: &RawValue) -> Result<String, Error> {
    serde_json::from_str(member.get()).map_err(|e| Error::Decode(Box::new(e)))
}

/// A session's data as its document holds it: the `data` member (or
/// `data_b64`), encoded once and put in the body of every attempt.
pub(crate) struct DataMember(Vec<u8>);

/// Encodes `data` for a document. Data nested deeper than the contract
/// allows is refused here, before anything is sent.
pub(crate) fn encode_data(codec: &dyn Codec, data: &SessionData) -> Result<DataMember, Error> {
    let encoded = encode(codec, data)?;
    let mut member = Vec::with_capacity(encoded.len() + 16);
    if codec.is_json() {
        let text = String::from_utf8(encoded).map_err(|e| Error::Encode(Box::new(e)))?;
        member.extend_from_slice(b",\"data\":");
        member.extend_from_slice(json_string(&text).as_bytes());
    } else {
        member.extend_from_slice(b",\"data_b64\":\"");
        member.extend_from_slice(STANDARD.encode(encoded).as_bytes());
        member.push(b'"');
    }
    Ok(DataMember(member))
}

/// The body of a live session document holding `data`.
pub(crate) fn live_body(doc_id: &str, rev: Option<&str>, expires_at: i64, data: &DataMember) -> Vec<u8> {
    let mut body = header(doc_id, rev, expires_at, false);
    body.extend_from_slice(&data.0);
    body.push(b'}');
    body
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc_path::path;
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
        let body = live_body(
            "s:a\"b",
            Some("1-x"),
            42,
            &encode_data(&JsonCodec, &data).unwrap(),
        );
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
    fn a_document_whose_data_cannot_be_read_still_tells_its_expiry() {
        // A lone surrogate in the data: JSON the server keeps, no Rust string holds.
        for data in [r#""\ud800""#, "5", r#"{"k":1}"#] {
            for member in ["data", "data_b64"] {
                let body = format!(r#"{{"_rev":"1-a","expires_at":7,"destroyed":true,"{member}":{data}}}"#);
                let stored = parse(body.as_bytes()).unwrap();
                assert_eq!(rev(body.as_bytes()).unwrap(), "1-a");
                assert_eq!(stored.occupant(6), Occupant::Tombstone, "{body}");
                assert!(matches!(stored.data(&JsonCodec), Err(Error::Decode(_))), "{body}");
            }
        }
    }

    #[test]
    fn data_nested_deeper_than_the_contract_allows_is_refused_before_sending() {
        let mut value = serde_json::json!(1);
        for _ in 0..session_core::backend::MAX_DEPTH {
            value = serde_json::Value::Array(vec![value]);
        }
        let data = SessionData::from_iter([("deep".to_owned(), value)]);
        let refused = encode_data(&JsonCodec, &data);
        assert!(matches!(refused, Err(Error::Encode(_))));
    }
}
