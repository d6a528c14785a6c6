//! SCAN over every primary, one page at a time, of keys of every type or of
//! one type only.
//!
//! Each page comes from one node, and the per-key commands that follow it
//! are single-key, so nothing is ever sent across hash slots. A key `SCAN`
//! returns twice (it may, while Redis resizes its table) is returned once.

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

use crate::{call::Call, connection::Connection, error::from_fred, topology::SlotLayout};

/// A [`KeyScan`] that ends by checking that the cluster's slots held still
/// since it began (see [`SlotLayout`]): a scan that may have missed keys
/// says so instead of ending as if it had seen them all.
pub(crate) struct CheckedScan {
    scan: KeyScan,
    slots: SlotLayout,
}

impl CheckedScan {
    /// Starts a scan of the keys `pattern` matches (of type `only`, or of
    /// every type) on every primary `connection` reaches, asking for `count`
    /// keys a page; each page, and each look at the slots, within `timeout`.
    pub(crate) async fn start(
        connection: &Connection,
        pattern: &str,
        only: Option<ScanType>,
        count: u32,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let scan = KeyScan::new(connection.client().clone(), pattern, only, count, timeout)?;
        let slots = SlotLayout::read(&scan.client, &Call::start(connection, timeout)).await?;
        Ok(Self { scan, slots })
    }

    /// The next page of keys not returned before; `None` at the end, once
    /// the slots are known to have held still.
    ///
    /// # Errors
    /// As a `SCAN`, and [`Error::Unavailable`] when the slots moved.
    pub(crate) async fn next_page(&mut self, connection: &Connection) -> Result<Option<Vec<Key>>, Error> {
        let page = self.scan.next_page().await?;
        if page.is_none() {
            let call = Call::start(connection, self.scan.timeout);
            self.slots.still_holds(&self.scan.client, &call).await?;
        }
        Ok(page)
    }
}

struct KeyScan {
    client: Client,
    pattern: String,
    only: Option<ScanType>,
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
    fn new(
        client: Client,
        pattern: &str,
        only: Option<ScanType>,
        count: u32,
        timeout: Duration,
    ) -> Result<Self, Error> {
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
            only,
            count,
            timeout,
            nodes,
            cursor: "0".into(),
            seen: HashSet::new(),
        })
    }

    /// The next non-empty page of keys not returned before, or `None` when
    /// every node has been scanned to the end.
    async fn next_page(&mut self) -> Result<Option<Vec<Key>>, Error> {
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
                    .scan_page(cursor, pattern, Some(self.count), self.only.clone())
                    .await
            }
            None => {
                self.client
                    .scan_page(cursor, pattern, Some(self.count), self.only.clone())
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
