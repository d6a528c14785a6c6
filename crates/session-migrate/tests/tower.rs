//! Sessions written by tower-sessions' own stores move into ours, under the
//! same ids, so an app switching to `session-tower` logs no one out: the
//! way from the command line (or `open_source`) to the backends' readers,
//! end to end. The readers themselves are tested with their backends
//! (`session-redis`, `session-sql`), on records the real tower-sessions
//! stores write; here records are written byte for byte in their format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{collections::HashMap, str::FromStr as _};

use common::{mysql_url, postgres_store, postgres_url, redis_store, redis_url, remove_at_end, unique};
use fred::interfaces::ClientLike as _;
use session_core::{Session, SessionId, Store, migrate::Migration};
use session_migrate::{Endpoint, Layout, OpenOptions, open_source};
use session_tower::TowerStore;
use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
use tower_sessions_core::SessionStore as _;
use tower_sessions_core_014::session::{Id, Record};

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

/// Records under a Redis prefix (tower-sessions-redis-store writes none;
/// later versions can), read through [`open_source`] as the command line
/// opens them.
#[tokio::test]
async fn records_under_a_redis_prefix_move_through_open_source() {
    use fred::interfaces::KeysInterface as _;

    let url = redis_url();
    let prefix = format!("{}:", unique("tower_redis"));
    let _removed = remove_at_end(&Endpoint::new(&url).prefix(&prefix));
    let config = fred::types::config::Config::from_url(&url).unwrap();
    let client = fred::clients::Client::new(config, None, None, None);
    client
        .init()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} must be reachable: {e}"));
    let written = records(300);
    for record in &written {
        let key = format!("{prefix}{}", record.id);
        let _: () = client
            .set(key, rmp_serde::to_vec(record).unwrap(), None, None, false)
            .await
            .unwrap();
    }

    let side = Endpoint::new(&url).layout(Layout::TowerSessions).prefix(&prefix);
    let source = open_source(&side, &OpenOptions::default()).await.unwrap();
    assert_eq!(source.count().await.unwrap(), 300);
    let table = unique("tower_redis");
    let _dropped = remove_at_end(&Endpoint::new(postgres_url()).table(&table));
    let target = postgres_store(&table).await;
    let report = Migration::new(&*source, &target).run().await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.counts.copied, 300, "{report}");
    assert_moved(&target, &written).await;
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
    let _dropped = drop_schema_at_end(&url, &schema);
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
    let written = records(200);
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
    assert!(stdout.contains("sessions in the source: 200"), "{stdout}");
    assert!(stdout.contains("copied: 200"), "{stdout}");
    let target = redis_store(&prefix).await;
    assert_moved(&target, &written).await;
    target.clear().await.unwrap();
}

/// Drops the MySQL database `schema` at `url` when the value returned goes
/// out of scope: at the end of the test, passed or failed.
fn drop_schema_at_end(url: &str, schema: &str) -> session_conformance::Cleanup {
    let (url, drop) = (url.to_owned(), format!("DROP SCHEMA IF EXISTS `{schema}`"));
    session_conformance::Cleanup::new(async move {
        let pool = sqlx::MySqlPool::connect(&url).await.unwrap();
        sqlx::query(AssertSqlSafe(drop)).execute(&pool).await.unwrap();
        pool.close().await;
    })
}
