//! `TowerSessionsSource`: tower-sessions-sqlx-store's rows read as the same
//! sessions, on each database. The PostgreSQL rows are written by the real
//! crate (tower-sessions-sqlx-store 0.15). It is built on PostgreSQL only
//! (its SQLite driver would clash with ours), so the MySQL and SQLite rows
//! are written here byte for byte in its format: the same table layout, the
//! same MessagePack record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{collections::HashMap, time::Duration as StdDuration};

use common::{drop_at_end, mysql_url, postgres_url, raw::Raw, sqlite_file_url, table};
use futures_util::StreamExt as _;
use session_conformance::Cleanup;
use session_core::{Error, Session, SessionId, migrate::Source};
use session_sql::{SqlStore, TowerSessionsSource};
use time::{Duration, OffsetDateTime};
use tower_sessions_core_014::{
    SessionStore as _,
    session::{Id, Record},
};

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

/// `count` records that expired a minute ago (tower-sessions keeps them
/// until its `delete_expired` runs).
fn expired(count: usize) -> Vec<Record> {
    let mut records = records(count);
    for record in &mut records {
        record.expiry_date = OffsetDateTime::now_utc() - Duration::minutes(1);
    }
    records
}

/// A reader on `url`, in `schema` when given, default options otherwise.
async fn source(url: &str, schema: Option<&str>) -> TowerSessionsSource {
    let mut builder = SqlStore::builder().url(url).timeout(StdDuration::from_secs(10));
    if let Some(schema) = schema {
        builder = builder.schema(schema);
    }
    builder
        .build_tower_sessions_source()
        .await
        .unwrap_or_else(|e| panic!("the database at {url} must be reachable (run ./scripts/test): {e}"))
}

/// Everything `source` yields: its sessions by id (failing the test if
/// one comes twice) and its failed items.
async fn read_all(source: &TowerSessionsSource) -> (HashMap<SessionId, Session>, Vec<Error>) {
    let (mut sessions, mut failed) = (HashMap::new(), Vec::new());
    let mut stream = source.sessions();
    while let Some(item) = stream.next().await {
        match item {
            Ok((id, session)) => {
                let redacted = id.redacted().to_string();
                assert!(sessions.insert(id, session).is_none(), "{redacted} read twice");
            }
            Err(error) => failed.push(error),
        }
    }
    (sessions, failed)
}

/// Checks that `read` holds exactly `records`, each as the same session.
fn assert_read(read: &HashMap<SessionId, Session>, records: &[Record]) {
    assert_eq!(read.len(), records.len());
    for record in records {
        let id = SessionId::parse(&record.id.to_string()).unwrap();
        let data = record.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let session = Session::from_data(data).expiring_at(record.expiry_date);
        let got = read
            .get(&id)
            .unwrap_or_else(|| panic!("{:?} was not read", id.redacted()));
        assert_eq!(got.data(), session.data());
        assert_eq!(got.expires_at(), session.expires_at(), "to the millisecond");
    }
}

/// Drops `schema` (a PostgreSQL schema, a MySQL database) and what it holds
/// at `url` when the value returned goes out of scope: at the end of the
/// test, passed or failed.
fn drop_schema_at_end(url: &str, schema: &str) -> Cleanup {
    let drop = if url.starts_with("postgres") {
        format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")
    } else {
        format!("DROP SCHEMA IF EXISTS `{schema}`")
    };
    let url = url.to_owned();
    Cleanup::new(async move {
        let raw = Raw::connect(&url).await;
        raw.execute(drop).await;
        raw.close().await;
    })
}

#[tokio::test]
async fn records_of_tower_sessions_sqlx_store_on_postgres_are_read() {
    use tower_sessions_sqlx_store::{PostgresStore, sqlx::PgPool};

    let url = postgres_url();
    let schema = table("tower_pg");
    let _dropped = drop_schema_at_end(&url, &schema);
    let pool = PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} must be reachable: {e}"));
    let tower = PostgresStore::new(pool.clone())
        .with_schema_name(&schema)
        .unwrap();
    tower.migrate().await.unwrap();
    let mut written = records(250);
    for record in written.iter_mut().chain(&mut expired(5)) {
        tower.create(record).await.unwrap();
    }
    pool.close().await;

    let source = source(&url, Some(&schema)).await;
    assert_eq!(source.count().await.unwrap(), 250, "expired rows are not counted");
    let (read, failed) = read_all(&source).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_read(&read, &written);
}

#[tokio::test]
async fn records_in_tower_sessions_mysql_layout_are_read_page_by_page() {
    let url = mysql_url();
    let schema = table("tower_my");
    let _dropped = drop_schema_at_end(&url, &schema);
    let raw = Raw::connect(&url).await;
    raw.execute(format!("CREATE SCHEMA `{schema}`")).await;
    raw.execute(format!(
        "CREATE TABLE `{schema}`.`session` (id char(22) primary key not null, data blob not null, \
         expiry_date timestamp(6) not null)"
    ))
    .await;
    let Raw::MySql(pool) = &raw else {
        unreachable!("a MySQL URL")
    };
    let written = records(1_500); // more than one page
    for record in written.iter().chain(&expired(3)) {
        // sqlx 0.8 binds the date itself; ours has no date types, so the
        // server converts it (in the connection's time zone, as sqlx's are).
        let insert = format!(
            "INSERT INTO `{schema}`.`session` (id, data, expiry_date) VALUES (?, ?, FROM_UNIXTIME(?))"
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(record.id.to_string())
            .bind(rmp_serde::to_vec(record).unwrap())
            .bind(record.expiry_date.unix_timestamp())
            .execute(pool)
            .await
            .unwrap();
    }
    raw.close().await;

    let source = source(&url, Some(&schema)).await;
    assert_eq!(
        source.count().await.unwrap(),
        1_500,
        "expired rows are not counted"
    );
    let (read, failed) = read_all(&source).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_read(&read, &written);
}

#[tokio::test]
async fn records_in_tower_sessions_sqlite_layout_are_read_and_a_broken_row_fails_alone() {
    let url = sqlite_file_url(&table("tower_lite"));
    let _removed = drop_at_end(&url, "tower_sessions");
    let raw = Raw::connect(&format!("{url}?mode=rwc")).await;
    raw.execute(
        "CREATE TABLE tower_sessions (id text primary key not null, data blob not null, \
         expiry_date integer not null)"
            .into(),
    )
    .await;
    let Raw::Sqlite(pool) = &raw else {
        unreachable!("a SQLite URL")
    };
    let (written, expired) = (records(120), expired(2));
    let rows = written
        .iter()
        .chain(&expired)
        .map(|record| (record.id.to_string(), rmp_serde::to_vec(record).unwrap()))
        // A row of another program, or a corrupted one: one failure, not a stop.
        .chain([(Id::default().to_string(), b"not messagepack".to_vec())])
        // A row not named by an id: not tower-sessions', skipped.
        .chain([("settings".to_owned(), b"{}".to_vec())]);
    for (id, data) in rows {
        sqlx::query("INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, 0)")
            .bind(id)
            .bind(data)
            .execute(pool)
            .await
            .unwrap();
    }
    raw.close().await;

    let source = source(&url, None).await;
    assert_eq!(
        source.count().await.unwrap(),
        124,
        "SQLite's rows are counted as they are"
    );
    let (read, failed) = read_all(&source).await;
    assert_read(&read, &written);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].to_string().contains("not a tower-sessions record"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_reader_changes_nothing_and_checks_its_names_first() {
    let url = sqlite_file_url(&table("tower_none"));
    let _removed = drop_at_end(&url, "tower_sessions");
    let file = url.trim_start_matches("sqlite:").to_owned();
    let opened = SqlStore::builder().url(&url).build_tower_sessions_source().await;
    assert!(matches!(opened, Err(Error::Unavailable(_))), "{opened:?}");
    assert!(
        !std::path::Path::new(&file).exists(),
        "a reader never creates the database"
    );
    for (schema, table) in [(Some("a;b"), None), (None, Some("x\"; DROP TABLE y"))] {
        let mut builder = SqlStore::builder().url(&url);
        if let Some(schema) = schema {
            builder = builder.schema(schema);
        }
        if let Some(table) = table {
            builder = builder.table(table);
        }
        let refused = builder.build_tower_sessions_source().await;
        assert!(matches!(refused, Err(Error::InvalidInput(_))), "{refused:?}");
    }
    assert!(!std::path::Path::new(&file).exists());
    let raw = Raw::connect(&format!("{url}?mode=rwc")).await;
    raw.close().await;
    let with_schema = SqlStore::builder()
        .url(&url)
        .schema("main")
        .build_tower_sessions_source()
        .await;
    assert!(
        matches!(&with_schema, Err(Error::InvalidInput(m)) if m.contains("no schema")),
        "{with_schema:?}"
    );
}
