//! sqlx 0.8 beside sqlx 0.9 on PostgreSQL: the reference's exact statements
//! through raw sqlx 0.8, so a difference between the versions shows apart
//! from any store's own.

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{SessionData, backend::unix_millis};
use time::OffsetDateTime;

use crate::subject::{Outcome, Subject, Subjects, data, found, later};

const GET: &str = "SELECT data, expires_at FROM bench_raw08 WHERE id = $1 AND expires_at > $2";
const SET: &str = "INSERT INTO bench_raw08 (id, data, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at";
const TOUCH: &str = "UPDATE bench_raw08 SET expires_at = $1 WHERE id = $2";

/// Raw sqlx 0.8 with the reference's statements on a table of its own.
pub struct RawSqlx08 {
    pool: sqlx08::PgPool,
    keys: Vec<String>,
    value: Vec<u8>,
}

impl RawSqlx08 {
    async fn data(&self, key: usize) -> Result<Option<Vec<u8>>, String> {
        let row: Option<(Vec<u8>, i64)> = sqlx08::query_as(GET)
            .bind(&self.keys[key])
            .bind(unix_millis(OffsetDateTime::now_utc()))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.map(|(data, _)| data))
    }
}

#[async_trait]
impl Subject for RawSqlx08 {
    async fn get(&self, key: usize) -> Outcome {
        found(self.data(key).await?)
    }
    async fn set(&self, key: usize) -> Outcome {
        sqlx08::query(SET)
            .bind(&self.keys[key])
            .bind(&self.value)
            .bind(unix_millis(later()))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
    async fn touch(&self, key: usize) -> Outcome {
        let done = sqlx08::query(TOUCH)
            .bind(unix_millis(later()))
            .bind(&self.keys[key])
            .execute(&self.pool)
            .await
            .map_err(|e| e.to_string())?;
        if done.rows_affected() == 0 {
            Err("no such row".into())
        } else {
            Ok(())
        }
    }
    async fn read(&self, key: usize) -> Result<Option<SessionData>, String> {
        match self.data(key).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}

/// The sqlx 0.8 subjects on PostgreSQL at `url`, for the reference's `keys`.
pub async fn subjects(url: &str, keys: Vec<String>) -> Result<Subjects, String> {
    let error = |e: sqlx08::Error| format!("postgres at {url} (sqlx 0.8): {e}");
    let pool = sqlx08::PgPool::connect(url).await.map_err(error)?;
    for ddl in [
        "DROP TABLE IF EXISTS bench_raw08",
        "CREATE TABLE bench_raw08 (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, expires_at BIGINT NOT NULL)",
    ] {
        sqlx08::query(ddl).execute(&pool).await.map_err(error)?;
    }
    let raw = RawSqlx08 {
        pool,
        keys,
        value: serde_json::to_vec(&data()).map_err(|e| e.to_string())?,
    };
    Ok(vec![(
        "raw sqlx 0.8, same statements (context)".into(),
        Arc::new(raw) as Arc<dyn Subject>,
    )])
}

/// Queries per variant in the reproduction.
const REPRO_QUERIES: usize = 10_000;

/// The smallest reproduction of the 0.8 / 0.9 gap: one connection each, no
/// pool, the reference's get statement on a one-row table, one query at a
/// time. Prints per variant whether the connection is encrypted (the
/// server's own `pg_stat_ssl`) and what a query costs.
pub async fn reproduce() -> Result<(), String> {
    use sqlx::Connection as _;
    use sqlx08::Connection as _;

    let url =
        std::env::var("POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let plain = with_sslmode(&url, "disable");
    let setup = |e: sqlx08::Error| format!("postgres at {url}: {e}");
    let mut conn08 = sqlx08::PgConnection::connect(&url).await.map_err(setup)?;
    for statement in [
        "DROP TABLE IF EXISTS bench_repro",
        "CREATE TABLE bench_repro (id VARCHAR(128) COLLATE \"C\" PRIMARY KEY, data BYTEA NOT NULL, expires_at BIGINT NOT NULL)",
    ] {
        sqlx08::query(statement)
            .execute(&mut conn08)
            .await
            .map_err(setup)?;
    }
    sqlx08::query("INSERT INTO bench_repro VALUES ('k', $1, $2)")
        .bind(serde_json::to_vec(&data()).map_err(|e| e.to_string())?)
        .bind(i64::MAX)
        .execute(&mut conn08)
        .await
        .map_err(setup)?;
    const SQL: &str = "SELECT data, expires_at FROM bench_repro WHERE id = $1 AND expires_at > $2";
    const SSL: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    // Each variant's best median over the rounds (the machine is shared:
    // the best round is the one least disturbed).
    let mut best: Vec<(&str, bool, f64)> = Vec::new();
    let mut keep = |name: &'static str, encrypted: bool, p50: f64| match best.iter_mut().find(|b| b.0 == name)
    {
        Some(kept) => kept.2 = kept.2.min(p50),
        None => best.push((name, encrypted, p50)),
    };
    macro_rules! variant {
        ($name:expr, $sqlx:ident, $url:expr) => {{
            let error = |e: $sqlx::Error| format!("{}: {e}", $name);
            let mut conn = $sqlx::PgConnection::connect($url).await.map_err(error)?;
            let (encrypted,): (bool,) = $sqlx::query_as(SSL).fetch_one(&mut conn).await.map_err(error)?;
            let mut latencies = Vec::with_capacity(REPRO_QUERIES);
            for _ in 0..REPRO_QUERIES {
                let began = std::time::Instant::now();
                let row: Option<(Vec<u8>, i64)> = $sqlx::query_as(SQL)
                    .bind("k")
                    .bind(0_i64)
                    .fetch_optional(&mut conn)
                    .await
                    .map_err(error)?;
                found(row)?;
                latencies.push(began.elapsed().as_secs_f64() * 1e6);
            }
            latencies.sort_by(f64::total_cmp);
            keep($name, encrypted, latencies[latencies.len() / 2]);
        }};
    }
    // Three rounds, in alternating order, so no variant gains from its place.
    for round in 0..3 {
        if round % 2 == 0 {
            variant!("sqlx 0.8, URL as given", sqlx08, &url);
            variant!("sqlx 0.9, URL as given", sqlx, &url);
            variant!("sqlx 0.9, sslmode=disable", sqlx, &plain);
            variant!("sqlx 0.8, sslmode=disable", sqlx08, &plain);
        } else {
            variant!("sqlx 0.8, sslmode=disable", sqlx08, &plain);
            variant!("sqlx 0.9, sslmode=disable", sqlx, &plain);
            variant!("sqlx 0.9, URL as given", sqlx, &url);
            variant!("sqlx 0.8, URL as given", sqlx08, &url);
        }
    }
    println!(
        "{REPRO_QUERIES} queries per variant and round, one at a time on one connection; best median of 3 rounds:"
    );
    for (name, encrypted, p50) in &best {
        println!("  {name:<28} TLS {encrypted:<5}  p50 {p50:>6.1} µs");
    }
    sqlx08::query("DROP TABLE bench_repro")
        .execute(&mut conn08)
        .await
        .map_err(setup)?;
    Ok(())
}

/// `url` with its `sslmode` set to `mode` (PostgreSQL's default is `prefer`:
/// TLS whenever the client can and the server offers it).
pub fn with_sslmode(url: &str, mode: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode={mode}")
}
