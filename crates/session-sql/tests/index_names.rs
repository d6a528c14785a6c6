//! Index names built from long table names: each index is created, under a
//! name that fits and that no other table's index shares (issue 12, SQL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, drop_at_end, raw::Raw, session_in, table, urls};
use session_core::{SessionId, Store};
use session_sql::Column;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tables_with_63_character_names_get_every_index() {
    let test = async {
        for (name, url) in urls() {
            // Two names of the longest length, alike but for the last character.
            let stem = format!("{:x<62}", table("long"));
            let tables = [format!("{stem}a"), format!("{stem}b")];
            let _dropped = tables.each_ref().map(|table| drop_at_end(&url, table));
            for table in &tables {
                let store = builder(&url, table)
                    .column(Column::text("user_id"))
                    .build()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: a 63-character table name: {e}"));
                let id = SessionId::generate();
                store
                    .set(&id, &session_in(Duration::from_secs(60)))
                    .await
                    .unwrap();
                assert!(store.get(&id).await.unwrap().is_some(), "{name}");
            }
            let raw = Raw::connect(&url).await;
            for table in &tables {
                assert_eq!(
                    raw.indexed_columns(table).await,
                    ["expires_at", "user_id"],
                    "{name}: {table}"
                );
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), test).await.unwrap();
}
