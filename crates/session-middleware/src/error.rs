//! What a session call can fail with, and the one response a failure gets.

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

/// Why a [`Session`](crate::Session) call failed.
///
/// Returned from a handler (it implements [`IntoResponse`]), it becomes a
/// bare `500 Internal Server Error`: the cause goes to the log through
/// `tracing`, never to the client.
///
/// ```
/// use session_middleware::{Session, SessionError};
///
/// async fn whoami(session: Session) -> Result<String, SessionError> {
///     let user: Option<String> = session.get("user").await?;
///     Ok(user.unwrap_or_else(|| "nobody".into()))
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed, or a value could not be encoded or decoded.
    #[error(transparent)]
    Store(#[from] session_core::Error),
    /// The handle was used after its request's response was made (from a
    /// task the handler spawned, say): what it would change could no longer
    /// be saved.
    #[error("the session's request has already ended")]
    RequestEnded,
    /// A handler asked for a [`Session`](crate::Session), but no
    /// [`SessionLayer`](crate::SessionLayer) runs in front of it.
    #[error("no SessionLayer runs in front of this handler")]
    MissingLayer,
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "session error");
        internal_error()
    }
}

/// The response to any failure: no detail for the client.
pub(crate) fn internal_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}
