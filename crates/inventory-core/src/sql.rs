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
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// Starts a cached statement: `sql::query("… $1 …").bind::<BigInt, _>(x)`.
pub fn query(sql: &'static str) -> Sql<NoBinds> {
    Sql {
        sql,
        binds: NoBinds,
    }
}

/// A statement and its bound values, in order.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is executed or loaded"]
pub struct Sql<B> {
    sql: &'static str,
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

impl<DB, B> QueryFragment<DB> for Sql<B>
where
    DB: Backend,
    B: PushBind<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql;
        while let Some(i) = rest.find('$') {
            out.push_sql(&rest[..i]);
            let after = &rest[i + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                out.push_sql("$");
                rest = after;
                continue;
            }
            let n: usize = after[..digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError("bad placeholder number".into())
            })?;
            self.binds.push(n, &mut out)?;
            rest = &after[digits..];
        }
        out.push_sql(rest);
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
}
