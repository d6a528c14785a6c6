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
