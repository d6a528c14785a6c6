//! What one run measured, as saved to and read from its JSON file.

use serde::{Deserialize, Serialize};

use crate::{harness::Measurement, scale::ScaleRow, server_cost::ServerCost, sync::SyncLatency};

/// Everything one run measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    pub mode: String,
    pub throughput: Vec<Measurement>,
    pub scale: Vec<ScaleRow>,
    pub sync: Option<SyncLatency>,
    /// The Redis near cache's invalidation delay between two processes.
    #[serde(default)]
    pub near_sync: Option<SyncLatency>,
    /// The Redis server's own time per command over the Redis rows.
    #[serde(default)]
    pub redis_costs: Vec<ServerCost>,
}
