//! The whole conformance suite on PostgreSQL, MariaDB, and SQLite (a file,
//! and in memory). Each check's table (or SQLite file) is dropped after it.

mod common;

use session_conformance::{Capabilities, Settings};

/// One suite on `url` (an expression of `settings`), each store built by
/// `build(url, settings)`, its table dropped afterwards.
macro_rules! sql_suite {
    ($build:path, |$settings:ident| $url:expr $(, capabilities: $capabilities:expr)?) => {
        session_conformance::suite!(
            |$settings: super::Settings| {
                let url = $url;
                $build(url, $settings)
            },
            $(capabilities: $capabilities,)?
            teardown: |$settings: super::Settings| {
                let url = $url;
                super::common::drop_table(url, $settings)
            },
        );
    };
}

mod postgres {
    sql_suite!(super::common::store_for, |settings| super::common::postgres_url());
}

mod mariadb {
    sql_suite!(super::common::store_for, |settings| super::common::mysql_url());
}

mod sqlite_file {
    sql_suite!(super::common::store_for, |settings| {
        super::common::sqlite_file_path_url(&settings.namespace)
    });
}

mod sqlite_memory {
    sql_suite!(super::common::store_for, |settings| "sqlite::memory:".to_string());
}

/// Again with extra columns configured: every write path binds them.
mod postgres_with_columns {
    sql_suite!(super::common::store_with_columns_for, |settings| {
        super::common::postgres_url()
    });
}

mod mariadb_with_columns {
    sql_suite!(super::common::store_with_columns_for, |settings| {
        super::common::mysql_url()
    });
}

mod sqlite_with_columns {
    sql_suite!(super::common::store_with_columns_for, |settings| {
        "sqlite::memory:".to_string()
    });
}

/// The sea-orm store: the app's own `DatabaseConnection`, same guarantees.
mod sea_orm_postgres {
    sql_suite!(super::common::sea_orm_store_for, |settings| {
        super::common::postgres_url()
    });
}

mod sea_orm_mariadb {
    sql_suite!(super::common::sea_orm_store_for, |settings| {
        super::common::mysql_url()
    });
}

mod sea_orm_sqlite {
    sql_suite!(super::common::sea_orm_store_for, |settings| "sqlite::memory:"
        .to_string());
}

/// What the Node stores' tables keep, shared with Express apps: no
/// tombstone (destroy deletes the row, as the Node store does, so a late
/// write after a logout lands) and express-session's `cookie` key.
fn node_tables() -> Capabilities {
    Capabilities::full()
        .without_tombstones()
        .reserving_keys([session_core::backend::express::COOKIE_KEY])
}

/// connect-session-sequelize's table also holds ids of at most 36 bytes
/// (`sid VARCHAR(36)`).
fn sequelize_table() -> Capabilities {
    node_tables().max_id_len(36)
}

mod connect_pg_simple {
    sql_suite!(
        super::common::pg_simple_store_for,
        |settings| super::common::postgres_url(),
        capabilities: super::node_tables()
    );
}

mod sequelize_postgres {
    sql_suite!(
        super::common::sequelize_store_for,
        |settings| super::common::postgres_url(),
        capabilities: super::sequelize_table()
    );
}

mod sequelize_mariadb {
    sql_suite!(
        super::common::sequelize_store_for,
        |settings| super::common::mysql_url(),
        capabilities: super::sequelize_table()
    );
}

mod sequelize_sqlite {
    sql_suite!(
        super::common::sequelize_store_for,
        |settings| super::common::sqlite_file_path_url(&settings.namespace),
        capabilities: super::sequelize_table()
    );
}
