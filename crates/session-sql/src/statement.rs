//! One SQL statement and its binds, kept together.
//!
//! Statements are written as templates with named placeholders
//! (`WHERE id = {id} AND expires_at > {now}`). Compiling one for a dialect
//! quotes the names in and records which value each placeholder takes, in
//! the order they appear; running it binds those values from [`Args`] by
//! name. Nothing else decides the bind order, so text and binds cannot
//! drift apart.

use std::{fmt, sync::Arc};

use session_core::Error;
use sqlx::{Arguments as _, Database, Encode, Type, error::BoxDynError};

use crate::{dialect::Dialect, extra_columns::ExtraValue};

/// SQL text, shared: cloning it for a query copies no text.
pub(crate) type Sql = Arc<str>;

/// A value a statement binds, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// The session id.
    Id,
    /// The encoded session data.
    Data,
    /// The session's expiry, unix ms.
    ExpiresAt,
    /// The application's clock, unix ms: the one every expiry comparison uses.
    Now,
    /// When a tombstone lapses, unix ms.
    Until,
    /// The id a page starts after.
    After,
    /// The most rows a statement reads or deletes.
    Limit,
    /// The value looked up in an extra column.
    Value,
    /// The `n`th extra column's value (0-based, in configured order).
    Extra(usize),
    /// The data cell as `get_versioned` read it: a conditional write lands
    /// only while the row still holds exactly these bytes.
    Seen,
}

/// What a template's names stand for, other than binds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names<'a> {
    pub(crate) dialect: Dialect,
    /// The quoted, qualified table: `{table}`.
    pub(crate) table: &'a str,
    /// The quoted extra columns, in configured order.
    pub(crate) extras: &'a [String],
    /// The quoted extra column a per-column statement works on: `{column}`.
    pub(crate) column: Option<&'a str>,
    /// Put before every statement: MariaDB's per-statement bounds.
    pub(crate) prefix: &'a str,
}

impl<'a> Names<'a> {
    /// The same names, for statements on one extra column.
    pub(crate) fn on_column(self, column: &'a str) -> Self {
        Self {
            column: Some(column),
            ..self
        }
    }
}

/// A compiled statement: its text for one dialect and what it binds.
#[derive(Clone)]
pub(crate) struct Statement {
    sql: Sql,
    params: Arc<[Param]>,
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

impl Statement {
    /// The template text that binds `name` (`{name}`), for templates built
    /// with `format!`.
    pub(crate) fn bind(name: &str) -> String {
        ["{", name, "}"].concat()
    }

    /// Compiles `template`. Besides the binds (`{id}`, `{data}`,
    /// `{expires_at}`, `{now}`, `{until}`, `{after}`, `{limit}`, `{value}`,
    /// `{seen}`)
    /// it knows `{table}`, `{column}`, and five expansions over the extra
    /// columns, each item led by a comma: `{extra_names}` (`, c`),
    /// `{extra_values}` (`, ?`), `{extra_set}` (`, c = ?`),
    /// `{extra_from_excluded}` (`, c = excluded.c`) and `{extra_nulls}`
    /// (`, c = NULL`).
    ///
    /// # Errors
    /// [`Error::Backend`] for an unknown or unclosed name: a bug, which the
    /// unit tests compiling every statement would catch.
    pub(crate) fn compile(template: &str, names: Names<'_>) -> Result<Self, Error> {
        let mut compiler = Compiler {
            names,
            sql: String::from(names.prefix),
            params: Vec::new(),
        };
        let mut rest = template;
        while let Some((text, opened)) = rest.split_once('{') {
            compiler.sql.push_str(text);
            let (name, after) = opened
                .split_once('}')
                .ok_or_else(|| internal(format!("unclosed name in {template:?}")))?;
            compiler.expand(name)?;
            rest = after;
        }
        compiler.sql.push_str(rest);
        Ok(Self {
            sql: compiler.sql.into(),
            params: compiler.params.into(),
        })
    }

    /// `text` as it is, with the prefix but no binds (DDL).
    pub(crate) fn plain(text: &str, names: Names<'_>) -> Self {
        Self {
            sql: format!("{}{text}", names.prefix).into(),
            params: Arc::new([]),
        }
    }

    pub(crate) fn sql(&self) -> Sql {
        Sql::clone(&self.sql)
    }

    /// The values this statement binds, taken from `args` in order.
    ///
    /// # Errors
    /// When `args` lacks a value the statement binds (a bug), or a value
    /// does not encode.
    pub(crate) fn arguments<DB>(&self, args: &Args<'_>) -> Result<DB::Arguments, BoxDynError>
    where
        DB: Database,
        for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
        for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
        for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    {
        let mut arguments = DB::Arguments::default();
        for &param in self.params.iter() {
            match args.value_of(param) {
                Some(Value::Text(text)) => arguments.add(text)?,
                Some(Value::Bytes(bytes)) => arguments.add(bytes)?,
                Some(Value::Integer(number)) => arguments.add(number)?,
                None => return Err(format!("no value given for {param:?} in {:?}", self.sql).into()),
            }
        }
        Ok(arguments)
    }
}

fn internal(message: String) -> Error {
    Error::Backend(format!("session-sql statement template: {message}").into())
}

struct Compiler<'a> {
    names: Names<'a>,
    sql: String,
    params: Vec<Param>,
}

impl Compiler<'_> {
    fn bind(&mut self, param: Param) {
        self.params.push(param);
        let placeholder = self.names.dialect.placeholder(self.params.len());
        self.sql.push_str(&placeholder);
    }

    fn expand(&mut self, name: &str) -> Result<(), Error> {
        let extras = self.names.extras;
        match name {
            "table" => self.sql.push_str(self.names.table),
            "column" => {
                let column = self
                    .names
                    .column
                    .ok_or_else(|| internal("{column} outside a per-column statement".into()))?;
                self.sql.push_str(column);
            }
            "id" => self.bind(Param::Id),
            "data" => self.bind(Param::Data),
            "expires_at" => self.bind(Param::ExpiresAt),
            "now" => self.bind(Param::Now),
            "until" => self.bind(Param::Until),
            "after" => self.bind(Param::After),
            "limit" => self.bind(Param::Limit),
            "value" => self.bind(Param::Value),
            "seen" => self.bind(Param::Seen),
            "extra_names" => extras.iter().for_each(|c| self.sql.push_str(&format!(", {c}"))),
            "extra_values" => (0..extras.len()).for_each(|n| {
                self.sql.push_str(", ");
                self.bind(Param::Extra(n));
            }),
            "extra_set" => extras.iter().enumerate().for_each(|(n, c)| {
                self.sql.push_str(&format!(", {c} = "));
                self.bind(Param::Extra(n));
            }),
            "extra_from_excluded" => extras
                .iter()
                .for_each(|c| self.sql.push_str(&format!(", {c} = excluded.{c}"))),
            "extra_nulls" => extras
                .iter()
                .for_each(|c| self.sql.push_str(&format!(", {c} = NULL"))),
            other => return Err(internal(format!("unknown name {{{other}}}"))),
        }
        Ok(())
    }
}

/// The values a statement may bind, by name; each statement takes the ones
/// its template names.
///
/// ```text
/// Args::new().id(id).now(now)   // for "... WHERE id = {id} AND expires_at > {now}"
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Args<'a> {
    id: Option<&'a str>,
    data: Option<&'a [u8]>,
    expires_at: Option<i64>,
    now: Option<i64>,
    until: Option<i64>,
    after: Option<&'a str>,
    limit: Option<i64>,
    value: Option<&'a ExtraValue>,
    extras: &'a [ExtraValue],
    seen: Option<&'a [u8]>,
}

/// One bound value, in the three SQL types the store uses.
enum Value<'a> {
    Text(Option<&'a str>),
    Bytes(&'a [u8]),
    Integer(Option<i64>),
}

impl<'a> From<&'a ExtraValue> for Value<'a> {
    fn from(value: &'a ExtraValue) -> Self {
        match value {
            ExtraValue::Text(text) => Self::Text(text.as_deref()),
            ExtraValue::BigInt(number) => Self::Integer(*number),
        }
    }
}

impl<'a> Args<'a> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn id(self, id: &'a str) -> Self {
        Self { id: Some(id), ..self }
    }

    pub(crate) fn data(self, data: &'a [u8]) -> Self {
        Self {
            data: Some(data),
            ..self
        }
    }

    pub(crate) fn expires_at(self, millis: i64) -> Self {
        Self {
            expires_at: Some(millis),
            ..self
        }
    }

    pub(crate) fn now(self, millis: i64) -> Self {
        Self {
            now: Some(millis),
            ..self
        }
    }

    pub(crate) fn until(self, millis: i64) -> Self {
        Self {
            until: Some(millis),
            ..self
        }
    }

    pub(crate) fn after(self, id: &'a str) -> Self {
        Self {
            after: Some(id),
            ..self
        }
    }

    pub(crate) fn limit(self, rows: i64) -> Self {
        Self {
            limit: Some(rows),
            ..self
        }
    }

    pub(crate) fn value(self, value: &'a ExtraValue) -> Self {
        Self {
            value: Some(value),
            ..self
        }
    }

    pub(crate) fn extras(self, values: &'a [ExtraValue]) -> Self {
        Self {
            extras: values,
            ..self
        }
    }

    pub(crate) fn seen(self, stored: &'a [u8]) -> Self {
        Self {
            seen: Some(stored),
            ..self
        }
    }

    fn value_of(&self, param: Param) -> Option<Value<'a>> {
        let text = |text: Option<&'a str>| text.map(|t| Value::Text(Some(t)));
        let integer = |number: Option<i64>| number.map(|n| Value::Integer(Some(n)));
        match param {
            Param::Id => text(self.id),
            Param::Data => self.data.map(Value::Bytes),
            Param::ExpiresAt => integer(self.expires_at),
            Param::Now => integer(self.now),
            Param::Until => integer(self.until),
            Param::After => text(self.after),
            Param::Limit => integer(self.limit),
            Param::Value => self.value.map(Value::from),
            Param::Extra(n) => self.extras.get(n).map(Value::from),
            Param::Seen => self.seen.map(Value::Bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dialect: Dialect, extras: &[String]) -> Names<'_> {
        Names {
            dialect,
            table: "\"t\"",
            extras,
            column: None,
            prefix: "",
        }
    }

    #[test]
    fn placeholders_are_numbered_in_the_order_they_appear() {
        let extras = ["\"a\"".to_string(), "\"b\"".to_string()];
        let template = "INSERT INTO {table} (id{extra_names}) VALUES ({id}{extra_values}) WHERE x > {now}";
        let pg = Statement::compile(template, names(Dialect::Postgres, &extras)).unwrap();
        assert_eq!(
            &*pg.sql(),
            "INSERT INTO \"t\" (id, \"a\", \"b\") VALUES ($1, $2, $3) WHERE x > $4"
        );
        assert_eq!(
            &*pg.params,
            &[Param::Id, Param::Extra(0), Param::Extra(1), Param::Now]
        );
        let lite = Statement::compile(template, names(Dialect::Sqlite, &extras)).unwrap();
        assert_eq!(
            &*lite.sql(),
            "INSERT INTO \"t\" (id, \"a\", \"b\") VALUES (?, ?, ?) WHERE x > ?"
        );
    }

    #[test]
    fn unknown_or_unclosed_names_are_errors_not_sql() {
        for template in ["SELECT {nope}", "SELECT {id", "SELECT {column}"] {
            assert!(
                Statement::compile(template, names(Dialect::MySql, &[])).is_err(),
                "{template}"
            );
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_missing_value_is_an_error_naming_it() {
        let statement = Statement::compile("SELECT {id}, {now}", names(Dialect::Sqlite, &[])).unwrap();
        let error = statement
            .arguments::<sqlx::Sqlite>(&Args::new().id("x"))
            .unwrap_err();
        assert!(error.to_string().contains("Now"), "{error}");
        assert!(
            statement
                .arguments::<sqlx::Sqlite>(&Args::new().id("x").now(1))
                .is_ok()
        );
    }
}
