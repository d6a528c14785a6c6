//! Reading tower-sessions-redis-store's records: one string key per
//! session, named by its id (after an optional prefix), holding the record.
//! The store's own machinery does the work: its connection, its scan of
//! every primary (each key once, the slots checked), its timeouts and its
//! error groups; only the key names and the record format are
//! tower-sessions'.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use fred::{
    interfaces::KeysInterface,
    types::{Key, scan::ScanType},
};
use session_core::{
    Clock, Result, Session, SessionId, SessionStream,
    backend::{Page, paged, tower_sessions},
    migrate::Source,
};

use crate::{call::Call, connection::Connection, keys, scan::CheckedScan};

/// tower-sessions' Redis records as a migration [`Source`], so the sessions
/// of an app on tower-sessions-redis-store move to one of this project's
/// stores (served through `session-tower`, under the same ids: no one is
/// logged out). Built by
/// [`RedisStoreBuilder::build_tower_sessions_source`](crate::RedisStoreBuilder::build_tower_sessions_source).
///
/// tower-sessions-redis-store 0.16 writes each session under its id alone
/// (later versions can add a prefix: give the builder the same one), as the
/// MessagePack of its `Record`, expiring at the record's expiry (to the
/// second). The reader `SCAN`s every primary (standalone or cluster) for
/// string keys under the prefix, as [`RedisStore`](crate::RedisStore) scans
/// its own: glob characters in the prefix match only themselves, a key
/// `SCAN` returns twice is read once, and a scan during which the cluster's
/// slots moved ends with [`Error::Unavailable`](session_core::Error::Unavailable).
/// It keeps the keys whose name after the prefix is a tower-sessions id and
/// `GET`s them page by page: keys of other programs are skipped, and a key
/// named like an id that does not hold a record is a failed item
/// ([`Error::Decode`](session_core::Error::Decode)). The expiry comes from
/// the record itself, to the millisecond. Nothing is ever written.
pub struct TowerSessionsSource {
    connection: Connection,
    prefix: String,
    /// The escaped `MATCH` pattern of every key under `prefix`.
    pattern: String,
    scan_count: u32,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl TowerSessionsSource {
    pub(crate) fn new(
        connection: Connection,
        prefix: String,
        scan_count: u32,
        timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            connection,
            pattern: keys::starting_with(&prefix),
            prefix,
            scan_count,
            timeout,
            clock,
        }
    }

    /// The key prefix the records are read under.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn call(&self) -> Call<'_> {
        Call::start(&self.connection, self.timeout)
    }

    async fn start(&self) -> Result<CheckedScan> {
        // Its records are strings: keys of other types are other programs'.
        let strings = Some(ScanType::String);
        CheckedScan::start(
            &self.connection,
            &self.pattern,
            strings,
            self.scan_count,
            self.timeout,
        )
        .await
    }

    /// The tower-sessions id `key` is named by, if it is one: the prefix's
    /// pattern also matches keys of other programs.
    fn id_of(&self, key: &Key) -> Option<String> {
        let name = key.as_bytes().strip_prefix(self.prefix.as_bytes())?;
        let name = std::str::from_utf8(name).ok()?;
        tower_sessions::is_id(name).then(|| name.to_owned())
    }

    /// The live sessions the records under `keys` hold.
    async fn sessions_in(&self, keys: Vec<Key>) -> Result<Vec<Result<(SessionId, Session)>>> {
        let (keys, ids): (Vec<Key>, Vec<String>) = keys
            .into_iter()
            .filter_map(|key| self.id_of(&key).map(|id| (key, id)))
            .unzip();
        let client = self.connection.client();
        let values: Vec<Option<Bytes>> = self.call().each_key(&keys, |key| client.get(key)).await?;
        let now = self.clock.now();
        Ok(ids
            .iter()
            .zip(values)
            // A key that expired between SCAN and GET is simply gone.
            .filter_map(|(id, value)| tower_sessions::decode(id, &value?, now).transpose())
            .collect())
    }
}

impl fmt::Debug for TowerSessionsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSessionsSource")
            .field("prefix", &self.prefix)
            .field("clustered", &self.connection.is_clustered())
            .field("scan_count", &self.scan_count)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Source for TowerSessionsSource {
    fn sessions(&self) -> SessionStream<'_> {
        paged(None::<CheckedScan>, move |scan| async move {
            let mut scan = match scan {
                Some(scan) => scan,
                None => self.start().await?,
            };
            let Some(keys) = scan.next_page(&self.connection).await? else {
                return Ok(Page::end());
            };
            let items = self.sessions_in(keys).await?;
            Ok(Page {
                items,
                next: Some(Some(scan)),
            })
        })
    }

    /// The keys named by a tower-sessions id (Redis drops expired ones
    /// itself), without reading them: one that holds no record is counted
    /// here and is a failed item of [`sessions`](Self::sessions).
    async fn count(&self) -> Result<u64> {
        let mut scan = self.start().await?;
        let mut total = 0;
        while let Some(keys) = scan.next_page(&self.connection).await? {
            total += keys.iter().filter(|key| self.id_of(key).is_some()).count() as u64;
        }
        Ok(total)
    }
}
