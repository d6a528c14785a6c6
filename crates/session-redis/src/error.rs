//! fred's errors, sorted into the contract's error groups.

use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};
use session_core::Error;

pub(crate) fn from_fred(error: FredError, timeout: Duration) -> Error {
    if is_wrong_type(&error) {
        return wrong_type();
    }
    match error.kind() {
        ErrorKind::Timeout => Error::Timeout(timeout),
        ErrorKind::IO
        | ErrorKind::Canceled
        | ErrorKind::Tls
        | ErrorKind::Routing
        | ErrorKind::Backpressure
        | ErrorKind::Cluster => Error::Unavailable(Box::new(error)),
        ErrorKind::Url | ErrorKind::Config => Error::InvalidInput(error.to_string()),
        _ if is_connection_trouble(error.details()) => Error::Unavailable(Box::new(error)),
        _ => Error::Backend(Box::new(error)),
    }
}

/// The answer of one key's read in a page of them: a key of another Redis
/// type is an answer about that key (it cannot be read), not a failure of
/// the page, so no such key stops a bulk read.
pub(crate) fn per_key<T>(answer: Result<T, FredError>) -> Result<Result<T, Error>, FredError> {
    match answer {
        Err(error) if is_wrong_type(&error) => Ok(Err(wrong_type())),
        answer => answer.map(Ok),
    }
}

fn is_wrong_type(error: &FredError) -> bool {
    error.details().starts_with("WRONGTYPE")
}

/// A key of another type where a session should be: like any value this
/// store did not write, it cannot be read as a session.
fn wrong_type() -> Error {
    Error::Decode("the key holds a Redis type other than a string; it was left alone".into())
}

/// fred reports some connection trouble with a generic kind: a command
/// that found no connection while one was being replaced, a write whose one
/// attempt met a closed connection, a cluster that is failing over.
fn is_connection_trouble(details: &str) -> bool {
    [
        "Failed to route command",
        "Too many failed write attempts",
        "CLUSTERDOWN",
        "TRYAGAIN",
        "LOADING",
        "READONLY",
    ]
    .iter()
    .any(|start| details.starts_with(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_groups() {
        let t = Duration::from_millis(10);
        let map = |kind| from_fred(FredError::new(kind, "x"), t);
        assert!(matches!(map(ErrorKind::Timeout), Error::Timeout(d) if d == t));
        assert!(map(ErrorKind::IO).is_transient());
        assert!(matches!(map(ErrorKind::Url), Error::InvalidInput(_)));
        assert!(matches!(map(ErrorKind::Protocol), Error::Backend(_)));
        for trouble in [
            "Failed to route command.",
            "CLUSTERDOWN The cluster is down",
            "READONLY You can't write",
        ] {
            assert!(
                from_fred(FredError::new(ErrorKind::Unknown, trouble), t).is_transient(),
                "{trouble}"
            );
        }
        assert!(map(ErrorKind::Routing).is_transient() && map(ErrorKind::Cluster).is_transient());
        let wrong_type = FredError::new(ErrorKind::InvalidArgument, "WRONGTYPE Operation against a key");
        assert!(matches!(from_fred(wrong_type.clone(), t), Error::Decode(_)));
        assert!(matches!(
            per_key::<()>(Err(wrong_type)),
            Ok(Err(Error::Decode(_)))
        ));
        assert!(per_key::<()>(Err(FredError::new(ErrorKind::IO, "x"))).is_err());
        assert!(matches!(per_key(Ok(1)), Ok(Ok(1))));
    }
}
