//! Products: the catalog's centre. Quantities change only through the stock ledger.
//!
//! This file reads (lists, filters, deep pages, one product); `write.rs` holds the one write
//! path every creator of products goes through (the API, the staff site, the CSV import and
//! `seed`).

mod input;
mod keyset;
mod write;

pub use input::ProductInput;
pub use write::{create, delete, insert_many, update, NewProduct, ProductChanges, Writes};

use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::Ctx;
use crate::context::Core;
use crate::cursor::{ordering_name, CursorPage, CursorReq};
use crate::db::{DbConn, MultiBackend};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{Product, ProductView};
use crate::paging::{parse_ordering, PageReq, Paged};
use crate::positions::MARK_EVERY;
use crate::schema::{product_suppliers, products, stock_levels};
use crate::services::links::links_for;
use crate::services::{contains_pattern, lower, lower_nullable};
use crate::types::{Money, Role};
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    pub category: Option<i64>,
    pub supplier: Option<i64>,
    pub location: Option<i64>,
    pub owner: Option<i64>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub low_stock: Option<bool>,
    pub low_stock_threshold: Option<i64>,
    pub search: Option<String>,
    pub include_deleted: Option<bool>,
    pub ordering: Option<String>,
}

pub const ORDERING: [&str; 6] = [
    "name",
    "sku",
    "price",
    "quantity",
    "created_at",
    "updated_at",
];

/// Filters checked once, so the count and the page query agree.
struct ValidFilter {
    f: ProductFilter,
    min_price: Option<i64>,
    max_price: Option<i64>,
    include_deleted: bool,
}

fn validate_filter(ctx: &Ctx, f: &ProductFilter) -> CoreResult<ValidFilter> {
    let mut errs = Errors::default();
    let min_price = f
        .min_price
        .as_deref()
        .and_then(|p| errs.take("min_price", Money::parse_str(p.trim()).map(|m| m.0)));
    let max_price = f
        .max_price
        .as_deref()
        .and_then(|p| errs.take("max_price", Money::parse_str(p.trim()).map(|m| m.0)));
    if f.low_stock_threshold.is_some_and(|n| n < 0) {
        errs.add(
            "low_stock_threshold",
            "Ensure this value is greater than or equal to 0.",
        );
    }
    errs.finish()?;
    let may_see_deleted = ctx
        .principal
        .as_ref()
        .is_some_and(|p| p.is_superuser || matches!(p.role, Role::Admin | Role::Auditor));
    Ok(ValidFilter {
        f: f.clone(),
        min_price,
        max_price,
        include_deleted: f.include_deleted == Some(true) && may_see_deleted,
    })
}

fn filtered(v: &ValidFilter) -> products::BoxedQuery<'_, MultiBackend> {
    let f = &v.f;
    let mut q = products::table.into_boxed::<MultiBackend>();
    if !v.include_deleted {
        q = q.filter(products::deleted_at.is_null());
    }
    if let Some(c) = f.category {
        q = q.filter(products::category_id.eq(c));
    }
    if let Some(s) = f.supplier {
        q = q.filter(
            products::id.eq_any(
                product_suppliers::table
                    .filter(product_suppliers::supplier_id.eq(s))
                    .select(product_suppliers::product_id),
            ),
        );
    }
    if let Some(l) = f.location {
        q = q.filter(
            products::id.eq_any(
                stock_levels::table
                    .filter(stock_levels::location_id.eq(l))
                    .filter(stock_levels::quantity.gt(0))
                    .select(stock_levels::product_id),
            ),
        );
    }
    if let Some(o) = f.owner {
        q = q.filter(products::created_by.eq(o));
    }
    if let Some(p) = v.min_price {
        q = q.filter(products::price_cents.ge(p));
    }
    if let Some(p) = v.max_price {
        q = q.filter(products::price_cents.le(p));
    }
    if f.low_stock == Some(true) {
        q = q.filter(products::quantity.le(products::reorder_level));
    } else if f.low_stock == Some(false) {
        q = q.filter(products::quantity.gt(products::reorder_level));
    }
    if let Some(n) = f.low_stock_threshold {
        q = q.filter(products::quantity.lt(n));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let p = contains_pattern(s);
        q = q.filter(
            lower(products::name)
                .like(p.clone())
                .escape('\\')
                .or(lower(products::sku).like(p.clone()).escape('\\'))
                .or(lower_nullable(products::barcode).like(p).escape('\\')),
        );
    }
    q
}

pub(crate) fn with_links(conn: &mut DbConn, rows: Vec<Product>) -> CoreResult<Vec<ProductView>> {
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut links = links_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|product| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                links.drain(..).partition(|l| l.product_id == product.id);
            links = rest;
            ProductView {
                available: product.quantity - product.reserved,
                reserved: product.reserved,
                product,
                suppliers: mine,
            }
        })
        .collect())
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
    page: PageReq,
) -> CoreResult<Paged<ProductView>> {
    let (v, ordering) = checked_filter(core, ctx, f)?;
    core.db.read(|c| {
        let rows = page_rows(c, core, &v, &ordering, page)?;
        Ok(Paged {
            count: rows.count,
            results: with_links(c, rows.results)?,
        })
    })
}

/// One page of product rows (no supplier summaries), with every filter and ordering.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_rows(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
    page: PageReq,
) -> CoreResult<Paged<Product>> {
    let (v, ordering) = checked_filter(core, ctx, f)?;
    core.db.read(|c| page_rows(c, core, &v, &ordering, page))
}

/// What every product listing starts with: the read permission, the checked filter and the
/// parsed ordering.
fn checked_filter(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
) -> CoreResult<(ValidFilter, Vec<(String, bool)>)> {
    ctx.read_catalog(core.config.public_read)?;
    let ordering = parse_ordering(f.ordering.as_deref(), &ORDERING)?;
    Ok((validate_filter(ctx, f)?, ordering))
}

fn page_rows(
    c: &mut DbConn,
    core: &Core,
    v: &ValidFilter,
    ordering: &[(String, bool)],
    page: PageReq,
) -> CoreResult<Paged<Product>> {
    let count: i64 = match kept_count(c, v)? {
        Some(n) => n,
        None => filtered(v).count().get_result(c)?,
    };
    page.check_in_range(count)?;
    let q = ordered(filtered(v), ordering, |desc| desc);
    let plain = ordering.is_empty() && is_unfiltered(v);
    let rows: Vec<Product> = if plain && page.offset() >= MARK_EVERY {
        let marks = core.positions.marks(c)?;
        let k = page.offset() / MARK_EVERY;
        match marks.get(usize::try_from(k).unwrap_or(usize::MAX)) {
            Some(from) => products::table
                .filter(products::deleted_at.is_null())
                .filter(products::id.ge(*from))
                .order(products::id)
                .limit(page.page_size)
                .offset(page.offset() - k * MARK_EVERY)
                .load(c)?,
            None => vec![],
        }
    } else if page.offset() >= DEFERRED_JOIN_FROM {
        // Deep pages: walk just the ids (an index-only scan), then fetch the page's rows.
        let ids: Vec<i64> = q
            .select(products::id)
            .limit(page.page_size)
            .offset(page.offset())
            .load(c)?;
        let mut rows: Vec<Product> = products::table.filter(products::id.eq_any(&ids)).load(c)?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        rows
    } else {
        q.limit(page.page_size).offset(page.offset()).load(c)?
    };
    Ok(Paged {
        count,
        results: rows,
    })
}

/// The query in the list's ordering, each key read in the direction `dir` gives for its own
/// (a backward cursor walk reads them all the other way). Ties end with id, in the direction
/// of the last key, so an index on (key, id) serves the whole ordering without a sort.
fn ordered<'a>(
    mut q: products::BoxedQuery<'a, MultiBackend>,
    ordering: &[(String, bool)],
    dir: impl Fn(bool) -> bool,
) -> products::BoxedQuery<'a, MultiBackend> {
    for (field, desc) in ordering {
        q = match (field.as_str(), dir(*desc)) {
            ("name", false) => q.then_order_by(products::name.asc()),
            ("name", true) => q.then_order_by(products::name.desc()),
            ("sku", false) => q.then_order_by(products::sku.asc()),
            ("sku", true) => q.then_order_by(products::sku.desc()),
            ("price", false) => q.then_order_by(products::price_cents.asc()),
            ("price", true) => q.then_order_by(products::price_cents.desc()),
            ("quantity", false) => q.then_order_by(products::quantity.asc()),
            ("quantity", true) => q.then_order_by(products::quantity.desc()),
            ("created_at", false) => q.then_order_by(products::created_at.asc()),
            ("created_at", true) => q.then_order_by(products::created_at.desc()),
            (_, false) => q.then_order_by(products::updated_at.asc()),
            (_, true) => q.then_order_by(products::updated_at.desc()),
        };
    }
    if dir(ordering.last().is_some_and(|(_, desc)| *desc)) {
        q.then_order_by(products::id.desc())
    } else {
        q.then_order_by(products::id.asc())
    }
}

/// `GET /api/products?cursor=`: the list's filters and ordering, walked by position.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_by_cursor(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
    cursor: &CursorReq,
) -> CoreResult<CursorPage<ProductView>> {
    let (v, ordering) = checked_filter(core, ctx, f)?;
    let name = ordering_name(&ordering);
    cursor.check(&name, ordering.len())?;
    core.db.read(|c| {
        let mut q = filtered(&v);
        if let Some(cond) = keyset::after(cursor, &ordering)? {
            q = q.filter(cond);
        }
        let rows: Vec<Product> = ordered(q, &ordering, |desc| cursor.read_desc(desc))
            .limit(cursor.limit())
            .load(c)?;
        let page = cursor.finish(&name, rows, |p| {
            (
                ordering.iter().map(|(f, _)| keyset::key_of(f, p)).collect(),
                p.id,
            )
        });
        Ok(CursorPage {
            results: with_links(c, page.results)?,
            next: page.next,
            previous: page.previous,
        })
    })
}

/// From this offset on, a page is read ids-first (see `list_rows`).
const DEFERRED_JOIN_FROM: i64 = 1000;

/// No filter at all (the deleted are hidden, as always).
fn is_unfiltered(v: &ValidFilter) -> bool {
    let f = &v.f;
    f.category.is_none()
        && f.supplier.is_none()
        && f.location.is_none()
        && f.owner.is_none()
        && v.min_price.is_none()
        && v.max_price.is_none()
        && f.low_stock.is_none()
        && f.low_stock_threshold.is_none()
        && f.search.as_deref().is_none_or(|s| s.trim().is_empty())
        && !v.include_deleted
}

/// The count from the kept aggregates when the filter is one they answer: none at all,
/// `low_stock=true` alone, or `category` alone.
fn kept_count(conn: &mut DbConn, v: &ValidFilter) -> CoreResult<Option<i64>> {
    let f = &v.f;
    let others = f.supplier.is_some()
        || f.location.is_some()
        || f.owner.is_some()
        || v.min_price.is_some()
        || v.max_price.is_some()
        || f.low_stock_threshold.is_some()
        || f.low_stock == Some(false)
        || f.search.as_deref().is_some_and(|s| !s.trim().is_empty())
        || v.include_deleted;
    if others || (f.category.is_some() && f.low_stock.is_some()) {
        return Ok(None);
    }
    let sql = match (f.category, f.low_stock) {
        (Some(cat), None) => {
            let row: CountRow = crate::sql::query(
                "SELECT CAST(COALESCE(SUM(products), 0) AS BIGINT) AS n FROM category_stats \
                 WHERE category_key = $1",
            )
            .bind::<diesel::sql_types::BigInt, _>(cat)
            .get_result(conn)?;
            return Ok(Some(row.n));
        }
        (None, Some(true)) => {
            "SELECT CAST(COALESCE(SUM(low_stock), 0) AS BIGINT) AS n FROM category_stats"
        }
        (None, None) => {
            "SELECT CAST(COALESCE(SUM(products), 0) AS BIGINT) AS n FROM category_stats"
        }
        _ => return Ok(None),
    };
    let row: CountRow = crate::sql::query(sql).get_result(conn)?;
    Ok(Some(row.n))
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn load(conn: &mut DbConn, ctx: &Ctx, id: i64, include_deleted: bool) -> CoreResult<Product> {
    let p: Product = products::table.find(id).first(conn)?;
    if p.deleted_at.is_some() {
        let may = include_deleted
            && ctx
                .principal
                .as_ref()
                .is_some_and(|p| p.is_superuser || matches!(p.role, Role::Admin | Role::Auditor));
        if !may {
            return Err(CoreError::NotFound);
        }
    }
    Ok(p)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64, include_deleted: bool) -> CoreResult<ProductView> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let p = load(c, ctx, id, include_deleted)?;
        Ok(with_links(c, vec![p])?.remove(0))
    })
}
