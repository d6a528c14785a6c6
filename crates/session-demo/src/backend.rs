//! Opening the store a URL names.

use std::sync::Arc;

use session_core::{Error, Store};

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
    let label = redact(url);
    let names = |schemes: &[&str]| schemes.iter().any(|scheme| url.starts_with(scheme));
    let store: Arc<dyn Store> = if names(&session_redis::RedisStore::URL_SCHEMES) {
        Arc::new(
            session_redis::RedisStore::builder()
                .url(url)
                .prefix("demo:")
                .build()
                .await?,
        )
    } else if names(&session_sql::SqlStore::URL_SCHEMES) {
        Arc::new(
            session_sql::SqlStore::builder()
                .url(url)
                .table("demo_sessions")
                .build()
                .await?,
        )
    } else if names(&session_couch::CouchStore::URL_SCHEMES) {
        Arc::new(
            session_couch::CouchStore::builder()
                .url(url)
                .database("demo_sessions")
                .cache(true)
                .build()
                .await?,
        )
    } else {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        return Err(Error::InvalidInput(format!(
            "unknown store URL scheme {scheme:?}: use memory, {}, {}, or (CouchDB) {}",
            session_redis::RedisStore::URL_SCHEMES.join(", "),
            session_sql::SqlStore::URL_SCHEMES.join(", "),
            session_couch::CouchStore::URL_SCHEMES.join(", ")
        )));
    };
    Ok(Opened { store, label })
}

/// `url` with any password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}:***@{host}")
        }
        None => authority.to_owned(),
    };
    match path {
        Some(path) => format!("{scheme}://{authority}/{path}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("redis://u:secret@h:6379/0"), "redis://u:***@h:6379/0");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite:demo.db"), "sqlite:demo.db");
    }
}
