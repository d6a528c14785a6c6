//! Sessions written by tower-sessions' own stores move into ours, under the
//! same ids, so an app switching to `session-tower` logs no one out.
//!
//! The Redis and PostgreSQL records are written by the real crates
//! (tower-sessions-redis-store 0.16, tower-sessions-sqlx-store 0.15). That
//! SQL crate is built on PostgreSQL only (its SQLite driver would clash with
//! ours), so the MySQL and SQLite records are written here byte for byte in
//! its format: the same table layout, the same MessagePack record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{collections::HashMap, str::FromStr as _, time::Duration as StdDuration};

use common::{mysql_url, postgres_store, postgres_url, redis_store, redis_url, remove_at_end, unique};
use fred::interfaces::ClientLike as _;
use session_core::{Session, SessionId, Store, migrate::Migration};
use session_migrate::{Endpoint, TowerRedisSource, TowerSqlSource};
use session_tower::TowerStore;
use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
use tower_sessions_core::SessionStore as _;
use tower_sessions_core_014::{
    SessionStore as _,
    session::{Id, Record},
};

const TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// `count` records with nested data, expiring over the next hours at
/// sub-millisecond instants (the reader keeps the millisecond).
fn records(count: usize) -> Vec<Record> {
    let now = OffsetDateTime::now_utc();
    (0..count)
        .map(|n| Record {
            id: Id::default(),
            data: HashMap::from([
                ("user_id".to_owned(), serde_json::json!(n)),
                (
                    "profile".to_owned(),
                    serde_json::json!({"name": format!("user {n}"), "tags": ["a", "b"], "score": 0.25}),
                ),
            ]),
            expiry_date: now + Duration::minutes(30 + n as i64) + Duration::nanoseconds(123_456_789),
        })
        .collect()
}

/// The session our store should hold for `record`.
fn expected(record: &Record) -> (SessionId, Session) {
    let data = record.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    (
        SessionId::parse(&record.id.to_string()).unwrap(),
        Session::from_data(data).expiring_at(record.expiry_date),
    )
}

/// Every record is in `target` as the same session, and `session-tower`
/// loads it back under the same cookie id as the same record.
async fn assert_moved<S: Store + Clone + 'static>(target: &S, records: &[Record]) {
    let sessions: Vec<_> = records.iter().map(expected).collect();
    common::assert_holds(target, &sessions).await;
    let tower = TowerStore::new(target.clone());
    for record in records {
        let id = tower_sessions_core::session::Id::from_str(&record.id.to_string()).unwrap();
        let loaded = tower
            .load(&id)
            .await
            .unwrap()
            .expect("loaded through session-tower");
        assert_eq!(loaded.data, record.data);
        assert_eq!(loaded.expiry_date, expected(record).1.expires_at().unwrap());
    }
}

#[tokio::test]
async fn records_of_tower_sessions_redis_store_move_to_postgres() {
    let url = redis_url();
    let client = fred::clients::Client::new(
        fred::types::config::Config::from_url(&url).unwrap(),
        None,
        None,
        None,
    );
    client
        .init()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    let tower = tower_sessions_redis_store::RedisStore::new(client.clone());
    let mut written = records(300);
    for record in &mut written {
        tower.create(record).await.unwrap();
    }
    let logged_out = written.pop().unwrap();
    tower.delete(&logged_out.id).await.unwrap();

    let source = TowerRedisSource::connect(&url, "", TIMEOUT).await.unwrap();
    assert!(session_core::migrate::Source::count(&source).await.unwrap() >= 299);
    let table = unique("tower_redis");
    let _dropped = remove_at_end(&Endpoint::new(postgres_url()).table(&table));
    let target = postgres_store(&table).await;
    let report = Migration::new(&source, &target).run().await;
    assert!(report.stopped.is_none() && report.counts.failed == 0, "{report}");
    // Records other tests left in this Redis come along; ours all do.
    assert!(report.counts.copied >= 299, "{report}");
    assert_moved(&target, &written).await;
    let (id, _) = expected(&logged_out);
    assert!(
        target.get(&id).await.unwrap().is_none(),
        "a deleted record is not copied"
    );

    for record in &written {
        tower.delete(&record.id).await.unwrap();
    }
    target.clear().await.unwrap();
}

#[tokio::test]
async fn records_of_tower_sessions_sqlx_store_on_postgres_move_to_redis() {
    use tower_sessions_sqlx_store::{PostgresStore, sqlx::PgPool};

    let url = postgres_url();
    let pool = PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} must be reachable: {e}"));
    let schema = unique("tower_pg");
    let tower = PostgresStore::new(pool.clone())
        .with_schema_name(&schema)
        .unwrap();
    tower.migrate().await.unwrap();
    let mut written = records(250);
    for record in &mut written {
        tower.create(record).await.unwrap();
    }
    // tower-sessions keeps expired rows until `delete_expired`: never copied.
    let mut expired = records(5);
    for record in &mut expired {
        record.expiry_date = OffsetDateTime::now_utc() - Duration::seconds(1);
        tower.create(record).await.unwrap();
    }

    let source = TowerSqlSource::connect(&url, Some(&schema), None, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(session_core::migrate::Source::count(&source).await.unwrap(), 250);
    let prefix = unique("tower_pg");
    let _removed = remove_at_end(&Endpoint::new(redis_url()).prefix(&prefix));
    let target = redis_store(&prefix).await;
    let report = Migration::new(&source, &target).run().await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.counts.copied, 250, "{report}");
    assert_moved(&target, &written).await;
    assert_eq!(target.length().await.unwrap(), 250);

    sqlx_drop_schema(&url, &schema).await;
    target.clear().await.unwrap();
}

/// Records in tower-sessions-sqlx-store 0.15's MySQL layout, read through
/// the command line.
#[tokio::test]
async fn records_in_tower_sessions_mysql_layout_move_through_the_cli() {
    let url = mysql_url();
    let pool = sqlx::MySqlPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("MariaDB at {url} must be reachable: {e}"));
    let schema = unique("tower_my");
    for statement in [
        format!("CREATE SCHEMA `{schema}`"),
        format!(
            "CREATE TABLE `{schema}`.`session` (id char(22) primary key not null, data blob not null, \
             expiry_date timestamp(6) not null)"
        ),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .unwrap();
    }
    let written = records(1_500); // more than one page
    let mut expired = records(3);
    for record in &mut expired {
        record.expiry_date = OffsetDateTime::now_utc() - Duration::minutes(1);
    }
    for record in written.iter().chain(&expired) {
        // sqlx binds the date itself; our sqlx has no date types, so the
        // server converts it (in the connection's time zone, as sqlx's are).
        let insert = format!(
            "INSERT INTO `{schema}`.`session` (id, data, expiry_date) VALUES (?, ?, FROM_UNIXTIME(?))"
        );
        sqlx::query(AssertSqlSafe(insert))
            .bind(record.id.to_string())
            .bind(rmp_serde::to_vec(record).unwrap())
            .bind(record.expiry_date.unix_timestamp())
            .execute(&pool)
            .await
            .unwrap();
    }

    let prefix = unique("tower_my");
    let _removed = remove_at_end(&Endpoint::new(redis_url()).prefix(&prefix));
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_session-migrate"))
        .args([
            "--source",
            &url,
            "--source-layout",
            "tower-sessions",
            "--source-schema",
            &schema,
        ])
        .args(["--target", &redis_url(), "--target-prefix", &prefix])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sessions in the source: 1500"), "{stdout}");
    assert!(stdout.contains("copied: 1500"), "{stdout}");
    let target = redis_store(&prefix).await;
    assert_moved(&target, &written).await;

    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA `{schema}`")))
        .execute(&pool)
        .await
        .unwrap();
    target.clear().await.unwrap();
}

/// Records in tower-sessions-sqlx-store 0.15's SQLite layout.
#[tokio::test]
async fn records_in_tower_sessions_sqlite_layout_move_to_postgres() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tower_lite")));
    let url = format!("sqlite:{}", path.display());
    let _removed = remove_at_end(&Endpoint::new(&url).table("tower_sessions"));
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query("CREATE TABLE tower_sessions (id text primary key not null, data blob not null, expiry_date integer not null)")
        .execute(&pool)
        .await
        .unwrap();
    let written = records(120);
    for record in &written {
        sqlx::query("INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?)")
            .bind(record.id.to_string())
            .bind(rmp_serde::to_vec(record).unwrap())
            .bind(record.expiry_date.unix_timestamp())
            .execute(&pool)
            .await
            .unwrap();
    }
    // A row of another program, or a corrupted one: one failure, not a stop.
    sqlx::query("INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, 0)")
        .bind(Id::default().to_string())
        .bind(b"not messagepack".to_vec())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let source = TowerSqlSource::connect(&url, None, None, TIMEOUT).await.unwrap();
    let table = unique("tower_lite");
    let _dropped = remove_at_end(&Endpoint::new(postgres_url()).table(&table));
    let target = postgres_store(&table).await;
    let report = Migration::new(&source, &target).run().await;
    assert_eq!((report.counts.copied, report.counts.failed), (120, 1), "{report}");
    assert!(report.stopped.is_none(), "{report}");
    assert!(
        report.failures[0]
            .to_string()
            .contains("not a tower-sessions record"),
        "{report}"
    );
    assert_moved(&target, &written).await;
    target.clear().await.unwrap();
    std::fs::remove_file(&path).unwrap();
}

async fn sqlx_drop_schema(url: &str, schema: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(&pool)
        .await
        .unwrap();
}
