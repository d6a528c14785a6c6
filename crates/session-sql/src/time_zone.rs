//! connect-pg-simple's time zone: its `expire` column holds wall-clock time
//! in the time zone of the Node app's connections, which node-postgres
//! leaves at the database's default, while sqlx sets UTC on every
//! connection. The store writes and reads that column in the zone the Node
//! side has, found here.

use std::time::Duration;

use session_core::Error;

use crate::{error::from_sqlx, pool::Pool};

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

/// The zone to use: `explicit` when given, else the database's default as
/// above, else UTC (PostgreSQL's own default, and what managed services
/// use) when the server's configuration cannot be read. The zone is
/// checked with the server, which must know it.
pub(crate) async fn resolve(pool: &Pool, explicit: Option<&str>, timeout: Duration) -> Result<String, Error> {
    let zone = match explicit {
        Some(zone) => zone.to_owned(),
        None => found(pool, timeout).await?,
    };
    check_name(&zone)?;
    verify(pool, &zone, timeout).await?;
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
#[cfg(feature = "postgres")]
async fn verify(pool: &Pool, zone: &str, timeout: Duration) -> Result<(), Error> {
    let Pool::Postgres(pool) = pool else {
        return Ok(());
    };
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

#[cfg(not(feature = "postgres"))]
async fn verify(_pool: &Pool, _zone: &str, _timeout: Duration) -> Result<(), Error> {
    Ok(())
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
