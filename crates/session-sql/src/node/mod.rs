//! A Node store's table (connect-pg-simple's, connect-session-sequelize's):
//! its columns, and the store's statements written in them.

mod columns;
mod statements;

pub(crate) use columns::NodeColumns;
