//! The one way the store speaks SQL: a statement written once with `?1`-style placeholders,
//! its arguments as `Value`s (`args![…]`), rows read by position with `Row::get`. The same
//! statement runs on SQLite (rusqlite) and on PostgreSQL (tokio-postgres, where `?N` becomes
//! `$N` and a value takes the type the server inferred for its parameter). The SQL stays in
//! the subset both share: no `rowid`, no `INSERT OR`, upserts with `ON CONFLICT`,
//! `RETURNING` instead of the last insert id, integers (flags too) compared as integers.

use super::{Result, StoreError};
use tokio_postgres::types::{IsNull, ToSql, Type};

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

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                // As SQLite would take an integer into a text column.
                _ => v.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// `?N` placeholders as PostgreSQL writes them, `$N`. The store's statements hold no `?` in
/// string literals.
pub(super) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Waits for a PostgreSQL client future on this thread. The connection itself is driven by
/// the store's own runtime, so this never needs (nor blocks) the caller's.
///
/// Polled outside tokio's cooperative budget: on a runtime thread whose task has spent its
/// budget (a test's synchronous setup, a hundred writes in), the pool's semaphore and timer
/// answer `Pending` and tokio defers their wake-up until the task yields, which a thread
/// blocked here never does: it would wait forever with the transaction open.
pub(super) fn wait<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(tokio::task::unconstrained(f))
}

/// A connection, or a transaction, to run statements on.
pub(crate) struct Db<'a> {
    conn: Conn<'a>,
}

enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a deadpool_postgres::ClientWrapper),
}

impl<'a> Db<'a> {
    pub(super) fn sqlite(conn: &'a rusqlite::Connection) -> Db<'a> {
        Db {
            conn: Conn::Sqlite(conn),
        }
    }

    pub(super) fn postgres(client: &'a deadpool_postgres::ClientWrapper) -> Db<'a> {
        Db {
            conn: Conn::Postgres(client),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<usize> {
        match self.conn {
            Conn::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Conn::Postgres(client) => wait(async {
                let stmt = client.prepare_cached(&dollar_placeholders(sql)).await?;
                Ok(client.execute(&stmt, &pg_args(args)).await? as usize)
            }),
        }
    }

    /// Every row, each through `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.rows(sql, args, |row| {
            out.push(f(row)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first row through `f`, if there is one.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let (mut f, mut first) = (Some(f), None);
        self.rows(sql, args, |row| {
            first = f.take().map(|f| f(row)).transpose()?;
            Ok(false)
        })?;
        Ok(first)
    }

    /// Hands the rows to `each` in order until it says stop (false).
    fn rows(
        &self,
        sql: &str,
        args: &[Value],
        mut each: impl FnMut(&Row) -> Result<bool>,
    ) -> Result<()> {
        match self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                while let Some(row) = rows.next()? {
                    if !each(&Row::Sqlite(row))? {
                        break;
                    }
                }
            }
            Conn::Postgres(client) => {
                let rows = wait(async {
                    let stmt = client.prepare_cached(&dollar_placeholders(sql)).await?;
                    client.query(&stmt, &pg_args(args)).await
                })?;
                for row in &rows {
                    if !each(&Row::Postgres(row))? {
                        break;
                    }
                }
            }
        }
        Ok(())
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

    /// The names of the columns `sql` answers with.
    pub fn column_names(&self, sql: &str) -> Result<Vec<String>> {
        match self.conn {
            Conn::Sqlite(conn) => Ok(conn
                .prepare(sql)?
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect()),
            Conn::Postgres(client) => Ok(wait(client.prepare(sql))?
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect()),
        }
    }

    /// Runs statements without arguments (a schema section).
    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        match self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(client) => Ok(wait(client.batch_execute(sql))?),
        }
    }
}

pub(super) fn pg_args<'v>(args: &'v [Value]) -> Vec<&'v (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// A value read whatever its column's type (copying rows between databases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owned {
    Null,
    Int(i64),
    Text(String),
}

impl Owned {
    pub fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Int(v) => Value::Int(*v),
            Owned::Text(v) => Value::Text(v),
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Owned::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn text(self) -> Option<String> {
        match self {
            Owned::Text(v) => Some(v),
            _ => None,
        }
    }
}

/// A returned row's values, read in order (rows of `Store::shared`).
pub(crate) struct Fields(std::vec::IntoIter<Owned>);

impl Fields {
    pub fn new(row: Vec<Owned>) -> Fields {
        Fields(row.into_iter())
    }

    pub fn int(&mut self) -> Result<i64> {
        self.0
            .next()
            .and_then(|v| v.int())
            .ok_or_else(|| StoreError::Corrupt("an integer expected".into()))
    }

    pub fn flag(&mut self) -> Result<bool> {
        self.int().map(|v| v != 0)
    }

    pub fn text(&mut self) -> Result<String> {
        self.0
            .next()
            .and_then(Owned::text)
            .ok_or_else(|| StoreError::Corrupt("text expected".into()))
    }
}

/// One row of a query's answer.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// The first `n` columns, whatever their types.
    pub fn all(&self, n: usize) -> Result<Vec<Owned>> {
        (0..n).map(|i| self.owned(i)).collect()
    }

    /// Every column, whatever its type.
    pub fn all_columns(&self) -> Result<Vec<Owned>> {
        let n = match self {
            Row::Sqlite(row) => row.as_ref().column_count(),
            Row::Postgres(row) => row.len(),
        };
        self.all(n)
    }

    fn owned(&self, i: usize) -> Result<Owned> {
        match self {
            Row::Sqlite(row) => Ok(match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Owned::Null,
                rusqlite::types::ValueRef::Integer(v) => Owned::Int(v),
                rusqlite::types::ValueRef::Text(t) => {
                    Owned::Text(String::from_utf8_lossy(t).into_owned())
                }
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "column {i} holds {:?}",
                        other.data_type()
                    )))
                }
            }),
            Row::Postgres(row) => match row.columns().get(i).map(|c| c.type_().clone()) {
                Some(Type::TEXT | Type::VARCHAR) => Ok(row
                    .try_get::<_, Option<String>>(i)?
                    .map_or(Owned::Null, Owned::Text)),
                _ => Ok(pg_int(row, i)?.map_or(Owned::Null, Owned::Int)),
            },
        }
    }

    /// Column `i` (from 0) as `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        match self {
            Row::Sqlite(row) => T::sqlite(row, i).map_err(StoreError::from),
            Row::Postgres(row) => T::postgres(row, i),
        }
    }
}

/// A Rust type a column is read as.
pub(crate) trait Column: Sized {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self>;
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self>;
}

/// An integer column of PostgreSQL whatever its width; `bool` for a comparison's result.
fn pg_int(row: &tokio_postgres::Row, i: usize) -> Result<Option<i64>> {
    let ty = row
        .columns()
        .get(i)
        .ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))?
        .type_()
        .clone();
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?,
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(i64::from),
        other => {
            return Err(StoreError::Corrupt(format!(
                "column {i} is {other}, not an integer"
            )))
        }
    })
}

impl Column for i64 {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        pg_int(row, i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
}

impl Column for Option<i64> {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        pg_int(row, i)
    }
}

impl Column for bool {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        i64::postgres(row, i).map(|v| v != 0)
    }
}

impl Column for String {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        Ok(row.try_get(i)?)
    }
}

impl Column for Option<String> {
    fn sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        Ok(row.try_get(i)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(
            super::dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?'"
        );
    }
}
