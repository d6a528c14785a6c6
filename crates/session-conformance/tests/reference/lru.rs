//! The defect `Bug::CapacityEvictsTombstones`: an LRU bound that counts
//! tombstones as records and evicts the least recently written record,
//! whatever it is.

use std::{
    collections::{HashMap, VecDeque},
    sync::{LazyLock, Mutex, PoisonError},
};

use super::Namespace;

/// Each namespace's keys, least recently written first.
static WRITE_ORDER: LazyLock<Mutex<HashMap<String, VecDeque<String>>>> = LazyLock::new(Mutex::default);

/// Notes that `key` was just written to the namespace `name`, then evicts
/// the least recently written records until at most `capacity` remain.
pub(crate) fn written(name: &str, records: &mut Namespace, key: &str, capacity: u64) {
    let mut orders = WRITE_ORDER.lock().unwrap_or_else(PoisonError::into_inner);
    let order = orders.entry(name.to_string()).or_default();
    order.retain(|k| k != key); // a few hundred keys at most: linear is fine
    order.push_back(key.to_string());
    while records.len() as u64 > capacity {
        let Some(oldest) = order.pop_front() else { break };
        records.remove(&oldest);
    }
}
