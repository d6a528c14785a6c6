//! The Redis store, with and without its near cache, against raw fred GET /
//! SET (the reference), raw fred GET plus decoding the JSON (what a store's
//! get must do too), the tower-sessions Redis store, and `redis-benchmark`
//! (the server's ceiling).

use std::{process::Command, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use fred::{
    clients::Client,
    interfaces::{ClientLike, KeysInterface},
    types::{
        Builder, Expiration,
        config::{Config, ReconnectPolicy, UnresponsiveConfig},
    },
};
use session_core::{SessionData, backend::unix_millis};
use session_redis::{NearCacheOptions, RedisStore};

use crate::{
    harness::Measurement,
    subject::{Ours, Outcome, Subject, Subjects, Tower, data, found, ids_and_session, later, records},
};

pub fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Raw fred: the same 1 KiB JSON value with PXAT, as plain GET / SET /
/// PEXPIREAT. With `decode`, a get also parses the JSON into a map, the
/// useful work a session store's get does beyond the round trip.
pub struct RawFred {
    client: Client,
    keys: Vec<String>,
    value: Bytes,
    decode: bool,
}

impl RawFred {
    async fn value(&self, key: usize) -> Result<Option<Bytes>, String> {
        self.client.get(&self.keys[key]).await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Subject for RawFred {
    async fn get(&self, key: usize) -> Outcome {
        let value = self.value(key).await?;
        if !self.decode {
            return found(value);
        }
        let Some(bytes) = value else {
            return found(None::<()>);
        };
        let data: SessionData = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        found(Some(data))
    }
    async fn set(&self, key: usize) -> Outcome {
        let expire = Some(Expiration::PXAT(unix_millis(later())));
        self.client
            .set(&self.keys[key], self.value.clone(), expire, None, false)
            .await
            .map_err(|e| e.to_string())
    }
    async fn touch(&self, key: usize) -> Outcome {
        let moved: bool = self
            .client
            .pexpire_at(&self.keys[key], unix_millis(later()), None)
            .await
            .map_err(|e| e.to_string())?;
        if moved { Ok(()) } else { Err("no such key".into()) }
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        match self.value(key).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}

/// Our store with its near cache: after a read, the session must be held in
/// the cache (else the rows would time Redis, not the cache).
pub struct NearCached(pub Ours<RedisStore>);

#[async_trait]
impl Subject for NearCached {
    async fn get(&self, key: usize) -> Outcome {
        self.0.get(key).await
    }
    async fn set(&self, key: usize) -> Outcome {
        self.0.set(key).await
    }
    async fn touch(&self, key: usize) -> Outcome {
        self.0.touch(key).await
    }
    async fn fill(&self, key: usize) -> Outcome {
        // A session is read right after it is created (the next request), so
        // the cache holds what this process wrote: the case it is for.
        self.0.fill(key).await?;
        self.0.get(key).await
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        self.0.read(key).await
    }
    fn after_read(&self, key: usize) -> Outcome {
        if self.0.store.near_cache_holds(&self.0.ids[key]) {
            Ok(())
        } else {
            Err("the near cache does not hold the session just read".into())
        }
    }
}

pub async fn client(url: &str) -> Result<Client, String> {
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let client = Builder::from_config(config).build().map_err(|e| e.to_string())?;
    client
        .init()
        .await
        .map_err(|e| format!("Redis at {url} must be reachable: {e}"))?;
    Ok(client)
}

/// A client opened with the settings session-redis gives its own
/// connections (a default command timeout, fred's unresponsive-connection
/// check, a constant reconnect policy): raw GET/SET through it tell the
/// client settings' cost from the store code's.
pub async fn client_as_the_store_opens_it(url: &str) -> Result<Client, String> {
    let timeout = Duration::from_secs(5);
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let mut builder = Builder::from_config(config);
    builder.with_performance_config(|perf| perf.default_command_timeout = timeout);
    builder.with_connection_config(|conn| {
        conn.connection_timeout = timeout;
        conn.internal_command_timeout = timeout;
        conn.unresponsive = UnresponsiveConfig {
            max_timeout: Some(timeout),
            interval: timeout / 4,
        };
    });
    builder.set_policy(ReconnectPolicy::new_constant(0, 200));
    let client = builder.build().map_err(|e| e.to_string())?;
    client
        .init()
        .await
        .map_err(|e| format!("Redis at {url} must be reachable: {e}"))?;
    Ok(client)
}

/// Our store under `prefix`, with a near cache of `near` sessions if given;
/// with a near cache, returns once the cache serves reads.
pub async fn ours(url: &str, prefix: &str, near: Option<u64>) -> Result<RedisStore, String> {
    let mut builder = RedisStore::builder().url(url).prefix(prefix);
    if let Some(capacity) = near {
        builder = builder.near_cache(NearCacheOptions::new(capacity));
    }
    let store = builder.build().await.map_err(|e| e.to_string())?;
    if near.is_some() {
        for _ in 0..500 {
            if store.near_cache_trusted() {
                return Ok(store);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        return Err("the Redis near cache never started serving reads".into());
    }
    Ok(store)
}

/// The Redis subjects for `keys` sessions (not yet filled); raw fred first.
pub async fn subjects(keys: usize) -> Result<Subjects, String> {
    let url = url();
    let (ids, session) = ids_and_session(keys);
    let value = Bytes::from(serde_json::to_vec(&data()).map_err(|e| e.to_string())?);
    let raw = |prefix: &str, decode: bool| {
        let keys = ids.iter().map(|id| format!("{prefix}{}", id.as_str())).collect();
        let value = value.clone();
        let url = url.clone();
        async move {
            Ok::<_, String>(RawFred {
                client: client(&url).await?,
                keys,
                value,
                decode,
            })
        }
    };
    let ours_plain = Ours {
        store: ours(&url, "bench:ours", None).await?,
        ids: ids.clone(),
        session: session.clone(),
    };
    let ours_near = NearCached(Ours {
        store: ours(&url, "bench:near", Some(keys as u64 * 2)).await?,
        ids: ids.clone(),
        session,
    });
    let peer = Tower {
        store: tower_sessions_redis_store::RedisStore::new(client(&url).await?),
        records: records!(tower_sessions_core_014, data(), keys),
    };
    Ok(vec![
        (
            "raw fred GET/SET (reference)".into(),
            Arc::new(raw("bench:raw:", false).await?),
        ),
        (
            "raw fred GET + JSON decode (context)".into(),
            Arc::new(raw("bench:rawdec:", true).await?),
        ),
        (
            "raw fred GET/SET, the store's client settings (context)".into(),
            Arc::new(RawFred {
                client: client_as_the_store_opens_it(&url).await?,
                keys: ids
                    .iter()
                    .map(|id| format!("bench:rawset:{}", id.as_str()))
                    .collect(),
                value: value.clone(),
                decode: false,
            }),
        ),
        ("session-redis (ours)".into(), Arc::new(ours_plain)),
        ("session-redis (ours, near cache)".into(), Arc::new(ours_near)),
        ("tower-sessions-redis-store".into(), Arc::new(peer)),
    ])
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
                errors: 0,
                first_error: None,
            })
        })
        .collect()
}
