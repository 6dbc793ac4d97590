//! Products: the catalog's centre. Quantities change only through the stock ledger.

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::db::{now, Core, DbConn, MultiBackend};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{Product, ProductView};
use crate::paging::{parse_ordering, PageReq, Paged};
use crate::schema::{categories, product_suppliers, products, stock_levels};
use crate::services::links::links_for;
use crate::services::stock::{self, Booking};
use crate::services::{alerts, stats};
use crate::services::{contains_pattern, lower, lower_nullable};
use crate::types::{
    bounded_text, double_option, parse_barcode, parse_quantity, parse_sku, required_text, Money,
    Role,
};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub barcode: Option<Option<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub category_id: Option<Option<i64>>,
    #[schema(value_type = Option<String>)]
    pub price: Option<serde_json::Value>,
    pub quantity: Option<i64>,
    /// Where an initial quantity is received (create only; default location otherwise).
    pub location_id: Option<i64>,
    pub reorder_level: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
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

fn with_links(conn: &mut DbConn, rows: Vec<Product>) -> CoreResult<Vec<ProductView>> {
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut links = links_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|product| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                links.drain(..).partition(|l| l.product_id == product.id);
            links = rest;
            ProductView {
                product,
                suppliers: mine,
            }
        })
        .collect())
}

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
    let mut q = filtered(v);
    for (field, desc) in ordering {
        q = match (field.as_str(), *desc) {
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
    // Ties end with id, in the direction of the last key, so an index on (key, id) serves
    // the whole ordering without a sort.
    let q = if ordering.last().is_some_and(|(_, desc)| *desc) {
        q.then_order_by(products::id.desc())
    } else {
        q.then_order_by(products::id.asc())
    };
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

/// Where every 1000th live product sits in id order, for the unfiltered list's deep pages:
/// a page at offset 50,000 starts from the nearest mark instead of stepping over 50,000 index
/// entries. Valid only for the live-set version it was built at (`stats::live_set_version`),
/// which every instance reads from the database, so it is never stale.
#[derive(Default)]
pub struct PositionCache {
    marks: std::sync::Mutex<Option<(i64, Vec<i64>)>>,
}

const MARK_EVERY: i64 = 1000;

impl PositionCache {
    fn marks(&self, conn: &mut DbConn) -> CoreResult<Vec<i64>> {
        let version = stats::live_set_version(conn)?;
        if let Ok(guard) = self.marks.lock() {
            if let Some((v, marks)) = guard.as_ref() {
                if *v == version {
                    return Ok(marks.clone());
                }
            }
        }
        let ids: Vec<i64> = products::table
            .filter(products::deleted_at.is_null())
            .select(products::id)
            .order(products::id)
            .load(conn)?;
        let marks: Vec<i64> = ids.iter().step_by(MARK_EVERY as usize).copied().collect();
        if let Ok(mut guard) = self.marks.lock() {
            *guard = Some((version, marks.clone()));
        }
        Ok(marks)
    }
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
    use crate::schema::category_stats;
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
            let n: Option<i64> = category_stats::table
                .find(cat)
                .select(category_stats::products)
                .first(conn)
                .optional()?;
            return Ok(Some(n.unwrap_or(0)));
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

pub fn get(core: &Core, ctx: &Ctx, id: i64, include_deleted: bool) -> CoreResult<ProductView> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let p = load(c, ctx, id, include_deleted)?;
        Ok(with_links(c, vec![p])?.remove(0))
    })
}

/// The checked fields of a product body; `None` means "not given".
struct Fields {
    sku: Option<String>,
    barcode: Option<Option<String>>,
    name: Option<String>,
    description: Option<String>,
    price: Option<i64>,
    quantity: Option<i64>,
    reorder_level: Option<i64>,
    reorder_quantity: Option<i64>,
    unit: Option<String>,
}

fn validate(input: &ProductInput, creating: bool) -> CoreResult<Fields> {
    let mut errs = Errors::default();
    let required = |errs: &mut Errors, field: &str, present: bool| {
        if creating && !present {
            errs.add(field, "This field is required.");
        }
    };
    required(&mut errs, "sku", input.sku.is_some());
    required(&mut errs, "name", input.name.is_some());
    required(&mut errs, "price", input.price.is_some());
    let sku = input
        .sku
        .as_deref()
        .and_then(|s| errs.take("sku", parse_sku(s)));
    let barcode = match &input.barcode {
        Some(Some(b)) if b.trim().is_empty() => Some(None),
        Some(Some(b)) => errs.take("barcode", parse_barcode(b)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let name = input
        .name
        .as_deref()
        .and_then(|s| errs.take("name", required_text(s, 200)));
    let description = input
        .description
        .as_deref()
        .and_then(|s| errs.take("description", bounded_text(s, 5000)));
    let price = input
        .price
        .as_ref()
        .and_then(|p| errs.take("price", Money::parse_json(p).map(|m| m.0)));
    let quantity = input
        .quantity
        .and_then(|q| errs.take("quantity", parse_quantity(q)));
    let reorder_level = input
        .reorder_level
        .and_then(|q| errs.take("reorder_level", parse_quantity(q)));
    let reorder_quantity = input
        .reorder_quantity
        .and_then(|q| errs.take("reorder_quantity", parse_quantity(q)));
    let unit = input
        .unit
        .as_deref()
        .and_then(|s| errs.take("unit", required_text(s, 20)));
    if !creating && input.location_id.is_some() {
        errs.add(
            "location_id",
            "Only used when creating; book stock with an adjustment instead.",
        );
    }
    errs.finish()?;
    Ok(Fields {
        sku,
        barcode,
        name,
        description,
        price,
        quantity,
        reorder_level,
        reorder_quantity,
        unit,
    })
}

fn check_category(conn: &mut DbConn, id: Option<i64>) -> CoreResult<()> {
    if let Some(id) = id {
        let found: Option<i64> = categories::table
            .find(id)
            .select(categories::id)
            .first(conn)
            .optional()?;
        if found.is_none() {
            return Err(CoreError::validation("category_id", "No such category."));
        }
    }
    Ok(())
}

fn product_changes(old: Option<&Product>, new: &Product) -> Changes {
    let mut ch = Changes::new();
    macro_rules! field {
        ($name:literal, $f:ident) => {
            match old {
                Some(o) => ch.diff($name, &o.$f, &new.$f),
                None => ch.set($name, &new.$f),
            }
        };
    }
    field!("sku", sku);
    field!("barcode", barcode);
    field!("name", name);
    field!("description", description);
    field!("category_id", category_id);
    match old {
        Some(o) => ch.diff(
            "price",
            &Money::format(o.price_cents),
            &Money::format(new.price_cents),
        ),
        None => ch.set("price", &Money::format(new.price_cents)),
    }
    field!("reorder_level", reorder_level);
    field!("reorder_quantity", reorder_quantity);
    field!("unit", unit);
    ch
}

fn entry<'a>(action: &'a str, p: &Product, ch: Changes) -> Entry<'a> {
    Entry {
        action,
        object_type: "product",
        object_id: p.id.to_string(),
        object_repr: format!("{} {}", p.sku, p.name),
        changes: ch.into_value(),
    }
}

pub fn create(core: &Core, ctx: &Ctx, input: ProductInput) -> CoreResult<ProductView> {
    let principal = ctx.create_catalog()?.clone();
    let v = validate(&input, true)?;
    let category_id = input.category_id.flatten();
    core.db.write(|c| {
        check_category(c, category_id)?;
        let location_id = match input.location_id {
            Some(l) => stock::active_location(c, l)?,
            None => stock::default_location(c)?,
        };
        let t = now();
        let row: Product = diesel::insert_into(products::table)
            .values((
                products::sku.eq(v.sku.clone().unwrap_or_default()),
                products::barcode.eq(v.barcode.clone().flatten()),
                products::name.eq(v.name.clone().unwrap_or_default()),
                products::description.eq(v.description.clone().unwrap_or_default()),
                products::category_id.eq(category_id),
                products::price_cents.eq(v.price.unwrap_or(0)),
                products::quantity.eq(0),
                products::reorder_level.eq(v.reorder_level.unwrap_or(0)),
                products::reorder_quantity.eq(v.reorder_quantity.unwrap_or(0)),
                products::unit.eq(v.unit.clone().unwrap_or_else(|| "pcs".into())),
                products::created_by.eq(principal.user_id),
                products::created_at.eq(t),
                products::updated_at.eq(t),
            ))
            .returning(products::all_columns)
            .get_result(c)?;
        stats::attach(c, row.id)?;
        stats::bump_live_set(c)?;
        audit::record(c, ctx, entry("create", &row, product_changes(None, &row)))?;
        let qty = v.quantity.unwrap_or(0);
        let row = if qty > 0 {
            let adj = stock::book(
                c,
                ctx,
                Booking {
                    product_id: row.id,
                    location_id,
                    kind: "receive",
                    delta: qty,
                    reason: "Initial quantity",
                    reference: "",
                },
            )?;
            Product {
                quantity: adj.product_quantity_after,
                updated_at: adj.created_at,
                ..row
            }
        } else {
            row
        };
        Ok(ProductView {
            product: row,
            suppliers: vec![],
        })
    })
}

pub fn update(core: &Core, ctx: &Ctx, id: i64, input: ProductInput) -> CoreResult<ProductView> {
    ctx.create_catalog()?;
    let v = validate(&input, false)?;
    let (view, opened) = core.db.write(|c| {
        // Touch the row first: on PostgreSQL this takes its lock, so the quantity read below
        // cannot go stale before the correction is booked.
        let touched = diesel::update(
            products::table
                .find(id)
                .filter(products::deleted_at.is_null()),
        )
        .set(products::updated_at.eq(now()))
        .execute(c)?;
        if touched == 0 {
            return Err(CoreError::NotFound);
        }
        let old: Product = products::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        let category_id = input.category_id.unwrap_or(old.category_id);
        if input.category_id.is_some() {
            check_category(c, category_id)?;
        }
        stats::detach(c, id)?;
        let row: Product = diesel::update(products::table.find(id))
            .set((
                products::sku.eq(v.sku.clone().unwrap_or(old.sku.clone())),
                products::barcode.eq(v.barcode.clone().unwrap_or(old.barcode.clone())),
                products::name.eq(v.name.clone().unwrap_or(old.name.clone())),
                products::description.eq(v.description.clone().unwrap_or(old.description.clone())),
                products::category_id.eq(category_id),
                products::price_cents.eq(v.price.unwrap_or(old.price_cents)),
                products::reorder_level.eq(v.reorder_level.unwrap_or(old.reorder_level)),
                products::reorder_quantity.eq(v.reorder_quantity.unwrap_or(old.reorder_quantity)),
                products::unit.eq(v.unit.clone().unwrap_or(old.unit.clone())),
            ))
            .returning(products::all_columns)
            .get_result(c)?;
        stats::attach(c, id)?;
        let ch = product_changes(Some(&old), &row);
        if !ch.is_empty() {
            audit::record(c, ctx, entry("update", &row, ch))?;
        }
        let row = match v.quantity {
            Some(q) if q != row.quantity => {
                let location_id = stock::default_location(c)?;
                let adj = stock::book(
                    c,
                    ctx,
                    Booking {
                        product_id: id,
                        location_id,
                        kind: "correction",
                        delta: q - row.quantity,
                        reason: "Quantity edited on the product",
                        reference: "",
                    },
                )?;
                Product {
                    quantity: adj.product_quantity_after,
                    ..row
                }
            }
            _ => row,
        };
        let opened = if row.quantity != old.quantity || row.reorder_level != old.reorder_level {
            alerts::after_change(c, ctx, id, old.quantity, old.reorder_level)?
        } else {
            None
        };
        Ok((with_links(c, vec![row])?.remove(0), opened))
    })?;
    alerts::notify(core, opened.as_slice());
    Ok(view)
}

/// Soft delete: the row stays for history; SKU and barcode become free again.
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    let p = ctx.create_catalog()?.clone();
    core.db.write(|c| {
        let old: Product = products::table
            .find(id)
            .filter(products::deleted_at.is_null())
            .first(c)?;
        ctx.modify_catalog(old.created_by)?;
        stats::detach(c, id)?;
        stats::bump_live_set(c)?;
        let t = now();
        diesel::update(
            products::table
                .find(id)
                .filter(products::deleted_at.is_null()),
        )
        .set((
            products::deleted_at.eq(t),
            products::deleted_by.eq(p.user_id),
            products::updated_at.eq(t),
        ))
        .execute(c)?;
        let mut ch = Changes::new();
        ch.diff(
            "deleted_at",
            &None::<String>,
            &Some(crate::types::fmt_ts(&t)),
        );
        audit::record(c, ctx, entry("delete", &old, ch))?;
        Ok(())
    })
}
