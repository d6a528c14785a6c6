//! Opening the store a URL names, with the demo's own names: prefix
//! `demo:`, table and database `demo_sessions`, CouchDB's synced cache on.
//! Which backend a URL names, and how it may be shown, is decided where
//! session-migrate decides it.

use std::sync::Arc;

use session_core::{Error, Store};
use session_migrate::{Backend, redact};

/// The store, the kind of store for the public pages (no host, no
/// user), and its URL without secrets for the operator's terminal.
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) kind: String,
    pub(crate) shown: String,
}

/// Opens the store `url` names; `None` is the in-process memory store.
pub(crate) async fn open(url: Option<&str>) -> Result<Opened, Error> {
    let Some(url) = url.filter(|u| !u.is_empty() && *u != "memory") else {
        return Ok(Opened {
            store: Arc::new(session_memory::MemoryStore::new()),
            kind: "memory (in this process)".into(),
            shown: "memory".into(),
        });
    };
    let backend = Backend::of(url).map_err(with_memory)?;
    let store: Arc<dyn Store> = match backend {
        Backend::Redis => Arc::new(
            session_redis::RedisStore::builder()
                .url(url)
                .prefix("demo:")
                .build()
                .await?,
        ),
        Backend::Sql => Arc::new(
            session_sql::SqlStore::builder()
                .url(url)
                .table("demo_sessions")
                .build()
                .await?,
        ),
        Backend::Couch => Arc::new(
            session_couch::CouchStore::builder()
                .url(url)
                .database("demo_sessions")
                .cache(true)
                .build()
                .await?,
        ),
        _ => return Err(Error::InvalidInput("a store the demo cannot open".into())),
    };
    let (kind, shown) = describe(backend, url);
    Ok(Opened { store, kind, shown })
}

/// The store `url` names as the public pages may show it (the kind and the
/// scheme, which name no server, user or secret), and as the operator's
/// terminal may (the URL without secrets).
fn describe(backend: Backend, url: &str) -> (String, String) {
    let scheme = url.split(':').next().unwrap_or_default();
    (format!("{backend:?} ({scheme})"), redact(url))
}

/// The demo takes `memory` too: say so beside the other schemes.
fn with_memory(error: Error) -> Error {
    match error {
        Error::InvalidInput(message) => Error::InvalidInput(format!("{message}, or memory")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_label_names_no_server_user_or_secret() {
        for (backend, url) in [
            (
                Backend::Sql,
                "postgres://ada:hunter2@db.internal:5432/app?password=hunter2",
            ),
            (Backend::Redis, "rediss://ada:hunter2@cache.internal:6380/0"),
            (Backend::Couch, "https://ada:hunter2@couch.internal:6984"),
        ] {
            let (kind, shown) = describe(backend, url);
            for secret in ["hunter2", "internal", "ada"] {
                assert!(!kind.contains(secret), "{kind}");
            }
            assert!(
                !shown.contains("hunter2") && shown.contains("internal"),
                "{shown}"
            );
        }
        assert_eq!(describe(Backend::Sql, "sqlite:demo.db").0, "Sql (sqlite)");
    }
}
