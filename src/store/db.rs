//! The one way the store speaks SQL: a statement written once with `?1`-style placeholders,
//! its arguments as `Value`s (`args![…]`), rows read by position with `Row::get`. Keeping
//! the driver behind this small surface is what lets the same statements run on another
//! database; the SQL itself stays in the common subset (no `rowid`, no `INSERT OR`, upserts
//! with `ON CONFLICT`, `RETURNING` instead of the last insert id).

use super::{Result, StoreError};

/// One argument of a statement.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Int(v.into())
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&&'a str> for Value<'a> {
    fn from(v: &&'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The arguments of a statement: `args![id, now]`.
macro_rules! args {
    () => { &[] as &[$crate::store::db::Value] };
    ($($v:expr),+ $(,)?) => { &[$($crate::store::db::Value::from($v)),+] as &[$crate::store::db::Value] };
}
pub(crate) use args;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

/// A connection, or a transaction, to run statements on.
pub(crate) struct Db<'a> {
    conn: &'a rusqlite::Connection,
}

impl<'a> Db<'a> {
    pub(super) fn sqlite(conn: &'a rusqlite::Connection) -> Db<'a> {
        Db { conn }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(args))?)
    }

    /// Every row, each through `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(f(&Row { row })?);
        }
        Ok(out)
    }

    /// The first row through `f`, if there is one.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        match rows.next()? {
            Some(row) => Ok(Some(f(&Row { row })?)),
            None => Ok(None),
        }
    }

    /// The first row through `f`; a statement that must answer (an aggregate).
    pub fn query_one<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, args, f)?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql}")))
    }

    /// Whether the query finds a row.
    pub fn exists(&self, sql: &str, args: &[Value]) -> Result<bool> {
        self.query_opt(sql, args, |_| Ok(()))
            .map(|found| found.is_some())
    }
}

/// One row of a query's answer.
pub(crate) struct Row<'a> {
    row: &'a rusqlite::Row<'a>,
}

impl Row<'_> {
    /// Column `i` (from 0) as `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        T::sqlite(self.row, i).map_err(StoreError::from)
    }
}

/// A Rust type a column is read as.
pub(crate) trait Column: Sized {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self>;
}

macro_rules! column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
        }
    )*};
}
column!(i64, bool, String, Option<i64>, Option<String>);
