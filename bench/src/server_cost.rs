//! What each Redis command cost the server during the Redis rows, from its
//! own `INFO commandstats` (reset before the rows): on two shared cores the
//! server's time per call bounds throughput at c=64, so this is the measured
//! reason a script-per-write store trails plain SET.

use std::process::Command;

use serde::{Deserialize, Serialize};

/// One command's server-side cost over the Redis rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerCost {
    pub command: String,
    pub calls: u64,
    pub usec_per_call: f64,
}

/// The commands the Redis subjects send.
const COMMANDS: [&str; 5] = ["get", "set", "pexpireat", "evalsha", "expire"];

fn redis_cli(args: &[&str]) -> Result<String, String> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .map_err(|e| format!("redis-cli: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Resets the server's command statistics.
pub fn reset() -> Result<(), String> {
    redis_cli(&["CONFIG", "RESETSTAT"]).map(drop)
}

/// The cost per call of each command the subjects sent since [`reset`].
pub fn read() -> Result<Vec<ServerCost>, String> {
    let stats = redis_cli(&["INFO", "commandstats"])?;
    Ok(stats
        .lines()
        .filter_map(|line| {
            // cmdstat_get:calls=12,usec=34,usec_per_call=2.83,...
            let (name, fields) = line.trim().strip_prefix("cmdstat_")?.split_once(':')?;
            if !COMMANDS.contains(&name) {
                return None;
            }
            let field = |key: &str| {
                fields
                    .split(',')
                    .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
                    .and_then(|value| value.parse::<f64>().ok())
            };
            Some(ServerCost {
                command: name.to_uppercase(),
                calls: field("calls")? as u64,
                usec_per_call: field("usec_per_call")?,
            })
        })
        .collect())
}
