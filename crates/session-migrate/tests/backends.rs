//! Every backend, opened from its URL as the command line opens it: a chain
//! of copies Redis -> MariaDB -> CouchDB -> SQLite -> PostgreSQL, then
//! through every Express store's layout (connect-redis, connect-redis-session,
//! connect-pg-simple, connect-session-sequelize on MariaDB,
//! session-pouchdb-store), keeps every session exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    assert_holds, fill, mysql_url, postgres_url, redis_store, redis_url, remove_at_end, session, unique,
};
use session_core::{SessionId, migrate::Migration};
use session_migrate::{Endpoint, Layout, OpenOptions, open_source, open_target};
use time::{Duration, OffsetDateTime};

fn couch_url() -> String {
    std::env::var("COUCH_URL").unwrap_or_else(|_| "http://127.0.0.1:5984".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_copies_through_every_backend_keeps_every_session() {
    let prefix = unique("chain");
    let first = redis_store(&prefix).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let sessions: Vec<_> = (0..150)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&first, &sessions).await;

    let sqlite = std::env::temp_dir().join(format!("{}.db", unique("chain")));
    let chain = [
        Endpoint::new(redis_url()).prefix(&prefix),
        Endpoint::new(mysql_url()).table(unique("chain")),
        Endpoint::new(couch_url()).database(unique("chain")),
        Endpoint::new(format!("sqlite:{}", sqlite.display())).table("sessions"),
        Endpoint::new(postgres_url()).table(unique("chain")),
        Endpoint::new(redis_url())
            .layout(Layout::ConnectRedis)
            .prefix(format!("{}:", unique("chain"))),
        Endpoint::new(redis_url())
            .layout(Layout::ConnectRedisSession)
            .prefix(format!("{}:", unique("chain"))),
        Endpoint::new(postgres_url())
            .layout(Layout::ConnectPgSimple)
            .table(unique("chain")),
        Endpoint::new(mysql_url())
            .layout(Layout::ConnectSessionSequelize)
            .table(unique("chain")),
        Endpoint::new(couch_url())
            .layout(Layout::SessionPouchDbStore)
            .database(unique("chain")),
    ];
    let _removed = chain.each_ref().map(remove_at_end);
    // Nothing else writes meanwhile: the layouts without tombstones are
    // allowed as targets.
    let mut options = OpenOptions::default();
    options.offline = true;
    for pair in chain.windows(2) {
        let (from, to) = (&pair[0], &pair[1]);
        let source = open_source(from, &options)
            .await
            .unwrap_or_else(|e| panic!("{from} must be reachable (run ./scripts/test): {e}"));
        let target = open_target(to, &options)
            .await
            .unwrap_or_else(|e| panic!("{to} must be reachable (run ./scripts/test): {e}"));
        assert_eq!(source.count().await.unwrap(), 150, "{from}");
        let report = Migration::new(&*source, &*target).run().await;
        assert!(report.is_complete(), "{from} -> {to}: {report}");
        assert_eq!(report.counts.copied, 150, "{from} -> {to}: {report}");
        assert_holds(&*target, &sessions).await;
    }
    for side in &chain {
        open_target(side, &options).await.unwrap().clear().await.unwrap();
    }
    std::fs::remove_file(&sqlite).ok();
}

#[tokio::test]
async fn an_express_layout_on_another_stores_server_is_refused() {
    let options = OpenOptions::default();
    for side in [
        Endpoint::new(redis_url()).layout(Layout::ConnectPgSimple),
        Endpoint::new(postgres_url()).layout(Layout::SessionPouchDbStore),
        Endpoint::new(couch_url()).layout(Layout::ConnectRedis),
    ] {
        let source = open_source(&side, &options).await.map(|_| ());
        assert!(
            matches!(source, Err(session_core::Error::InvalidInput(_))),
            "{side}: {source:?}"
        );
        let target = open_target(&side, &options).await.map(|_| ());
        assert!(
            matches!(target, Err(session_core::Error::InvalidInput(_))),
            "{side}: {target:?}"
        );
    }
}
