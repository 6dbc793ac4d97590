//! Hand-written SQL whose prepared statement is kept.
//!
//! `diesel::sql_query` marks itself unsafe to cache, so SQLite parsed and planned the booking,
//! aggregate and report statements again on every use (tens of microseconds each, inside the
//! write lock for the booking ones). The text here is `'static` and its placeholders are
//! re-emitted through diesel's own bind mechanism, so diesel keys the cached statement by the
//! SQL it wrote and the bind types.
//!
//! Write placeholders as `$1`, `$2`, … (numbered in bind order; a number may repeat). Keep `$`
//! out of literals.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text, Timestamp, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// Starts a cached statement: `sql::query("… $1 …").bind::<BigInt, _>(x)`.
pub fn query(sql: &'static str) -> Sql<NoBinds> {
    Sql {
        sql: split_once(sql),
        binds: NoBinds,
    }
}

/// A statement's text cut at its placeholders: each piece of SQL with the bind number that
/// follows it, then the rest. Diesel walks a statement three times on every execution (is it
/// cacheable, its cache key, its binds); scanning and parsing the text on each walk was 9% of
/// the server's time while it confirmed and shipped orders, so each text is cut once.
#[derive(Debug)]
struct Split {
    pieces: Box<[(&'static str, usize)]>,
    tail: &'static str,
}

fn split(sql: &'static str) -> Split {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut from) = (0, 0);
    while let Some(off) = sql[from..].find('$') {
        let at = from + off;
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            // A lone `$` stays in the text.
            from = at + 1;
            continue;
        }
        // A number too large for usize binds nothing: walking it is an error, as for `$0`.
        let n = sql[at + 1..at + 1 + digits].parse().unwrap_or(0);
        pieces.push((&sql[start..at], n));
        start = at + 1 + digits;
        from = start;
    }
    Split {
        pieces: pieces.into_boxed_slice(),
        tail: &sql[start..],
    }
}

/// The [`Split`] of a `'static` text, made on its first use. Bounded by the program's
/// statement texts: literals, and the few [`batch`] keeps per statement.
fn split_once(sql: &'static str) -> &'static Split {
    use std::collections::HashMap;
    use std::sync::{OnceLock, RwLock};
    type Splits = RwLock<HashMap<(usize, usize), &'static Split>>;
    static SPLITS: OnceLock<Splits> = OnceLock::new();
    let key = (sql.as_ptr() as usize, sql.len());
    let splits = SPLITS.get_or_init(Default::default);
    if let Some(s) = splits.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return s;
    }
    let mut guard = splits.write().unwrap_or_else(|e| e.into_inner());
    guard
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(split(sql))))
}

/// A statement and its bound values, in order.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is executed or loaded"]
pub struct Sql<B> {
    sql: &'static Split,
    binds: B,
}

/// The empty end of a bind list.
#[derive(Debug, Clone, Copy)]
pub struct NoBinds;

/// One bound value on top of the earlier ones.
#[derive(Debug, Clone)]
pub struct Bind<Prev, V, ST> {
    prev: Prev,
    value: V,
    _st: PhantomData<ST>,
}

impl<B: BindList> Sql<B> {
    /// Binds the next placeholder (`$n` with n = binds so far + 1).
    pub fn bind<ST, V>(self, value: V) -> Sql<Bind<B, V, ST>> {
        Sql {
            sql: self.sql,
            binds: Bind {
                prev: self.binds,
                value,
                _st: PhantomData,
            },
        }
    }
}

/// A bind list that can emit its `n`th value (1-based) as a placeholder.
pub trait BindList {
    const LEN: usize;
}

impl BindList for NoBinds {
    const LEN: usize = 0;
}

impl<Prev: BindList, V, ST> BindList for Bind<Prev, V, ST> {
    const LEN: usize = Prev::LEN + 1;
}

/// Walks the `n`th bind of a list for one backend.
pub trait PushBind<DB: Backend>: BindList {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

impl<DB: Backend> PushBind<DB> for NoBinds {
    fn push<'b>(&'b self, n: usize, _out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(
            format!("placeholder ${n} has no bound value").into(),
        ))
    }
}

impl<DB, Prev, V, ST> PushBind<DB> for Bind<Prev, V, ST>
where
    DB: Backend + HasSqlType<ST>,
    Prev: PushBind<DB>,
    V: ToSql<ST, DB>,
{
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if n == Self::LEN {
            out.push_bind_param::<ST, V>(&self.value)
        } else {
            self.prev.push(n, out)
        }
    }
}

/// A value of a statement whose length follows its input (one group of placeholders per line
/// of a batch): see [`batch`].
#[derive(Debug, Clone)]
pub enum Val {
    Int(i64),
    NullInt(Option<i64>),
    Text(String),
    NullText(Option<String>),
    Time(chrono::NaiveDateTime),
}

/// The bound values of a [`batch`] statement, `$1` first.
#[derive(Debug, Clone, Default)]
pub struct Vals(pub Vec<Val>);

impl Vals {
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.0.push(Val::Int(v));
        self
    }

    pub fn time(&mut self, v: chrono::NaiveDateTime) -> &mut Self {
        self.0.push(Val::Time(v));
        self
    }

    pub fn null_int(&mut self, v: Option<i64>) -> &mut Self {
        self.0.push(Val::NullInt(v));
        self
    }

    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.0.push(Val::Text(v.into()));
        self
    }

    pub fn null_text(&mut self, v: Option<String>) -> &mut Self {
        self.0.push(Val::NullText(v));
        self
    }
}

impl BindList for Vals {
    const LEN: usize = 0;
}

impl<DB> PushBind<DB> for Vals
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Timestamp> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        match n.checked_sub(1).and_then(|i| self.0.get(i)) {
            Some(Val::Int(v)) => out.push_bind_param::<BigInt, i64>(v),
            Some(Val::NullInt(v)) => out.push_bind_param::<Nullable<BigInt>, Option<i64>>(v),
            Some(Val::Text(v)) => out.push_bind_param::<Text, String>(v),
            Some(Val::NullText(v)) => out.push_bind_param::<Nullable<Text>, Option<String>>(v),
            Some(Val::Time(v)) => out.push_bind_param::<Timestamp, chrono::NaiveDateTime>(v),
            None => Err(diesel::result::Error::QueryBuilderError(
                format!("placeholder ${n} has no bound value").into(),
            )),
        }
    }
}

/// Lines a batch statement is written for at most, besides [`BULK_BATCH`]; longer batches go
/// in chunks (see [`chunks`]), so the texts kept below stay a handful per statement.
pub const MAX_BATCH: usize = 16;

/// The one larger size a batch statement is also written for, for the bulk paths (a seed of
/// a large catalogue, a receipt of hundreds of lines): one round trip for 128 lines instead of
/// eight, which is what brings a PostgreSQL seed from hours to seconds.
pub const BULK_BATCH: usize = 128;

/// `items` in the chunk sizes [`batch`] keeps texts for: as many [`BULK_BATCH`]es as fit,
/// then the rest [`MAX_BATCH`] at a time.
pub fn chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let bulk = items.len() / BULK_BATCH * BULK_BATCH;
    let (big, rest) = items.split_at(bulk);
    big.chunks(BULK_BATCH).chain(rest.chunks(MAX_BATCH))
}

/// A statement written for `n` lines (`1..=MAX_BATCH` or `BULK_BATCH`) by `write`, kept for the life of the
/// process under `name` so diesel keeps its prepared statement like any other: a three-line
/// shipment then costs one prepared statement per table, not three.
pub fn batch(
    name: &'static str,
    n: usize,
    write: impl FnOnce(usize) -> String,
    vals: Vals,
) -> QueryResult<Sql<Vals>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TEXTS: OnceLock<Mutex<HashMap<(&'static str, usize), &'static Split>>> = OnceLock::new();
    if n == 0 || (n > MAX_BATCH && n != BULK_BATCH) {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("a batch of {n} lines; chunk batches with sql::chunks").into(),
        ));
    }
    let texts = TEXTS.get_or_init(Default::default);
    let mut guard = texts.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: at most MAX_BATCH + 1 texts per statement name, each made once.
    let sql: &'static Split = guard
        .entry((name, n))
        .or_insert_with(|| Box::leak(Box::new(split(Box::leak(write(n).into_boxed_str())))));
    Ok(Sql { sql, binds: vals })
}

/// `CASE <key> WHEN $k THEN $v … END` over `n` lines whose placeholders start at `first` and
/// repeat every `stride`, the key at offset `key` and the value at `value`; just `$v` for one
/// line.
pub fn case(
    key_col: &str,
    n: usize,
    first: usize,
    stride: usize,
    key: usize,
    value: usize,
) -> String {
    if n == 1 {
        return format!("${}", first + value);
    }
    let mut s = format!("CASE {key_col}");
    for i in 0..n {
        let base = first + i * stride;
        s.push_str(&format!(" WHEN ${} THEN ${}", base + key, base + value));
    }
    s.push_str(" END");
    s
}

/// `(…), (…)`: `n` rows of a multi-row `VALUES`, each written by `row(first placeholder of the
/// line)` for lines whose placeholders start at `first` and repeat every `stride`.
pub fn rows(n: usize, first: usize, stride: usize, row: impl Fn(usize) -> String) -> String {
    (0..n)
        .map(|i| format!("({})", row(first + i * stride)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$k1, $k2, …`: the keys of `n` lines, as in [`case`].
pub fn keys(n: usize, first: usize, stride: usize, key: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i * stride + key))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<DB, B> QueryFragment<DB> for Sql<B>
where
    DB: Backend,
    B: PushBind<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (sql, n) in self.sql.pieces.iter() {
            out.push_sql(sql);
            self.binds.push(*n, &mut out)?;
        }
        out.push_sql(self.sql.tail);
        Ok(())
    }
}

impl<B> QueryId for Sql<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for Sql<B> {
    type SqlType = Untyped;
}

impl<B, Conn> RunQueryDsl<Conn> for Sql<B> {}

#[cfg(test)]
mod tests {
    use diesel::debug_query;
    use diesel::sql_types::{BigInt, Text};
    use diesel::sqlite::Sqlite;

    #[test]
    fn placeholders_follow_bind_numbers_including_repeats() {
        let q = super::query("SELECT $2 || $1, $2 AS x")
            .bind::<BigInt, _>(7_i64)
            .bind::<Text, _>("a");
        let s = debug_query::<Sqlite, _>(&q).to_string();
        assert!(s.starts_with("SELECT ? || ?, ? AS x"), "{s}");
        assert!(s.contains("[\"a\", 7, \"a\"]"), "{s}");
    }

    #[test]
    fn a_lone_dollar_stays_and_an_oversized_number_is_an_error() {
        let q = super::query("SELECT '$' || $1, '$x'").bind::<BigInt, _>(7_i64);
        let s = debug_query::<Sqlite, _>(&q).to_string();
        assert!(s.starts_with("SELECT '$' || ?, '$x'"), "{s}");
        let q = super::query("SELECT $99999999999999999999999").bind::<BigInt, _>(1_i64);
        let r = diesel::query_builder::QueryFragment::<Sqlite>::to_sql(
            &q,
            &mut <Sqlite as diesel::backend::Backend>::QueryBuilder::default(),
            &Sqlite,
        );
        assert!(r.is_err());
    }

    #[test]
    fn a_missing_bind_is_an_error_not_a_panic() {
        let q = super::query("SELECT $2").bind::<BigInt, _>(1_i64);
        let mut s = String::new();
        let r = diesel::query_builder::QueryFragment::<Sqlite>::to_sql(
            &q,
            &mut <Sqlite as diesel::backend::Backend>::QueryBuilder::default(),
            &Sqlite,
        );
        s.push_str(&format!("{r:?}"));
        assert!(r.is_err(), "{s}");
    }

    #[test]
    fn batch_statements_repeat_placeholders_per_line_and_refuse_bad_sizes() {
        assert_eq!(super::case("k", 1, 3, 2, 0, 1), "$4");
        assert_eq!(
            super::case("k", 2, 3, 2, 0, 1),
            "CASE k WHEN $3 THEN $4 WHEN $5 THEN $6 END"
        );
        assert_eq!(super::keys(3, 2, 2, 0), "$2, $4, $6");
        let write = |n: usize| format!("SELECT {}", super::keys(n, 1, 1, 0));
        let mut vals = super::Vals::default();
        vals.int(7).int(8);
        let q = super::batch("test.select", 2, write, vals.clone()).unwrap();
        let s = debug_query::<Sqlite, _>(&q).to_string();
        assert!(s.starts_with("SELECT ?, ?"), "{s}");
        assert!(s.contains("[7, 8]"), "{s}");
        assert!(super::batch("test.select", 0, write, vals.clone()).is_err());
        assert!(super::batch("test.select", super::MAX_BATCH + 1, write, vals).is_err());
    }
}
