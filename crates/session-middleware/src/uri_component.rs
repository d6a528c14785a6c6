//! Percent-encoding exactly as JavaScript's `encodeURIComponent` and
//! `decodeURIComponent` do it, which is how Express writes and reads
//! cookie values.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What `encodeURIComponent` escapes: everything but ASCII letters, digits
/// and `-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `value` as `encodeURIComponent(value)` gives it.
pub(crate) fn encode(value: &str) -> Cow<'_, str> {
    utf8_percent_encode(value, URI_COMPONENT).into()
}

/// `value` as `decodeURIComponent(value)` gives it, or `None` where that
/// throws: a `%` not followed by two hex digits, or escapes that are not
/// UTF-8.
pub(crate) fn decode(value: &str) -> Option<Cow<'_, str>> {
    // percent_decode_str passes a malformed escape through unchanged;
    // JavaScript refuses it, so check first.
    let bytes = value.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(value).decode_utf8().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_javascript() {
        // encodeURIComponent("s:a+b/c=d.e-f_g!h~i*j'k(l)m n;é%") in Node.
        assert_eq!(
            encode("s:a+b/c=d.e-f_g!h~i*j'k(l)m n;é%"),
            "s%3Aa%2Bb%2Fc%3Dd.e-f_g!h~i*j'k(l)m%20n%3B%C3%A9%25"
        );
    }

    #[test]
    fn decodes_like_javascript() {
        assert_eq!(decode("s%3Aa%2bb%2F").as_deref(), Some("s:a+b/"));
        assert_eq!(decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(decode("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn refuses_what_javascript_refuses() {
        for bad in ["%", "%2", "a%zz", "%%41", "%C3", "%FF", "%ED%A0%80", "%C0%AF"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        let value = "s:ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs.jD8qzMCNLZh+l37gSqNm18fQ4O7UwXhwNQ61hYg7kL4";
        assert_eq!(decode(&encode(value)).as_deref(), Some(value));
    }
}
