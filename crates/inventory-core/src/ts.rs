//! Timestamps read from SQLite and written to JSON without chrono's format machinery.
//!
//! SQLite keeps a timestamp as text (`2026-11-23 01:38:38.179011`). diesel reads it with
//! `NaiveDateTime::parse_from_str`, which interprets the format string on every call, and
//! `to_rfc3339_opts` does the same on the way out: with two to three timestamps per row this
//! was about a tenth of a product page's CPU. The fixed layouts are read and written by hand
//! here; anything else falls back to chrono, so nothing that parsed before stops parsing.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;

/// A `Timestamp` column read with the fast parser; models keep plain `NaiveDateTime` fields
/// and name this in `#[diesel(deserialize_as = SqlTs)]`.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct SqlTs(pub NaiveDateTime);

/// The same for a `Nullable<Timestamp>` column.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct SqlTsOpt(pub Option<NaiveDateTime>);

impl From<SqlTs> for NaiveDateTime {
    fn from(t: SqlTs) -> Self {
        t.0
    }
}

impl From<SqlTsOpt> for Option<NaiveDateTime> {
    fn from(t: SqlTsOpt) -> Self {
        t.0
    }
}

impl FromSql<Timestamp, Sqlite> for SqlTs {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(t) = parse_sqlite(value.read_text()) {
            return Ok(SqlTs(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(SqlTs)
    }
}

impl FromSql<Timestamp, Pg> for SqlTs {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(SqlTs)
    }
}

impl FromSql<Timestamp, MultiBackend> for SqlTs {
    fn from_sql(value: crate::db::MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB> FromSql<Nullable<Timestamp>, DB> for SqlTsOpt
where
    DB: diesel::backend::Backend,
    SqlTs: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(SqlTsOpt(Some(SqlTs::from_sql(value)?.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(SqlTsOpt(None)),
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 fraction digits, as diesel writes it.
fn parse_sqlite(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - u32::try_from(frac.len()).ok()?)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )?;
    Some(NaiveDateTime::new(date, time))
}

fn push_num(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        let d = (n / 10u32.pow(i)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

/// RFC 3339 in UTC with as many fraction digits as needed (none, 3, 6 or 9): exactly what
/// `to_rfc3339_opts(SecondsFormat::AutoSi, true)` writes, which years outside 0–9999 and
/// leap seconds still go through.
pub fn fmt_ts(t: &NaiveDateTime) -> String {
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    }
    let mut s = String::with_capacity(30);
    push_num(&mut s, year.unsigned_abs(), 4);
    s.push('-');
    push_num(&mut s, t.month(), 2);
    s.push('-');
    push_num(&mut s, t.day(), 2);
    s.push('T');
    push_num(&mut s, t.hour(), 2);
    s.push(':');
    push_num(&mut s, t.minute(), 2);
    s.push(':');
    push_num(&mut s, t.second(), 2);
    if nanos != 0 {
        s.push('.');
        if nanos.is_multiple_of(1_000_000) {
            push_num(&mut s, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_num(&mut s, nanos / 1_000, 6);
        } else {
            push_num(&mut s, nanos, 9);
        }
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_fmt(t: &NaiveDateTime) -> String {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    #[test]
    fn formatting_matches_chrono() {
        let base = NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
        for (y, nanos) in [
            (2026, 0),
            (2026, 5_000_000),
            (2026, 179_011_000),
            (2026, 179_011_123),
            (999, 1_000),
            (10000, 0),
            (2026, 1_500_000_000),
        ] {
            let d = base.with_year(y).unwrap();
            let t = NaiveDateTime::new(d, NaiveTime::from_hms_nano_opt(7, 4, 59, nanos).unwrap());
            assert_eq!(fmt_ts(&t), chrono_fmt(&t), "{t:?}");
        }
    }

    #[test]
    fn parsing_matches_chrono_and_refuses_what_it_does_not_know() {
        for s in [
            "2026-11-23 01:38:38.179011",
            "2026-11-23 01:38:38",
            "2026-02-28 23:59:59.5",
            "2026-02-28 23:59:59.123456789",
        ] {
            let want = NaiveDateTime::parse_from_str(s, "%F %T%.f").unwrap();
            assert_eq!(parse_sqlite(s), Some(want), "{s}");
        }
        for s in [
            "2026-02-30 00:00:00",
            "2026-11-23T01:38:38",
            "2026-11-23 01:38:38+01:00",
            "2026-11-23 24:00:00",
            "2026-11-23 01:38:38.",
            "2026-11-23 01:38:38.1234567890",
            "2026-1x-23 01:38:38",
            "",
        ] {
            assert_eq!(parse_sqlite(s), None, "{s}");
        }
    }
}
