//! Reading tower-sessions-redis-store's records: one string key per
//! session, named by its id (after an optional prefix), holding the record.

use std::{fmt, time::Duration};

use bytes::Bytes;
use fred::{
    clients::Client,
    error::{Error as FredError, ErrorKind},
    interfaces::{ClientLike, ClusterInterface, KeysInterface},
    types::{Builder, Key, config::Config, config::Server, scan::ScanType},
};
use futures_util::future::try_join_all;
use session_core::{
    Error, Result, SessionStream,
    backend::{Page, paged, within},
    migrate::Source,
};
use session_redis::RedisStore;
use time::OffsetDateTime;

use super::record;

/// Keys asked for per `SCAN` page.
const SCAN_COUNT: u32 = 1000;

/// tower-sessions' Redis records as a migration [`Source`].
///
/// tower-sessions-redis-store 0.16 writes each session under its id alone
/// (later versions can add a prefix: give the same one here), as the
/// MessagePack of its `Record`, expiring at the record's expiry (to the
/// second). The reader `SCAN`s every primary (standalone or cluster) for
/// string keys, keeps those whose name after the prefix is a tower-sessions
/// id, and `GET`s them page by page: keys of other programs are skipped, and
/// a key named like an id that does not hold a record is a failed item. The
/// expiry comes from the record itself, to the millisecond.
pub struct TowerRedisSource {
    client: Client,
    prefix: String,
    timeout: Duration,
}

impl fmt::Debug for TowerRedisSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerRedisSource")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl TowerRedisSource {
    /// Connects to `url` (one of [`RedisStore::URL_SCHEMES`]); keys are
    /// `prefix` followed by the id (tower-sessions-redis-store 0.16: an
    /// empty prefix).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a URL that is not Redis's;
    /// [`Error::Unavailable`] or [`Error::Timeout`] when the server cannot
    /// be reached within `timeout`.
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self> {
        if !RedisStore::URL_SCHEMES
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err(Error::InvalidInput(format!(
                "a Redis URL starts with one of {}",
                RedisStore::URL_SCHEMES.join(", ")
            )));
        }
        // fred's message for a bad URL may quote it: say only that it is bad.
        let config =
            Config::from_url(url).map_err(|_| Error::InvalidInput("not a valid Redis URL".into()))?;
        let client = Builder::from_config(config)
            .with_connection_config(|connection| connection.connection_timeout = timeout)
            .with_performance_config(|performance| performance.default_command_timeout = timeout)
            .build()
            .map_err(|e| from_fred(e, timeout))?;
        within(timeout, async {
            client.init().await.map_err(|e| from_fred(e, timeout))
        })
        .await?;
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
            timeout,
        })
    }

    /// The primaries to scan: `None` is the one standalone server.
    fn nodes(&self) -> Result<Vec<Option<Server>>> {
        if !self.client.is_clustered() {
            return Ok(vec![None]);
        }
        let primaries = self
            .client
            .cached_cluster_state()
            .map(|state| state.unique_primary_nodes())
            .unwrap_or_default();
        if primaries.is_empty() {
            return Err(Error::Unavailable("the cluster's primaries are not known".into()));
        }
        Ok(primaries.into_iter().map(Some).collect())
    }

    /// One `SCAN` page on `node` from `cursor`: the next cursor and the
    /// keys that name a tower-sessions id, with that id.
    async fn scan(&self, node: Option<&Server>, cursor: String) -> Result<(String, Vec<(Key, String)>)> {
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let page = async {
            let page: std::result::Result<(String, Vec<Key>), FredError> = match node {
                Some(server) => {
                    self.client
                        .with_cluster_node(server.clone())
                        .scan_page(cursor, pattern, Some(SCAN_COUNT), Some(ScanType::String))
                        .await
                }
                None => {
                    self.client
                        .scan_page(cursor, pattern, Some(SCAN_COUNT), Some(ScanType::String))
                        .await
                }
            };
            page.map_err(|e| from_fred(e, self.timeout))
        };
        let (cursor, keys) = within(self.timeout, page).await?;
        let named = keys
            .into_iter()
            .filter_map(|key| {
                let id = key.as_str()?.strip_prefix(self.prefix.as_str())?.to_owned();
                record::is_id(&id).then_some((key, id))
            })
            .collect();
        Ok((cursor, named))
    }
}

/// Where a read stands: the nodes still to scan and the cursor on the last.
struct Cursor {
    nodes: Vec<Option<Server>>,
    cursor: String,
}

#[async_trait::async_trait]
impl Source for TowerRedisSource {
    fn sessions(&self) -> SessionStream<'_> {
        paged(None::<Cursor>, move |cursor| async move {
            let Cursor { mut nodes, cursor } = match cursor {
                Some(cursor) => cursor,
                None => Cursor {
                    nodes: self.nodes()?,
                    cursor: "0".into(),
                },
            };
            let Some(node) = nodes.last() else {
                return Ok(Page::end());
            };
            let (next, keys) = self.scan(node.as_ref(), cursor).await?;
            if next == "0" {
                nodes.pop();
            }
            let values: Vec<Option<Bytes>> = within(self.timeout, async {
                try_join_all(
                    keys.iter()
                        .map(|(key, _)| self.client.get::<Option<Bytes>, _>(key.clone())),
                )
                .await
                .map_err(|e| from_fred(e, self.timeout))
            })
            .await?;
            let now = OffsetDateTime::now_utc();
            let items = keys
                .iter()
                .zip(values)
                // A key that expired between SCAN and GET is simply gone.
                .filter_map(|((_, id), value)| record::decode(id, &value?, now).transpose())
                .collect();
            Ok(Page {
                items,
                next: Some(Some(Cursor { nodes, cursor: next })),
            })
        })
    }

    async fn count(&self) -> Result<u64> {
        let mut total = 0;
        for node in self.nodes()? {
            let mut cursor = "0".to_owned();
            loop {
                let (next, keys) = self.scan(node.as_ref(), cursor).await?;
                total += keys.len() as u64;
                if next == "0" {
                    break;
                }
                cursor = next;
            }
        }
        Ok(total)
    }
}

/// `text` with Redis glob characters escaped, to match it literally.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// fred's errors in the contract's groups (connection trouble is
/// `Unavailable`, so the copy stops rather than failing every session).
fn from_fred(error: FredError, timeout: Duration) -> Error {
    match error.kind() {
        ErrorKind::Timeout => Error::Timeout(timeout),
        ErrorKind::IO | ErrorKind::Canceled | ErrorKind::Tls | ErrorKind::Routing | ErrorKind::Cluster => {
            Error::Unavailable(Box::new(error))
        }
        ErrorKind::Url | ErrorKind::Config => Error::InvalidInput(error.to_string()),
        _ => Error::Backend(Box::new(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::escape_glob;

    #[test]
    fn glob_characters_match_literally() {
        assert_eq!(escape_glob("app:sess"), "app:sess");
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
