//! Readers of the records tower-sessions' own stores write, so sessions of
//! an app on tower-sessions-redis-store or tower-sessions-sqlx-store can be
//! moved to one of our stores (and served through `session-tower`, which
//! uses the same ids: no one is logged out).

mod record;
mod redis;
mod sql;

pub use redis::TowerRedisSource;
pub use sql::TowerSqlSource;
