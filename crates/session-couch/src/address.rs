//! The server's URL, checked before couch_rs sees it, with any credentials
//! taken out of it.
//!
//! couch_rs panics on a URL that cannot be a base (`localhost:5984` parses as
//! scheme `localhost`), replaces any path with its own, and copies the whole
//! URL into a `Referer` header: so the store accepts only `http(s)://host[:port]`,
//! and moves a `user:password@` into basic auth.

use percent_encoding::percent_decode_str;
use reqwest::Url;
use session_core::Error;

use crate::CouchStore;

/// A checked server URL and the credentials it carried.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Address {
    /// `scheme://host[:port]`, without credentials.
    pub(crate) base: String,
    /// User name and password given in the URL.
    pub(crate) credentials: Option<(String, String)>,
}

/// Checks `url` and splits off its credentials. Error messages never repeat
/// the URL: it may hold a password.
pub(crate) fn parse(url: &str) -> Result<Address, Error> {
    let refuse = |why: &str| Error::InvalidInput(format!("bad CouchDB URL: {why}"));
    let mut parsed =
        Url::parse(url).map_err(|_| refuse("write it as http://host:port or https://host:port"))?;
    let scheme = format!("{}://", parsed.scheme());
    if !CouchStore::URL_SCHEMES.contains(&scheme.as_str()) || parsed.cannot_be_a_base() {
        return Err(refuse(&format!(
            "it must start with {}",
            CouchStore::URL_SCHEMES.join(" or ")
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(refuse("it names no host"));
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(refuse(
            "a path, query or fragment is not supported (requests go to the server's root)",
        ));
    }
    let credentials = if parsed.username().is_empty() && parsed.password().is_none() {
        None
    } else {
        let decode = |text: &str| {
            percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| refuse("its user name or password is not UTF-8 once decoded"))
        };
        Some((
            decode(parsed.username())?,
            decode(parsed.password().unwrap_or(""))?,
        ))
    };
    // Setting these cannot fail on an http(s) URL with a host.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    Ok(Address {
        base: parsed.as_str().trim_end_matches('/').to_owned(),
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_decoded() {
        let address = parse("http://ad%40min:p%3Ass@127.0.0.1:5984").unwrap();
        assert_eq!(address.base, "http://127.0.0.1:5984");
        assert_eq!(
            address.credentials,
            Some(("ad@min".to_owned(), "p:ss".to_owned()))
        );
        assert_eq!(parse("https://couch.example/").unwrap().credentials, None);
    }

    #[test]
    fn urls_couch_rs_would_panic_on_or_misuse_are_refused_without_echoing_them() {
        for bad in [
            "localhost:5984",
            "admin:secret@127.0.0.1:5984",
            "ftp://admin:secret@host",
            "http://",
            "mailto:admin:secret@host",
            "http://admin:secret@host/prefix",
            "http://host/?secret=1",
            "",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidInput(_)), "{bad}");
            assert!(!error.to_string().contains("secret"), "{error}");
        }
    }
}
