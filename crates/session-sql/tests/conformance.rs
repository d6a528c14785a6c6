//! The whole conformance suite on PostgreSQL, MariaDB, and SQLite (a file,
//! and in memory).

mod common;

use session_conformance::Settings;

mod postgres {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_for(super::common::postgres_url(), settings)
    });
}

mod mariadb {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_for(super::common::mysql_url(), settings)
    });
}

mod sqlite_file {
    session_conformance::suite!(|settings: super::Settings| {
        let url = super::common::sqlite_file_url(&settings.namespace);
        super::common::store_for(url, settings)
    });
}

mod sqlite_memory {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_for("sqlite::memory:".to_string(), settings)
    });
}

/// Again with extra columns configured: every write path binds them.
mod postgres_with_columns {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_with_columns_for(super::common::postgres_url(), settings)
    });
}

mod mariadb_with_columns {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_with_columns_for(super::common::mysql_url(), settings)
    });
}

mod sqlite_with_columns {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::store_with_columns_for("sqlite::memory:".to_string(), settings)
    });
}

/// The sea-orm store: the app's own `DatabaseConnection`, same guarantees.
mod sea_orm_postgres {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::sea_orm_store_for(super::common::postgres_url(), settings)
    });
}

mod sea_orm_mariadb {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::sea_orm_store_for(super::common::mysql_url(), settings)
    });
}

mod sea_orm_sqlite {
    session_conformance::suite!(|settings: super::Settings| {
        super::common::sea_orm_store_for("sqlite::memory:".to_string(), settings)
    });
}

/// The Node stores' tables, shared with Express apps: no tombstones, so
/// every check that needs one fails by design, each saying why.
macro_rules! node_suite {
    ($layout:ident, |$settings:ident| $url:expr $(, $check:ident: $why:expr)*) => {
        /// Why most of its by-design failures happen.
        const NO_TOMBSTONES: &str = "the Node store's table has no tombstone: destroy deletes the row, so a \
            late write after a logout lands (the Node store does the same)";

        session_conformance::suite!(
            |$settings: super::Settings| {
                super::common::node_store_for(session_sql::Layout::$layout, $url, $settings)
            },
            no_tombstones: NO_TOMBSTONES,
            fails_by_design: {
                round_trips_nested: "its data holds a key `cookie`, which express-session keeps for its own",
                $($check: $why,)*
            }
        );
    };
}

/// connect-session-sequelize's `sid` column is `VARCHAR(36)`.
const SEQUELIZE_IDS: &str = "connect-session-sequelize's sid column holds at most 36 bytes: a longer id \
    is refused with InvalidInput";

mod connect_pg_simple {
    node_suite!(ConnectPgSimple, |settings| super::common::postgres_url());
}

mod sequelize_postgres {
    node_suite!(ConnectSessionSequelize, |settings| super::common::postgres_url(),
        longest_id_round_trips: super::SEQUELIZE_IDS);
}

mod sequelize_mariadb {
    node_suite!(ConnectSessionSequelize, |settings| super::common::mysql_url(),
        longest_id_round_trips: super::SEQUELIZE_IDS);
}

mod sequelize_sqlite {
    node_suite!(ConnectSessionSequelize, |settings| super::common::sqlite_file_url(
        &settings.namespace
    ), longest_id_round_trips: super::SEQUELIZE_IDS);
}
