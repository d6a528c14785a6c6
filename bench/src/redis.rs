//! The Redis store against raw fred GET/SET (the reference), the
//! tower-sessions Redis store, and `redis-benchmark` (the server's ceiling).

use std::{process::Command, sync::Arc};

use async_trait::async_trait;
use bytes::Bytes;
use fred::{
    clients::Client,
    interfaces::{ClientLike, KeysInterface},
    types::{Builder, Expiration, config::Config},
};
use session_core::expiry::unix_millis;
use session_redis::RedisStore;

use crate::{
    harness::Measurement,
    subject::{Ours, Subject, Tower, data, ids_and_session, later, records},
};

/// Raw fred: the same 1 KiB value with PXAT, as plain GET / SET / PEXPIREAT.
pub struct RawFred {
    client: Client,
    keys: Vec<String>,
    value: Bytes,
}

#[async_trait]
impl Subject for RawFred {
    async fn get(&self, key: usize) {
        let _: Option<Bytes> = std::hint::black_box(self.client.get(&self.keys[key]).await.ok().flatten());
    }
    async fn set(&self, key: usize) {
        let expire = Some(Expiration::PXAT(unix_millis(later())));
        let _: Option<()> = self
            .client
            .set(&self.keys[key], self.value.clone(), expire, None, false)
            .await
            .ok();
    }
    async fn touch(&self, key: usize) {
        let _: Option<bool> = self
            .client
            .pexpire_at(&self.keys[key], unix_millis(later()), None)
            .await
            .ok();
    }
}

async fn client(url: &str) -> Result<Client, String> {
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let client = Builder::from_config(config).build().map_err(|e| e.to_string())?;
    client
        .init()
        .await
        .map_err(|e| format!("Redis at {url} must be reachable: {e}"))?;
    Ok(client)
}

/// The Redis subjects, each filled with `keys` sessions; raw fred first.
pub async fn subjects(url: &str, keys: usize) -> Result<Vec<(String, Arc<dyn Subject>)>, String> {
    let (ids, session) = ids_and_session(keys);
    let value = Bytes::from(serde_json::to_vec(&data()).map_err(|e| e.to_string())?);
    let raw = RawFred {
        client: client(url).await?,
        keys: ids
            .iter()
            .map(|id| format!("bench:raw:{}", id.as_str()))
            .collect(),
        value,
    };
    let store = RedisStore::builder()
        .url(url)
        .prefix("bench:ours:")
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let ours = Ours { store, ids, session };
    let peer = Tower {
        store: tower_sessions_redis_store::RedisStore::new(client(url).await?),
        records: records!(tower_sessions_core_014, data(), keys),
    };
    let subjects: Vec<(String, Arc<dyn Subject>)> = vec![
        ("raw fred (reference)".into(), Arc::new(raw)),
        ("session-redis (ours)".into(), Arc::new(ours)),
        ("tower-sessions-redis-store".into(), Arc::new(peer)),
    ];
    for (_, subject) in &subjects {
        for key in 0..keys {
            subject.set(key).await;
        }
    }
    Ok(subjects)
}

/// `redis-benchmark` on GET and SET with 1 KiB values: the server's ceiling
/// with a C client, for context (it pipelines nothing either).
pub fn ceiling(ops: usize, concurrency: usize) -> Vec<Measurement> {
    let output = Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "-t",
            "get,set",
            "-d",
            "1024",
            "--csv",
        ])
        .args(["-n", &ops.to_string(), "-c", &concurrency.to_string()])
        .output();
    let Ok(output) = output else { return Vec::new() };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
            let workload = match *cells.first()? {
                "GET" => "get",
                "SET" => "set",
                _ => return None,
            };
            let number = |i: usize| cells.get(i).and_then(|c| c.parse::<f64>().ok());
            Some(Measurement {
                backend: "redis".into(),
                subject: "redis-benchmark (server ceiling)".into(),
                workload: workload.into(),
                concurrency,
                ops,
                ops_per_sec: number(1)?,
                p50_us: number(4)? * 1000.0,
                p99_us: number(6)? * 1000.0,
            })
        })
        .collect()
}
