//! Rule 10 on every database and layout: `set_if_unchanged` compares the
//! data cell `get_versioned` read, byte for byte, in the same statement
//! that writes. A row another program changed (a Node app sharing the
//! table), a token the store never handed out, a session that expired
//! since it was read: each is a `Conflict`, and what is stored stays; a
//! tombstone is `Destroyed`. Every test drops the table (or SQLite file)
//! it made.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{builder, drop_at_end, mysql_url, postgres_url, raw::Raw, session_in, sqlite_file_url, table};
use session_core::{Error, Session, SessionId, Store, Version, clock::SkewedClock};
use session_sql::{Layout, SqlStore};

/// One database and layout: its name, URL and layout.
struct Case {
    name: &'static str,
    url: String,
    layout: Layout,
}

impl Case {
    /// The table's key and data columns.
    fn columns(&self) -> (&'static str, &'static str) {
        match self.layout {
            Layout::ConnectPgSimple => ("sid", "sess"),
            Layout::Native => ("id", "data"),
            _ => ("sid", "data"),
        }
    }

    /// A fresh table for this case, dropped (or its SQLite file deleted)
    /// when the returned guard goes: made before the stores, it outlives them.
    fn table(&self, label: &str) -> (String, session_conformance::Cleanup) {
        let table = table(label);
        let dropped = drop_at_end(&self.url, &table);
        (table, dropped)
    }

    /// A store on `table` in this case's layout.
    async fn store(&self, table: &str) -> SqlStore {
        builder(&self.url, table)
            .layout(self.layout)
            .build()
            .await
            .unwrap()
    }
}

/// A SQLite file of its own, so that dropping one case's file spares the others.
fn sqlite() -> String {
    sqlite_file_url(&table("conditional"))
}

/// The Node layouts, on every database that has them.
fn node_cases() -> Vec<Case> {
    vec![
        Case {
            name: "connect-pg-simple",
            url: postgres_url(),
            layout: Layout::ConnectPgSimple,
        },
        Case {
            name: "sequelize on postgres",
            url: postgres_url(),
            layout: Layout::ConnectSessionSequelize,
        },
        Case {
            name: "sequelize on mariadb",
            url: mysql_url(),
            layout: Layout::ConnectSessionSequelize,
        },
        Case {
            name: "sequelize on sqlite",
            url: sqlite(),
            layout: Layout::ConnectSessionSequelize,
        },
    ]
}

/// The native layout on every database.
fn native_cases() -> Vec<Case> {
    [
        ("native on postgres", postgres_url()),
        ("native on mariadb", mysql_url()),
        ("native on sqlite", sqlite()),
    ]
    .into_iter()
    .map(|(name, url)| Case {
        name,
        url,
        layout: Layout::Native,
    })
    .collect()
}

fn every_case() -> Vec<Case> {
    let mut all = native_cases();
    all.extend(node_cases());
    all
}

/// A session holding `user` (and `a: "X"`), an hour long.
fn user(name: &str) -> Session {
    let mut session = session_in(Duration::from_secs(3600));
    session.insert("user", name).unwrap();
    session.insert("a", "X").unwrap();
    session
}

/// The user the store holds under `id`.
async fn stored_user(store: &SqlStore, id: &SessionId) -> Option<String> {
    let session = store.get(id).await.unwrap()?;
    session.get::<String>("user").unwrap()
}

/// The data cell of row `id` as text, read past the store.
async fn cell(raw: &Raw, table: &str, (key, data): (&str, &str), id: &SessionId) -> String {
    let sql = |text: &str| {
        sqlx::AssertSqlSafe(format!(
            "SELECT CAST({data} AS {text}) FROM {table} WHERE {key} = '{}'",
            id.as_str()
        ))
    };
    match raw {
        Raw::Postgres(p) => sqlx::query_scalar(sql("TEXT")).fetch_one(p).await,
        Raw::MySql(p) => sqlx::query_scalar(sql("CHAR")).fetch_one(p).await,
        Raw::Sqlite(p) => sqlx::query_scalar(sql("TEXT")).fetch_one(p).await,
    }
    .unwrap()
}

/// `UPDATE` of row `id`'s data cell to `value` (an SQL expression over the
/// cell, which `{cell}` stands for), as another program would.
async fn rewrite(raw: &Raw, table: &str, (key, data): (&str, &str), id: &SessionId, value: &str) {
    let value = value.replace("{cell}", data);
    raw.execute(format!(
        "UPDATE {table} SET {data} = {value} WHERE {key} = '{}'",
        id.as_str()
    ))
    .await;
}

#[tokio::test]
async fn a_node_row_changed_behind_the_stores_back_is_a_conflict_and_the_change_stays() {
    for case in node_cases() {
        let name = case.name;
        let (table, _dropped) = case.table("behind");
        let store = case.store(&table).await;
        let raw = Raw::connect(&case.url).await;
        let id = SessionId::generate();
        store.set(&id, &user("ada")).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        // The Node app writes the same session with other JSON.
        let replaced = match raw {
            Raw::Postgres(_) if case.layout == Layout::ConnectPgSimple => {
                "CAST(replace(CAST({cell} AS text), 'ada', 'grace') AS json)"
            }
            _ => "replace({cell}, 'ada', 'grace')",
        };
        rewrite(&raw, &table, case.columns(), &id, replaced).await;

        let written = store.set_if_unchanged(&id, &user("stale"), &read.version).await;
        assert!(matches!(written, Err(Error::Conflict)), "{name}: {written:?}");
        let held = cell(&raw, &table, case.columns(), &id).await;
        assert!(
            held.contains("grace") && !held.contains("stale"),
            "{name}: {held}"
        );
        assert_eq!(stored_user(&store, &id).await.as_deref(), Some("grace"), "{name}");

        // Read again, the write lands: the compare is not refusing everything.
        let fresh = store.get_versioned(&id).await.unwrap().unwrap();
        assert_ne!(fresh.version, read.version, "{name}");
        store
            .set_if_unchanged(&id, &user("ada"), &fresh.version)
            .await
            .unwrap();
        assert_eq!(stored_user(&store, &id).await.as_deref(), Some("ada"), "{name}");
        raw.close().await;
    }
}

#[tokio::test]
async fn a_case_only_change_is_a_change_on_mariadb_whatever_the_collation_says() {
    let case = Case {
        name: "sequelize on mariadb",
        url: mysql_url(),
        layout: Layout::ConnectSessionSequelize,
    };
    let (table, _dropped) = case.table("case");
    let store = case.store(&table).await;
    let raw = Raw::connect(&case.url).await;
    let id = SessionId::generate();
    store.set(&id, &user("ada")).await.unwrap();
    let read = store.get_versioned(&id).await.unwrap().unwrap();
    let before = cell(&raw, &table, case.columns(), &id).await;
    assert!(before.contains(r#""a":"X""#), "{before}");
    // MySQL's REPLACE() matches case-sensitively.
    rewrite(
        &raw,
        &table,
        case.columns(),
        &id,
        r#"replace({cell}, '"X"', '"x"')"#,
    )
    .await;

    // The column's collation calls the two equal: the trap a text compare falls into.
    let Raw::MySql(pool) = &raw else { unreachable!() };
    let equal: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT data = ? FROM {table} WHERE sid = ?"
    )))
    .bind(&before)
    .bind(id.as_str())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(equal, 1, "the column compares case-insensitively");

    let written = store.set_if_unchanged(&id, &user("stale"), &read.version).await;
    assert!(matches!(written, Err(Error::Conflict)), "{written:?}");
    let after = cell(&raw, &table, case.columns(), &id).await;
    assert!(after.contains(r#""a":"x""#) && after.contains("ada"), "{after}");
    raw.close().await;
}

#[tokio::test]
async fn json_and_jsonb_columns_compare_as_they_are_read_on_postgres() {
    let case = Case {
        name: "connect-pg-simple",
        url: postgres_url(),
        layout: Layout::ConnectPgSimple,
    };
    let (table, _dropped) = case.table("jsonb");
    let store = case.store(&table).await;
    let raw = Raw::connect(&case.url).await;
    let columns = case.columns();

    // `json` keeps its text: other whitespace is another value.
    let id = SessionId::generate();
    store.set(&id, &user("ada")).await.unwrap();
    let read = store.get_versioned(&id).await.unwrap().unwrap();
    rewrite(
        &raw,
        &table,
        columns,
        &id,
        "CAST(replace(CAST({cell} AS text), ',', ', ') AS json)",
    )
    .await;
    let written = store.set_if_unchanged(&id, &user("stale"), &read.version).await;
    assert!(matches!(written, Err(Error::Conflict)), "json: {written:?}");
    assert!(cell(&raw, &table, columns, &id).await.contains(", "), "json");

    // `jsonb` keeps a normalized value, which the token is read as.
    raw.execute(format!(
        "ALTER TABLE {table} ALTER COLUMN sess TYPE jsonb USING CAST(sess AS jsonb)"
    ))
    .await;
    let id = SessionId::generate();
    store.set(&id, &user("ada")).await.unwrap();
    let read = store.get_versioned(&id).await.unwrap().unwrap();
    // Written again with the same value: still the version read.
    rewrite(&raw, &table, columns, &id, "CAST(CAST({cell} AS text) AS jsonb)").await;
    store
        .set_if_unchanged(&id, &user("bob"), &read.version)
        .await
        .unwrap();
    assert_eq!(stored_user(&store, &id).await.as_deref(), Some("bob"), "jsonb");
    let read = store.get_versioned(&id).await.unwrap().unwrap();
    rewrite(
        &raw,
        &table,
        columns,
        &id,
        "CAST(replace(CAST({cell} AS text), 'bob', 'grace') AS jsonb)",
    )
    .await;
    let written = store.set_if_unchanged(&id, &user("stale"), &read.version).await;
    assert!(matches!(written, Err(Error::Conflict)), "jsonb: {written:?}");
    assert_eq!(stored_user(&store, &id).await.as_deref(), Some("grace"), "jsonb");
    raw.close().await;
}

#[tokio::test]
async fn a_token_the_store_never_handed_out_is_a_conflict() {
    for case in every_case() {
        let name = case.name;
        let (table, _dropped) = case.table("garbage");
        let store = case.store(&table).await;
        let id = SessionId::generate();
        store.set(&id, &user("ada")).await.unwrap();
        let other = SessionId::generate();
        store.set(&other, &user("bob")).await.unwrap();
        let others = store.get_versioned(&other).await.unwrap().unwrap().version;
        let garbage = [
            Version::from_token([0xff, 0x00, 0xfe, b'{']),
            Version::from_token([]),
            Version::from_token("not json at all, but text".as_bytes()),
            // Another session's data: a real token, of another row.
            others,
        ];
        for token in &garbage {
            let written = store.set_if_unchanged(&id, &user("stale"), token).await;
            assert!(
                matches!(written, Err(Error::Conflict)),
                "{name}: {token:?}: {written:?}"
            );
            assert_eq!(stored_user(&store, &id).await.as_deref(), Some("ada"), "{name}");
        }
        // And none of them stores under an id that holds nothing.
        let vacant = SessionId::generate();
        let written = store.set_if_unchanged(&vacant, &user("stale"), &garbage[0]).await;
        assert!(matches!(written, Err(Error::Conflict)), "{name}: {written:?}");
        assert!(store.get(&vacant).await.unwrap().is_none(), "{name}");
        // Without a token it is a plain set.
        store
            .set_if_unchanged(&vacant, &user("new"), &Version::unversioned())
            .await
            .unwrap();
        assert_eq!(
            stored_user(&store, &vacant).await.as_deref(),
            Some("new"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_destroyed_id_answers_destroyed_on_the_native_layout() {
    for case in native_cases() {
        let name = case.name;
        let (table, _dropped) = case.table("destroyed");
        let store = case.store(&table).await;
        let id = SessionId::generate();
        store.set(&id, &user("ada")).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        store.destroy(&id).await.unwrap();
        for session in [
            user("late"),
            Session::new().expiring_at(time::OffsetDateTime::now_utc()),
        ] {
            let written = store.set_if_unchanged(&id, &session, &read.version).await;
            assert!(matches!(written, Err(Error::Destroyed)), "{name}: {written:?}");
        }
        assert!(store.get(&id).await.unwrap().is_none(), "{name}");
        // The tombstone is still in place.
        assert!(
            matches!(store.set(&id, &user("late")).await, Err(Error::Destroyed)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_session_that_expired_since_it_was_read_is_a_conflict() {
    for case in every_case() {
        let name = case.name;
        let (table, _dropped) = case.table("expired");
        let store = case.store(&table).await;
        // The same table, by a clock an hour ahead: by it the session is over.
        let later = builder(&case.url, &table)
            .layout(case.layout)
            .clock(Arc::new(SkewedClock::new(time::Duration::hours(1))))
            .build()
            .await
            .unwrap();
        let id = SessionId::generate();
        store
            .set(&id, &session_in(Duration::from_secs(600)))
            .await
            .unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        let written = later.set_if_unchanged(&id, &user("stale"), &read.version).await;
        assert!(matches!(written, Err(Error::Conflict)), "{name}: {written:?}");
        assert_eq!(stored_user(&store, &id).await.as_deref(), Some("ada"), "{name}");
    }
}

#[tokio::test]
async fn a_conditional_write_of_an_expired_session_removes_it_as_set_does() {
    for case in every_case() {
        let name = case.name;
        let (table, _dropped) = case.table("remove");
        let store = case.store(&table).await;
        let id = SessionId::generate();
        store.set(&id, &user("ada")).await.unwrap();
        let read = store.get_versioned(&id).await.unwrap().unwrap();
        let over = Session::new().expiring_at(time::OffsetDateTime::now_utc() - time::Duration::seconds(5));
        store.set_if_unchanged(&id, &over, &read.version).await.unwrap();
        assert!(store.get(&id).await.unwrap().is_none(), "{name}");
        assert_eq!(store.length().await.unwrap(), 0, "{name}");
        // Once removed, the version read matches nothing.
        let written = store.set_if_unchanged(&id, &user("late"), &read.version).await;
        assert!(matches!(written, Err(Error::Conflict)), "{name}: {written:?}");
        assert!(store.get(&id).await.unwrap().is_none(), "{name}");
    }
}
