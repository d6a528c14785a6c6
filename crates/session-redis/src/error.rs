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

/// Runs `op` with a hard deadline, so no call outlives the configured
/// timeout even while the client is reconnecting.
pub(crate) async fn within<T>(
    timeout: Duration,
    op: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(timeout, op)
        .await
        .unwrap_or(Err(Error::Timeout(timeout)))
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

    #[tokio::test]
    async fn within_cuts_off_slow_operations() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        assert!(matches!(
            within(Duration::from_millis(20), slow).await,
            Err(Error::Timeout(_))
        ));
    }
}
