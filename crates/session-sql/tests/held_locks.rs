//! A lock held from another connection must not drain the store's pool:
//! calls stuck behind it end within the timeout with a typed error and
//! give their connections back, calls on other ids keep working, and once
//! the lock goes calls succeed at once (issue 12, SQL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{builder, drop_at_end, mysql_url, postgres_url, raw::Raw, session_in, sqlite_file_url, table};
use session_core::{Error, Session, SessionId, Store};
use session_sql::SqlStore;

const TIMEOUT: Duration = Duration::from_secs(4);
const POOL: u32 = 3;
/// The longest the store lets a statement wait for a lock at [`TIMEOUT`].
const LONGEST_LOCK_WAIT: Duration = Duration::from_secs(1);
/// Room for scheduling on a busy machine, past the timeout itself.
const SLACK: Duration = Duration::from_millis(700);

fn marked(mark: &str) -> Session {
    let mut session = session_in(Duration::from_secs(600));
    session.insert("mark", mark).unwrap();
    session
}

async fn mark_of(store: &SqlStore, id: &SessionId) -> Option<String> {
    store.get(id).await.unwrap().and_then(|s| s.get("mark").unwrap())
}

/// Holds a write lock on one session while twice the pool's size of writes
/// queue behind it. `other_writes`: whether writes to other ids can go on
/// (not on SQLite, whose write lock covers the whole database).
async fn a_held_lock_leaves_the_pool_working(name: &str, url: &str, other_writes: bool) {
    let table = table("held");
    let _dropped = drop_at_end(url, &table);
    let store = builder(url, &table)
        .max_connections(POOL)
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap();
    let hot = SessionId::generate();
    store.set(&hot, &marked("before")).await.unwrap();
    let others: Vec<SessionId> = (0..4).map(|_| SessionId::generate()).collect();
    for id in &others {
        store.set(id, &marked("other")).await.unwrap();
    }
    // Open every connection of the pool now, so the timings below are the lock's.
    let warm_up = (0..2 * POOL).map(|_| store.get(&hot));
    for found in futures_util::future::join_all(warm_up).await {
        assert!(found.unwrap().is_some(), "{name}");
    }
    let raw = Raw::connect(url).await;
    let held = raw.lock_rows(&table, &format!("id = '{}'", hot.as_str())).await;

    let stuck: Vec<_> = (0..2 * POOL)
        .map(|_| {
            let (store, hot) = (store.clone(), hot.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let result = store.set(&hot, &marked("during")).await;
                (result, started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let meanwhile: Vec<_> = others
        .iter()
        .map(|id| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let read = store.get(&id).await.map(|found| found.is_some());
                let written = if other_writes {
                    store.set(&id, &marked("meanwhile")).await
                } else {
                    Ok(())
                };
                (read, written, started.elapsed())
            })
        })
        .collect();

    for call in meanwhile {
        let (read, written, took) = call.await.unwrap();
        assert!(
            matches!(read, Ok(true)) && written.is_ok(),
            "{name}: a call on another id failed while the lock was held: {read:?} {written:?}"
        );
        assert!(took < TIMEOUT, "{name}: a call on another id took {took:?}");
    }
    let mut given_up_by_the_server = 0;
    for call in stuck {
        let (result, took) = call.await.unwrap();
        assert!(
            matches!(result, Err(Error::Timeout(_))),
            "{name}: a write behind the lock must time out, got {result:?}"
        );
        assert!(took <= TIMEOUT + SLACK, "{name}: it took {took:?}");
        if took < TIMEOUT / 2 {
            given_up_by_the_server += 1;
        }
    }
    // The server gives up each lock wait after a quarter of the timeout
    // (PostgreSQL restarts that clock for each lock a statement queues for).
    assert!(
        given_up_by_the_server > 0,
        "{name}: writes behind the lock end at the server's lock wait, long before the timeout"
    );

    // A call that ran out of time before its statement's lock wait did may
    // leave that statement waiting on the server, for one lock wait at most.
    tokio::time::sleep(LONGEST_LOCK_WAIT).await;
    held.release().await;
    let started = Instant::now();
    assert_eq!(
        mark_of(&store, &hot).await.as_deref(),
        Some("before"),
        "{name}: the server ended every write that reported a timeout"
    );
    store.set(&hot, &marked("after")).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{name}: calls succeed at once after the lock goes"
    );
    assert_eq!(mark_of(&store, &hot).await.as_deref(), Some("after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_row_lock() {
    let url = postgres_url();
    let test = a_held_lock_leaves_the_pool_working("postgres", &url, true);
    tokio::time::timeout(Duration::from_secs(30), test).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_row_lock() {
    let url = mysql_url();
    let test = a_held_lock_leaves_the_pool_working("mariadb", &url, true);
    tokio::time::timeout(Duration::from_secs(30), test).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_write_transaction() {
    let url = sqlite_file_url(&table("held"));
    let test = a_held_lock_leaves_the_pool_working("sqlite", &url, false);
    tokio::time::timeout(Duration::from_secs(30), test).await.unwrap();
}

/// On a PostgreSQL pool the app passes in, the store cannot configure the
/// connections: it bounds each statement in a transaction of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_row_lock_on_the_apps_own_pool() {
    let test = async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(POOL)
            .connect(&postgres_url())
            .await
            .unwrap();
        let table = table("apppool");
        let _dropped = drop_at_end(&postgres_url(), &table);
        let store = SqlStore::builder()
            .pg_pool(pool.clone())
            .table(&table)
            .timeout(TIMEOUT)
            .purge_interval(None)
            .build()
            .await
            .unwrap();
        let (hot, other) = (SessionId::generate(), SessionId::generate());
        store.set(&hot, &marked("before")).await.unwrap();
        let raw = Raw::connect(&postgres_url()).await;
        let held = raw.lock_rows(&table, &format!("id = '{}'", hot.as_str())).await;
        let stuck: Vec<_> = (0..2 * POOL)
            .map(|_| {
                let (store, hot) = (store.clone(), hot.clone());
                tokio::spawn(async move { store.set(&hot, &marked("during")).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.set(&other, &marked("meanwhile")).await.unwrap();
        for call in stuck {
            let result = call.await.unwrap();
            assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
        }
        tokio::time::sleep(LONGEST_LOCK_WAIT).await;
        held.release().await;
        assert_eq!(mark_of(&store, &hot).await.as_deref(), Some("before"));
        let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(timeout, "0", "the app's own connections keep their settings");
    };
    tokio::time::timeout(Duration::from_secs(30), test).await.unwrap();
}
