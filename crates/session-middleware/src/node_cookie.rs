//! express-session's `cookie` object, where Node owns the rule: a session
//! that carries one lives by its own `originalMaxAge`, and a session born
//! here gets one that says what this layer's cookie says, so Node re-issues
//! the same cookie when it serves the session.

use serde_json::{Number, Value};
use session_core::{Lifetimes, Session, SessionData, backend::SessionParts};
use time::Duration;

use crate::cookie::{CookieSettings, SameSite};

/// How long `session` lives past this request, as express-session decides
/// it: `None` for a cookie that lasts for the browser session.
///
/// A session carrying express-session's cookie object lives by its
/// `originalMaxAge` (milliseconds; express-session slides `expires` by it on
/// every save and touch, whatever the app's default): `null` or absent is a
/// browser-session cookie, a negative number ends the session now. Any other
/// value (Node itself fails on it) and a session without the object take the
/// layer's `max_age`.
pub(crate) fn lifetime(session: &Session, layer_max_age: Option<Duration>) -> Option<Duration> {
    let Some(cookie) = session.express_cookie() else {
        return layer_max_age;
    };
    match cookie.get("originalMaxAge") {
        None | Some(Value::Null) => None,
        Some(Value::Number(millis)) => millis_lifetime(millis).or(layer_max_age),
        Some(_) => layer_max_age,
    }
}

/// `millis` as a lifetime, clamped to what stores can hold (a negative
/// lifetime is zero: the session ends now). `None` when not finite.
fn millis_lifetime(millis: &Number) -> Option<Duration> {
    let millis = millis.as_f64().filter(|ms| ms.is_finite())?;
    let longest = Duration::try_from(Lifetimes::MAX).unwrap_or(Duration::MAX);
    // Whole milliseconds, as JavaScript's Date keeps them.
    let exact = Duration::milliseconds(millis.clamp(0.0, longest.whole_milliseconds() as f64) as i64);
    Some(exact.min(longest))
}

/// The cookie object express-session would store for a session this layer
/// starts: its lifetime (`originalMaxAge`, `null` for a browser-session
/// cookie) and the attributes the layer sends, in express-session's
/// spelling. `expires` is left `null`: the store writes the session's expiry
/// there.
pub(crate) fn object(settings: &CookieSettings, lifetime: Option<Duration>) -> SessionData {
    let mut cookie = SessionData::new();
    let original_max_age = lifetime.map_or(Value::Null, |age| {
        Value::from(i64::try_from(age.whole_milliseconds()).unwrap_or(i64::MAX))
    });
    cookie.insert("originalMaxAge".into(), original_max_age);
    cookie.insert("expires".into(), Value::Null);
    // express-session writes `secure` only when it was configured.
    if settings.secure {
        cookie.insert("secure".into(), Value::Bool(true));
    }
    cookie.insert("httpOnly".into(), Value::Bool(settings.http_only));
    if let Some(domain) = &settings.domain {
        cookie.insert("domain".into(), Value::from(domain.as_str()));
    }
    cookie.insert("path".into(), Value::from(settings.path.as_str()));
    let same_site = match settings.same_site {
        SameSite::Strict => "strict",
        SameSite::Lax => "lax",
        SameSite::None => "none",
    };
    cookie.insert("sameSite".into(), Value::from(same_site));
    cookie
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with_cookie(cookie: Value) -> Session {
        let mut session = Session::new();
        let Value::Object(cookie) = cookie else {
            panic!("a cookie object")
        };
        session.set_express_cookie(Some(cookie));
        session
    }

    #[test]
    fn a_node_session_lives_by_its_own_original_max_age() {
        let hour = Some(Duration::hours(1));
        assert_eq!(
            lifetime(&Session::new(), hour),
            hour,
            "no cookie object: the layer's"
        );
        assert_eq!(lifetime(&Session::new(), None), None);
        let own = |max_age: Value| lifetime(&with_cookie(json!({ "originalMaxAge": max_age })), hour);
        assert_eq!(own(json!(60_000)), Some(Duration::seconds(60)));
        assert_eq!(own(json!(1500.7)), Some(Duration::milliseconds(1500)));
        assert_eq!(own(json!(null)), None, "a browser-session cookie stays one");
        assert_eq!(lifetime(&with_cookie(json!({ "expires": null })), hour), None);
        assert_eq!(
            own(json!(-5)),
            Some(Duration::ZERO),
            "a lifetime in the past ends it"
        );
        assert_eq!(own(json!("60000")), hour, "not a number: the layer's");
        let longest = Duration::try_from(Lifetimes::MAX).unwrap();
        assert_eq!(own(json!(1e300)), Some(longest), "clamped to what stores hold");
    }

    #[test]
    fn a_session_born_here_carries_the_layer_cookie_in_express_spelling() {
        let settings = CookieSettings {
            domain: Some("example.com".into()),
            secure: true,
            same_site: SameSite::Strict,
            path: "/app".into(),
            ..CookieSettings::default()
        };
        assert_eq!(
            Value::Object(object(&settings, Some(Duration::minutes(1)))),
            json!({
                "originalMaxAge": 60_000, "expires": null, "secure": true, "httpOnly": true,
                "domain": "example.com", "path": "/app", "sameSite": "strict"
            })
        );
        let plain = CookieSettings {
            http_only: false,
            ..CookieSettings::default()
        };
        assert_eq!(
            Value::Object(object(&plain, None)),
            json!({
                "originalMaxAge": null, "expires": null, "httpOnly": false, "path": "/",
                "sameSite": "lax"
            })
        );
    }
}
