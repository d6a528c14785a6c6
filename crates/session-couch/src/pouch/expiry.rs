//! When a session of this layout ends, read from its cookie, `$ts` and
//! tombstone alone: a session whose data cannot be read still expires, and
//! stays gone once it has (rule 6, decided in [`live`](crate::live)).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, value::RawValue};
use session_core::{
    Error, backend,
    backend::{Occupant, express, express::COOKIE_KEY},
};
use time::OffsetDateTime;

use super::doc::{Meta, millis};

/// What the document `raw` is at `now`, from its tombstone and expiry.
///
/// # Errors
/// [`Error::Decode`] when either cannot be read.
pub(crate) fn occupant(raw: &[u8], now: OffsetDateTime, default_ttl: Duration) -> Result<Occupant, Error> {
    if Meta::of(raw)?.is_tombstone_at(backend::unix_millis(now)) {
        return Ok(Occupant::Tombstone);
    }
    // As `Session::is_expired_at`: live strictly before the expiry.
    Ok(if now < expiry(raw, default_ttl)? {
        Occupant::Live
    } else {
        Occupant::Vacant
    })
}

/// When the session in `raw` expires: `cookie.expires`, or `$ts` plus
/// `default_ttl` when that is `null`.
fn expiry(raw: &[u8], default_ttl: Duration) -> Result<OffsetDateTime, Error> {
    #[derive(Deserialize)]
    struct Lifetime<'a> {
        #[serde(borrow)]
        cookie: &'a RawValue,
        #[serde(rename = "$ts", default)]
        written: Option<Value>,
    }
    let lifetime: Lifetime<'_> = serde_json::from_slice(raw).map_err(|e| Error::Decode(Box::new(e)))?;
    // express-session's own reading of the cookie, given the cookie alone.
    let cookie = format!("{{\"{COOKIE_KEY}\":{}}}", lifetime.cookie.get());
    let expires = express::decode(cookie.as_bytes())?.expires_at();
    expires_at(expires, lifetime.written.as_ref().and_then(millis), default_ttl)
}

/// The expiry of a session whose cookie says `expires` and which was last
/// written at `written` (unix ms).
///
/// # Errors
/// [`Error::Decode`] when the cookie has no expiry and `$ts` cannot stand in.
pub(crate) fn expires_at(
    expires: Option<OffsetDateTime>,
    written: Option<i64>,
    default_ttl: Duration,
) -> Result<OffsetDateTime, Error> {
    match (expires, written) {
        (Some(at), _) => Ok(at),
        (None, Some(written)) => time::Duration::try_from(default_ttl)
            .ok()
            .and_then(|ttl| backend::from_unix_millis(written).ok()?.checked_add(ttl))
            .ok_or_else(|| Error::Decode("`$ts` plus the default TTL is not a time".into())),
        (None, None) => Err(Error::Decode(
            "a session whose cookie has no expiry, and no `$ts` to count the default TTL from".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);
    const NOW: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

    fn occupant_of(doc: &Value) -> Result<Occupant, Error> {
        // A lone surrogate: JSON that no Rust string can hold.
        let raw = doc.to_string().replace("LONE", "\\ud800");
        occupant(raw.as_bytes(), NOW, DAY)
    }

    #[test]
    fn the_expiry_is_read_without_the_data() {
        let live = json!({"_rev": "1-a", "cookie": {"expires": "2030-01-01T00:00:00.001Z"}, "user": "LONE"});
        assert_eq!(occupant_of(&live).unwrap(), Occupant::Live);
        let ended = json!({"_rev": "1-a", "cookie": {"expires": "2030-01-01T00:00:00.000Z"}, "user": "LONE"});
        assert_eq!(occupant_of(&ended).unwrap(), Occupant::Vacant);
        let browser = json!({"_rev": "1-a", "cookie": {"expires": null}, "$ts": 1_893_369_600_001_i64});
        assert_eq!(occupant_of(&browser).unwrap(), Occupant::Live);
        let destroyed =
            json!({"_rev": "1-a", "cookie": {"expires": "LONE"}, "$destroyed": 1_893_456_000_001_i64});
        assert_eq!(occupant_of(&destroyed).unwrap(), Occupant::Tombstone);
    }

    #[test]
    fn an_expiry_that_cannot_be_read_is_an_error() {
        for cookie in [
            json!({"expires": "LONE"}),
            json!({"expires": "soon"}),
            json!({"expires": null}),
            json!("x"),
        ] {
            let doc = json!({"_rev": "1-a", "cookie": cookie});
            assert!(matches!(occupant_of(&doc), Err(Error::Decode(_))), "{doc}");
        }
        let tombstone = json!({"_rev": "1-a", "cookie": {"expires": null}, "$ts": 0, "$destroyed": "LONE"});
        assert!(matches!(occupant_of(&tombstone), Err(Error::Decode(_))));
    }
}
