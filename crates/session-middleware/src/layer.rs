//! The tower middleware: reads the cookie before the handler runs, and
//! saves the session and sets the cookie after.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum_core::{BoxError, body::Body};
use bytes::Bytes;
use http::{Request, Response, header::SET_COOKIE};
use session_core::Store;
use tower_layer::Layer;
use tower_service::Service;

use crate::{Session, SessionLayerBuilder, commit::commit, config::Config, error::internal_error};

/// Sessions for every request through it, on any [`Store`], with
/// express-session's signed cookie: a tower [`Layer`] for axum or any
/// tower service. Handlers reach the session through the [`Session`]
/// extractor.
///
/// Per request:
///
/// * **Before the handler**, the cookie is read and its signature checked,
///   with no store call. A cookie that is unsigned, wrongly signed, or not
///   a valid id is ignored: the request gets a new session.
/// * **During it**, the session is read from the store when a handler first
///   uses it, and only then.
/// * **After it**, if a handler destroyed the session, the cookie is
///   cleared. Else, if the data differs from what was read, the session is
///   saved with `set` (a new one with the atomic `create`), expiring
///   [`max_age`](SessionLayerBuilder::max_age) from now. Else a session that
///   was read is touched to the same expiry. A new session is saved only if
///   something was put in it. The cookie is sent for a new session, after a
///   change when it is persistent, and on every use with
///   [`rolling`](SessionLayerBuilder::rolling).
///
/// If a store call at the end fails, the response is replaced by a bare
/// `500 Internal Server Error` and the error is logged with `tracing`.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_memory::MemoryStore;
/// use session_middleware::{Session, SessionError, SessionLayer};
///
/// async fn visits(session: Session) -> Result<String, SessionError> {
///     let n = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
///     session.insert("visits", n).await?;
///     Ok(format!("visit number {n}"))
/// }
///
/// let layer = SessionLayer::builder(MemoryStore::new())
///     .secret("keyboard cat")
///     .build()?;
/// let app: Router = Router::new().route("/", get(visits)).layer(layer);
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionLayer {
    config: Arc<Config>,
}

impl SessionLayer {
    /// Starts building a layer on `store`: any store, including an
    /// `Arc<dyn Store>`.
    pub fn builder(store: impl Store + 'static) -> SessionLayerBuilder {
        SessionLayerBuilder::new(Arc::new(store))
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service a [`SessionLayer`] wraps around `S`.
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let config = Arc::clone(&self.config);
        let cookie_id = config
            .cookie
            .read(request.headers())
            .and_then(|value| config.signer.verify(&value));
        let session = Session::new(Arc::clone(&config), cookie_id);
        request.extensions_mut().insert(session.clone());
        // The service polled ready is the one to call; a clone takes its
        // place for the next request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?.map(Body::new);
            let header = commit(&config, session.end().await)
                .await
                .and_then(|update| config.set_cookie(update));
            match header {
                Ok(Some(cookie)) => {
                    response.headers_mut().append(SET_COOKIE, cookie);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "could not save the session");
                    response = internal_error();
                }
            }
            Ok(response)
        })
    }
}
