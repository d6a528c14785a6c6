//! SCAN over every primary, one page at a time, string keys only.
//!
//! Each page comes from one node, and the per-key commands that follow it
//! are single-key, so nothing is ever sent across hash slots. Keys of other
//! types (a hash someone put under the prefix) are never returned, so no
//! per-key command can fail on them.

use std::{
    collections::HashSet,
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use fred::{
    clients::Client,
    interfaces::{ClientLike, ClusterInterface, KeysInterface},
    types::{Key, config::Server, scan::ScanType},
};
use session_core::{Error, backend::within};

use crate::error::from_fred;

pub(crate) struct KeyScan {
    client: Client,
    pattern: String,
    count: u32,
    timeout: Duration,
    /// The nodes still to scan; `None` means the one standalone server.
    nodes: Vec<Option<Server>>,
    cursor: String,
    /// Fingerprints of keys already returned: SCAN may return a key twice
    /// while Redis resizes its table, and callers must see each once.
    seen: HashSet<u64>,
}

impl KeyScan {
    pub(crate) fn new(client: Client, pattern: &str, count: u32, timeout: Duration) -> Result<Self, Error> {
        let nodes = if client.is_clustered() {
            let primaries = client
                .cached_cluster_state()
                .map(|state| state.unique_primary_nodes())
                .unwrap_or_default();
            if primaries.is_empty() {
                return Err(Error::Unavailable(
                    "the cluster's primaries are not known yet".into(),
                ));
            }
            primaries.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        Ok(Self {
            client,
            pattern: pattern.to_owned(),
            count,
            timeout,
            nodes,
            cursor: "0".into(),
            seen: HashSet::new(),
        })
    }

    /// The client the scan runs on.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The next non-empty page of keys not returned before, or `None` when
    /// every node has been scanned to the end.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Vec<Key>>, Error> {
        while let Some(node) = self.nodes.last() {
            let (cursor, keys) = within(self.timeout, self.page(node.clone())).await?;
            if cursor == "0" {
                self.nodes.pop();
            }
            self.cursor = cursor;
            let fresh: Vec<Key> = keys
                .into_iter()
                .filter(|key| self.seen.insert(fingerprint(key)))
                .collect();
            if !fresh.is_empty() {
                return Ok(Some(fresh));
            }
        }
        Ok(None)
    }

    async fn page(&self, node: Option<Server>) -> Result<(String, Vec<Key>), Error> {
        let (cursor, pattern) = (self.cursor.clone(), self.pattern.clone());
        let page = match node {
            Some(server) => {
                self.client
                    .with_cluster_node(server)
                    .scan_page(cursor, pattern, Some(self.count), Some(ScanType::String))
                    .await
            }
            None => {
                self.client
                    .scan_page(cursor, pattern, Some(self.count), Some(ScanType::String))
                    .await
            }
        };
        page.map_err(|e| from_fred(e, self.timeout))
    }
}

fn fingerprint(key: &Key) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.as_bytes().hash(&mut hasher);
    hasher.finish()
}
