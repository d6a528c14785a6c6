//! The Node stores' time zones. connect-pg-simple's `expire` column holds
//! wall-clock time in the time zone of the Node app's connections, which
//! node-postgres leaves at the database's default, while sqlx sets UTC on
//! every connection. Sequelize on MySQL/MariaDB writes its `DATETIME`s in
//! its `timezone` option (`+00:00` unless the app sets one). The store
//! writes and reads those columns in the zone the Node side has, decided
//! here. (Sequelize on PostgreSQL stores an offset with every time, and
//! on SQLite it allows only UTC, so no zone is needed there.)

use std::time::Duration;

use session_core::Error;

use crate::{Dialect, Layout, error::from_sqlx, pool::Pool};

/// The default a client that sets no time zone gets, most specific first:
/// a setting for this role in this database, for the role, for the
/// database (`ALTER ROLE/DATABASE ... SET TimeZone`), then the server's
/// configuration file. (`SHOW TimeZone` cannot tell: sqlx has set it.)
const ROLE_OR_DATABASE: &str = "SELECT substring(setting FROM 10) FROM pg_db_role_setting s, unnest(s.setconfig) setting \
     WHERE lower(setting) LIKE 'timezone=%' \
     AND s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user)) \
     AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) \
     ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC LIMIT 1";

/// The configuration file's setting; readable by superusers and members of
/// `pg_read_all_settings` only.
const SERVER: &str = "SELECT setting FROM pg_file_settings WHERE lower(name) = 'timezone' AND applied ORDER BY seqno DESC LIMIT 1";

/// The zone `layout`'s wall-clock times are in on this database, or `None`
/// where they are UTC or carry their own offset.
///
/// connect-pg-simple: `explicit` when given, else the database's default as
/// above (with a warning: the Node app may connect as another role, or set
/// its own zone), else UTC (PostgreSQL's own default, and what managed
/// services use) when the server's configuration cannot be read.
/// Sequelize on MySQL: `explicit` when given, else UTC, Sequelize's own
/// default. A zone is checked with the server, which must know it.
pub(crate) async fn resolve(
    pool: &Pool,
    layout: Layout,
    explicit: Option<&str>,
    timeout: Duration,
) -> Result<Option<String>, Error> {
    let zone = match (layout, pool.dialect(), explicit) {
        (Layout::Native, _, Some(_)) => {
            return Err(Error::InvalidInput(
                "time_zone applies to the Node stores' layouts: the native table stores unix milliseconds"
                    .into(),
            ));
        }
        (Layout::ConnectPgSimple, _, None) => assumed(pool, timeout).await?,
        (Layout::ConnectPgSimple, _, Some(zone)) | (_, Dialect::MySql, Some(zone)) => zone.to_owned(),
        _ => return Ok(None),
    };
    check_name(&zone)?;
    if pool.dialect() == Dialect::MySql && is_utc(&zone) {
        // No conversion needed, and none that needs the server's zone tables.
        return Ok(None);
    }
    verify(pool, &zone, timeout).await?;
    Ok(Some(zone))
}

/// UTC by any of the names Sequelize and MySQL give it.
fn is_utc(zone: &str) -> bool {
    ["UTC", "Z", "+00:00", "-00:00", "Etc/UTC"].contains(&zone)
}

/// connect-pg-simple's zone when the app gave none: the database's default,
/// said in the log so that an operator sees the guess.
async fn assumed(pool: &Pool, timeout: Duration) -> Result<String, Error> {
    let zone = found(pool, timeout).await?;
    tracing::warn!(
        zone = %zone,
        "connect-pg-simple: no time zone given; its times are read and written as wall-clock time in the \
         database's default for this role, {zone}. If the Node app connects as another role or sets its own \
         zone, give that zone (SqlStoreBuilder::time_zone, session-migrate --time-zone)"
    );
    Ok(zone)
}

/// A time zone name as a SQL literal may hold it: IANA names (`Etc/UTC`,
/// `America/Argentina/Buenos_Aires`) and POSIX offsets (`UTC+3`, `<+05>-5`).
fn check_name(zone: &str) -> Result<(), Error> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/_+-:<>.".contains(c);
    if zone.is_empty() || zone.len() > 64 || !zone.chars().all(plain) {
        return Err(Error::InvalidInput(format!(
            "time zone {zone:?} is not a time zone name (letters, digits and / _ + - : < > . only)"
        )));
    }
    Ok(())
}

#[cfg(feature = "postgres")]
async fn found(pool: &Pool, timeout: Duration) -> Result<String, Error> {
    let Pool::Postgres(pool) = pool else {
        return Ok("UTC".into());
    };
    let by_role: Option<(String,)> = sqlx::query_as(ROLE_OR_DATABASE)
        .fetch_optional(pool)
        .await
        .map_err(|e| from_sqlx(e, timeout))?;
    if let Some((zone,)) = by_role {
        return Ok(zone);
    }
    match sqlx::query_as::<_, (String,)>(SERVER).fetch_optional(pool).await {
        Ok(Some((zone,))) => Ok(zone),
        Ok(None) => Ok("UTC".into()),
        Err(error) => {
            tracing::warn!(
                %error,
                "cannot read the server's TimeZone setting; connect-pg-simple's times are taken as UTC \
                 (set SqlStoreBuilder::time_zone to the zone the Node app's connections use)"
            );
            Ok("UTC".into())
        }
    }
}

#[cfg(not(feature = "postgres"))]
async fn found(_pool: &Pool, _timeout: Duration) -> Result<String, Error> {
    Ok("UTC".into())
}

/// The server knows `zone` (checked by name first, so it is safe to quote).
async fn verify(pool: &Pool, zone: &str, timeout: Duration) -> Result<(), Error> {
    match pool {
        #[cfg(feature = "postgres")]
        Pool::Postgres(pool) => verify_postgres(pool, zone, timeout).await,
        #[cfg(feature = "mysql")]
        Pool::MySql(pool) => verify_mysql(pool, zone, timeout).await,
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
}

#[cfg(feature = "postgres")]
async fn verify_postgres(pool: &sqlx::PgPool, zone: &str, timeout: Duration) -> Result<(), Error> {
    match sqlx::query("SELECT now() AT TIME ZONE $1")
        .bind(zone)
        .execute(pool)
        .await
    {
        Ok(_) => Ok(()),
        // invalid_parameter_value: "time zone ... not recognized"
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("22023") => Err(Error::InvalidInput(
            format!("PostgreSQL does not know the time zone {zone:?}"),
        )),
        Err(error) => Err(from_sqlx(error, timeout)),
    }
}

/// `CONVERT_TZ` answers NULL for a zone the server does not know: a named
/// zone needs the server's time zone tables; an offset (`+09:00`) never does.
#[cfg(feature = "mysql")]
async fn verify_mysql(pool: &sqlx::MySqlPool, zone: &str, timeout: Duration) -> Result<(), Error> {
    let (converted,): (Option<String>,) =
        sqlx::query_as("SELECT CAST(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?) AS CHAR)")
            .bind(zone)
            .fetch_one(pool)
            .await
            .map_err(|e| from_sqlx(e, timeout))?;
    match converted {
        Some(_) => Ok(()),
        None => Err(Error::InvalidInput(format!(
            "MySQL does not know the time zone {zone:?}: give Sequelize's offset (such as +09:00), \
             or load the server's time zone tables (mysql_tzinfo_to_sql)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_zone_names_become_sql() {
        for zone in [
            "UTC",
            "Etc/UTC",
            "America/Argentina/Buenos_Aires",
            "UTC+3",
            "<+05>-5",
        ] {
            assert!(check_name(zone).is_ok(), "{zone}");
        }
        for zone in [
            "",
            "UTC'; DROP TABLE session; --",
            "Europe/Berlin ",
            &"A".repeat(65),
        ] {
            assert!(check_name(zone).is_err(), "{zone}");
        }
    }
}
