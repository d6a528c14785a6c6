//! fred's errors, sorted into the contract's error groups.

use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};
use session_core::Error;

pub(crate) fn from_fred(error: FredError, timeout: Duration) -> Error {
    match error.kind() {
        ErrorKind::Timeout => Error::Timeout(timeout),
        ErrorKind::IO | ErrorKind::Canceled | ErrorKind::Tls => Error::Unavailable(Box::new(error)),
        ErrorKind::Url | ErrorKind::Config => Error::InvalidInput(error.to_string()),
        _ => Error::Backend(Box::new(error)),
    }
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
    }
}
