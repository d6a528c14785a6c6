//! Opening the store a URL names, with the demo's own names: prefix
//! `demo:`, table and database `demo_sessions`, CouchDB's synced cache on.
//! Which backend a URL names, and how it may be shown, is decided where
//! session-migrate decides it.

use std::sync::Arc;

use session_core::{Error, Store};
use session_migrate::{Backend, redact};

/// The store and a label for it that is safe to show (no password).
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) label: String,
}

/// Opens the store `url` names; `None` is the in-process memory store.
pub(crate) async fn open(url: Option<&str>) -> Result<Opened, Error> {
    let Some(url) = url.filter(|u| !u.is_empty() && *u != "memory") else {
        return Ok(Opened {
            store: Arc::new(session_memory::MemoryStore::new()),
            label: "memory (in this process)".into(),
        });
    };
    let store: Arc<dyn Store> = match Backend::of(url).map_err(with_memory)? {
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
    Ok(Opened {
        store,
        label: redact(url),
    })
}

/// The demo takes `memory` too: say so beside the other schemes.
fn with_memory(error: Error) -> Error {
    match error {
        Error::InvalidInput(message) => Error::InvalidInput(format!("{message}, or memory")),
        other => other,
    }
}
