//! One side of a migration: a store URL, the layout of its records, and the
//! namespace within the server.

use std::fmt;

use session_core::Error;
use session_couch::CouchStore;
use session_redis::RedisStore;
use session_sql::SqlStore;

use crate::redact;

/// Whose records a side holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This project's stores (`session-redis`, `session-sql`,
    /// `session-couch`): read and written through their `Store`.
    #[default]
    Native,
    /// Records written by tower-sessions' own stores
    /// (`tower-sessions-redis-store`, `tower-sessions-sqlx-store`): read
    /// only, as a source.
    TowerSessions,
    /// An Express app's sessions in connect-redis' layout (Redis only), read
    /// and written through `session-redis`'s `Layout::ConnectRedis`.
    ConnectRedis,
    /// An Express app's sessions in connect-redis-session's layout (Redis
    /// only), through `session-redis`'s `Layout::ConnectRedisSession`.
    ConnectRedisSession,
    /// An Express app's sessions in connect-pg-simple's table (PostgreSQL
    /// only), through `session-sql`'s `Layout::ConnectPgSimple`.
    ConnectPgSimple,
    /// An Express app's sessions in connect-session-sequelize's table (SQL),
    /// through `session-sql`'s `Layout::ConnectSessionSequelize`.
    ConnectSessionSequelize,
    /// An Express app's sessions in session-pouchdb-store's documents
    /// (CouchDB), through `session-couch`'s `Layout::PouchDbStore`.
    SessionPouchDbStore,
}

/// Every layout's command-line name.
const NAMES: [(&str, Layout); 7] = [
    ("native", Layout::Native),
    ("tower-sessions", Layout::TowerSessions),
    ("connect-redis", Layout::ConnectRedis),
    ("connect-redis-session", Layout::ConnectRedisSession),
    ("connect-pg-simple", Layout::ConnectPgSimple),
    ("connect-session-sequelize", Layout::ConnectSessionSequelize),
    ("session-pouchdb-store", Layout::SessionPouchDbStore),
];

impl Layout {
    /// `session-redis`'s layout for this one, if it is one of the Redis
    /// store's own (native or an Express store's).
    pub(crate) fn redis(self) -> Option<session_redis::Layout> {
        match self {
            Self::Native => Some(session_redis::Layout::Native),
            Self::ConnectRedis => Some(session_redis::Layout::ConnectRedis),
            Self::ConnectRedisSession => Some(session_redis::Layout::ConnectRedisSession),
            _ => None,
        }
    }

    /// `session-sql`'s layout for this one, if it is one of its own.
    pub(crate) fn sql(self) -> Option<session_sql::Layout> {
        match self {
            Self::Native => Some(session_sql::Layout::Native),
            Self::ConnectPgSimple => Some(session_sql::Layout::ConnectPgSimple),
            Self::ConnectSessionSequelize => Some(session_sql::Layout::ConnectSessionSequelize),
            _ => None,
        }
    }

    /// `session-couch`'s layout for this one, if it is one of its own.
    pub(crate) fn couch(self) -> Option<session_couch::Layout> {
        match self {
            Self::Native => Some(session_couch::Layout::Native),
            Self::SessionPouchDbStore => Some(session_couch::Layout::PouchDbStore),
            _ => None,
        }
    }

    /// Whether a store writing this layout keeps tombstones: a destroyed id
    /// is refused for a while afterwards, so a copy that read the session
    /// before the logout cannot bring it back. The Node stores' own layouts
    /// have nowhere to keep one (session-pouchdb-store's has: its deleted
    /// documents).
    pub(crate) fn keeps_tombstones(self) -> bool {
        !matches!(
            self,
            Self::ConnectRedis
                | Self::ConnectRedisSession
                | Self::ConnectPgSimple
                | Self::ConnectSessionSequelize
        )
    }

    /// Whether the Node store writes its times as wall-clock time in a time
    /// zone of its own, which the side's
    /// [`time_zone`](Endpoint::time_zone) names.
    ///
    /// ```
    /// use session_migrate::Layout;
    ///
    /// assert!(Layout::ConnectPgSimple.has_time_zone());
    /// assert!(!Layout::Native.has_time_zone());
    /// ```
    pub fn has_time_zone(self) -> bool {
        matches!(self, Self::ConnectPgSimple | Self::ConnectSessionSequelize)
    }

    /// Whether one of this project's stores on `backend` reads and writes
    /// this layout.
    pub(crate) fn on(self, backend: Backend) -> bool {
        match backend {
            Backend::Redis => self.redis().is_some(),
            Backend::Sql => self.sql().is_some(),
            Backend::Couch => self.couch().is_some(),
        }
    }

    /// The layout a name on the command line means.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown name.
    pub fn parse(name: &str) -> Result<Self, Error> {
        NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, layout)| *layout)
            .ok_or_else(|| {
                let names: Vec<&str> = NAMES.iter().map(|(known, _)| *known).collect();
                Error::InvalidInput(format!(
                    "unknown layout {name:?}: use one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// The kind of server a URL names, by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// One of [`RedisStore::URL_SCHEMES`].
    Redis,
    /// One of [`SqlStore::URL_SCHEMES`].
    Sql,
    /// One of [`CouchStore::URL_SCHEMES`].
    Couch,
}

impl Backend {
    /// The backend whose URL schemes `url` starts with.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming every accepted scheme.
    ///
    /// ```
    /// use session_migrate::Backend;
    ///
    /// assert_eq!(Backend::of("redis-cluster://h:7101").unwrap(), Backend::Redis);
    /// assert_eq!(Backend::of("sqlite:sessions.db").unwrap(), Backend::Sql);
    /// assert!(Backend::of("memcached://h").is_err());
    /// ```
    pub fn of(url: &str) -> Result<Self, Error> {
        let names = |schemes: &[&str]| schemes.iter().any(|scheme| url.starts_with(scheme));
        if names(&RedisStore::URL_SCHEMES) {
            Ok(Self::Redis)
        } else if names(&SqlStore::URL_SCHEMES) {
            Ok(Self::Sql)
        } else if names(&CouchStore::URL_SCHEMES) {
            Ok(Self::Couch)
        } else {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            Err(Error::InvalidInput(format!(
                "unknown store URL scheme {scheme:?}: use {}, {}, or (CouchDB) {}",
                RedisStore::URL_SCHEMES.join(", "),
                SqlStore::URL_SCHEMES.join(", "),
                CouchStore::URL_SCHEMES.join(", ")
            )))
        }
    }
}

/// One side of a migration: where the store is and how its records are laid
/// out. Options left `None` take the layout's default (see
/// [`open_source`](crate::open_source)).
///
/// `Debug` and `Display` never show the URL's password.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The store URL, password included (shown only through [`redact`]).
    pub url: String,
    /// Whose records these are.
    pub layout: Layout,
    /// Redis: the key prefix.
    pub prefix: Option<String>,
    /// SQL: the table.
    pub table: Option<String>,
    /// SQL: the schema (PostgreSQL) or database (MySQL) holding the table.
    pub schema: Option<String>,
    /// CouchDB: the database.
    pub database: Option<String>,
    /// connect-pg-simple, connect-session-sequelize: the time zone of the
    /// Node app's connections, in which its times are stored
    /// (`session_sql::SqlStoreBuilder::time_zone`).
    pub time_zone: Option<String>,
}

impl Endpoint {
    /// A side at `url` in this project's layout, every option at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// This side with `layout`.
    #[must_use]
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// This side with a Redis key prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// This side with a SQL table.
    #[must_use]
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// This side with a SQL schema (PostgreSQL) or database (MySQL).
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// This side with a CouchDB database.
    #[must_use]
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// This side with the time zone of the Node app's connections
    /// (connect-pg-simple, connect-session-sequelize): an IANA name such as
    /// `America/New_York`, or an offset such as `+09:00`.
    #[must_use]
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }

    /// The backend the URL names, after checking that every option given
    /// applies to it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`]: an unknown scheme, an option of another
    /// backend (a table for Redis, a prefix for SQL...), or a time zone for
    /// a layout that stores none.
    pub fn backend(&self) -> Result<Backend, Error> {
        let backend = Backend::of(&self.url)?;
        if self.time_zone.is_some() && !self.layout.has_time_zone() {
            return Err(Error::InvalidInput(format!(
                "a time zone applies to the connect-pg-simple and connect-session-sequelize layouts, \
                 not to {:?}: its times carry no zone",
                self.layout
            )));
        }
        let given = [
            ("prefix", self.prefix.is_some(), Backend::Redis),
            ("table", self.table.is_some(), Backend::Sql),
            ("schema", self.schema.is_some(), Backend::Sql),
            ("database", self.database.is_some(), Backend::Couch),
        ];
        for (option, set, belongs) in given {
            if set && belongs != backend {
                return Err(Error::InvalidInput(format!(
                    "a {option} applies to {belongs:?} stores, and {} is a {backend:?} URL",
                    redact(&self.url)
                )));
            }
        }
        Ok(backend)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))?;
        if self.layout == Layout::TowerSessions {
            f.write_str(" (tower-sessions records)")?;
        }
        for (name, value) in [
            ("prefix", &self.prefix),
            ("schema", &self.schema),
            ("table", &self.table),
            ("database", &self.database),
            ("time zone", &self.time_zone),
        ] {
            if let Some(value) = value {
                write!(f, " {name} {value:?}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_of_another_backend_are_refused() {
        assert!(Endpoint::new("redis://h").prefix("p").backend().is_ok());
        let error = Endpoint::new("redis://h").table("t").backend().unwrap_err();
        assert!(error.to_string().contains("table applies to Sql"), "{error}");
        assert!(Endpoint::new("http://h:5984").database("d").backend().is_ok());
        assert!(Endpoint::new("postgres://h/db").database("d").backend().is_err());
    }

    #[test]
    fn a_time_zone_only_where_node_stores_one() {
        let pg = Endpoint::new("postgres://h/db").layout(Layout::ConnectPgSimple);
        assert!(pg.time_zone("America/New_York").backend().is_ok());
        let native = Endpoint::new("postgres://h/db").time_zone("UTC");
        let error = native.backend().unwrap_err();
        assert!(error.to_string().contains("time zone applies to"), "{error}");
        let redis = Endpoint::new("redis://h")
            .layout(Layout::ConnectRedis)
            .time_zone("UTC");
        assert!(redis.backend().is_err());
    }

    #[test]
    fn tombstones_only_where_a_logout_can_be_kept() {
        let without = [
            Layout::ConnectRedis,
            Layout::ConnectRedisSession,
            Layout::ConnectPgSimple,
            Layout::ConnectSessionSequelize,
        ];
        for (_, layout) in NAMES {
            assert_eq!(
                layout.keeps_tombstones(),
                !without.contains(&layout),
                "{layout:?}"
            );
        }
    }

    #[test]
    fn shown_without_the_password() {
        let side = Endpoint::new("redis://u:s3cret@h").prefix("app");
        for shown in [side.to_string(), format!("{side:?}")] {
            assert!(
                !shown.contains("s3cret") && shown.contains("prefix \"app\""),
                "{shown}"
            );
        }
    }

    #[test]
    fn layouts_by_name() {
        assert_eq!(Layout::parse("tower-sessions").unwrap(), Layout::TowerSessions);
        assert!(Layout::parse("express").is_err());
        for (name, layout) in NAMES {
            assert_eq!(Layout::parse(name).unwrap(), layout, "{name}");
        }
    }

    #[test]
    fn each_express_layout_lives_on_its_nodes_stores_server() {
        use Backend::{Couch, Redis, Sql};
        for (layout, home) in [
            (Layout::ConnectRedis, Redis),
            (Layout::ConnectRedisSession, Redis),
            (Layout::ConnectPgSimple, Sql),
            (Layout::ConnectSessionSequelize, Sql),
            (Layout::SessionPouchDbStore, Couch),
        ] {
            for backend in [Redis, Sql, Couch] {
                assert_eq!(layout.on(backend), backend == home, "{layout:?} on {backend:?}");
            }
        }
        assert!([Redis, Sql, Couch].into_iter().all(|b| Layout::Native.on(b)));
    }
}
