//! SQL-specific behaviour, checked against real PostgreSQL, MariaDB and SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{builder, drop_at_end, postgres_url, raw::Raw, session_in, sqlite_file_url, table, urls};
use session_core::{Error, SessionId, Store};
use session_sql::SqlStore;
use time::OffsetDateTime;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_is_idempotent_and_safe_from_many_tasks_at_once() {
    for (name, url) in urls() {
        let table = table("migrate");
        let _dropped = drop_at_end(&url, &table);
        let stores: Vec<SqlStore> = futures_util::future::try_join_all(
            (0..8).map(|_| builder(&url, &table).create_table_if_missing(false).build()),
        )
        .await
        .unwrap();
        let results = futures_util::future::join_all(stores.iter().map(SqlStore::migrate)).await;
        for result in results {
            result.unwrap_or_else(|e| panic!("{name}: concurrent migrate failed: {e}"));
        }
        stores[0]
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("{name}: second migrate failed: {e}"));
        let id = SessionId::generate();
        stores[3]
            .set(&id, &session_in(Duration::from_secs(60)))
            .await
            .unwrap();
        assert!(
            stores[5].get(&id).await.unwrap().is_some(),
            "{name}: one table shared by all"
        );
    }
}

#[tokio::test]
async fn hostile_table_and_schema_names_are_refused_before_any_sql() {
    for hostile in [
        "sessions; DROP TABLE users",
        "a\"b",
        "a`b",
        "x'y",
        "1abc",
        "",
        "a.b",
        "sess ions",
        "é",
    ] {
        let result = SqlStore::builder()
            .url("sqlite::memory:")
            .table(hostile)
            .build()
            .await;
        assert!(
            matches!(result, Err(Error::InvalidInput(_))),
            "table {hostile:?}: {result:?}"
        );
        let result = SqlStore::builder()
            .url("sqlite::memory:")
            .schema(hostile)
            .build()
            .await;
        assert!(
            matches!(result, Err(Error::InvalidInput(_))),
            "schema {hostile:?}: {result:?}"
        );
    }
    let long = "a".repeat(64);
    assert!(
        SqlStore::builder()
            .url("sqlite::memory:")
            .table(long)
            .build()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_give_clear_errors() {
    let result = SqlStore::connect("oracle://nope").await;
    assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
    let result = SqlStore::builder().build().await;
    assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let result = SqlStore::builder()
        .url(format!("postgres://postgres@127.0.0.1:{port}/test"))
        .timeout(Duration::from_millis(500))
        .build()
        .await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_deletes_fifty_thousand_expired_rows_in_batches_and_keeps_live_ones() {
    for (name, url) in urls() {
        let table = table("purge");
        let _dropped = drop_at_end(&url, &table);
        let store = builder(&url, &table)
            .purge_batch(5_000)
            .tombstone_grace(Duration::from_millis(200))
            .build()
            .await
            .unwrap();
        let raw = Raw::connect(&url).await;
        let later = session_core::backend::unix_millis(OffsetDateTime::now_utc() + Duration::from_secs(3600));
        for chunk in 0..50 {
            let values: Vec<String> = (0..1_000)
                .map(|n| format!("('bulk-{chunk}-{n}', {}, {later}, FALSE)", raw.blob()))
                .collect();
            raw.execute(format!(
                "INSERT INTO {table} (id, data, expires_at, destroyed) VALUES {}",
                values.join(",")
            ))
            .await;
        }
        let live: Vec<SessionId> = (0..100).map(|_| SessionId::generate()).collect();
        for id in &live {
            store
                .set(id, &session_in(Duration::from_secs(3600)))
                .await
                .unwrap();
        }
        for id in &live[..10] {
            store.destroy(id).await.unwrap(); // tombstones lapsing in 200 ms
        }
        assert_eq!(store.length().await.unwrap(), 50_090, "{name}");
        let past = session_core::backend::unix_millis(OffsetDateTime::now_utc()) - 1;
        raw.execute(format!(
            "UPDATE {table} SET expires_at = {past} WHERE id LIKE 'bulk-%'"
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        let report = store.purge_expired_report().await.unwrap();
        assert_eq!(
            report.deleted, 50_010,
            "{name}: expired sessions and lapsed tombstones"
        );
        // 50 010 rows in batches of 5 000: ten full batches and one short one.
        assert_eq!(report.statements, 11, "{name}: {report:?}");
        assert!(
            report.longest_statement > Duration::ZERO && report.longest_statement <= report.elapsed,
            "{name}: {report:?}"
        );
        assert_eq!(raw.rows(&table).await, 90, "{name}: live rows stay");
        assert_eq!(store.length().await.unwrap(), 90, "{name}");
        assert_eq!(
            store.purge_expired().await.unwrap(),
            0,
            "{name}: nothing left to purge"
        );
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits until fewer than `before` tasks are alive.
async fn expect_a_task_to_end(before: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive_tasks() >= before {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: the purge task kept running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_background_purge_runs_and_stops_on_request_or_with_the_store() {
    let (url, table) = (sqlite_file_url(&table("bg")), table("bg"));
    let _dropped = drop_at_end(&url, &table);
    let mut store = builder(&url, &table)
        .purge_interval(Some(Duration::from_millis(100)))
        .build()
        .await
        .unwrap();
    assert!(store.is_purging());
    let id = SessionId::generate();
    store
        .set(&id, &session_in(Duration::from_millis(100)))
        .await
        .unwrap();
    let raw = Raw::connect(&url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while raw.rows(&table).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the background purge never removed the expired row"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(raw);

    let clone = store.clone();
    assert!(!store.stop_purge(), "stop_purge needs the only handle");
    drop(clone);
    let with_task = alive_tasks();
    assert!(store.stop_purge() && !store.is_purging());
    expect_a_task_to_end(with_task, "stop_purge").await;

    let other = builder(&url, &table)
        .purge_interval(Some(Duration::from_millis(100)))
        .build()
        .await
        .unwrap();
    let with_task = alive_tasks();
    drop(other);
    expect_a_task_to_end(with_task, "dropping the store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_on_sqlite_never_report_database_is_locked() {
    let (url, table) = (sqlite_file_url(&table("locked")), table("locked"));
    let _dropped = drop_at_end(&url, &table);
    let store = Arc::new(builder(&url, &table).build().await.unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let id = SessionId::parse(&format!("id-{}", n % 20)).unwrap();
                store.create(&id, &session_in(Duration::from_secs(60))).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(Error::AlreadyExists) => {}
            Err(other) => panic!("a concurrent create failed: {other}"),
        }
    }
    assert_eq!(created, 20, "exactly one create per id wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_postgres_session_is_a_typed_error_then_the_next_call_recovers() {
    let url = postgres_url();
    let name = table("victim");
    let table = table("kill");
    let _dropped = drop_at_end(&url, &table);
    let options: sqlx::postgres::PgConnectOptions = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .application_name(&name);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let store = SqlStore::builder()
        .pg_pool(pool.clone())
        .table(&table)
        .purge_interval(None)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    store
        .set(&id, &session_in(Duration::from_secs(60)))
        .await
        .unwrap();

    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&admin)
        .await
        .unwrap();
    assert!(killed);

    let first = store.get(&id).await;
    if let Err(error) = &first {
        assert!(
            error.is_transient() || matches!(error, Error::Backend(_)),
            "typed error, got {error:?}"
        );
    }
    let mut recovered = false;
    for _ in 0..20 {
        if let Ok(Some(_)) = store.get(&id).await {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the store recovers on a later call without a restart (first call: {first:?})"
    );
}

#[tokio::test]
async fn disable_touch_is_a_successful_no_op() {
    let store = builder("sqlite::memory:", "s")
        .disable_touch(true)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    let session = session_in(Duration::from_secs(60));
    store.set(&id, &session).await.unwrap();
    store
        .touch(&id, Some(OffsetDateTime::now_utc() + Duration::from_secs(3600)))
        .await
        .unwrap();
    assert_eq!(
        store.get(&id).await.unwrap().unwrap().expires_at(),
        session.expires_at()
    );
    store.touch(&SessionId::generate(), None).await.unwrap();
    assert_eq!(store.length().await.unwrap(), 1);
}

#[tokio::test]
async fn debug_output_hides_the_url() {
    let builder = SqlStore::builder().url("postgres://user:hunter2@127.0.0.1/db");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let store = builder_for_debug().await;
    let shown = format!("{store:?}");
    assert!(
        shown.contains("Sqlite") && shown.contains("table: \"s\""),
        "{shown}"
    );
}

async fn builder_for_debug() -> SqlStore {
    builder("sqlite::memory:", "s").build().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn extra_columns_are_filled_indexed_and_find_or_destroy_sessions() {
    use session_sql::Column;
    for (name, url) in urls() {
        let table = table("cols");
        let _dropped = drop_at_end(&url, &table);
        let store = builder(&url, &table)
            .column(Column::text("user_id"))
            .column(Column::bigint("org").from_key("tenant"))
            .build()
            .await
            .unwrap();
        let raw = Raw::connect(&url).await;
        assert!(
            raw.has_index(&format!("{table}_user_id_idx")).await,
            "{name}: user_id is indexed"
        );
        assert!(
            raw.has_index(&format!("{table}_org_idx")).await,
            "{name}: org is indexed"
        );

        let write = |user: &'static str, tenant: i64| {
            let mut session = session_in(Duration::from_secs(600));
            session.insert("user_id", user).unwrap();
            session.insert("tenant", tenant).unwrap();
            session
        };
        let ada: Vec<SessionId> = (0..3).map(|_| SessionId::generate()).collect();
        for id in &ada {
            store.create(id, &write("ada", 7)).await.unwrap();
        }
        let bob = SessionId::generate();
        store.set(&bob, &write("bob", 8)).await.unwrap();
        assert_eq!(
            raw.text(&table, "user_id", &ada[0]).await.as_deref(),
            Some("ada"),
            "{name}"
        );

        let found = store.sessions_where("user_id", "ada").await.unwrap();
        assert_eq!(found.len(), 3, "{name}");
        assert!(
            found
                .iter()
                .all(|(id, s)| ada.contains(id)
                    && s.get::<String>("user_id").unwrap().as_deref() == Some("ada"))
        );
        assert_eq!(
            store.sessions_where("org", 8).await.unwrap().len(),
            1,
            "{name}: bigint column"
        );
        assert_eq!(
            store.sessions_where("org", "7").await.unwrap().len(),
            3,
            "{name}: text parsed for bigint"
        );
        assert!(
            store
                .sessions_where("org", "not a number")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            store.sessions_where("nope", "x").await,
            Err(Error::InvalidInput(_))
        ));

        assert_eq!(
            store.destroy_where("user_id", "ada").await.unwrap(),
            3,
            "{name}: ada logged out everywhere"
        );
        for id in &ada {
            assert!(store.get(id).await.unwrap().is_none(), "{name}");
            assert!(
                matches!(store.set(id, &write("ada", 7)).await, Err(Error::Destroyed)),
                "{name}: tombstoned"
            );
        }
        assert_eq!(
            raw.text(&table, "user_id", &ada[0]).await,
            None,
            "{name}: tombstones hold NULL"
        );
        assert!(store.get(&bob).await.unwrap().is_some(), "{name}: bob untouched");
        assert_eq!(store.length().await.unwrap(), 1, "{name}");
        assert_eq!(
            store.destroy_where("user_id", "ada").await.unwrap(),
            0,
            "{name}: nothing left"
        );

        let mut moved = write("carol", 9);
        store.set(&bob, &moved).await.unwrap();
        assert!(
            store.sessions_where("user_id", "bob").await.unwrap().is_empty(),
            "{name}: columns follow the data"
        );
        moved.remove("user_id");
        store.set(&bob, &moved).await.unwrap();
        assert_eq!(
            raw.text(&table, "user_id", &bob).await,
            None,
            "{name}: a missing key is NULL"
        );
    }
}

#[tokio::test]
async fn destroy_where_without_tombstones_deletes() {
    let store = builder("sqlite::memory:", "s")
        .column(session_sql::Column::text("user_id"))
        .tombstone_grace(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    let mut session = session_in(Duration::from_secs(60));
    session.insert("user_id", "ada").unwrap();
    store.set(&id, &session).await.unwrap();
    assert_eq!(store.destroy_where("user_id", "ada").await.unwrap(), 1);
    store.set(&id, &session).await.unwrap();
    assert!(
        store.get(&id).await.unwrap().is_some(),
        "no tombstone with zero grace"
    );
}

#[tokio::test]
async fn bad_column_configurations_are_refused() {
    use session_sql::Column;
    for column in [
        Column::text("id"),
        Column::bigint("destroyed"),
        Column::text("a b"),
    ] {
        let result = SqlStore::builder()
            .url("sqlite::memory:")
            .column(column)
            .build()
            .await;
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
    }
    let twice = SqlStore::builder()
        .url("sqlite::memory:")
        .column(Column::text("u"))
        .column(Column::bigint("u"))
        .build()
        .await;
    assert!(matches!(twice, Err(Error::InvalidInput(_))));
}

#[tokio::test]
async fn a_sea_orm_connection_without_a_pool_is_refused_not_a_panic() {
    let mock = sea_orm::MockDatabase::new(sea_orm::DatabaseBackend::Postgres).into_connection();
    let result = SqlStore::builder().sea_orm(&mock).build().await;
    assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
}

#[tokio::test]
async fn a_sea_orm_store_shares_the_apps_table_with_a_sqlx_store() {
    let db = sea_orm::Database::connect(postgres_url()).await.unwrap();
    let table = table("shared");
    let _dropped = drop_at_end(&postgres_url(), &table);
    let orm = SqlStore::builder()
        .sea_orm(&db)
        .table(&table)
        .purge_interval(None)
        .build()
        .await
        .unwrap();
    let plain = builder(&postgres_url(), &table).build().await.unwrap();
    let id = SessionId::generate();
    orm.set(&id, &session_in(Duration::from_secs(60))).await.unwrap();
    assert!(plain.get(&id).await.unwrap().is_some());
    plain.destroy(&id).await.unwrap();
    assert!(matches!(
        orm.set(&id, &session_in(Duration::from_secs(60))).await,
        Err(Error::Destroyed)
    ));
}
