//! Faults made for real: a throwaway redis-server killed, paused or
//! restarted by its PID, a proxy of the tests' own that delays, blackholes
//! or resets connections, and a skewed application clock. Every call must
//! end within its timeout with a typed error, a write that gave up must
//! never land later, and a logout must stick.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    error::Error as _,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{
    proxy::Proxy,
    raw_client, standalone_url,
    throwaway::{Throwaway, spare_port},
    unique_prefix,
};
use fred::interfaces::KeysInterface;
use session_core::{Error, Session, SessionId, Store, clock::SkewedClock};
use session_redis::RedisStore;
use time::OffsetDateTime;

fn session_expiring_in(seconds: u64) -> Session {
    let mut session = Session::new().expiring_at(OffsetDateTime::now_utc() + Duration::from_secs(seconds));
    session.insert("user", "ada").unwrap();
    session
}

/// A store on `url` with a short timeout and quick reconnects.
async fn store_on(url: &str, timeout: Duration) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .prefix(unique_prefix("fault"))
        .timeout(timeout)
        .reconnect_delay(Duration::from_millis(50))
        .build()
        .await
        .unwrap()
}

/// Fails unless `error` is transient, and no text it carries (Display,
/// Debug, sources) holds the whole id.
fn assert_typed_and_discreet(error: &Error, id: &SessionId, what: &str) {
    assert!(
        error.is_transient(),
        "{what}: expected Timeout or Unavailable, got {error:?}"
    );
    let mut texts = vec![error.to_string(), format!("{error:?}")];
    let mut source = error.source();
    while let Some(inner) = source {
        texts.push(inner.to_string());
        source = inner.source();
    }
    for text in texts {
        assert!(
            !text.contains(id.as_str()),
            "{what}: an error text holds the session id: {text}"
        );
    }
}

/// Retries `get` of a fresh id until the store answers, and says how long
/// that took; panics after `limit`.
async fn time_to_recover(store: &RedisStore, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        match store.get(&SessionId::generate()).await {
            Ok(_) => return started.elapsed(),
            Err(e) if e.is_transient() && started.elapsed() < limit => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("no recovery within {limit:?}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_gives_typed_errors_within_the_timeout_then_recovers() {
    let timeout = Duration::from_millis(500);
    let server = Throwaway::start(spare_port()).await;
    let port = server.port;
    let store = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}"))
        .timeout(timeout)
        .reconnect_delay(Duration::from_millis(50))
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, &session_expiring_in(600)).await.unwrap();

    server.kill().await;
    for attempt in 0..3 {
        let started = Instant::now();
        let results = [
            store.get(&id).await.err(),
            store.set(&id, &session_expiring_in(600)).await.err(),
            store.length().await.err(),
        ];
        let elapsed = started.elapsed();
        for result in &results {
            assert!(
                matches!(result, Some(e) if e.is_transient()),
                "attempt {attempt}: expected Timeout or Unavailable, got {result:?}"
            );
        }
        assert!(
            elapsed < 3 * timeout + Duration::from_millis(600),
            "three calls took {elapsed:?}"
        );
    }

    let _restarted = Throwaway::start(port).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.set(&id, &session_expiring_in(600)).await {
            Ok(()) => break,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no recovery after Redis came back: {e}"),
        }
    }
    assert!(
        store.get(&id).await.unwrap().is_some(),
        "calls succeed again without a restart"
    );
    assert_eq!(store.length().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_timed_out_in_an_outage_is_never_replayed() {
    let timeout = Duration::from_millis(400);
    let server = Throwaway::start(spare_port()).await;
    let port = server.port;
    let store = store_on(&server.url(), timeout).await;
    store
        .set(&SessionId::generate(), &session_expiring_in(600))
        .await
        .unwrap();

    server.kill().await;
    let late = SessionId::generate();
    let created = SessionId::generate();
    for (write, answer) in [
        ("set", store.set(&late, &session_expiring_in(600)).await),
        ("create", store.create(&created, &session_expiring_in(600)).await),
    ] {
        let error = answer.expect_err("Redis is down");
        assert_typed_and_discreet(&error, &late, write);
    }

    let server = Throwaway::start(port).await;
    let recovered = time_to_recover(&store, Duration::from_secs(10)).await;
    // Anything fred still held would have been sent on reconnecting; give it time.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let raw = raw_client(&server.url()).await;
    let landed: i64 = raw
        .exists(vec![store.key_of(&late), store.key_of(&created)])
        .await
        .unwrap();
    assert_eq!(
        landed, 0,
        "writes that answered an error must not land after the reconnect ({recovered:?})"
    );
    store.create(&created, &session_expiring_in(600)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_connection_is_replaced_within_a_few_timeouts() {
    let timeout = Duration::from_millis(400);
    let server = Throwaway::start(spare_port()).await;
    let proxy = Proxy::start(server.addr()).await;
    let store = store_on(&proxy.url(), timeout).await;
    let kept = SessionId::generate();
    store.set(&kept, &session_expiring_in(600)).await.unwrap();

    // The old path drops every packet and never closes: no FIN, no RST.
    proxy.blackhole_open_connections();
    let lost = SessionId::generate();
    let started = Instant::now();
    let error = store
        .set(&lost, &session_expiring_in(600))
        .await
        .expect_err("blackholed");
    assert!(
        started.elapsed() < timeout + Duration::from_millis(200),
        "took {:?}",
        started.elapsed()
    );
    assert_typed_and_discreet(&error, &lost, "set on a blackholed connection");

    let recovered = time_to_recover(&store, 5 * timeout).await;
    assert!(proxy.connections() >= 2, "the store opened a fresh connection");
    assert!(store.get(&kept).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raw = raw_client(&server.url()).await;
    let landed: i64 = raw.exists(store.key_of(&lost)).await.unwrap();
    assert_eq!(
        landed, 0,
        "the write lost on the dead connection was not sent again ({recovered:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_gets_typed_errors_within_the_timeout() {
    let timeout = Duration::from_millis(400);
    let server = Throwaway::start(spare_port()).await;
    let store = store_on(&server.url(), timeout).await;
    let id = SessionId::generate();
    store.set(&id, &session_expiring_in(600)).await.unwrap();

    server.pause();
    let started = Instant::now();
    let answers = [
        store.get(&id).await.err(),
        store.touch(&id, None).await.err(),
        store.destroy(&id).await.err(),
        store.length().await.err(),
    ];
    let elapsed = started.elapsed();
    server.resume();
    for answer in &answers {
        assert_typed_and_discreet(
            answer.as_ref().expect("a paused server answers nothing"),
            &id,
            "paused",
        );
    }
    assert!(
        elapsed < 4 * (timeout + Duration::from_millis(100)),
        "four calls took {elapsed:?}"
    );
    time_to_recover(&store, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_and_slow_connections_end_in_time_and_recover() {
    let timeout = Duration::from_millis(400);
    let server = Throwaway::start(spare_port()).await;
    let proxy = Proxy::start(server.addr()).await;
    let store = store_on(&proxy.url(), timeout).await;
    let id = SessionId::generate();
    store.set(&id, &session_expiring_in(600)).await.unwrap();

    proxy.reset_open_connections();
    time_to_recover(&store, Duration::from_secs(5)).await;
    assert!(store.get(&id).await.unwrap().is_some());

    proxy.delay(timeout * 2);
    let started = Instant::now();
    let error = store.get(&id).await.expect_err("slower than the timeout");
    assert_typed_and_discreet(&error, &id, "slow get");
    assert!(
        started.elapsed() < timeout + Duration::from_millis(200),
        "took {:?}",
        started.elapsed()
    );
    proxy.delay(Duration::ZERO);
    time_to_recover(&store, Duration::from_secs(5)).await;
}

/// The application's clock `offset` away from the server's, and a grace
/// window much shorter than the offset.
async fn skewed_store(offset: time::Duration) -> RedisStore {
    RedisStore::builder()
        .url(standalone_url())
        .prefix(unique_prefix("skew"))
        .clock(Arc::new(SkewedClock::new(offset)))
        .tombstone_grace(Duration::from_secs(60))
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_skewed_clock_neither_drops_tombstones_nor_sessions_early() {
    let raw = raw_client(&standalone_url()).await;
    for offset in [time::Duration::minutes(-10), time::Duration::minutes(10)] {
        let store = skewed_store(offset).await;
        let clock_now = OffsetDateTime::now_utc() + offset;

        let destroyed = SessionId::generate();
        store.set(&destroyed, &session_expiring_in(600)).await.unwrap();
        store.destroy(&destroyed).await.unwrap();
        let tombstone_ttl: i64 = raw.pttl(store.key_of(&destroyed)).await.unwrap();
        assert!(
            (59_000..=60_000).contains(&tombstone_ttl),
            "offset {offset}: the tombstone must live its 60 s grace on the server, PTTL {tombstone_ttl}"
        );
        assert!(
            matches!(
                store.set(&destroyed, &session_expiring_in(600)).await,
                Err(Error::Destroyed)
            ),
            "offset {offset}: a late save is refused"
        );

        let live = SessionId::generate();
        let hour = Session::new().expiring_at(clock_now + Duration::from_secs(3600));
        store.set(&live, &hour).await.unwrap();
        let session_ttl: i64 = raw.pttl(store.key_of(&live)).await.unwrap();
        assert!(
            (3_598_000..=3_600_000).contains(&session_ttl),
            "offset {offset}: Redis keeps the session as long as the app does, PTTL {session_ttl}"
        );
        store
            .touch(&live, Some(clock_now + Duration::from_secs(120)))
            .await
            .unwrap();
        let touched_ttl: i64 = raw.pttl(store.key_of(&live)).await.unwrap();
        assert!(
            (118_000..=120_000).contains(&touched_ttl),
            "offset {offset}: PTTL after touch {touched_ttl}"
        );
        assert_eq!(
            store.get(&live).await.unwrap().and_then(|s| s.expires_at()),
            Some(session_core::backend::truncate_to_millis(
                clock_now + Duration::from_secs(120)
            ))
        );
        store.clear().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_reply_was_lost_is_not_sent_again() {
    let timeout = Duration::from_millis(600);
    let server = Throwaway::start(spare_port()).await;
    let proxy = Proxy::start(server.addr()).await;
    let store = store_on(&proxy.url(), timeout).await;
    // Load the create script, so the create below runs on its first send.
    store
        .create(&SessionId::generate(), &session_expiring_in(600))
        .await
        .unwrap();

    // The create reaches Redis and is applied; its reply is lost, then the
    // connection breaks. Sent again, it would meet its own session and tell
    // its caller `AlreadyExists`: a wrong answer, and a replayed write.
    proxy.lose_replies_on_open_connections();
    let id = SessionId::generate();
    let create = tokio::spawn({
        let store = store.clone();
        let id = id.clone();
        async move { store.create(&id, &session_expiring_in(600)).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    proxy.reset_open_connections();
    let answer = create.await.unwrap();
    let error = answer.expect_err("the reply was lost");
    assert_typed_and_discreet(&error, &id, "create with a lost reply");
    time_to_recover(&store, Duration::from_secs(5)).await;
    assert!(
        store.get(&id).await.unwrap().is_some(),
        "the create itself did land, once"
    );
}
