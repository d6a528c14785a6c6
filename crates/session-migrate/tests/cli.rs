//! The `session-migrate` binary on real servers: a run killed midway and
//! resumed, a dry run, and its errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{process::Output, time::Duration as StdDuration};

use common::{
    SCALE, assert_holds, fill, postgres_store, postgres_url, redis_and_postgres, redis_store, redis_url,
    remove_at_end, session, unique,
};
use session_core::{SessionId, Store};
use session_migrate::Endpoint;
use session_sql::SqlStore;
use time::{Duration, OffsetDateTime};
use tokio::process::Command;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_session-migrate"))
}

/// The number on the report line `label: N`.
fn count(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
        .parse()
        .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_from_its_checkpoint_and_copies_the_rest_once() {
    let (prefix, table, _removed) = redis_and_postgres("kill");
    let old = redis_store(&prefix).await;
    let new = postgres_store(&table).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let total = SCALE / 2;
    let sessions: Vec<_> = (0..total)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;
    let checkpoint = std::env::temp_dir().join(format!("{}.ckpt", unique("kill")));
    let run = || {
        let mut command = binary();
        command.args(["--source", &redis_url(), "--source-prefix", &prefix]);
        command.args(["--target", &postgres_url(), "--target-table", &table]);
        command
            .args(["--concurrency", "4", "--checkpoint"])
            .arg(&checkpoint);
        command.kill_on_drop(true);
        command
    };

    let mut first = run().stdout(std::process::Stdio::null()).spawn().unwrap();
    while new.length().await.unwrap() < (total / 3) as u64 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    first.kill().await.unwrap(); // SIGKILL: no chance to flush anything
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let before = new.length().await.unwrap();
    assert!(before < total as u64, "killed midway: {before} of {total}");

    let output = run().output().await.unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        count(&stdout, "copied"),
        total as u64 - before,
        "the rest, once:\n{stdout}"
    );
    let settled = count(&stdout, "done by an earlier run") + count(&stdout, "already in target");
    assert_eq!(settled, before, "{stdout}");
    assert!(count(&stdout, "done by an earlier run") > 0, "{stdout}");
    assert_eq!(count(&stdout, "failed"), 0);
    assert!(
        stdout.contains("sessions/s") && stdout.contains("peak memory"),
        "{stdout}"
    );
    assert_holds(&new, &sessions).await;
    assert_eq!(new.length().await.unwrap(), total as u64);
    std::fs::remove_file(&checkpoint).unwrap();
    old.clear().await.unwrap();
    new.clear().await.unwrap();
}

#[tokio::test]
async fn a_checkpoint_does_not_depend_on_the_password() {
    // Its file keeps a hash of the job, and a hash of a password can be
    // guessed back: the job names the stores without their secrets, so a
    // rerun with a rotated password resumes. (PostgreSQL here trusts
    // loopback, so any password connects.)
    let (prefix, table, _removed) = redis_and_postgres("ckpw");
    let old = redis_store(&prefix).await;
    let new = postgres_store(&table).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let sessions: Vec<_> = (0..20)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;
    let checkpoint = std::env::temp_dir().join(format!("{}.ckpt", unique("ckpw")));
    let run = |password: &str| {
        let mut target = url::Url::parse(&postgres_url()).unwrap();
        target.set_password(Some(password)).unwrap();
        let mut command = binary();
        command.args(["--source", &redis_url(), "--source-prefix", &prefix]);
        command.args(["--target", target.as_str(), "--target-table", &table]);
        command.arg("--checkpoint").arg(&checkpoint);
        command
    };
    for (password, copied, earlier) in [("first-s3cret", 20, 0), ("rotated-s3cret", 0, 20)] {
        let output = run(password).output().await.unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{password}: {stdout}\n{stderr}");
        assert_eq!(count(&stdout, "copied"), copied, "{password}: {stdout}");
        assert_eq!(
            count(&stdout, "done by an earlier run"),
            earlier,
            "{password}: {stdout}"
        );
        assert!(
            !format!("{stdout}{stderr}").contains("s3cret"),
            "{stdout}\n{stderr}"
        );
    }
    assert_holds(&new, &sessions).await;
    std::fs::remove_file(&checkpoint).unwrap();
    old.clear().await.unwrap();
    new.clear().await.unwrap();
}

#[tokio::test]
async fn a_dry_run_counts_and_writes_nothing() {
    let prefix = unique("dry");
    let _removed = remove_at_end(&Endpoint::new(redis_url()).prefix(&prefix));
    let old = redis_store(&prefix).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let sessions: Vec<_> = (0..25)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;
    let target_prefix = unique("dry_target");
    let output = binary()
        .args(["--source", &redis_url(), "--source-prefix", &prefix])
        .args([
            "--target",
            &redis_url(),
            "--target-prefix",
            &target_prefix,
            "--dry-run",
        ])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(count(&stdout, "would copy"), 25, "{stdout}");
    assert!(stdout.contains("dry run: nothing was written"), "{stdout}");
    assert_eq!(redis_store(&target_prefix).await.length().await.unwrap(), 0);

    // A SQL target's table is not even created.
    let table = unique("dry");
    let output = binary()
        .args(["--source", &redis_url(), "--source-prefix", &prefix])
        .args(["--target", &postgres_url(), "--target-table", &table, "--dry-run"])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        count(&stdout, "would copy"),
        25,
        "a missing table holds nothing:\n{stdout}"
    );
    assert!(stderr.contains("counting it as empty"), "{stderr}");
    let missing = SqlStore::builder()
        .url(postgres_url())
        .table(&table)
        .create_table_if_missing(false)
        .purge_interval(None)
        .build()
        .await
        .unwrap();
    assert!(missing.length().await.is_err(), "the table was created");
    old.clear().await.unwrap();
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_named_without_passwords() {
    let cases = [
        (
            vec!["--source", "memcached://h", "--target", "redis://127.0.0.1:6379"],
            1,
            "unknown store URL scheme",
        ),
        (
            vec![
                "--source",
                "redis://u:s3cret@127.0.0.1:1",
                "--target",
                "redis://127.0.0.1:6379",
            ],
            1,
            "could not open the source redis://u:***@127.0.0.1:1",
        ),
        // Passwords holding what ends a user part in a URL.
        (
            vec![
                "--source",
                "redis://u:s3cret/x@127.0.0.1:1",
                "--target",
                "redis://127.0.0.1:6379",
            ],
            1,
            "could not open the source redis://***@127.0.0.1:1",
        ),
        (
            vec![
                "--source",
                "redis://127.0.0.1:6379",
                "--target",
                "postgres://u:s3cret?x@127.0.0.1:1/db",
            ],
            1,
            "could not open the target postgres://***@127.0.0.1:1/db",
        ),
        (
            vec![
                "--source",
                "redis://127.0.0.1:6379",
                "--target",
                "postgres://u:s3cret@127.0.0.1:1/db",
            ],
            1,
            "could not open the target postgres://u:***@127.0.0.1:1/db",
        ),
        (
            vec![
                "--source",
                "redis://127.0.0.1:6379",
                "--target",
                "redis://127.0.0.1:6379",
                "--target-table",
                "t",
            ],
            1,
            "table applies to Sql",
        ),
        (
            vec![
                "--source",
                "http://127.0.0.1:5984",
                "--source-layout",
                "tower-sessions",
                "--target",
                "redis://127.0.0.1:6379",
            ],
            1,
            "tower-sessions has no CouchDB store",
        ),
        (
            vec!["--source", "redis://127.0.0.1:6379"],
            2,
            "--target is required",
        ),
    ];
    for (args, status, expected) in cases {
        let output = binary()
            .args(&args)
            .args(["--timeout", "2"])
            .output()
            .await
            .unwrap();
        let (stdout, stderr) = text(&output);
        let all = format!("{stdout}{stderr}");
        assert_eq!(output.status.code(), Some(status), "{args:?}:\n{all}");
        assert!(
            all.contains(expected),
            "{args:?}: expected {expected:?} in:\n{all}"
        );
        assert!(!all.contains("s3cret"), "{args:?} printed a password:\n{all}");
    }
}

#[tokio::test]
async fn help_names_every_option() {
    let output = binary().arg("--help").output().await.unwrap();
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    for option in [
        "--source",
        "--target",
        "--source-layout",
        "--dry-run",
        "--checkpoint",
        "--concurrency",
        "DualWrite",
    ] {
        assert!(stdout.contains(option), "{option}");
    }
}

/// A target layout without tombstones cannot keep a logout made during the
/// copy: refused, nothing written, unless the apps are stopped (`--offline`).
#[tokio::test]
async fn a_target_without_tombstones_is_refused_unless_offline() {
    let prefix = unique("notomb");
    let target_prefix = format!("{}:", unique("notomb_target"));
    let _removed = remove_at_end(&Endpoint::new(redis_url()).prefix(&prefix));
    let _removed_target = remove_at_end(&Endpoint::new(redis_url()).prefix(&target_prefix));
    let old = redis_store(&prefix).await;
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let sessions: Vec<_> = (0..5)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&old, &sessions).await;
    let node_side = session_redis::RedisStore::builder()
        .url(redis_url())
        .layout(session_redis::Layout::ConnectRedis)
        .prefix(&target_prefix)
        .build()
        .await
        .unwrap();
    let run = |offline: bool| {
        let mut command = binary();
        command.args(["--source", &redis_url(), "--source-prefix", &prefix]);
        command.args(["--target", &redis_url(), "--target-prefix", &target_prefix]);
        command.args(["--target-layout", "connect-redis"]);
        if offline {
            command.arg("--offline");
        }
        command.output()
    };

    let output = run(false).await.unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("keeps no tombstones") && stderr.contains("--offline"),
        "{stderr}"
    );
    assert_eq!(node_side.length().await.unwrap(), 0, "a refused run wrote");

    let output = run(true).await.unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(count(&stdout, "copied"), 5, "{stdout}");
    for (id, session) in &sessions {
        let copied = node_side.get(id).await.unwrap().expect("copied");
        assert_eq!(copied.data(), session.data());
    }
}

/// A connect-pg-simple row written by a Node app whose connections run in
/// `zone`: its `expire` is wall-clock time there, an hour from now.
async fn node_row_in_zone(table: &str, zone: &str) -> SessionId {
    use sqlx::{AssertSqlSafe, Executor as _};
    let id = SessionId::generate();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .unwrap();
    let mut connection = pool.acquire().await.unwrap();
    connection
        .execute(AssertSqlSafe(format!("SET TimeZone = '{zone}'")))
        .await
        .unwrap();
    let insert = format!(
        "INSERT INTO \"{table}\" (sid, sess, expire) VALUES ($1, CAST($2 AS json), \
         now() + interval '1 hour')"
    );
    let sess = r#"{"cookie":{"originalMaxAge":3600000,"httpOnly":true,"path":"/"},"user":"ada"}"#;
    sqlx::query(AssertSqlSafe(insert))
        .bind(id.as_str())
        .bind(sess)
        .execute(&mut *connection)
        .await
        .unwrap();
    drop(connection);
    pool.close().await;
    id
}

/// connect-pg-simple rows written west and east of UTC: without the zone
/// the tool says which it assumed (and misreads them); with
/// `--source-time-zone` each session arrives live with its hour left.
#[tokio::test]
async fn connect_pg_simple_times_are_read_in_the_zone_given() {
    for zone in ["America/New_York", "Asia/Tokyo"] {
        let table = unique("zone_src");
        let target = unique("zone_dst");
        let _removed = [
            remove_at_end(&Endpoint::new(postgres_url()).table(&table)),
            remove_at_end(&Endpoint::new(postgres_url()).table(&target)),
        ];
        // The Node table, as connect-pg-simple's table.sql makes it.
        let node_table = SqlStore::builder()
            .url(postgres_url())
            .layout(session_sql::Layout::ConnectPgSimple)
            .table(&table)
            .time_zone(zone)
            .purge_interval(None)
            .build()
            .await
            .unwrap();
        let id = node_row_in_zone(&table, zone).await;
        let expected = node_table.get(&id).await.unwrap().expect("live in its zone");
        let copy = |zone: Option<&str>| {
            let mut command = binary();
            command.args(["--source", &postgres_url(), "--source-table", &table]);
            command.args(["--source-layout", "connect-pg-simple"]);
            command.args(["--target", &postgres_url(), "--target-table", &target]);
            if let Some(zone) = zone {
                command.args(["--source-time-zone", zone]);
            }
            command.output()
        };

        let output = copy(None).await.unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            stderr.contains("connect-pg-simple: no time zone given") && stderr.contains("--time-zone"),
            "{zone}: no warning:\n{stdout}\n{stderr}"
        );
        postgres_store(&target).await.clear().await.unwrap();

        let output = copy(Some(zone)).await.unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{zone}:\n{stdout}\n{stderr}");
        assert!(!stderr.contains("no time zone given"), "{zone}: {stderr}");
        assert_eq!(count(&stdout, "copied"), 1, "{zone}:\n{stdout}");
        let copied = postgres_store(&target)
            .await
            .get(&id)
            .await
            .unwrap()
            .expect("copied");
        assert_eq!(copied.expires_at(), expected.expires_at(), "{zone}");
        let left = copied.expires_at().unwrap() - OffsetDateTime::now_utc();
        assert!(
            left > Duration::minutes(55) && left <= Duration::hours(1),
            "{zone}: {left} left"
        );
        assert_eq!(copied.get::<String>("user").unwrap().as_deref(), Some("ada"));
    }
}

/// A Sequelize row Rust cannot read (its `data` NULL, as Sequelize allows)
/// stops nothing and is never silent: the others are copied, the report
/// counts it failed and the run exits 3, so a rerun is asked for.
#[tokio::test]
async fn an_unreadable_source_row_is_reported_not_skipped() {
    use sqlx::AssertSqlSafe;
    let (table, target) = (unique("nullsrc"), unique("nulldst"));
    let _removed = [
        remove_at_end(&Endpoint::new(postgres_url()).table(&table)),
        remove_at_end(&Endpoint::new(postgres_url()).table(&target)),
    ];
    let node_table = SqlStore::builder()
        .url(postgres_url())
        .layout(session_sql::Layout::ConnectSessionSequelize)
        .table(&table)
        .purge_interval(None)
        .build()
        .await
        .unwrap();
    let expiry = OffsetDateTime::now_utc() + Duration::hours(1);
    let sessions: Vec<_> = (0..3)
        .map(|n| (SessionId::generate(), session(n, expiry)))
        .collect();
    fill(&node_table, &sessions).await;
    let pool = sqlx::PgPool::connect(&postgres_url()).await.unwrap();
    let insert = format!(
        "INSERT INTO \"{table}\" (sid, expires, data, \"createdAt\", \"updatedAt\") \
         VALUES ('nulldata', now() + interval '1 hour', NULL, now(), now())"
    );
    sqlx::query(AssertSqlSafe(insert)).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(
        node_table.length().await.unwrap(),
        4,
        "the NULL row is a session Rust cannot read"
    );

    let output = binary()
        .args(["--source", &postgres_url(), "--source-table", &table])
        .args(["--source-layout", "connect-session-sequelize"])
        .args(["--target", &postgres_url(), "--target-table", &target])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert_eq!(count(&stdout, "copied"), 3, "{stdout}");
    assert_eq!(count(&stdout, "failed"), 1, "{stdout}");
    assert!(stdout.contains("a source record:"), "{stdout}");
    assert_holds(&postgres_store(&target).await, &sessions).await;
}
