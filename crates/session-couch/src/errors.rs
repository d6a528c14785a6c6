//! Turning what went wrong on the wire into the contract's `Error`, without
//! the session id: request URLs hold it (`/db/s%3A<id>`), and error texts
//! reach logs and pages.

use std::{borrow::Cow, time::Duration};

use reqwest::StatusCode;
use serde::Deserialize;
use session_core::Error;

/// A transport error, its URL removed (reqwest prints it in `Display` and
/// `Debug`; the errors it wraps never hold one).
pub(crate) fn from_reqwest(error: reqwest::Error, timeout: Duration) -> Error {
    let error = error.without_url();
    if error.is_timeout() {
        Error::Timeout(timeout)
    } else if error.is_connect() || error.is_request() || error.is_body() {
        Error::Unavailable(Box::new(error))
    } else {
        Error::Backend(Box::new(error))
    }
}

/// The server's error object: `{"error": "...", "reason": "..."}`.
#[derive(Deserialize, Default)]
struct Reply<'a> {
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

/// An answer the store did not expect: `what` was sent, `status` came back
/// with `body`. `doc_id` is the document asked about, if any; it is cut
/// out of the server's reason, which some servers fill with it.
pub(crate) fn unexpected(what: &str, status: StatusCode, body: &[u8], doc_id: Option<&str>) -> Error {
    let reply: Reply<'_> = serde_json::from_slice(body).unwrap_or_default();
    let mut message = format!("{what} answered {status}");
    for part in [reply.error, reply.reason].into_iter().flatten() {
        message.push_str(": ");
        message.push_str(&without_id(&part, doc_id));
    }
    if status.is_server_error() {
        Error::Unavailable(message.into())
    } else {
        Error::Backend(message.into())
    }
}

/// `text` with every form of the document's id (as sent, percent-encoded,
/// and the bare session id) replaced by `<id>`.
fn without_id<'t>(text: &'t str, doc_id: Option<&str>) -> Cow<'t, str> {
    let Some(doc_id) = doc_id else {
        return Cow::Borrowed(text);
    };
    let encoded = crate::doc_path::encode_id(doc_id);
    let bare = doc_id.strip_prefix(crate::native::doc::PREFIX).unwrap_or(doc_id);
    let mut text = Cow::Borrowed(text);
    for form in [encoded.as_str(), doc_id, bare] {
        if !form.is_empty() && text.contains(form) {
            text = Cow::Owned(text.replace(form, "<id>"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_reason_loses_the_id_in_every_form() {
        let body = br#"{"error":"forbidden","reason":"no: s:abc/def, s%3Aabc%2Fdef, abc/def"}"#;
        let error = unexpected("PUT document", StatusCode::FORBIDDEN, body, Some("s:abc/def"));
        let text = error.to_string();
        assert!(!text.contains("abc"), "{text}");
        assert!(text.contains("forbidden") && text.contains("403"), "{text}");
    }

    #[test]
    fn a_body_that_is_not_json_is_left_out() {
        let error = unexpected("GET", StatusCode::BAD_GATEWAY, b"<html>s:abc</html>", None);
        assert!(matches!(&error, Error::Unavailable(_)));
        assert!(!error.to_string().contains("abc"), "{error}");
    }
}
