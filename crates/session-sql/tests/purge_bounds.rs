//! Purging is bounded like every call, and the background purge ends with
//! its store, even in the middle of a purge (issue 12, SQL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{builder, drop_at_end, raw::Raw, table, urls};
use session_core::{Error, backend::unix_millis};
use time::OffsetDateTime;

const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest the store lets a statement wait for a lock, on any database
/// (MariaDB counts whole seconds).
const LONGEST_LOCK_WAIT: Duration = Duration::from_secs(1);
const EXPIRED: u32 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purge_behind_a_lock_ends_in_time_and_a_dropped_store_purges_no_more() {
    let test = async {
        for (name, url) in urls() {
            let table = table("purgelock");
            let _dropped = drop_at_end(&url, &table);
            let store = builder(&url, &table).timeout(TIMEOUT).build().await.unwrap();
            let raw = Raw::connect(&url).await;
            let past = unix_millis(OffsetDateTime::now_utc()) - 60_000;
            raw.insert_bulk(&table, EXPIRED, past).await;
            let background = builder(&url, &table)
                .timeout(TIMEOUT)
                .create_table_if_missing(false)
                .purge_interval(Some(Duration::from_millis(50)))
                .build()
                .await
                .unwrap();
            let held = raw.lock_table(&table).await;

            let started = Instant::now();
            let purged = store.purge_expired().await;
            assert!(
                matches!(purged, Err(Error::Timeout(_))),
                "{name}: a purge behind a lock is a timeout, got {purged:?}"
            );
            assert!(
                started.elapsed() < TIMEOUT + Duration::from_millis(500),
                "{name}: {:?}",
                started.elapsed()
            );

            // The background purge has started and waits behind the lock.
            assert!(background.is_purging());
            drop(background);
            // Past any lock wait the server allows the purge's statement.
            tokio::time::sleep(LONGEST_LOCK_WAIT + Duration::from_millis(500)).await;
            held.release().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(
                raw.rows(&table).await,
                i64::from(EXPIRED),
                "{name}: nothing purged once the store was dropped"
            );
            assert_eq!(store.purge_expired().await.unwrap(), u64::from(EXPIRED), "{name}");
        }
    };
    tokio::time::timeout(Duration::from_secs(60), test).await.unwrap();
}
