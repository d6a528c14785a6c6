//! An extra text column fed a string holding NUL: a clear error naming the
//! column, and nothing written, on every database (issue 12, SQL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, drop_at_end, session_in, table, urls};
use session_core::{Error, Session, SessionId, Store};
use session_sql::Column;

fn user(name: &str) -> Session {
    let mut session = session_in(Duration::from_secs(600));
    session.insert("user_id", name).unwrap();
    session
}

fn names_the_column(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::InvalidInput(message)) => {
            assert!(
                message.contains("\"user_id\"") && message.contains("NUL"),
                "{what}: {message}"
            );
        }
        other => panic!("{what}: expected InvalidInput naming the column, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_holding_nul_is_refused_naming_the_column_and_nothing_is_written() {
    let test = async {
        for (name, url) in urls() {
            let table = table("nul");
            let _dropped = drop_at_end(&url, &table);
            let store = builder(&url, &table)
                .column(Column::text("user_id"))
                .build()
                .await
                .unwrap();
            let (fresh, kept) = (SessionId::generate(), SessionId::generate());
            store.set(&kept, &user("ada")).await.unwrap();

            names_the_column(store.set(&fresh, &user("ada\0evil")).await, name);
            names_the_column(store.create(&fresh, &user("\0")).await, name);
            assert!(
                store.get(&fresh).await.unwrap().is_none(),
                "{name}: nothing written"
            );
            names_the_column(store.set(&kept, &user("ada\0")).await, name);
            let stored = store.get(&kept).await.unwrap().unwrap();
            assert_eq!(
                stored.get::<String>("user_id").unwrap().as_deref(),
                Some("ada"),
                "{name}"
            );

            names_the_column(store.sessions_where("user_id", "ada\0").await, name);
            names_the_column(store.destroy_where("user_id", "ada\0").await, name);
            assert_eq!(
                store.sessions_where("user_id", "ada").await.unwrap().len(),
                1,
                "{name}"
            );
        }
    };
    tokio::time::timeout(Duration::from_secs(60), test).await.unwrap();
}
