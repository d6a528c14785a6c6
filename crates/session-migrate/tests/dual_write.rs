//! `DualWrite` on Redis (old) and PostgreSQL (new) while the copy runs: the
//! app's logouts, writes, touches and new sessions all race the copy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration as StdDuration;

use common::{
    SCALE, assert_holds, assert_lacks, fill, postgres_store, redis_and_postgres, redis_store, session,
};
use session_core::{
    SessionId, Store,
    migrate::{DualWrite, Migration},
};
use time::{Duration, OffsetDateTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_racing_the_copy_loses_nothing_and_revives_no_logout() {
    let (prefix, table, _removed) = redis_and_postgres("dual");
    let old = redis_store(&prefix).await;
    let new = postgres_store(&table).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let later = OffsetDateTime::now_utc() + Duration::hours(3);
    let count = SCALE / 4;
    let sessions: Vec<_> = (0..count)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;

    let app = DualWrite::new(old.clone(), new.clone());
    let created: Vec<_> = (0..count / 10)
        .map(|n| (SessionId::generate(), session(1_000_000 + n, expiry)))
        .collect();
    // The app's traffic, interleaved with the copy: by class of session.
    let traffic = async {
        for (n, (id, _)) in sessions.iter().enumerate() {
            match n % 4 {
                0 => app.destroy(id).await.unwrap(),
                1 => app.set(id, &session(2_000_000 + n, expiry)).await.unwrap(),
                2 => app.touch(id, Some(later)).await.unwrap(),
                _ => {}
            }
            if let Some((id, session)) = created.get(n / 10).filter(|_| n % 10 == 0) {
                app.create(id, session).await.unwrap();
            }
            if n % 32 == 0 {
                tokio::time::sleep(StdDuration::from_millis(1)).await;
            }
        }
    };
    let (report, ()) = tokio::join!(Migration::new(&old, &new).concurrency(16).run(), traffic);
    assert!(report.is_complete(), "{report}");
    println!("copy racing the app: {report}");

    let of_class = |class: usize| -> Vec<_> {
        sessions
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 4 == class)
            .map(|(_, s)| s.clone())
            .collect()
    };
    let destroyed: Vec<SessionId> = of_class(0).into_iter().map(|(id, _)| id).collect();
    let rewritten: Vec<_> = sessions
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 4 == 1)
        .map(|(n, (id, _))| (id.clone(), session(2_000_000 + n, expiry)))
        .collect();
    let touched: Vec<_> = of_class(2)
        .into_iter()
        .map(|(id, mut session)| {
            session.set_expires_at(Some(later));
            (id, session)
        })
        .collect();
    for store in [&old as &dyn Store, &new] {
        assert_lacks(store, &destroyed).await;
        assert_holds(store, &rewritten).await;
        assert_holds(store, &touched).await;
        assert_holds(store, &of_class(3)).await;
        assert_holds(store, &created).await;
    }
    let expected = (count - destroyed.len() + created.len()) as u64;
    assert_eq!(new.length().await.unwrap(), expected);
    assert_eq!(old.length().await.unwrap(), expected);
    old.clear().await.unwrap();
    new.clear().await.unwrap();
}
