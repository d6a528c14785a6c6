//! What a layer and its requests share, and how a request's outcome
//! becomes its `Set-Cookie` header.

use std::{fmt, sync::Arc};

use http::HeaderValue;
use session_core::{Clock, Error, SessionId, Store};
use time::OffsetDateTime;

use crate::{CookieSigner, cookie::CookieSettings};

/// Makes a new session id.
#[derive(Clone)]
pub(crate) struct IdGenerator(pub(crate) Arc<dyn Fn() -> SessionId + Send + Sync>);

impl IdGenerator {
    pub(crate) fn next(&self) -> SessionId {
        (self.0)()
    }
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdGenerator")
    }
}

/// Everything a layer and its requests share.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) signer: CookieSigner,
    pub(crate) cookie: CookieSettings,
    pub(crate) max_age: Option<time::Duration>,
    pub(crate) rolling: bool,
    pub(crate) touch: bool,
    /// Touch only when the expiry moves by at least this much.
    pub(crate) touch_after: Option<time::Duration>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) generate_id: IdGenerator,
}

/// What the response tells the browser about the cookie.
#[derive(Debug, PartialEq)]
pub(crate) enum CookieUpdate {
    /// Nothing: no `Set-Cookie`.
    Keep,
    /// Send the cookie for `id`; with `expiry` (when, and the lifetime
    /// that led there) a persistent one, else a browser-session cookie.
    Send {
        id: SessionId,
        expiry: Option<(OffsetDateTime, time::Duration)>,
    },
    /// Tell the browser to drop the cookie.
    Clear,
}

impl Config {
    /// The `Set-Cookie` header for `update`, if it needs one.
    pub(crate) fn set_cookie(&self, update: CookieUpdate) -> Result<Option<HeaderValue>, Error> {
        match update {
            CookieUpdate::Keep => Ok(None),
            CookieUpdate::Clear => self.cookie.clear().map(Some),
            CookieUpdate::Send { id, expiry } => self.cookie.set(&self.signer.sign(&id), expiry).map(Some),
        }
    }
}
