//! The store's SQL is written once, with SQLite's `?` placeholders, and runs on either
//! database through sqlx's `Any` driver. PostgreSQL numbers its placeholders (`$1`, `$2`),
//! and `Any` passes the text through unchanged, so every query is built here: on SQLite as
//! written, on PostgreSQL with its placeholders numbered. The few statements whose SQL
//! differs between the two (JSON functions, locking) ask `dialect()` and keep both texts
//! side by side in their module.

use std::sync::OnceLock;

use sqlx::{
    Any, AssertSqlSafe, Execute, FromRow, QueryBuilder, SqlSafeStr, SqlStr,
    any::{AnyArguments, AnyRow},
    query::{Query, QueryAs, QueryScalar},
};

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}

/// One per process: the SQL a query function sends depends on it, and a query function gets
/// only an executor, not the store.
static DIALECT: OnceLock<Dialect> = OnceLock::new();

/// Records the dialect of the store being opened. A process that already opened a store of
/// the other kind is refused: its queries would be sent in the wrong dialect.
pub(super) fn set_dialect(d: Dialect) -> anyhow::Result<()> {
    let set = *DIALECT.get_or_init(|| d);
    anyhow::ensure!(
        set == d,
        "this process already opened a {} database and cannot open a {} one beside it",
        set.name(),
        d.name()
    );
    Ok(())
}

/// The dialect of this process's store (SQLite until one is opened).
pub fn dialect() -> Dialect {
    DIALECT.get().copied().unwrap_or(Dialect::Sqlite)
}

/// How a write transaction starts: on SQLite `BEGIN IMMEDIATE`, which takes the write lock
/// up front instead of failing with `SQLITE_BUSY` at its first write.
pub(super) fn begin_write() -> &'static str {
    match dialect() {
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    }
}

/// What a write transaction runs first after `begin_write`: on PostgreSQL a transaction-wide
/// advisory lock, so write transactions of every process on the database run one at a time,
/// as SQLite's single writer makes them. The engine's read-check-write transactions (leases,
/// one active run per VPC, approvals) rely on that.
pub(super) fn write_lock() -> Option<&'static str> {
    match dialect() {
        Dialect::Sqlite => None,
        // Any fixed key; "natpilot" in ASCII.
        Dialect::Postgres => Some(
            "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(7953766443066879860)) AS locked",
        ),
    }
}

/// `sql` in this process's dialect.
pub fn text(sql: impl SqlSafeStr) -> SqlStr {
    let sql = sql.into_sql_str();
    match dialect() {
        Dialect::Sqlite => sql,
        Dialect::Postgres => AssertSqlSafe(numbered(sql.as_str())).into_sql_str(),
    }
}

pub fn query<'q>(sql: impl SqlSafeStr) -> Query<'q, Any, AnyArguments> {
    sqlx::query(text(sql))
}

pub fn query_as<'q, O>(sql: impl SqlSafeStr) -> QueryAs<'q, Any, O, AnyArguments>
where
    O: for<'r> FromRow<'r, AnyRow>,
{
    sqlx::query_as(text(sql))
}

pub fn query_scalar<'q, O>(sql: impl SqlSafeStr) -> QueryScalar<'q, Any, O, AnyArguments>
where
    (O,): for<'r> FromRow<'r, AnyRow>,
{
    sqlx::query_scalar(text(sql))
}

/// A built `QueryBuilder` query in this process's dialect (the builder writes `?`).
pub fn build(qb: &mut QueryBuilder<Any>) -> Query<'static, Any, AnyArguments> {
    let sql = text(qb.sql());
    let mut built = qb.build();
    sqlx::query_with(sql, arguments(&mut built))
}

/// A built `QueryBuilder` scalar query in this process's dialect.
pub fn build_scalar<O>(qb: &mut QueryBuilder<Any>) -> QueryScalar<'static, Any, O, AnyArguments>
where
    (O,): for<'r> FromRow<'r, AnyRow>,
{
    let sql = text(qb.sql());
    let mut built = qb.build();
    sqlx::query_scalar_with(sql, arguments(&mut built))
}

/// A built `QueryBuilder` query's arguments. The builder hands them over as `Ok` (encoding
/// errors surface when the query runs), so there is no error to lose here.
fn arguments(built: &mut Query<'_, Any, AnyArguments>) -> AnyArguments {
    match built.take_arguments() {
        Ok(arguments) => arguments.unwrap_or_default(),
        Err(_) => unreachable!("QueryBuilder::build wraps its arguments in Ok"),
    }
}

/// The substring test's function, `instr(` on SQLite and `strpos(` on PostgreSQL: both take
/// (haystack, needle) and answer 0 when it is not there.
pub fn instr() -> &'static str {
    match dialect() {
        Dialect::Sqlite => "instr(",
        Dialect::Postgres => "strpos(",
    }
}

/// A text field of a JSON text column: `path` is the keys from the top, e.g. `["undo", "kind"]`.
pub fn json_text(column: &str, path: &[&str]) -> String {
    match dialect() {
        Dialect::Sqlite => format!("json_extract({column}, '$.{}')", path.join(".")),
        Dialect::Postgres => format!("({column}::json #>> '{{{}}}')", path.join(",")),
    }
}

/// The length of a JSON array field of a JSON text column (NULL when it is not there).
pub fn json_array_length(column: &str, field: &str) -> String {
    match dialect() {
        Dialect::Sqlite => format!("json_array_length({column}, '$.{field}')"),
        Dialect::Postgres => format!("json_array_length({column}::json -> '{field}')"),
    }
}

/// `?, ?, …` for `n` values, for an `IN (…)` list bound one value each.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// A yes/no column. Both databases store flags as the integers 0 and 1 (so the same SQL, such
/// as `disabled = 0`, reads them on both), and `Any` decodes an integer only as a number.
/// A computed condition (`x IS NOT NULL AS flag`) is a BOOLEAN on PostgreSQL; that reads too.
pub fn flag(row: &AnyRow, column: &str) -> sqlx::Result<bool> {
    use sqlx::Row;
    match row.try_get::<i64, _>(column) {
        Ok(n) => Ok(n != 0),
        Err(sqlx::Error::ColumnDecode { .. }) => row.try_get::<bool, _>(column),
        Err(e) => Err(e),
    }
}

/// `sql` with each `?` placeholder outside quotes and comments numbered `$1`, `$2`, …
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // A quoted string or identifier; a doubled quote is an escaped one and just
                // closes and reopens, which this loop handles the same way.
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            // `?NNN` names its argument; a bare `?` is the next one.
            '?' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes_and_comments() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(
            numbered("SELECT '?', \"q?\" -- why?\n FROM t WHERE x = ? AND y = 'it''s ?'"),
            "SELECT '?', \"q?\" -- why?\n FROM t WHERE x = $1 AND y = 'it''s ?'"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
        assert_eq!(
            numbered("UPDATE t SET a = ?2 WHERE b = ?1 OR c = ?2"),
            "UPDATE t SET a = $2 WHERE b = $1 OR c = $2"
        );
    }
}
