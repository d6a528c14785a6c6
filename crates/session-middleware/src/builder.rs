//! The options of a [`SessionLayer`], checked once when it is built.

use std::{fmt, sync::Arc, time::Duration};

use session_core::{
    Error, Lifetimes, SessionId, Store,
    clock::{Clock, SystemClock},
};

use crate::{
    CookieSigner, SameSite, SessionLayer,
    config::{Config, IdGenerator},
    cookie::CookieSettings,
};

/// Builds a [`SessionLayer`]. Only a secret is required; the defaults are
/// express-session's, with `resave: false, saveUninitialized: false`:
///
/// | option | default | meaning |
/// |---|---|---|
/// | [`secret`](Self::secret) | none: at least one is required | signs the cookie; the first signs, every one is accepted |
/// | [`cookie_name`](Self::cookie_name) | `connect.sid` | the cookie's name |
/// | [`path`](Self::path) | `/` | the cookie's `Path` |
/// | [`domain`](Self::domain) | none | the cookie's `Domain` |
/// | [`secure`](Self::secure) | `false` | `Secure`: sent over https only |
/// | [`http_only`](Self::http_only) | `true` | `HttpOnly`: hidden from scripts |
/// | [`same_site`](Self::same_site) | [`SameSite::Lax`] | `SameSite` |
/// | [`max_age`](Self::max_age) | 24 hours | the session's lifetime from its last save or touch; `None` for a browser-session cookie |
/// | [`rolling`](Self::rolling) | `false` | send the cookie again on every request that uses the session |
/// | [`disable_touch`](Self::disable_touch) | `false` | leave unchanged sessions alone instead of moving their expiry |
/// | [`touch_after`](Self::touch_after) | none: touch on every use | touch an unchanged session only once its expiry would move by this much |
/// | [`clock`](Self::clock) | the system clock | where expiries are counted from; give the store's |
/// | [`generate_id`](Self::generate_id) | [`SessionId::generate`] | makes new session ids (express-session's `genid`) |
///
/// ```
/// use std::time::Duration;
/// use session_memory::MemoryStore;
/// use session_middleware::{SameSite, SessionLayer};
///
/// let layer = SessionLayer::builder(MemoryStore::new())
///     .secret("the new secret")
///     .secret("the old secret, still accepted")
///     .cookie_name("sid")
///     .secure(true)
///     .same_site(SameSite::Strict)
///     .max_age(Some(Duration::from_secs(8 * 3600)))
///     .rolling(true)
///     .build()?;
/// # Ok::<(), session_core::Error>(())
/// ```
#[must_use]
pub struct SessionLayerBuilder {
    store: Arc<dyn Store>,
    secrets: Vec<Vec<u8>>,
    cookie: CookieSettings,
    max_age: Option<Duration>,
    rolling: bool,
    touch: bool,
    touch_after: Option<time::Duration>,
    clock: Arc<dyn Clock>,
    generate_id: IdGenerator,
}

impl SessionLayerBuilder {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            secrets: Vec::new(),
            cookie: CookieSettings::default(),
            max_age: Some(Duration::from_secs(24 * 3600)),
            rolling: false,
            touch: true,
            touch_after: None,
            clock: Arc::new(SystemClock),
            generate_id: IdGenerator(Arc::new(SessionId::generate)),
        }
    }

    /// Adds a secret. The first one added signs new cookies; every one is
    /// accepted on cookies that come in, so a new secret goes first and the
    /// old ones stay until their cookies have expired. Give an Express app
    /// sharing the sessions the same secrets in the same order.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.push(secret.as_ref().to_vec());
        self
    }

    /// The cookie's name (default `connect.sid`, express-session's). A name
    /// starting with `__Secure-` needs [`secure`](Self::secure); one
    /// starting with `__Host-` also needs path `/` and no domain, or
    /// [`build`](Self::build) refuses it, since browsers would drop the
    /// cookie.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// The cookie's `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// The cookie's `Domain` (default none: this host only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// Whether the cookie is `Secure`, sent over https only (default
    /// `false`; turn it on wherever the site is served over https).
    pub fn secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Whether the cookie is `HttpOnly`, out of scripts' reach (default
    /// `true`).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` (default [`SameSite::Lax`]).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// How long a session lives after it was last saved or touched (default
    /// 24 hours): each save or touch sets its expiry to now plus this, and
    /// the cookie's `Expires` and `Max-Age` match. `None` makes the cookie
    /// last until the browser closes, and leaves the session's lifetime to
    /// the store's default TTL.
    ///
    /// A session that carries express-session's cookie object (one Node
    /// made, read through an Express layout) keeps its own lifetime, as
    /// express-session does: its `originalMaxAge`, or a browser-session
    /// cookie when that is `null`. A session started here is stored with a
    /// cookie object holding this lifetime and the cookie's attributes
    /// (`secure`, `httpOnly`, `domain`, `path`, `sameSite`), so Node sends
    /// the same cookie when it serves the session.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Whether every request that uses the session sends the cookie again,
    /// with a new expiry (default `false`: only when the session is new, or
    /// changed and persistent). Requests that never use the session read
    /// nothing and send nothing either way.
    pub fn rolling(mut self, rolling: bool) -> Self {
        self.rolling = rolling;
        self
    }

    /// With `true`, leaves sessions a request read but did not change
    /// alone, instead of moving their expiry with the store's `touch`: fewer
    /// writes, but a session then expires `max_age` after its last change,
    /// however active.
    pub fn disable_touch(mut self, disable: bool) -> Self {
        self.touch = !disable;
        self
    }

    /// Touches an unchanged session only when that moves its expiry by at
    /// least `interval` (default: on every use, as express-session does),
    /// like connect-mongo's `touchAfter`. Fewer writes: an active session is
    /// written about once per `interval` instead of once per request, and
    /// its store expiry lags the cookie's by at most `interval`, or by half
    /// the session's lifetime when that is shorter (a session with a short
    /// lifetime of its own is still touched while in use). Sharing sessions with session-pouchdb-store,
    /// whose commit stops for good after one conflicting write, it keeps
    /// Rust's writes to the changes a request makes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_memory::MemoryStore;
    /// use session_middleware::SessionLayer;
    ///
    /// let layer = SessionLayer::builder(MemoryStore::new())
    ///     .secret("keyboard cat")
    ///     .touch_after(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn touch_after(mut self, interval: Duration) -> Self {
        self.touch_after = Some(time::Duration::try_from(interval).unwrap_or(time::Duration::MAX));
        self
    }

    /// The clock expiries are counted from (default the system clock). Give
    /// the store's clock, if it has one of its own.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How new session ids are made (default [`SessionId::generate`]: 32
    /// characters from 24 random bytes, as express-session's). Like
    /// express-session's `genid`, for a store that cannot hold every id:
    /// session-pouchdb-store cannot store ids starting with `_`, so an app
    /// sharing its sessions gives
    /// `session_couch::node_shareable_id` here.
    ///
    /// ```
    /// use session_core::SessionId;
    /// use session_memory::MemoryStore;
    /// use session_middleware::SessionLayer;
    ///
    /// let layer = SessionLayer::builder(MemoryStore::new())
    ///     .secret("keyboard cat")
    ///     .generate_id(|| loop {
    ///         let id = SessionId::generate();
    ///         if !id.as_str().starts_with('-') {
    ///             return id;
    ///         }
    ///     })
    ///     .build()?;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn generate_id(mut self, generate: impl Fn() -> SessionId + Send + Sync + 'static) -> Self {
        self.generate_id = IdGenerator(Arc::new(generate));
        self
    }

    /// Checks the options and builds the layer.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the option: no secret or an empty
    /// one; a cookie name that is not an HTTP token; a path not starting
    /// with `/`, or a path or domain holding `;`, spaces or control
    /// characters; [`SameSite::None`] without `secure`; a zero `max_age`
    /// or one over [`Lifetimes::MAX`].
    pub fn build(self) -> Result<SessionLayer, Error> {
        let signer = CookieSigner::new(&self.secrets)?;
        self.cookie.check()?;
        let max_age = self
            .max_age
            .map(|age| match time::Duration::try_from(age) {
                Ok(checked) if !age.is_zero() && age <= Lifetimes::MAX => Ok(checked),
                _ => Err(Error::InvalidInput(format!(
                    "max_age must be positive and at most {:?}",
                    Lifetimes::MAX
                ))),
            })
            .transpose()?;
        Ok(SessionLayer::from_config(Config {
            store: self.store,
            signer,
            cookie: self.cookie,
            max_age,
            rolling: self.rolling,
            touch: self.touch,
            touch_after: self.touch_after,
            clock: self.clock,
            generate_id: self.generate_id,
        }))
    }
}

impl fmt::Debug for SessionLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayerBuilder")
            .field("store", &self.store)
            .field("secrets", &self.secrets.len())
            .field("cookie", &self.cookie)
            .field("max_age", &self.max_age)
            .field("rolling", &self.rolling)
            .field("touch", &self.touch)
            .field("touch_after", &self.touch_after)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> SessionLayerBuilder {
        SessionLayerBuilder::new(Arc::new(session_memory::MemoryStore::new())).secret("s")
    }

    #[test]
    fn refuses_bad_options() {
        let refused = |result: Result<SessionLayer, Error>| matches!(result, Err(Error::InvalidInput(_)));
        assert!(refused(
            SessionLayerBuilder::new(Arc::new(session_memory::MemoryStore::new())).build()
        ));
        assert!(refused(builder().secret("").build()));
        assert!(refused(builder().cookie_name("a;b").build()));
        assert!(refused(
            builder()
                .cookie_name("__Host-sid")
                .secure(true)
                .path("/a")
                .build()
        ));
        assert!(builder().cookie_name("__Host-sid").secure(true).build().is_ok());
        assert!(refused(builder().path("nope").build()));
        assert!(refused(builder().same_site(SameSite::None).build()));
        assert!(refused(builder().max_age(Some(Duration::ZERO)).build()));
        assert!(refused(
            builder()
                .max_age(Some(Lifetimes::MAX + Duration::from_secs(1)))
                .build()
        ));
        assert!(builder().max_age(None).build().is_ok());
        assert!(builder().max_age(Some(Lifetimes::MAX)).build().is_ok());
    }

    #[test]
    fn debug_hides_the_secrets() {
        let shown = format!("{:?}", builder().secret("hunter2"));
        assert!(
            shown.contains("secrets: 2") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
