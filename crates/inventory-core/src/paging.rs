//! Page requests and ordering parsed from query strings, shared by every list.

use diesel::dsl::{CountStar, Limit, Offset, Select};
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, SelectDsl};
use diesel::query_dsl::LoadQuery;
use diesel::RunQueryDsl;

use crate::db::DbConn;
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    pub page: i64,
    pub page_size: i64,
}

impl PageReq {
    pub const DEFAULT_SIZE: i64 = 20;
    pub const MAX_SIZE: i64 = 100;

    pub fn new(page: Option<i64>, page_size: Option<i64>) -> CoreResult<PageReq> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(Self::DEFAULT_SIZE);
        if page < 1 {
            return Err(CoreError::validation(
                "page",
                "Ensure this value is greater than or equal to 1.",
            ));
        }
        if !(1..=Self::MAX_SIZE).contains(&page_size) {
            return Err(CoreError::validation(
                "page_size",
                format!("Ensure this value is between 1 and {}.", Self::MAX_SIZE),
            ));
        }
        Ok(PageReq { page, page_size })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// The one way a list reads a page: the total of what `filtered` matches, the range check,
    /// then this page of it in the list's `order`. Counting the unordered query matters on
    /// PostgreSQL, which refuses `COUNT(*)` beside an `ORDER BY` column.
    pub fn load<Q, O, T>(
        &self,
        conn: &mut DbConn,
        filtered: impl Fn() -> Q,
        order: impl FnOnce(Q) -> O,
    ) -> CoreResult<Paged<T>>
    where
        Q: SelectDsl<CountStar>,
        Select<Q, CountStar>: RunQueryDsl<DbConn> + for<'a> LoadQuery<'a, DbConn, i64>,
        O: LimitDsl,
        Limit<O>: OffsetDsl,
        Offset<Limit<O>>: RunQueryDsl<DbConn> + for<'a> LoadQuery<'a, DbConn, T>,
    {
        let count: i64 =
            SelectDsl::select(filtered(), diesel::dsl::count_star()).get_result(conn)?;
        self.check_in_range(count)?;
        let results = OffsetDsl::offset(
            LimitDsl::limit(order(filtered()), self.page_size),
            self.offset(),
        )
        .load(conn)?;
        Ok(Paged { count, results })
    }

    /// This page of a list that is small by nature and already in memory (an object's links,
    /// the reorder suggestions), by the same rules as [`PageReq::load`].
    pub fn slice<T>(&self, all: Vec<T>) -> CoreResult<Paged<T>> {
        let count = i64::try_from(all.len()).unwrap_or(i64::MAX);
        self.check_in_range(count)?;
        let results = all
            .into_iter()
            .skip(usize::try_from(self.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(self.page_size).unwrap_or(0))
            .collect();
        Ok(Paged { count, results })
    }

    /// A page past the end is a 404, as in DRF; page 1 of an empty list is not.
    pub fn check_in_range(&self, count: i64) -> CoreResult<()> {
        if self.page > 1 && self.offset() >= count {
            Err(CoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

impl Default for PageReq {
    fn default() -> Self {
        PageReq {
            page: 1,
            page_size: Self::DEFAULT_SIZE,
        }
    }
}

/// One page of results and the total count.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub count: i64,
    pub results: Vec<T>,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            count: self.count,
            results: self.results.into_iter().map(f).collect(),
        }
    }
}

/// `?ordering=-price,name` → `[("price", true), ("name", false)]`, each field checked against
/// the list's allowed names.
pub fn parse_ordering(raw: Option<&str>, allowed: &[&str]) -> CoreResult<Vec<(String, bool)>> {
    let Some(raw) = raw else { return Ok(vec![]) };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, desc) = match part.strip_prefix('-') {
            Some(n) => (n, true),
            None => (part, false),
        };
        if !allowed.contains(&name) {
            return Err(CoreError::validation(
                "ordering",
                format!(
                    "Cannot order by \"{name}\"; allowed: {}.",
                    allowed.join(", ")
                ),
            ));
        }
        out.push((name.to_owned(), desc));
    }
    Ok(out)
}
