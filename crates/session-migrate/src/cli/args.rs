//! The command line, parsed by hand (a dozen flags need no parser crate).

use std::{path::PathBuf, time::Duration};

use session_couch::CouchStore;
use session_migrate::{Endpoint, Layout};
use session_redis::RedisStore;
use session_sql::SqlStore;

/// What the command line asks for.
pub(crate) struct Arguments {
    pub(crate) source: Endpoint,
    pub(crate) target: Endpoint,
    pub(crate) concurrency: usize,
    pub(crate) max_failures: u64,
    pub(crate) timeout: Duration,
    pub(crate) checkpoint: Option<PathBuf>,
    pub(crate) dry_run: bool,
    pub(crate) offline: bool,
}

/// The usage text, with the URL schemes each backend accepts today.
pub(crate) fn usage() -> String {
    format!(
        "usage: session-migrate --source URL --target URL [options]

Copies every live session from one store to another, keeping each id, its
data and its expiry. A session already in the target is never overwritten,
and one destroyed there (a logout) is never brought back, so a rerun after
an interruption is safe: it copies only what is missing.

  --source URL          the store to read
  --target URL          the store to write (created if missing: SQL table, CouchDB database)
                        URLs: {redis}
                              {sql}
                              {couch} (CouchDB)
  --source-layout NAME  native (this project's stores, the default), tower-sessions
                        (records of tower-sessions-redis-store / tower-sessions-sqlx-store),
                        connect-redis or connect-redis-session (an Express app's, on Redis),
                        connect-pg-simple or connect-session-sequelize (SQL),
                        session-pouchdb-store (CouchDB)
  --target-layout NAME  native (the default) or an Express store's, as above
  --source-prefix P, --target-prefix P
                        Redis key prefix (native default \"sess\"; tower-sessions: none)
  --source-table T, --target-table T
                        SQL table (native default \"sessions\"; tower-sessions:
                        \"session\", or \"tower_sessions\" on SQLite)
  --source-schema S, --target-schema S
                        PostgreSQL schema or MySQL database holding the table
                        (tower-sessions default \"tower_sessions\")
  --source-database D, --target-database D
                        CouchDB database (default \"sessions\")
  --source-time-zone Z, --target-time-zone Z, --time-zone Z (both sides)
                        connect-pg-simple, connect-session-sequelize: the time zone
                        of the Node app's connections (IANA name or +09:00); without
                        it the database's default is assumed, with a warning
  --offline             the apps are stopped during the copy: allows a target layout
                        without tombstones (connect-redis, connect-redis-session,
                        connect-pg-simple, connect-session-sequelize)
  --concurrency N       writes in flight at once (default 16)
  --checkpoint FILE     remember settled sessions in FILE; a rerun with the same FILE
                        skips them without asking the target
  --max-failures N      stop after N sessions failed (default 100)
  --timeout SECONDS     longest a connection or a call may take (default 10)
  --dry-run             write nothing; count what would be copied
  -h, --help            this text

While it runs, every app instance should write to both stores (session_core::
migrate::DualWrite), so sessions written or ended meanwhile are not lost.
Exit status: 0 done, 1 a store could not be opened, 2 bad arguments,
3 finished with failures or stopped early (rerun to resume), 130 interrupted.",
        redis = RedisStore::URL_SCHEMES.join(" "),
        sql = SqlStore::URL_SCHEMES.join(" "),
        couch = CouchStore::URL_SCHEMES.join(" "),
    )
}

/// Parses `args` (without the program name). `Err(None)` asks for help.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Arguments, Option<String>> {
    let mut args = args.into_iter();
    let mut source: Option<String> = None;
    let mut target: Option<String> = None;
    let mut source_options = Endpoint::default();
    let mut target_options = Endpoint::default();
    let mut both_zones: Option<String> = None;
    let mut parsed = Arguments {
        source: Endpoint::default(),
        target: Endpoint::default(),
        concurrency: 16,
        max_failures: 100,
        timeout: Duration::from_secs(10),
        checkpoint: None,
        dry_run: false,
        offline: false,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| Some(format!("{flag} needs a value")));
        match flag.as_str() {
            "--source" => source = Some(value()?),
            "--target" => target = Some(value()?),
            "--source-layout" => {
                source_options.layout = Layout::parse(&value()?).map_err(|e| Some(e.to_string()))?;
            }
            "--target-layout" => {
                target_options.layout = Layout::parse(&value()?).map_err(|e| Some(e.to_string()))?;
            }
            "--source-prefix" => source_options.prefix = Some(value()?),
            "--target-prefix" => target_options.prefix = Some(value()?),
            "--source-table" => source_options.table = Some(value()?),
            "--target-table" => target_options.table = Some(value()?),
            "--source-schema" => source_options.schema = Some(value()?),
            "--target-schema" => target_options.schema = Some(value()?),
            "--source-database" => source_options.database = Some(value()?),
            "--target-database" => target_options.database = Some(value()?),
            "--source-time-zone" => source_options.time_zone = Some(value()?),
            "--target-time-zone" => target_options.time_zone = Some(value()?),
            "--time-zone" => both_zones = Some(value()?),
            "--offline" => parsed.offline = true,
            "--concurrency" => parsed.concurrency = number(&flag, &value()?)?,
            "--max-failures" => parsed.max_failures = number(&flag, &value()?)?,
            "--timeout" => parsed.timeout = Duration::from_secs(number(&flag, &value()?)?),
            "--checkpoint" => parsed.checkpoint = Some(PathBuf::from(value()?)),
            "--dry-run" => parsed.dry_run = true,
            "-h" | "--help" => return Err(None),
            other => return Err(Some(format!("unknown argument {other:?}"))),
        }
    }
    if let Some(zone) = both_zones {
        // For each side whose layout stores one; a side's own flag wins.
        let mut applied = false;
        for side in [&mut source_options, &mut target_options] {
            if side.layout.has_time_zone() {
                side.time_zone.get_or_insert_with(|| zone.clone());
                applied = true;
            }
        }
        if !applied {
            return Err(Some(
                "--time-zone applies to a side in the connect-pg-simple or connect-session-sequelize layout"
                    .into(),
            ));
        }
    }
    source_options.url = source.ok_or_else(|| Some("--source is required".to_owned()))?;
    target_options.url = target.ok_or_else(|| Some("--target is required".to_owned()))?;
    parsed.source = source_options;
    parsed.target = target_options;
    Ok(parsed)
}

/// A positive whole number.
fn number<T: std::str::FromStr + PartialOrd + Default>(flag: &str, text: &str) -> Result<T, Option<String>> {
    match text.parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(Some(format!(
            "{flag} needs a positive whole number, not {text:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Arguments, Option<String>> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn both_sides_with_their_options() {
        let parsed = args(
            "--source redis://h --source-layout tower-sessions --source-prefix app: \
             --target postgres://db/app --target-table web_sessions --concurrency 32 --dry-run",
        )
        .unwrap();
        assert_eq!(parsed.source.url, "redis://h");
        assert_eq!(parsed.source.layout, Layout::TowerSessions);
        assert_eq!(parsed.source.prefix.as_deref(), Some("app:"));
        assert_eq!(parsed.target.table.as_deref(), Some("web_sessions"));
        assert_eq!(parsed.target.layout, Layout::Native);
        assert_eq!((parsed.concurrency, parsed.dry_run), (32, true));
    }

    #[test]
    fn time_zones_per_side_or_for_both() {
        let both = args(
            "--source postgres://a --source-layout connect-pg-simple --target mysql://b \
             --target-layout connect-session-sequelize --time-zone Asia/Tokyo --offline",
        )
        .unwrap();
        assert_eq!(both.source.time_zone.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(both.target.time_zone.as_deref(), Some("Asia/Tokyo"));
        assert!(both.offline);
        // Only where the layout stores a zone; a side's own flag wins.
        let one = args(
            "--source postgres://a --source-layout connect-pg-simple --source-time-zone -05:00 \
             --target postgres://b --time-zone UTC",
        )
        .unwrap();
        assert_eq!(one.source.time_zone.as_deref(), Some("-05:00"));
        assert_eq!(one.target.time_zone, None);
        assert!(!one.offline);
        let none = args("--source redis://a --target postgres://b --time-zone UTC");
        assert!(
            none.err()
                .flatten()
                .unwrap_or_default()
                .contains("--time-zone applies")
        );
    }

    #[test]
    fn mistakes_are_named() {
        let message = |line| args(line).err().flatten().unwrap_or_default();
        assert!(message("--target redis://h").contains("--source is required"));
        assert!(message("--source redis://h --target redis://g --concurrency 0").contains("positive"));
        assert!(message("--source redis://h --target").contains("--target needs a value"));
        assert!(message("--source redis://h --target r://g --colour").contains("--colour"));
        assert!(message("--source-layout express").contains("unknown layout"));
        assert!(matches!(args("--help"), Err(None)));
    }

    #[test]
    fn the_usage_lists_every_backends_schemes() {
        let text = usage();
        for scheme in RedisStore::URL_SCHEMES
            .iter()
            .chain(&SqlStore::URL_SCHEMES)
            .chain(&CouchStore::URL_SCHEMES)
        {
            assert!(text.contains(scheme), "{scheme}");
        }
    }
}
