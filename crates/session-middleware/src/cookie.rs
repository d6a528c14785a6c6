//! The session cookie on the wire: finding it in `Cookie` headers the way
//! Express's cookie parser does, and writing `Set-Cookie`.

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue, header::COOKIE};
use session_core::Error;
use time::{Duration, Month, OffsetDateTime, UtcOffset, Weekday};

use crate::uri_component;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent only with requests from this site.
    Strict,
    /// Also sent on top-level navigations from other sites (the default, as
    /// in express-session's usual setup and browsers' own default).
    #[default]
    Lax,
    /// Sent with every request, cross-site too. Browsers require `Secure`
    /// with it, so [`build`](crate::SessionLayerBuilder::build) does as well.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// The cookie's name and attributes, as configured.
#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self {
            name: "connect.sid".into(),
            path: "/".into(),
            domain: None,
            secure: false,
            http_only: true,
            same_site: SameSite::Lax,
        }
    }
}

impl CookieSettings {
    /// Refuses settings that would make a broken or ambiguous `Set-Cookie`.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let refuse = |what: &str| Err(Error::InvalidInput(what.into()));
        // A cookie name is an RFC 6265 token: visible ASCII, no separators.
        let separator = |b: u8| b"()<>@,;:\\\"/[]?={}".contains(&b);
        if self.name.is_empty() || !self.name.bytes().all(|b| b.is_ascii_graphic() && !separator(b)) {
            return refuse("cookie_name must be visible ASCII without separators such as = ; , or spaces");
        }
        if !self.path.starts_with('/') || !attribute_value(&self.path) {
            return refuse("path must start with / and hold visible ASCII other than ;");
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty() || !attribute_value(domain))
        {
            return refuse("domain must be visible ASCII other than ;");
        }
        // Browsers drop cookies whose name prefix promises what the
        // attributes do not keep (RFC 6265bis 4.1.3, matched in any case).
        let prefixed = |prefix: &str| {
            self.name
                .get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        };
        if prefixed("__Secure-") && !self.secure {
            return refuse("a cookie_name starting with __Secure- needs secure(true)");
        }
        if prefixed("__Host-") && (!self.secure || self.path != "/" || self.domain.is_some()) {
            return refuse(
                "a cookie_name starting with __Host- needs secure(true), path \"/\" and no domain",
            );
        }
        if self.same_site == SameSite::None && !self.secure {
            return refuse(
                "same_site(SameSite::None) needs secure(true): browsers drop such cookies otherwise",
            );
        }
        Ok(())
    }

    /// The value of the first cookie with our name, percent-decoded when it
    /// holds a `%`, as Express's parser does. `None` when there is no such
    /// cookie or its escapes are malformed (where Express would keep the raw
    /// text, which can never carry a signature Express made).
    ///
    /// Headers are read as bytes, pair by pair, like Node's `cookie`
    /// package: another cookie on the domain holding non-ASCII bytes (say
    /// `theme=Zürich`) hides nothing but itself.
    pub(crate) fn read<'a>(&self, headers: &'a HeaderMap) -> Option<Cow<'a, str>> {
        let value = headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|header| header.as_bytes().split(|&b| b == b';'))
            .filter_map(|pair| {
                let equals = pair.iter().position(|&b| b == b'=')?;
                Some((&pair[..equals], &pair[equals + 1..]))
            })
            .find_map(|(name, value)| (trim_blanks(name) == self.name.as_bytes()).then_some(value))?;
        // Our own cookie is ASCII; one that is not cannot carry our signature.
        let value = std::str::from_utf8(trim_blanks(value)).ok()?;
        // A value in double quotes counts without them.
        let value = value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(value);
        if value.contains('%') {
            uri_component::decode(value)
        } else {
            Some(Cow::Borrowed(value))
        }
    }

    /// `Set-Cookie` carrying `signed`; with `expiry` (when and how long
    /// from now) a persistent cookie, without one a browser-session cookie.
    pub(crate) fn set(
        &self,
        signed: &str,
        expiry: Option<(OffsetDateTime, Duration)>,
    ) -> Result<HeaderValue, Error> {
        self.header(&uri_component::encode(signed), expiry)
    }

    /// `Set-Cookie` telling the browser to drop the cookie at once.
    pub(crate) fn clear(&self) -> Result<HeaderValue, Error> {
        self.header("", Some((OffsetDateTime::UNIX_EPOCH, Duration::ZERO)))
    }

    fn header(&self, value: &str, expiry: Option<(OffsetDateTime, Duration)>) -> Result<HeaderValue, Error> {
        let mut header = format!("{}={value}; Path={}", self.name, self.path);
        if let Some(domain) = &self.domain {
            header.push_str("; Domain=");
            header.push_str(domain);
        }
        if let Some((at, age)) = expiry {
            // Express sends only Expires; Max-Age as well makes the lifetime
            // independent of the browser's clock where browsers support it.
            header.push_str(&format!(
                "; Max-Age={}; Expires={}",
                age.whole_seconds().max(0),
                http_date(at)
            ));
        }
        if self.http_only {
            header.push_str("; HttpOnly");
        }
        if self.secure {
            header.push_str("; Secure");
        }
        header.push_str("; SameSite=");
        header.push_str(self.same_site.as_str());
        HeaderValue::try_from(header).map_err(|e| Error::InvalidInput(format!("Set-Cookie header: {e}")))
    }
}

/// `bytes` without the spaces and tabs around them, which Express's parser
/// trims from names and values.
fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |last| last + 1);
    &bytes[start..end]
}

/// Whether `text` can stand as a cookie attribute's value.
fn attribute_value(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic() && b != b';')
}

/// `at` in the HTTP date format (RFC 9110, IMF-fixdate):
/// `Thu, 26 Nov 2026 18:50:19 GMT`.
fn http_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let day = match at.weekday() {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    };
    let month = match at.month() {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    };
    format!(
        "{day}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        at.day(),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        headers
    }

    fn read(cookies: &[&str]) -> Option<String> {
        CookieSettings::default()
            .read(&headers(cookies))
            .map(Cow::into_owned)
    }

    #[test]
    fn reads_the_first_cookie_of_the_name() {
        assert_eq!(
            read(&["a=1; connect.sid=s%3Aid.sig; connect.sid=other"]).as_deref(),
            Some("s:id.sig")
        );
        assert_eq!(
            read(&["a=1", " connect.sid = \"s:id.sig\" "]).as_deref(),
            Some("s:id.sig")
        );
        assert_eq!(
            read(&["connect.sid=s:a+b"]).as_deref(),
            Some("s:a+b"),
            "no % means no decoding"
        );
        assert_eq!(read(&["connect.sidx=1; xconnect.sid=2; novalue"]), None);
        assert_eq!(read(&[]), None);
    }

    #[test]
    fn other_cookies_with_non_ascii_bytes_hide_only_themselves() {
        let read_bytes = |raw: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.append(COOKIE, HeaderValue::from_bytes(raw).unwrap());
            CookieSettings::default().read(&headers).map(Cow::into_owned)
        };
        // UTF-8 and Latin-1 spellings of Zürich, before and after ours.
        for raw in [
            "theme=Zürich; connect.sid=s%3Aid.sig".as_bytes(),
            b"connect.sid=s%3Aid.sig; theme=Z\xfcrich",
            b"theme=Z\xfcrich;connect.sid=s%3Aid.sig;x=\xff",
        ] {
            assert_eq!(read_bytes(raw).as_deref(), Some("s:id.sig"), "{raw:?}");
        }
        assert_eq!(
            read_bytes(b"connect.sid=s:id\xfc.sig"),
            None,
            "a non-UTF-8 value is not ours"
        );
        assert_eq!(read_bytes(b"a=1;;  ;=;connect.sid=\t s:x \t"), Some("s:x".into()));
    }

    #[test]
    fn malformed_escapes_hide_the_cookie() {
        assert_eq!(read(&["connect.sid=s%3Aid%ZZ.sig"]), None);
        assert_eq!(read(&["connect.sid=s%3Aid%C3.sig"]), None);
    }

    #[test]
    fn writes_express_compatible_set_cookie() {
        let settings = CookieSettings::default();
        let at = datetime!(2026-11-26 18:50:19.911 UTC);
        let header = settings.set("s:a+b/c", Some((at, Duration::days(1)))).unwrap();
        assert_eq!(
            header,
            "connect.sid=s%3Aa%2Bb%2Fc; Path=/; Max-Age=86400; Expires=Thu, 26 Nov 2026 18:50:19 GMT; HttpOnly; SameSite=Lax"
        );
        let custom = CookieSettings {
            name: "sid".into(),
            path: "/app".into(),
            domain: Some("example.com".into()),
            secure: true,
            http_only: false,
            same_site: SameSite::None,
        };
        assert_eq!(
            custom.set("s:x", None).unwrap(),
            "sid=s%3Ax; Path=/app; Domain=example.com; Secure; SameSite=None"
        );
        assert_eq!(
            custom.clear().unwrap(),
            "sid=; Path=/app; Domain=example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; SameSite=None"
        );
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(OffsetDateTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            http_date(datetime!(2030-02-03 04:05:06 +02:00)),
            "Sun, 03 Feb 2030 02:05:06 GMT"
        );
    }

    #[test]
    fn refuses_settings_that_break_the_header() {
        let check = |change: fn(&mut CookieSettings)| {
            let mut settings = CookieSettings::default();
            change(&mut settings);
            settings.check()
        };
        assert!(check(|_| ()).is_ok());
        for bad in [
            (|s: &mut CookieSettings| s.name = String::new()) as fn(&mut CookieSettings),
            |s| s.name = "a=b".into(),
            |s| s.name = "a b".into(),
            |s| s.name = "sid;".into(),
            |s| s.path = "app".into(),
            |s| s.path = "/a;b".into(),
            |s| s.domain = Some(String::new()),
            |s| s.domain = Some("a.com; Secure".into()),
            |s| s.same_site = SameSite::None,
            |s| s.name = "__Secure-sid".into(),
            |s| s.name = "__secure-sid".into(),
            |s| (s.name, s.secure) = ("__Host-sid".into(), false),
            |s| (s.name, s.secure, s.path) = ("__Host-sid".into(), true, "/app".into()),
            |s| (s.name, s.secure, s.domain) = ("__HOST-sid".into(), true, Some("a.com".into())),
        ] {
            assert!(matches!(check(bad), Err(Error::InvalidInput(_))));
        }
        for good in [
            (|s: &mut CookieSettings| (s.name, s.secure) = ("__Secure-sid".into(), true))
                as fn(&mut CookieSettings),
            |s| (s.name, s.secure, s.path) = ("__Secure-sid".into(), true, "/app".into()),
            |s| (s.name, s.secure) = ("__Host-sid".into(), true),
            |s| s.name = "__Hostile".into(),
            |s| s.name = "Host-__Secure-".into(),
        ] {
            assert!(check(good).is_ok());
        }
    }
}
