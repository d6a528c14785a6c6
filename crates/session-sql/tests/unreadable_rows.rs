//! Rule 6 on rows another program wrote that the store cannot read, in
//! every layout on every database: `get` answers `Decode`, `length` counts
//! them, `all_stream` yields one `Decode` (or `InvalidId`) item for each and
//! goes on, `all` skips them, and the other sessions stay as they were. A
//! row whose expiry column says it is over is not live, readable or not.
//!
//! Rows are written with plain SQL, the unreadable ones among more than two
//! pages of good ones (the store reads 500 rows a page), one of them the
//! last row of the first page: [`LAST_OF_PAGE`] minus the unreadable rows
//! sorting before it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{builder, drop_at_end, postgres_url, raw::Raw, table, urls};
use futures_util::StreamExt as _;
use session_core::{Error, SessionId, Store};
use session_sql::{Layout, SqlStore};

/// Good rows written around the unreadable ones: more than two pages.
const GOOD: u32 = 1100;

/// The good row after which an unreadable row is the 500th, the last of
/// the first page, when two live rows that sort before it are unreadable.
const LAST_OF_PAGE: u32 = 497;

/// The good row `n`'s id: `good-0001` to `good-1100`, in id order.
fn good_id(n: u32) -> String {
    format!("good-{n:04}")
}

/// An id sorting right after the good row `n` (every database compares
/// these byte for byte, or, for Sequelize's own PostgreSQL column, in the
/// database's collation, which puts them near enough).
fn after(n: u32, label: &str) -> String {
    format!("{}-{label}", good_id(n))
}

/// The JSON express-session writes, expiring in 2032.
const NODE_JSON: &str = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2032-05-03T22:08:09.456Z","httpOnly":true,"path":"/"},"user":"ada"}"#;

/// `text` as an SQL string literal (MariaDB reads backslashes as escapes).
fn text(raw: &Raw, text: &str) -> String {
    let text = text.replace('\'', "''");
    match raw {
        Raw::MySql(_) => format!("'{}'", text.replace('\\', "\\\\")),
        _ => format!("'{text}'"),
    }
}

/// `bytes` as an SQL binary literal.
fn bytes(raw: &Raw, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match raw {
        Raw::Postgres(_) => format!("decode('{hex}', 'hex')"),
        _ => format!("X'{hex}'"),
    }
}

/// `name` quoted for the database.
fn quoted(raw: &Raw, name: &str) -> String {
    match raw {
        Raw::MySql(_) => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

/// Inserts the good rows `good-0001`..: `columns` get `values`, where `ID`
/// stands for each row's id.
async fn insert_good(raw: &Raw, table: &str, columns: &str, values: &str) {
    raw.execute(match raw {
        Raw::Postgres(_) => format!(
            "INSERT INTO {table} ({columns}) SELECT {} FROM generate_series(1, {GOOD}) AS n",
            values.replace("ID", "'good-' || lpad(n::text, 4, '0')")
        ),
        // MariaDB's sequence engine.
        Raw::MySql(_) => format!(
            "INSERT INTO {table} ({columns}) SELECT {} FROM seq_1_to_{GOOD}",
            values.replace("ID", "CONCAT('good-', LPAD(seq, 4, '0'))")
        ),
        Raw::Sqlite(_) => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {GOOD}) \
             INSERT INTO {table} ({columns}) SELECT {} FROM g",
            values.replace("ID", "'good-' || printf('%04d', n)")
        ),
    })
    .await;
}

/// What the store must make of its table: these good ids and this many
/// live rows it cannot read; `readable_bad` are unreadable rows `get` can
/// address (`Decode`), `expired_bad` unreadable rows that are over (`None`).
struct Expected<'a> {
    name: &'a str,
    unreadable: usize,
    readable_bad: &'a [String],
    expired_bad: &'a [String],
}

async fn check(store: &SqlStore, expected: Expected<'_>) {
    let name = expected.name;
    let good: BTreeSet<String> = (1..=GOOD).map(good_id).collect();
    let live = (good.len() + expected.unreadable) as u64;
    assert_eq!(
        store.length().await.unwrap(),
        live,
        "{name}: length counts every live row, unreadable ones too"
    );

    let items: Vec<_> = store.all_stream().collect().await;
    assert_eq!(
        items.len() as u64,
        live,
        "{name}: the stream's items, errors included, add up to length"
    );
    let mut seen = BTreeSet::new();
    let mut errors = 0;
    for item in items {
        match item {
            Ok((id, session)) => {
                assert_eq!(
                    session.get::<String>("user").unwrap().as_deref(),
                    Some("ada"),
                    "{name}"
                );
                assert!(seen.insert(id.as_str().to_owned()), "{name}: yielded twice");
            }
            Err(Error::Decode(_) | Error::InvalidId(_)) => errors += 1,
            Err(other) => panic!("{name}: the stream failed: {other:?}"),
        }
    }
    assert_eq!(seen, good, "{name}: every good session, once");
    assert_eq!(
        errors, expected.unreadable,
        "{name}: one error item per unreadable row"
    );

    let all: BTreeSet<String> = store
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id.as_str().to_owned())
        .collect();
    assert_eq!(all, good, "{name}: all() skips what it cannot read");

    for id in expected.readable_bad {
        let got = store.get(&SessionId::parse(id).unwrap()).await;
        assert!(matches!(got, Err(Error::Decode(_))), "{name}: get({id}): {got:?}");
    }
    for id in expected.expired_bad {
        let got = store.get(&SessionId::parse(id).unwrap()).await;
        assert!(
            matches!(got, Ok(None)),
            "{name}: get({id}) of an expired row: {got:?}"
        );
    }
    for n in [1, 250, 251, 496, 497, 498, 499, 500, 501, GOOD] {
        let got = store.get(&SessionId::parse(&good_id(n)).unwrap()).await.unwrap();
        let user = got.and_then(|s| s.get::<String>("user").unwrap());
        assert_eq!(user.as_deref(), Some("ada"), "{name}: {} untouched", good_id(n));
    }
}

/// The native table: a row's data is the codec's bytes (JSON by default).
struct Native<'a> {
    raw: &'a Raw,
    table: String,
}

/// Expiries in unix ms: 2100, and 1970 plus a second.
const LIVE_MS: i64 = 4_102_444_800_000;
const EXPIRED_MS: i64 = 1_000;

impl Native<'_> {
    async fn insert(&self, id: &str, data: &[u8], expires_at: i64, destroyed: bool) {
        let (raw, table) = (self.raw, &self.table);
        raw.execute(format!(
            "INSERT INTO {table} (id, data, expires_at, destroyed) VALUES ({}, {}, {expires_at}, {})",
            text(raw, id),
            bytes(raw, data),
            if destroyed { "TRUE" } else { "FALSE" },
        ))
        .await;
    }
}

#[tokio::test]
async fn native_rows_the_codec_cannot_read_are_counted_and_yielded_as_errors() {
    for (name, url) in urls() {
        let table = table("unread");
        let _dropped = drop_at_end(&url, &table);
        let store = builder(&url, &table).build().await.unwrap();
        let raw = Raw::connect(&url).await;
        let native = Native {
            raw: &raw,
            table: quoted(&raw, &table),
        };
        let good = bytes(&raw, br#"{"user":"ada"}"#);
        insert_good(
            &raw,
            &native.table,
            "id, data, expires_at, destroyed",
            &format!("ID, {good}, {LIVE_MS}, FALSE"),
        )
        .await;

        let ada = br#"{"user":"ada"}"#;
        let not_json = after(250, "notjson");
        native.insert(&not_json, b"not json", LIVE_MS, false).await;
        // The last row of the first page: after `` and `notjson`.
        let binary = after(LAST_OF_PAGE, "binary");
        native.insert(&binary, &[0xff, 0x00, 0xfe], LIVE_MS, false).await;
        let surrogate = after(600, "surrogate");
        native
            .insert(&surrogate, br#"{"user":"\ud800"}"#, LIVE_MS, false)
            .await;
        // An expiry past year 9999: no time the store can hold.
        let far = after(650, "far");
        native.insert(&far, ada, i64::MAX, false).await;
        // Ids no SessionId can hold; the empty one sorts first.
        native
            .insert(&format!("{} bad id", good_id(700)), ada, LIVE_MS, false)
            .await;
        native.insert("", ada, LIVE_MS, false).await;
        // Over, or destroyed: not live, readable or not.
        let expired = ["gone-notjson".to_owned(), "gone-binary".to_owned()];
        native.insert(&expired[0], b"not json", EXPIRED_MS, false).await;
        native.insert(&expired[1], &[0xff], EXPIRED_MS, false).await;
        native.insert("gone bad id", ada, EXPIRED_MS, false).await;
        let tombstone = after(800, "tombstone");
        native.insert(&tombstone, b"not json", LIVE_MS, true).await;

        check(
            &store,
            Expected {
                name,
                unreadable: 6,
                readable_bad: &[not_json, binary, surrogate, far],
                expired_bad: &[expired[0].clone(), expired[1].clone(), tombstone],
            },
        )
        .await;
        raw.close().await;
    }
}

/// A connect-session-sequelize table: `data` is express-session's JSON as
/// text, and may be NULL.
struct Sequelize<'a> {
    raw: &'a Raw,
    table: String,
}

impl Sequelize<'_> {
    /// `expires` as Sequelize writes it, in 2032 or (`live` false) 2001.
    fn expires(&self, live: bool) -> &'static str {
        match (self.raw, live) {
            (Raw::Postgres(_), true) => "'2032-05-03 22:08:09.456+00'",
            (Raw::Postgres(_), false) => "'2001-05-03 22:08:09.456+00'",
            (Raw::MySql(_), true) => "'2032-05-03 22:08:09'",
            (Raw::MySql(_), false) => "'2001-05-03 22:08:09'",
            (Raw::Sqlite(_), true) => "'2032-05-03 22:08:09.456 +00:00'",
            (Raw::Sqlite(_), false) => "'2001-05-03 22:08:09.456 +00:00'",
        }
    }

    fn stamps(&self) -> String {
        format!(
            "{}, {}",
            quoted(self.raw, "createdAt"),
            quoted(self.raw, "updatedAt")
        )
    }

    /// A row under `sid` (SQL) holding `data` (SQL), expiring at `expires` (SQL).
    async fn insert_sql(&self, sid: &str, data: &str, expires: &str) {
        let at = self.expires(true);
        self.raw
            .execute(format!(
                "INSERT INTO {} (sid, expires, data, {}) VALUES ({sid}, {expires}, {data}, {at}, {at})",
                self.table,
                self.stamps()
            ))
            .await;
    }

    /// A row under `sid` holding `data` (SQL), live or expired.
    async fn insert(&self, sid: &str, data: &str, live: bool) {
        self.insert_sql(&text(self.raw, sid), data, self.expires(live))
            .await;
    }
}

#[tokio::test]
async fn sequelize_rows_express_cannot_read_are_counted_and_yielded_as_errors() {
    for (name, url) in urls() {
        let table = table("unreadseq");
        let _dropped = drop_at_end(&url, &table);
        let store = builder(&url, &table)
            .layout(Layout::ConnectSessionSequelize)
            .build()
            .await
            .unwrap();
        let raw = Raw::connect(&url).await;
        let seq = Sequelize {
            raw: &raw,
            table: quoted(&raw, &table),
        };
        let node = text(&raw, NODE_JSON);
        insert_good(
            &raw,
            &seq.table,
            &format!("sid, expires, data, {}", seq.stamps()),
            &format!("ID, {at}, {node}, {at}, {at}", at = seq.expires(true)),
        )
        .await;

        // Sequelize's `data` column allows NULL.
        let null = after(250, "null");
        seq.insert(&null, "NULL", true).await;
        // The last row of the first page: after `` and `null` (and on
        // SQLite a NULL key).
        let sqlite = matches!(raw, Raw::Sqlite(_));
        let last_of_page = LAST_OF_PAGE - u32::from(sqlite);
        let not_json = after(last_of_page, "notjson");
        seq.insert(&not_json, &text(&raw, "not json"), true).await;
        let surrogate = after(600, "surrogate");
        let lone = NODE_JSON.replace(r#""ada""#, r#""\ud800""#);
        seq.insert(&surrogate, &text(&raw, &lone), true).await;
        let no_cookie = after(650, "nocookie");
        seq.insert(&no_cookie, &text(&raw, r#"{"user":"ada"}"#), true)
            .await;
        seq.insert(&format!("{} bad id", good_id(700)), &node, true).await;
        seq.insert("", &node, true).await;
        let mut readable_bad = vec![null, not_json, surrogate, no_cookie];
        let mut unreadable = 6;
        // Over: not live, readable or not. A NULL expiry is no time at all.
        let expired = ["gone-null".to_owned(), "gone-notjson".to_owned()];
        seq.insert(&expired[0], "NULL", false).await;
        seq.insert(&expired[1], &text(&raw, "not json"), false).await;
        seq.insert("gone bad id", &node, false).await;
        seq.insert_sql(&text(&raw, "no-expiry"), "NULL", "NULL").await;

        if sqlite {
            // SQLite keeps whatever it is given: a NULL key, keys that are
            // no text (a blob) or not UTF-8, data that is not UTF-8, and an
            // expiry that is no date (yet sorts after now, so counts as live).
            seq.insert_sql("NULL", &node, seq.expires(true)).await;
            seq.insert_sql(&bytes(&raw, b"\xff"), &node, seq.expires(true))
                .await;
            let not_utf8_id = format!("CAST({} AS TEXT)", bytes(&raw, b"good-0800-\xff"));
            seq.insert_sql(&not_utf8_id, &node, seq.expires(true)).await;
            let not_utf8 = after(900, "notutf8");
            let data = format!("CAST({} AS TEXT)", bytes(&raw, b"{\"user\":\"\xff\"}"));
            seq.insert(&not_utf8, &data, true).await;
            let no_date = after(950, "nodate");
            seq.insert_sql(&text(&raw, &no_date), &node, "'not a date'").await;
            readable_bad.extend([not_utf8, no_date]);
            unreadable += 5;
        }

        check(
            &store,
            Expected {
                name,
                unreadable,
                readable_bad: &readable_bad,
                expired_bad: &[expired[0].clone(), expired[1].clone(), "no-expiry".into()],
            },
        )
        .await;
        raw.close().await;
    }
}

#[tokio::test]
async fn connect_pg_simple_rows_express_cannot_read_are_counted_and_yielded_as_errors() {
    let url = postgres_url();
    let table = table("unreadpg");
    let _dropped = drop_at_end(&url, &table);
    let store = builder(&url, &table)
        .layout(Layout::ConnectPgSimple)
        .time_zone("UTC")
        .build()
        .await
        .unwrap();
    let raw = Raw::connect(&url).await;
    let quoted_table = quoted(&raw, &table);
    let node = text(&raw, NODE_JSON);
    // connect-pg-simple's `expire`: wall-clock time, rounded up to the second.
    let (live, over) = ("'2032-05-03 22:08:10'", "'2001-05-03 22:08:10'");
    insert_good(
        &raw,
        &quoted_table,
        "sid, sess, expire",
        &format!("ID, {node}, {live}"),
    )
    .await;
    let insert = |sid: String, sess: String, expire: &'static str| {
        let raw = &raw;
        let sql = format!(
            "INSERT INTO {quoted_table} (sid, sess, expire) VALUES ({}, {}, {expire})",
            text(raw, &sid),
            text(raw, &sess)
        );
        async move { raw.execute(sql).await }
    };

    // `sess` is `json`: any JSON, not only express-session's.
    let string = after(250, "string");
    insert(string.clone(), r#""a string""#.into(), live).await;
    // The last row of the first page: after `` and `string`.
    let array = after(LAST_OF_PAGE, "array");
    insert(array.clone(), "[1, 2]".into(), live).await;
    // PostgreSQL's `json` keeps a lone surrogate escape; serde_json refuses it.
    let surrogate = after(600, "surrogate");
    insert(
        surrogate.clone(),
        NODE_JSON.replace(r#""ada""#, r#""\ud800""#),
        live,
    )
    .await;
    insert(format!("{} bad id", good_id(700)), NODE_JSON.into(), live).await;
    insert(String::new(), NODE_JSON.into(), live).await;
    let expired = "gone-array".to_owned();
    insert(expired.clone(), "[1, 2]".into(), over).await;
    insert("gone bad id".into(), NODE_JSON.into(), over).await;

    check(
        &store,
        Expected {
            name: "postgres",
            unreadable: 5,
            readable_bad: &[string, array, surrogate],
            expired_bad: &[expired],
        },
    )
    .await;
    raw.close().await;
}
