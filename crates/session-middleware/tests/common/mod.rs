//! What the tests share: a store that records every call and can be made
//! to fail, an app with one route per session operation, and a client.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    extract::State,
    http::{Request, StatusCode},
    routing::get,
};
use http_body_util::BodyExt as _;
use session_core::{
    Error, Session as Stored, SessionData, SessionId, SessionStream, Store, backend::SessionParts,
};
use session_memory::MemoryStore;
use session_middleware::{CookieSigner, Session, SessionError, SessionLayer, SessionLayerBuilder};
use time::OffsetDateTime;
use tower::ServiceExt as _;

pub const SECRET: &str = "keyboard cat";
/// What a failing store says: it must never reach a client.
pub const FAILURE: &str = "connection to 10.0.0.7:6379 refused (password hunter2)";

/// One store call: the method and the id it was about.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: &'static str,
    pub id: SessionId,
    /// The expiry `set`, `create` or `touch` asked for.
    pub expires_at: Option<OffsetDateTime>,
}

/// A memory store that records every call and fails the methods named in
/// `failing`. Made with [`Recorder::express`], it also keeps each session's
/// express-session cookie object, as the Express layouts do.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub inner: MemoryStore,
    calls: Arc<Mutex<Vec<Call>>>,
    failing: Arc<Mutex<HashSet<&'static str>>>,
    /// `Some` when cookie objects are kept: the one written for each id.
    cookies: Option<Arc<Mutex<HashMap<SessionId, SessionData>>>>,
    /// Ids whose `get` answers `Error::Decode`, as for data the store
    /// cannot read.
    unreadable: Arc<Mutex<HashSet<SessionId>>>,
}

impl Recorder {
    /// A recorder that keeps express-session's cookie objects, like a store
    /// in an Express layout.
    pub fn express() -> Self {
        Self {
            cookies: Some(Arc::default()),
            ..Self::default()
        }
    }

    /// The cookie object kept for `id`.
    pub fn cookie_object(&self, id: &SessionId) -> Option<SessionData> {
        self.cookies.as_ref()?.lock().unwrap().get(id).cloned()
    }

    /// Stores `session` under `id` without recording a call, cookie object
    /// included.
    pub async fn seed(&self, id: &SessionId, session: &Stored) {
        self.keep_cookie(id, session);
        self.inner.set(id, session).await.unwrap();
    }

    fn keep_cookie(&self, id: &SessionId, session: &Stored) {
        if let (Some(cookies), Some(cookie)) = (&self.cookies, session.express_cookie()) {
            cookies.lock().unwrap().insert(id.clone(), cookie.clone());
        }
    }

    /// The calls so far, forgetting them.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    /// The methods of the calls so far, forgetting them.
    pub fn methods(&self) -> Vec<&'static str> {
        self.take().into_iter().map(|call| call.method).collect()
    }

    /// Makes `get(id)` answer `Error::Decode` from now on.
    pub fn make_unreadable(&self, id: &SessionId) {
        self.unreadable.lock().unwrap().insert(id.clone());
    }

    pub fn fail(&self, method: &'static str) {
        self.failing.lock().unwrap().insert(method);
    }

    fn record(
        &self,
        method: &'static str,
        id: &SessionId,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), Error> {
        self.calls.lock().unwrap().push(Call {
            method,
            id: id.clone(),
            expires_at,
        });
        if self.failing.lock().unwrap().contains(method) {
            return Err(Error::Unavailable(FAILURE.into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Recorder {
    async fn get(&self, id: &SessionId) -> session_core::Result<Option<Stored>> {
        self.record("get", id, None)?;
        if self.unreadable.lock().unwrap().contains(id) {
            return Err(Error::Decode("a lone UTF-16 surrogate in the stored JSON".into()));
        }
        let mut session = self.inner.get(id).await?;
        if let Some(session) = &mut session {
            session.set_express_cookie(self.cookie_object(id));
        }
        Ok(session)
    }
    async fn set(&self, id: &SessionId, session: &Stored) -> session_core::Result<()> {
        self.record("set", id, session.expires_at())?;
        self.inner.set(id, session).await?;
        self.keep_cookie(id, session);
        Ok(())
    }
    async fn create(&self, id: &SessionId, session: &Stored) -> session_core::Result<()> {
        self.record("create", id, session.expires_at())?;
        self.inner.create(id, session).await?;
        self.keep_cookie(id, session);
        Ok(())
    }
    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> session_core::Result<()> {
        self.record("touch", id, expires_at)?;
        self.inner.touch(id, expires_at).await
    }
    async fn destroy(&self, id: &SessionId) -> session_core::Result<()> {
        self.record("destroy", id, None)?;
        self.inner.destroy(id).await
    }
    fn all_stream(&self) -> SessionStream<'_> {
        self.inner.all_stream()
    }
    async fn length(&self) -> session_core::Result<u64> {
        self.inner.length().await
    }
    async fn clear(&self) -> session_core::Result<()> {
        self.inner.clear().await
    }
}

/// Counts visits: reads, then changes the session.
async fn count(session: Session) -> Result<String, SessionError> {
    let n = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", n).await?;
    Ok(n.to_string())
}

/// Reads the session and changes nothing.
async fn read(session: Session) -> Result<String, SessionError> {
    let n = session.get::<u64>("visits").await?;
    Ok(n.map_or_else(|| "none".into(), |n| n.to_string()))
}

/// Writes back what is already there: no change.
async fn rewrite(session: Session) -> Result<&'static str, SessionError> {
    let n = session.get::<u64>("visits").await?.unwrap_or(0);
    session.insert("visits", n).await?;
    Ok("same")
}

/// Takes the session and never uses it.
async fn ignore(_session: Session) -> &'static str {
    "hello"
}

/// Logs in: a new, empty session, a user added.
async fn login(session: Session) -> Result<&'static str, SessionError> {
    session.regenerate().await?;
    session.insert("user", "ada").await?;
    Ok("welcome")
}

/// Logs in keeping the data: a new id, a user added.
async fn login_keeping_data(session: Session) -> Result<&'static str, SessionError> {
    session.regenerate_keeping_data().await?;
    session.insert("user", "ada").await?;
    Ok("welcome")
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.destroy().await?;
    Ok("bye")
}

/// Logs out and in again in one request.
async fn relogin(session: Session) -> Result<&'static str, SessionError> {
    session.destroy().await?;
    session.insert("user", "grace").await?;
    Ok("welcome back")
}

/// Two clones of the handle writing at once.
async fn both(session: Session) -> Result<&'static str, SessionError> {
    let (a, b) = (session.clone(), session.clone());
    let (x, y) = tokio::join!(a.insert("a", 1), b.insert("b", 2));
    x?;
    y?;
    Ok("both")
}

async fn id(session: Session) -> Result<String, SessionError> {
    Ok(session.id().await?.as_str().to_owned())
}

/// Keeps a clone of the handle beyond the request.
async fn keep(State(kept): State<Arc<Mutex<Option<Session>>>>, session: Session) -> &'static str {
    *kept.lock().unwrap() = Some(session);
    "kept"
}

/// The app, its layer on `store` as `configure` sets it up; `kept`
/// receives the handle `/keep` keeps.
pub fn app_with(
    store: impl Store + 'static,
    kept: Arc<Mutex<Option<Session>>>,
    configure: impl FnOnce(SessionLayerBuilder) -> SessionLayerBuilder,
) -> Router {
    let layer = configure(SessionLayer::builder(store)).build().unwrap();
    Router::new()
        .route("/count", get(count))
        .route("/read", get(read))
        .route("/rewrite", get(rewrite))
        .route("/ignore", get(ignore))
        .route("/login", get(login))
        .route("/login-keeping-data", get(login_keeping_data))
        .route("/logout", get(logout))
        .route("/relogin", get(relogin))
        .route("/both", get(both))
        .route("/id", get(id))
        .route("/keep", get(keep))
        .with_state(kept)
        .layer(layer)
}

/// The app with the defaults, signed with [`SECRET`].
pub fn app(store: impl Store + 'static) -> Router {
    app_with(store, Arc::default(), |builder| builder.secret(SECRET))
}

/// A response, as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    /// The whole `Set-Cookie` header, if one came.
    pub set_cookie: Option<String>,
}

impl Reply {
    /// The `name=value` pair of the cookie, to send back.
    pub fn cookie(&self) -> String {
        let header = self.set_cookie.as_deref().expect("a Set-Cookie header");
        header.split(';').next().unwrap().to_owned()
    }

    /// The session id the cookie carries, its signature checked.
    pub fn id(&self) -> SessionId {
        id_in(&self.cookie())
    }
}

/// The id in a `connect.sid=…` pair, its signature checked with [`SECRET`].
pub fn id_in(cookie: &str) -> SessionId {
    let value = cookie.split_once('=').unwrap().1;
    let signed = value.replace("%3A", ":").replace("%2B", "+").replace("%2F", "/");
    CookieSigner::new([SECRET])
        .unwrap()
        .verify(&signed)
        .expect("a cookie signed with SECRET")
}

/// The cookie a browser would send for `id`, signed with `secret`.
pub fn cookie_for(id: &SessionId, secret: &str) -> String {
    let signed = CookieSigner::new([secret]).unwrap().sign(id);
    format!(
        "connect.sid={}",
        signed.replace(':', "%3A").replace('+', "%2B").replace('/', "%2F")
    )
}

/// GETs `path`, sending `cookie` if given (as bytes: a browser may send
/// other cookies holding non-ASCII text).
pub async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        let value = http::HeaderValue::from_bytes(cookie.as_bytes()).unwrap();
        request = request.header("cookie", value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let mut set_cookies = response.headers().get_all("set-cookie").iter();
    let set_cookie = set_cookies.next().map(|v| v.to_str().unwrap().to_owned());
    assert!(set_cookies.next().is_none(), "at most one Set-Cookie");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        body: String::from_utf8(body.to_vec()).unwrap(),
        set_cookie,
    }
}
