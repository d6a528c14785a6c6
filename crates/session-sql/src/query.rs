//! Running one statement on whichever pool a store has.

/// Executes `$sql` with the binds; evaluates to `Result<rows affected, sqlx::Error>`.
macro_rules! execute_raw {
    ($inner:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::pool::with_pool!(&$inner.pool, |p| {
            sqlx::query(sqlx::AssertSqlSafe($crate::dialect::Sql::clone(&$sql)))
                $(.bind($bind))*
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })
    };
}

/// Executes `$sql` with the binds; evaluates to `Result<rows affected, Error>`.
macro_rules! execute {
    ($inner:expr, $sql:expr $(, $bind:expr)* $(,)?) => {{
        let inner = $inner;
        $crate::query::execute_raw!(inner, $sql $(, $bind)*).map_err(|e| $crate::error::from_sqlx(e, inner.timeout))
    }};
}

/// Executes a write: binds `[$pre]`, then each extra column's value, then
/// `[$post]`; evaluates to `Result<rows affected, sqlx::Error>`.
macro_rules! execute_write_raw {
    ($inner:expr, $sql:expr, [$($pre:expr),*], $customs:expr, [$($post:expr),*]) => {
        $crate::pool::with_pool!(&$inner.pool, |p| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe($crate::dialect::Sql::clone(&$sql))) $(.bind($pre))*;
            for value in $customs {
                query = match value {
                    $crate::columns::Bound::Text(text) => query.bind(text.as_deref()),
                    $crate::columns::Bound::BigInt(number) => query.bind(*number),
                };
            }
            query $(.bind($post))* .execute(p).await.map(|done| done.rows_affected())
        })
    };
}

/// [`execute_write_raw`] with the error mapped.
macro_rules! execute_write {
    ($inner:expr, $sql:expr, [$($pre:expr),*], $customs:expr, [$($post:expr),*]) => {{
        let inner = $inner;
        $crate::query::execute_write_raw!(inner, $sql, [$($pre),*], $customs, [$($post),*])
            .map_err(|e| $crate::error::from_sqlx(e, inner.timeout))
    }};
}

/// Fetches at most one row and maps it with `|$row| expr` (which returns a
/// `Result<_, sqlx::Error>`); evaluates to `Result<Option<_>, Error>`.
macro_rules! fetch_optional {
    ($inner:expr, $sql:expr, [$($bind:expr),*], |$row:ident| $map:expr) => {{
        let inner = $inner;
        $crate::pool::with_pool!(&inner.pool, |p| {
            sqlx::query(sqlx::AssertSqlSafe($crate::dialect::Sql::clone(&$sql)))
                $(.bind($bind))*
                .fetch_optional(p)
                .await
                .and_then(|row| row.map(|$row| $map).transpose())
        })
        .map_err(|e| $crate::error::from_sqlx(e, inner.timeout))
    }};
}

/// Fetches every row and maps each with `|$row| expr`; evaluates to
/// `Result<Vec<_>, Error>`.
macro_rules! fetch_all {
    ($inner:expr, $sql:expr, [$($bind:expr),*], |$row:ident| $map:expr) => {{
        let inner = $inner;
        $crate::pool::with_pool!(&inner.pool, |p| {
            sqlx::query(sqlx::AssertSqlSafe($crate::dialect::Sql::clone(&$sql)))
                $(.bind($bind))*
                .fetch_all(p)
                .await
                .and_then(|rows| rows.into_iter().map(|$row| $map).collect::<Result<Vec<_>, sqlx::Error>>())
        })
        .map_err(|e| $crate::error::from_sqlx(e, inner.timeout))
    }};
}

pub(crate) use {execute, execute_raw, execute_write, execute_write_raw, fetch_all, fetch_optional};
