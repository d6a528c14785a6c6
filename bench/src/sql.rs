//! The SQL store on PostgreSQL against raw sqlx prepared statements (the
//! reference) and tower-sessions-sqlx-store (which uses sqlx 0.8).

use std::sync::Arc;

use async_trait::async_trait;
use session_core::expiry::unix_millis;
use session_sql::SqlStore;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::subject::{Ours, Subject, Tower, data, ids_and_session, later, records};

/// Raw sqlx: the same row shape as ours, one prepared statement per operation.
pub struct RawSqlx {
    pool: PgPool,
    keys: Vec<String>,
    value: Vec<u8>,
}

#[async_trait]
impl Subject for RawSqlx {
    async fn get(&self, key: usize) {
        let row: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM bench_raw WHERE id = $1 AND expires_at > $2")
                .bind(&self.keys[key])
                .bind(unix_millis(OffsetDateTime::now_utc()))
                .fetch_optional(&self.pool)
                .await
                .ok()
                .flatten();
        std::hint::black_box(row);
    }
    async fn set(&self, key: usize) {
        let _ = sqlx::query(
            "INSERT INTO bench_raw (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(&self.keys[key])
        .bind(&self.value)
        .bind(unix_millis(later()))
        .execute(&self.pool)
        .await;
    }
    async fn touch(&self, key: usize) {
        let _ = sqlx::query("UPDATE bench_raw SET expires_at = $1 WHERE id = $2")
            .bind(unix_millis(later()))
            .bind(&self.keys[key])
            .execute(&self.pool)
            .await;
    }
}

/// The PostgreSQL subjects, each filled with `keys` sessions; raw sqlx first.
pub async fn subjects(url: &str, keys: usize) -> Result<Vec<(String, Arc<dyn Subject>)>, String> {
    let (ids, session) = ids_and_session(keys);
    let pool = PgPool::connect(url)
        .await
        .map_err(|e| format!("PostgreSQL at {url} must be reachable: {e}"))?;
    for ddl in [
        "DROP TABLE IF EXISTS bench_raw",
        "CREATE TABLE bench_raw (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, expires_at BIGINT NOT NULL)",
        "DROP TABLE IF EXISTS bench_ours",
    ] {
        sqlx::query(ddl).execute(&pool).await.map_err(|e| e.to_string())?;
    }
    let value = serde_json::to_vec(&data()).map_err(|e| e.to_string())?;
    let raw = RawSqlx {
        pool,
        keys: ids.iter().map(|id| id.as_str().to_owned()).collect(),
        value,
    };
    let store = SqlStore::builder()
        .url(url)
        .table("bench_ours")
        .purge_interval(None)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let ours = Ours { store, ids, session };
    let peer_pool = tower_sessions_sqlx_store::sqlx::PgPool::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let peer_store =
        tower_sessions_sqlx_store::PostgresStore::new(peer_pool).with_table_name("bench_tower")?;
    peer_store.migrate().await.map_err(|e| e.to_string())?;
    let peer = Tower {
        store: peer_store,
        records: records!(tower_sessions_core_014, data(), keys),
    };
    let subjects: Vec<(String, Arc<dyn Subject>)> = vec![
        ("raw sqlx (reference)".into(), Arc::new(raw)),
        ("session-sql (ours)".into(), Arc::new(ours)),
        ("tower-sessions-sqlx-store".into(), Arc::new(peer)),
    ];
    for (_, subject) in &subjects {
        for key in 0..keys {
            subject.set(key).await;
        }
    }
    Ok(subjects)
}
