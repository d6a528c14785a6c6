//! The Node stores' tables, byte for byte: what a Rust write leaves in
//! connect-pg-simple's and connect-session-sequelize's tables, and what Rust
//! makes of rows written the way those stores write them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use session_core::backend::SessionParts;
use std::time::Duration;

use common::{
    builder, drop_at_end, mysql_url, postgres_url, raw::Raw, session_in, sqlite_file_url, table, urls,
};
use serde_json::{Value, json};
use session_core::{Error, SessionId, Store};
use session_sql::Layout;
use time::{OffsetDateTime, macros::datetime};

/// One text cell, by `sid`.
async fn cell(raw: &Raw, table: &str, column: &str, id: &str) -> String {
    let sql = format!("SELECT CAST({column} AS CHAR) FROM {table} WHERE sid = '{id}'");
    let sql = match raw {
        Raw::Postgres(_) => sql.replace("AS CHAR", "AS TEXT"),
        Raw::Sqlite(_) => sql.replace("AS CHAR", "AS TEXT"),
        Raw::MySql(_) => sql,
    };
    let sql = sqlx::AssertSqlSafe(sql);
    match raw {
        Raw::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Raw::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap()
}

fn quoted(raw: &Raw, name: &str) -> String {
    match raw {
        Raw::MySql(_) => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

/// A session as express-session hands it to its store, expiring at `expires`.
fn node_json(expires: &str) -> String {
    json!({"cookie": {"originalMaxAge": 3_600_000, "expires": expires, "httpOnly": true, "path": "/",
                      "sameSite": "lax"}, "user": "ada", "n": 1})
    .to_string()
}

#[tokio::test]
async fn connect_pg_simple_rows_are_node_rows_in_the_node_time_zone() {
    let url = postgres_url();
    let table = table("pgsimple");
    let _dropped = drop_at_end(&url, &table);
    let raw = Raw::connect(&url).await;
    // The Node app's connections run in Tokyo (UTC+9, no daylight saving).
    let store = builder(&url, &table)
        .layout(Layout::ConnectPgSimple)
        .time_zone("Asia/Tokyo")
        .build()
        .await
        .unwrap();

    let id = SessionId::generate();
    let expires = datetime!(2031-05-06 07:08:09.123 UTC);
    let mut session = session_core::Session::new().expiring_at(expires);
    session.insert("user", "ada").unwrap();
    store.set(&id, &session).await.unwrap();
    let expire = cell(&raw, &quoted(&raw, &table), "expire", id.as_str()).await;
    assert_eq!(expire, "2031-05-06 16:08:09.123", "Tokyo wall-clock time");
    let sess: Value =
        serde_json::from_str(&cell(&raw, &quoted(&raw, &table), "sess", id.as_str()).await).unwrap();
    assert_eq!(sess["cookie"]["expires"], "2031-05-06T07:08:09.123Z");
    assert_eq!(sess["cookie"]["httpOnly"], true);
    assert_eq!(sess["user"], "ada");
    assert_eq!(store.get(&id).await.unwrap().unwrap().expires_at(), Some(expires));

    // A row as connect-pg-simple writes it from a Tokyo connection:
    // to_timestamp(ceil(seconds)), so the column is the cookie rounded up.
    let node = "node-written-session-id-0000000001";
    raw.execute(format!(
        "INSERT INTO \"{table}\" (sid, sess, expire) VALUES ('{node}', '{}', \
         to_timestamp(1967234890) AT TIME ZONE 'Asia/Tokyo')",
        node_json("2032-05-03T22:08:09.456Z")
    ))
    .await;
    let node_id = SessionId::parse(node).unwrap();
    let read = store.get(&node_id).await.unwrap().unwrap();
    assert_eq!(read.expires_at(), Some(datetime!(2032-05-03 22:08:09.456 UTC)));
    assert_eq!(read.get::<String>("user").unwrap().as_deref(), Some("ada"));
    assert_eq!(
        read.express_cookie().and_then(|c| c.get("sameSite")),
        Some(&json!("lax"))
    );

    // Node's touch moves only `expire`: the column wins over the cookie.
    raw.execute(format!(
        "UPDATE \"{table}\" SET expire = to_timestamp(1967321290) AT TIME ZONE 'Asia/Tokyo' WHERE sid = '{node}'"
    ))
    .await;
    assert_eq!(
        store.get(&node_id).await.unwrap().unwrap().expires_at(),
        Some(datetime!(2032-05-04 22:08:10 UTC))
    );

    // A store that reads the column as UTC would see these nine hours off.
    let utc = builder(&url, &table)
        .layout(Layout::ConnectPgSimple)
        .time_zone("UTC")
        .build()
        .await
        .unwrap();
    assert_eq!(
        utc.get(&node_id).await.unwrap().unwrap().expires_at(),
        Some(datetime!(2032-05-05 07:08:10 UTC))
    );
}

#[tokio::test]
async fn connect_pg_simple_takes_the_zone_node_postgres_would_get() {
    let url = postgres_url();
    let raw = Raw::connect(&url).await;
    let role = table("tzrole");
    raw.execute(format!("CREATE ROLE \"{role}\" LOGIN")).await;
    raw.execute(format!("GRANT ALL ON SCHEMA public TO \"{role}\""))
        .await;
    raw.execute(format!(
        "ALTER ROLE \"{role}\" SET TimeZone = 'America/Sao_Paulo'"
    ))
    .await;
    let as_role = url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(as_role, url, "the test URL names the user postgres");
    let table = table("pgzone");
    let store = builder(&as_role, &table)
        .layout(Layout::ConnectPgSimple)
        .build()
        .await
        .unwrap();
    let id = SessionId::generate();
    // Sao Paulo is UTC-3 all year since 2019.
    let mut session = session_core::Session::new().expiring_at(datetime!(2031-01-01 12:00:00 UTC));
    session.insert("user", "ada").unwrap();
    store.set(&id, &session).await.unwrap();
    assert_eq!(
        cell(&raw, &format!("\"{table}\""), "expire", id.as_str()).await,
        "2031-01-01 09:00:00"
    );
    drop(store);
    raw.execute(format!("DROP TABLE \"{table}\"")).await;
    raw.execute(format!("DROP OWNED BY \"{role}\"")).await;
    raw.execute(format!("DROP ROLE \"{role}\"")).await;

    let unknown = builder(&url, &table)
        .layout(Layout::ConnectPgSimple)
        .time_zone("Mars/Olympus_Mons")
        .build()
        .await;
    assert!(matches!(unknown, Err(Error::InvalidInput(_))), "{unknown:?}");
    let injected = builder(&url, &table)
        .layout(Layout::ConnectPgSimple)
        .time_zone("UTC'; DROP TABLE x; --")
        .build()
        .await;
    assert!(matches!(injected, Err(Error::InvalidInput(_))), "{injected:?}");
}

#[tokio::test]
async fn connect_pg_simple_is_postgres_only() {
    for url in [mysql_url(), sqlite_file_url(&table("pgonly"))] {
        let table = table("pgonly");
        // SQLite makes its file before the layout is refused.
        let _dropped = drop_at_end(&url, &table);
        let built = builder(&url, &table)
            .layout(Layout::ConnectPgSimple)
            .build()
            .await;
        assert!(matches!(built, Err(Error::InvalidInput(_))), "{url}: {built:?}");
    }
}

/// How Sequelize writes `expires` on each database, for 2032-05-03 22:08:09.456 UTC.
fn sequelize_time(raw: &Raw) -> &'static str {
    match raw {
        Raw::Postgres(_) => "'2032-05-03 22:08:09.456+00'",
        // DATETIME: whole seconds, cut.
        Raw::MySql(_) => "'2032-05-03 22:08:09'",
        Raw::Sqlite(_) => "'2032-05-03 22:08:09.456 +00:00'",
    }
}

/// A Sequelize-layout store on `table` at `url`, a raw connection beside
/// it, and the table's quoted name.
async fn sequelize_table(url: &str, table: &str) -> (session_sql::SqlStore, Raw, String) {
    let store = builder(url, table)
        .layout(Layout::ConnectSessionSequelize)
        .build()
        .await
        .unwrap();
    // After the store: it creates the SQLite file.
    let raw = Raw::connect(url).await;
    let quoted_table = quoted(&raw, table);
    (store, raw, quoted_table)
}

/// A row as Sequelize writes it: `data` under `sid`, every time column at
/// [`sequelize_time`].
async fn insert_sequelize_row(raw: &Raw, quoted_table: &str, sid: &str, data: &str) {
    let at = sequelize_time(raw);
    raw.execute(format!(
        "INSERT INTO {quoted_table} (sid, expires, data, {}, {}) VALUES ('{sid}', {at}, '{data}', {at}, {at})",
        quoted(raw, "createdAt"),
        quoted(raw, "updatedAt"),
    ))
    .await;
}

#[tokio::test]
async fn sequelize_rows_are_node_rows_on_every_database() {
    for (name, url) in urls() {
        let table = table("sequelize");
        let _dropped = drop_at_end(&url, &table);
        let (store, raw, quoted_table) = sequelize_table(&url, &table).await;

        // What a Rust write leaves: Sequelize's five columns, filled.
        let id = SessionId::generate();
        let expires = datetime!(2031-05-06 07:08:09.123 UTC);
        let mut session = session_core::Session::new().expiring_at(expires);
        session.insert("user", "ada").unwrap();
        let before = OffsetDateTime::now_utc();
        store.set(&id, &session).await.unwrap();
        let data: Value =
            serde_json::from_str(&cell(&raw, &quoted_table, "data", id.as_str()).await).unwrap();
        assert_eq!(data["cookie"]["expires"], "2031-05-06T07:08:09.123Z", "{name}");
        assert_eq!(data["user"], "ada", "{name}");
        let stored_expires = cell(&raw, &quoted_table, "expires", id.as_str()).await;
        let expected = match raw {
            Raw::Postgres(_) => "2031-05-06 07:08:09.123+00",
            Raw::MySql(_) => "2031-05-06 07:08:09.123",
            Raw::Sqlite(_) => "2031-05-06 07:08:09.123 +00:00",
        };
        assert_eq!(stored_expires, expected, "{name}");
        let created = cell(&raw, &quoted_table, &quoted(&raw, "createdAt"), id.as_str()).await;
        let updated = cell(&raw, &quoted_table, &quoted(&raw, "updatedAt"), id.as_str()).await;
        assert!(
            created.starts_with(&before.year().to_string()),
            "{name}: {created}"
        );
        assert_eq!(created, updated, "{name}: a new row");
        assert_eq!(
            store.get(&id).await.unwrap().unwrap().expires_at(),
            Some(expires),
            "{name}"
        );

        // A row as Sequelize writes it.
        let node = "node-written-session-id-0000000001";
        insert_sequelize_row(&raw, &quoted_table, node, &node_json("2032-05-03T22:08:09.456Z")).await;
        let node_id = SessionId::parse(node).unwrap();
        let read = store.get(&node_id).await.unwrap().unwrap();
        assert_eq!(
            read.expires_at(),
            Some(datetime!(2032-05-03 22:08:09.456 UTC)),
            "{name}: the cookie's exact date, which the column agrees with"
        );
        assert_eq!(
            read.express_cookie().and_then(|c| c.get("sameSite")),
            Some(&json!("lax")),
            "{name}"
        );
        assert_eq!(read.get::<i64>("n").unwrap(), Some(1), "{name}");

        // A Rust touch moves `expires` and `updatedAt`, as Node's does.
        let later = datetime!(2033-01-01 00:00:00 UTC);
        store.touch(&node_id, Some(later)).await.unwrap();
        assert_eq!(
            store.get(&node_id).await.unwrap().unwrap().expires_at(),
            Some(later),
            "{name}"
        );
        let touched = cell(&raw, &quoted_table, &quoted(&raw, "updatedAt"), node).await;
        assert!(
            touched.starts_with(&before.year().to_string()),
            "{name}: {touched}"
        );

        // Node never checks `expires` on read, so its expired rows stay
        // until its sweeper runs. Rust serves none of them, and purges them.
        raw.execute(format!(
            "UPDATE {quoted_table} SET expires = {} WHERE sid = '{node}'",
            sequelize_time(&raw).replace("2032", "2001")
        ))
        .await;
        assert!(store.get(&node_id).await.unwrap().is_none(), "{name}");
        assert_eq!(store.length().await.unwrap(), 1, "{name}");
        assert_eq!(store.purge_expired().await.unwrap(), 1, "{name}");
        assert_eq!(raw.rows(&quoted_table).await, 1, "{name}: the live row stays");

        // Ids longer than the sid column are refused, nothing written.
        let long = SessionId::parse(&"x".repeat(37)).unwrap();
        let refused = store.set(&long, &session_in(Duration::from_secs(60))).await;
        assert!(
            matches!(refused, Err(Error::InvalidInput(_))),
            "{name}: {refused:?}"
        );
        assert_eq!(raw.rows(&quoted_table).await, 1, "{name}");
    }
}

#[tokio::test]
async fn a_row_express_cannot_read_is_a_decode_error_and_others_stay_readable() {
    for (name, url) in urls() {
        let table = table("foreign");
        let _dropped = drop_at_end(&url, &table);
        let (store, raw, quoted_table) = sequelize_table(&url, &table).await;
        let good = SessionId::generate();
        store
            .set(&good, &session_in(Duration::from_secs(600)))
            .await
            .unwrap();
        insert_sequelize_row(&raw, &quoted_table, "no-cookie", r#"{"user":1}"#).await;
        let bad = SessionId::parse("no-cookie").unwrap();
        assert!(matches!(store.get(&bad).await, Err(Error::Decode(_))), "{name}");
        assert!(store.get(&good).await.unwrap().is_some(), "{name}");
        // Data holding express-session's own key is refused, nothing written.
        let mut cookie = session_in(Duration::from_secs(600));
        cookie.insert("cookie", "mine").unwrap();
        let other = SessionId::generate();
        assert!(
            matches!(store.set(&other, &cookie).await, Err(Error::Encode(_))),
            "{name}"
        );
        assert!(store.get(&other).await.unwrap().is_none(), "{name}");
    }
}

/// A Sequelize-layout store on `table` (quoted as `quoted_table`), made
/// by `create` with a data column too narrow for `blob`: the write is an
/// Encode error and leaves no row.
async fn too_narrow(
    url: &str,
    create: String,
    quoted_table: &str,
    blob: String,
) -> (session_sql::SqlStore, Raw) {
    let raw = Raw::connect(url).await;
    raw.execute(create).await;
    let table = quoted_table.trim_matches(['`', '"']);
    let store = builder(url, table)
        .layout(Layout::ConnectSessionSequelize)
        .build()
        .await
        .unwrap();
    let mut big = session_in(Duration::from_secs(600));
    big.insert("blob", blob).unwrap();
    let refused = store.set(&SessionId::generate(), &big).await;
    assert!(matches!(refused, Err(Error::Encode(_))), "{url}: {refused:?}");
    assert_eq!(raw.rows(quoted_table).await, 0, "{url}");
    (store, raw)
}

#[tokio::test]
async fn sequelize_text_columns_that_are_too_small_refuse_with_an_encode_error() {
    // The table Sequelize itself creates on MariaDB: TEXT holds 64 KiB.
    let name = table("seqtext");
    let _dropped = drop_at_end(&mysql_url(), &name);
    let table = format!("`{name}`");
    let create = format!(
        "CREATE TABLE {table} (`sid` VARCHAR(36) NOT NULL, `expires` DATETIME, `data` TEXT, \
         `createdAt` DATETIME NOT NULL, `updatedAt` DATETIME NOT NULL, PRIMARY KEY (`sid`)) ENGINE=InnoDB"
    );
    let (store, raw) = too_narrow(&mysql_url(), create, &table, "\u{1d11e}".repeat(20_000)).await;
    // Whole seconds in Sequelize's DATETIME: the cookie keeps the millis.
    let id = SessionId::generate();
    let expires = datetime!(2031-05-06 07:08:09.123 UTC);
    let mut session = session_core::Session::new().expiring_at(expires);
    session.insert("user", "ada").unwrap();
    store.set(&id, &session).await.unwrap();
    assert_eq!(
        cell(&raw, &table, "expires", id.as_str()).await,
        "2031-05-06 07:08:09"
    );
    assert_eq!(store.get(&id).await.unwrap().unwrap().expires_at(), Some(expires));

    // A hand-made table on PostgreSQL whose data column is narrower than TEXT.
    let name = common::table("seqnarrow");
    let _dropped_too = drop_at_end(&postgres_url(), &name);
    let table = format!("\"{name}\"");
    let create = format!(
        "CREATE TABLE {table} (sid VARCHAR(36) PRIMARY KEY, expires TIMESTAMPTZ, data VARCHAR(64), \
         \"createdAt\" TIMESTAMPTZ NOT NULL, \"updatedAt\" TIMESTAMPTZ NOT NULL)"
    );
    too_narrow(&postgres_url(), create, &table, "x".repeat(100)).await;
}
