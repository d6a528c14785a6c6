//! Who may use which page: the admin pages need the token printed at
//! start-up, and no form post is accepted from another site.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use base64::Engine as _;

/// The cookie that carries the admin token, scoped to the admin pages.
const ADMIN_COOKIE: &str = "demo_admin";

/// The demo's access rules, decided at start-up.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    admin_token: Arc<str>,
    /// Whether the token was made here rather than given by the operator.
    generated: bool,
    /// The origin forms must come from, when the demo is served behind a
    /// proxy (`--public-url`); otherwise `http://` plus the request's Host.
    public_origin: Option<Arc<str>>,
}

impl Guard {
    /// `admin_token`, or a fresh random one; `public_url` as given by
    /// `--public-url` (its scheme, host and port are kept).
    pub(crate) fn new(admin_token: Option<String>, public_url: Option<&str>) -> Result<Self, String> {
        let (admin_token, generated) = match admin_token {
            Some(token) if token.len() >= 16 => (token, false),
            Some(_) => return Err("the admin token must be at least 16 characters".into()),
            None => (random_token()?, true),
        };
        let public_origin = public_url.map(origin_of).transpose()?;
        Ok(Self {
            admin_token: Arc::from(admin_token),
            generated,
            public_origin: public_origin.map(Arc::from),
        })
    }

    /// The admin token when it was made here, to be shown to the operator
    /// once; `None` when the operator gave it.
    pub(crate) fn generated_token(&self) -> Option<&str> {
        self.generated.then_some(&*self.admin_token)
    }

    /// Whether cookies need the Secure flag: served over https.
    pub(crate) fn secure(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"))
    }

    fn admin_cookie(&self) -> String {
        let secure = if self.secure() { "; Secure" } else { "" };
        format!(
            "{ADMIN_COOKIE}={}; Path=/admin; HttpOnly; SameSite=Strict{secure}",
            self.admin_token
        )
    }

    fn is_admin(&self, headers: &HeaderMap) -> bool {
        cookie(headers, ADMIN_COOKIE).is_some_and(|given| same(given, &self.admin_token))
    }

    /// Whether a form post comes from this site: a browser says where a post
    /// comes from in `Origin` (or at least `Sec-Fetch-Site`); a client that
    /// is not a browser sends neither and cannot be tricked into posting.
    fn same_site(&self, headers: &HeaderMap) -> bool {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(origin) = text(header::ORIGIN.as_str()) {
            let expected = match &self.public_origin {
                Some(origin) => origin.to_string(),
                None => format!("http://{}", text(header::HOST.as_str()).unwrap_or_default()),
            };
            return origin == expected;
        }
        text("sec-fetch-site").is_none_or(|site| site == "same-origin" || site == "none")
    }
}

/// Refuses form posts from other sites, on every page.
pub(crate) async fn same_site_posts(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !guard.same_site(request.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site form posts are refused").into_response();
    }
    next.run(request).await
}

/// Lets only the holder of the admin token in: `/admin?token=…` once, which
/// sets a cookie and drops the token from the address; the cookie after.
pub(crate) async fn admin_only(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let offered = request
        .uri()
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("token=")));
    if let Some(offered) = offered {
        if !same(offered, &guard.admin_token) {
            return refused();
        }
        let mut response = Redirect::to("/admin").into_response();
        if let Ok(cookie) = guard.admin_cookie().parse() {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        return response;
    }
    if guard.is_admin(request.headers()) {
        next.run(request).await
    } else {
        refused()
    }
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        "the admin pages need the token the demo printed when it started: open /admin?token=…",
    )
        .into_response()
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn same(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the admin token: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin_of(url: &str) -> Result<String, String> {
    let refuse = || format!("--public-url must be http(s)://host[:port][/path], not {url:?}");
    let (scheme, rest) = url.split_once("://").ok_or_else(refuse)?;
    let authority = rest.split('/').next().unwrap_or_default();
    if !matches!(scheme, "http" | "https") || authority.is_empty() || authority.contains('@') {
        return Err(refuse());
    }
    Ok(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert!(a.as_ref().is_ok_and(|a| a.len() == 32), "{a:?}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_short_token_is_refused() {
        assert!(Guard::new(Some("short".into()), None).is_err());
    }

    #[test]
    fn the_public_url_gives_the_origin_and_the_secure_flag() {
        let guard = Guard::new(None, Some("https://demo.example:8443/app")).ok();
        assert_eq!(
            guard.as_ref().and_then(|g| g.public_origin.as_deref()),
            Some("https://demo.example:8443")
        );
        assert!(guard.is_some_and(|g| g.secure()));
        assert!(Guard::new(None, Some("ftp://x")).is_err());
        assert!(Guard::new(None, Some("http://")).is_err());
        assert!(Guard::new(None, None).is_ok_and(|g| !g.secure()));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same("abcdef", "abcdef"));
        assert!(!same("abcdeg", "abcdef"));
        assert!(!same("abcde", "abcdef"));
    }
}
