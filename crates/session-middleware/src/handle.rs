//! [`Session`]: the handlers' view of the request's session, and its axum
//! extractor.

use std::{fmt, sync::Arc};

use axum_core::extract::FromRequestParts;
use http::request::Parts;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use session_core::{Error, SessionId};
use tokio::sync::{Mutex, MutexGuard};

use crate::{
    SessionError,
    config::Config,
    state::{Current, State},
};

/// The session of the current request: an axum extractor, and a cheap
/// handle to clone.
///
/// Nothing is read from the store until a handler first uses the session,
/// so requests that never do cost no store call. A stored session the store
/// cannot read ([`Error::Decode`](session_core::Error::Decode), say Node
/// data Rust cannot hold) counts as an unknown one: the request gets a
/// fresh session, and the log a warning (without the id). Every clone shares one
/// state behind a per-request lock, so clones used at the same time (in
/// `tokio::join!`, say) see each other's changes. What to save is decided
/// when the response is made; see [`SessionLayer`](crate::SessionLayer).
///
/// Values are stored as JSON: `get` and `insert` take any serde type.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use session_middleware::{Session, SessionError};
///
/// async fn login(session: Session) -> Result<&'static str, SessionError> {
///     session.regenerate().await?; // a fresh id for the logged-in user
///     session.insert("user", "ada").await?;
///     Ok("welcome")
/// }
///
/// async fn profile(session: Session) -> Result<String, SessionError> {
///     Ok(match session.get::<String>("user").await? {
///         Some(user) => format!("hello {user}"),
///         None => "please log in".into(),
///     })
/// }
///
/// async fn logout(session: Session) -> Result<&'static str, SessionError> {
///     session.destroy().await?;
///     Ok("bye")
/// }
///
/// let routes: Router<()> = Router::new()
///     .route("/login", post(login))
///     .route("/profile", get(profile))
///     .route("/logout", post(logout));
/// ```
#[derive(Clone)]
pub struct Session {
    request: Arc<RequestSession>,
}

/// What every clone of one request's [`Session`] shares.
struct RequestSession {
    config: Arc<Config>,
    /// The id the request's cookie carried, its signature checked.
    cookie_id: Option<SessionId>,
    state: Mutex<State>,
}

impl Session {
    pub(crate) fn new(config: Arc<Config>, cookie_id: Option<SessionId>) -> Self {
        Self {
            request: Arc::new(RequestSession {
                config,
                cookie_id,
                state: Mutex::new(State::Unread),
            }),
        }
    }

    /// The value under `key`, or `None` when there is none.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be read or the value is
    /// not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let mut state = self.lock().await;
        Ok(self.current(&mut state).await?.session.get(key)?)
    }

    /// Stores `value` under `key`. The session is saved at the end of the
    /// request if this changed its data.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be read or `value`
    /// cannot be represented as JSON (the session is then unchanged).
    pub async fn insert<T: Serialize>(&self, key: impl Into<String>, value: T) -> Result<(), SessionError> {
        let mut state = self.lock().await;
        self.current(&mut state).await?.session.insert(key, value)?;
        Ok(())
    }

    /// Removes `key`, returning its value if it had one.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be read.
    pub async fn remove(&self, key: &str) -> Result<Option<Value>, SessionError> {
        let mut state = self.lock().await;
        Ok(self.current(&mut state).await?.session.remove(key))
    }

    /// The session's id: the one it is stored under, or, for a session not
    /// saved yet, the one it will be saved under. (Should the store already
    /// hold that freshly generated id, a 1 in 2¹⁹² event, the session is
    /// saved under another fresh one instead of overwriting.)
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be read.
    pub async fn id(&self) -> Result<SessionId, SessionError> {
        let mut state = self.lock().await;
        Ok(self.current(&mut state).await?.id.clone())
    }

    /// Starts the user over in a new, empty session under a fresh id, as
    /// express-session's `regenerate` does: call it when a user logs in, so
    /// neither an id nor a value planted before the login survives it.
    ///
    /// The old session is destroyed in the store right away (no read
    /// needed) and can never be used again; what the handler inserts next
    /// is saved under the fresh id at the end of the request, and the
    /// response carries the new cookie. To carry the data over, use
    /// [`regenerate_keeping_data`](Self::regenerate_keeping_data).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the old session cannot be destroyed;
    /// the session is then unchanged.
    pub async fn regenerate(&self) -> Result<(), SessionError> {
        // Exactly a logout followed by a fresh start.
        self.destroy().await
    }

    /// Gives the session a new id and keeps its data (tower-sessions'
    /// `cycle_id`): the old id is destroyed in the store right away and the
    /// data is saved under a fresh id at the end of the request. Only for
    /// data that must survive a login; prefer [`regenerate`](Self::regenerate).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be read or the old id
    /// cannot be destroyed; the session then keeps its id.
    pub async fn regenerate_keeping_data(&self) -> Result<(), SessionError> {
        let mut state = self.lock().await;
        let current = self.current(&mut state).await?;
        if current.stored.is_some() {
            self.request.config.store.destroy(&current.id).await?;
            current.stored = None;
            current.destroyed = true;
        }
        current.id = self.request.config.generate_id.next();
        Ok(())
    }

    /// Ends the session: it is destroyed in the store right away (a later
    /// request with its cookie gets a new, empty session) and the response
    /// tells the browser to drop the cookie. What is inserted after this, in
    /// the same request, starts a new session under a fresh id.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot destroy the session;
    /// it is then unchanged.
    pub async fn destroy(&self) -> Result<(), SessionError> {
        let mut state = self.lock().await;
        // Destroying needs no read: when the session was never used, the
        // cookie's id is the one to end.
        let (target, destroyed_before) = match &*state {
            State::Ended => return Err(SessionError::RequestEnded),
            State::Unread => (self.request.cookie_id.clone(), false),
            State::Ready(current) => (
                current.stored.is_some().then(|| current.id.clone()),
                current.destroyed,
            ),
        };
        if let Some(id) = &target {
            self.request.config.store.destroy(id).await?;
        }
        *state = State::Ready(Current::fresh(
            self.request.config.generate_id.next(),
            destroyed_before || target.is_some(),
        ));
        Ok(())
    }

    /// Takes the state at the end of the request; later calls fail with
    /// [`SessionError::RequestEnded`].
    pub(crate) async fn end(&self) -> State {
        std::mem::replace(&mut *self.lock().await, State::Ended)
    }

    async fn lock(&self) -> MutexGuard<'_, State> {
        self.request.state.lock().await
    }

    /// The session, read from the store at the first use.
    async fn current<'a>(&self, state: &'a mut State) -> Result<&'a mut Current, SessionError> {
        if let State::Unread = state {
            let loaded = match &self.request.cookie_id {
                Some(id) => match self.request.config.store.get_versioned(id).await {
                    Ok(found) => found.map(|read| (id.clone(), read)),
                    // What the store holds cannot be read here (say Node data
                    // Rust cannot hold): the user starts over, as with an
                    // unknown id, rather than failing every request.
                    Err(error @ (Error::Decode(_) | Error::InvalidId(_))) => {
                        tracing::warn!(%error, "the stored session cannot be read; a fresh one replaces it");
                        None
                    }
                    Err(error) => return Err(error.into()),
                },
                None => None,
            };
            // A cookie whose session is gone (expired, destroyed) gets a new
            // session under a fresh id: an id the client chose is never
            // stored.
            *state = State::Ready(match loaded {
                Some((id, read)) => Current::loaded(id, read),
                None => Current::fresh(self.request.config.generate_id.next(), false),
            });
        }
        match state {
            State::Ready(current) => Ok(current),
            State::Unread | State::Ended => Err(SessionError::RequestEnded),
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the id nor the data: both are secrets.
        f.debug_struct("Session")
            .field("signed_cookie", &self.request.cookie_id.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(SessionError::MissingLayer)
    }
}
