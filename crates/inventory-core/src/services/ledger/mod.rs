//! The stock ledger's use cases: adjustments, stock levels, inventory levels, product history,
//! barcode lookup and scanning. Bookings themselves go through [`stock::book`]; the lists
//! of adjustments and history are in `lists.rs`.

mod as_of;
mod lists;

pub use as_of::{inventory_levels_at, parse_as_of, stock_levels_at, LevelRow};

pub use lists::{
    adjustments_by_cursor, history, history_by_cursor, list_adjustments, AdjustmentFilter,
    HistoryEntry,
};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use serde::{Deserialize, Serialize};

use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{Adjustment, Product, StockLevel};
use crate::paging::{PageReq, Paged};
use crate::schema::{categories, locations, products, stock_adjustments, stock_levels};
use crate::services::alerts;
use crate::services::products::{self as catalog_products, ProductFilter};
use crate::services::stock::{self, Booking};
use crate::types::AdjustmentKind;
use crate::types::{bounded_text, Cost, Quantity};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub product_id: i64,
    pub location_id: Option<i64>,
    pub kind: String,
    pub quantity: i64,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub reference: Option<String>,
    /// What one received unit cost (four places); only for `receive`. Omitted, §10's default
    /// applies: the preferred supplier's cost, else the product's average.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "12.3456")]
    pub unit_cost: Option<serde_json::Value>,
}

/// A live (not deleted) product, or 404.
pub fn live_product(conn: &mut DbConn, id: i64) -> CoreResult<Product> {
    Ok(products::table
        .find(id)
        .filter(products::deleted_at.is_null())
        .first(conn)?)
}

/// An existing, active location, or 404 (inactive ones refuse new bookings with 400).
pub fn bookable_location(conn: &mut DbConn, id: Option<i64>) -> CoreResult<i64> {
    let Some(id) = id else {
        return stock::default_location(conn);
    };
    let active: Option<bool> = locations::table
        .find(id)
        .select(locations::is_active)
        .first(conn)
        .optional()?;
    match active {
        Some(true) => Ok(id),
        Some(false) => Err(CoreError::validation(
            "location_id",
            "This location is inactive.",
        )),
        None => Err(CoreError::NotFound),
    }
}

/// Locks the level row (creating it at zero if missing) and returns its quantity, so an
/// `audit` count computes its difference from a value nobody else can change meanwhile.
fn locked_level(conn: &mut DbConn, product_id: i64, location_id: i64) -> CoreResult<i64> {
    let t = now();
    crate::sql::query(
        "INSERT INTO stock_levels (product_id, location_id, quantity, updated_at) \
         VALUES ($1, $2, 0, $3) ON CONFLICT (product_id, location_id) DO NOTHING",
    )
    .bind::<BigInt, _>(product_id)
    .bind::<BigInt, _>(location_id)
    .bind::<Timestamp, _>(t)
    .execute(conn)?;
    Ok(diesel::update(
        stock_levels::table
            .filter(stock_levels::product_id.eq(product_id))
            .filter(stock_levels::location_id.eq(location_id)),
    )
    .set(stock_levels::updated_at.eq(t))
    .returning(stock_levels::quantity)
    .get_result(conn)?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create_adjustment(core: &Core, ctx: &Ctx, input: AdjustmentInput) -> CoreResult<Adjustment> {
    book_adjustment(core, ctx, input, false)
}

/// `scanned_count`: a barcode count (`POST /api/scan` with `count`) is an employee's job even
/// though it books an `audit`, which through the adjustments endpoint needs a manager.
fn book_adjustment(
    core: &Core,
    ctx: &Ctx,
    input: AdjustmentInput,
    scanned_count: bool,
) -> CoreResult<Adjustment> {
    ctx.basic_stock()?;
    let mut errs = Errors::default();
    let reason = errs.field("reason", bounded_text(input.reason.trim(), 500));
    let reference = errs.field(
        "reference",
        bounded_text(input.reference.as_deref().unwrap_or("").trim(), 200),
    );
    // Only the kinds a person books; the system's own are refused like unknown words. How the
    // quantity is checked depends on the kind, so an unknown kind ends the checks here.
    let Some((kind, needs_manager)) = AdjustmentKind::parse(&input.kind)
        .ok()
        .and_then(|k| k.needs_manager().map(|m| (k, m)))
    else {
        errs.add(
            "kind",
            format!(
                "\"{}\" is not a valid choice (receive, sale, remove, loss, correction, audit).",
                input.kind
            ),
        );
        return Err(errs.into_error());
    };
    match kind {
        AdjustmentKind::Correction => {
            if input.quantity == 0 {
                errs.add("quantity", "A correction is a non-zero signed change.");
            }
            if input
                .quantity
                .checked_abs()
                .is_none_or(|q| Quantity::parse(q).is_err())
            {
                errs.add(
                    "quantity",
                    "Ensure this value is at most 1000000000000 in size.",
                );
            }
        }
        AdjustmentKind::Audit => {
            if let Err(m) = Quantity::parse(input.quantity) {
                errs.add("quantity", m);
            }
        }
        _ => {
            if input.quantity <= 0 {
                errs.add("quantity", "Ensure this value is greater than 0.");
            } else if let Err(m) = Quantity::parse(input.quantity) {
                errs.add("quantity", m);
            }
        }
    }
    let unit_cost = match &input.unit_cost {
        None | Some(serde_json::Value::Null) => None,
        Some(_) if kind != AdjustmentKind::Receive => {
            errs.add(
                "unit_cost",
                "A unit cost is given only for a receipt; other movements are costed at the average.",
            );
            None
        }
        Some(v) => errs.field("unit_cost", Cost::parse_json(v).map(|c| Some(c.0))),
    };
    errs.finish()?;
    if needs_manager && !(scanned_count && kind == AdjustmentKind::Audit) {
        ctx.manager_stock()?;
    }
    let (adj, opened) = core.db.write(|c| {
        // 404 for an unknown or deleted product before anything is booked.
        live_product(c, input.product_id)?;
        let location_id = bookable_location(c, input.location_id)?;
        let delta = match kind {
            AdjustmentKind::Receive | AdjustmentKind::Correction => input.quantity,
            AdjustmentKind::Sale | AdjustmentKind::Remove | AdjustmentKind::Loss => -input.quantity,
            // A count books the difference to what the location holds now.
            _ => input.quantity - locked_level(c, input.product_id, location_id)?,
        };
        let booked = stock::book_full(
            c,
            ctx,
            Booking {
                product_id: input.product_id,
                location_id,
                kind,
                delta,
                reason: &reason,
                reference: &reference,
                unit_cost,
            },
            0,
        )?;
        let opened = alerts::after_booking(c, ctx, &booked)?;
        Ok((booked.row, opened))
    })?;
    alerts::notify(core, opened.as_slice());
    Ok(adj)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get_adjustment(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Adjustment> {
    ctx.read_operations()?;
    core.db
        .read(|c| Ok(stock_adjustments::table.find(id).first(c)?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LevelFilter {
    pub product: Option<i64>,
    pub location: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn stock_levels(
    core: &Core,
    ctx: &Ctx,
    f: &LevelFilter,
    page: PageReq,
) -> CoreResult<Paged<StockLevel>> {
    ctx.read_catalog(core.config.public_read)?;
    let query = || {
        let mut q = stock_levels::table
            .inner_join(products::table)
            .filter(products::deleted_at.is_null())
            .select(StockLevel::columns())
            .into_boxed();
        if let Some(p) = f.product {
            q = q.filter(stock_levels::product_id.eq(p));
        }
        if let Some(l) = f.location {
            q = q.filter(stock_levels::location_id.eq(l));
        }
        q
    };
    core.db.read(|c| {
        page.load(c, query, |q| {
            q.order((stock_levels::product_id, stock_levels::location_id))
        })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationQuantity {
    pub location_id: i64,
    pub quantity: i64,
    /// What confirmed sales orders hold there (absent as of a past moment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    /// `quantity − reserved` (absent as of a past moment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InventoryRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub quantity: i64,
    /// Σ reserved over the locations (absent as of a past moment: reservations are promises,
    /// not ledger movements).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    /// `quantity − reserved`: what can still be sold or moved (absent as of a past moment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    pub reorder_level: i64,
    pub low_stock: bool,
    pub locations: Vec<LocationQuantity>,
}

/// The compact per-product view: the product list's filters and ordering, plus per-location
/// quantities loaded for the whole page in one query.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn inventory_levels(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
    page: PageReq,
) -> CoreResult<Paged<InventoryRow>> {
    let products_page = catalog_products::list_rows(core, ctx, f, page)?;
    let ids: Vec<i64> = products_page.results.iter().map(|p| p.id).collect();
    let cats = category_names(core, &products_page.results)?;
    let levels: Vec<StockLevel> = if ids.is_empty() {
        vec![]
    } else {
        core.db.read(|c| {
            Ok(stock_levels::table
                .filter(stock_levels::product_id.eq_any(&ids))
                .order((stock_levels::product_id, stock_levels::location_id))
                .select(StockLevel::columns())
                .load(c)?)
        })?
    };
    Ok(products_page.map(|p| {
        let reserved: i64 = levels
            .iter()
            .filter(|l| l.product_id == p.id)
            .map(|l| l.reserved)
            .sum();
        InventoryRow {
            reserved: Some(reserved),
            available: Some(p.quantity - reserved),
            category: p.category_id.and_then(|cid| cats.get(&cid).cloned()),
            locations: levels
                .iter()
                .filter(|l| l.product_id == p.id)
                .map(|l| LocationQuantity {
                    location_id: l.location_id,
                    quantity: l.quantity,
                    reserved: Some(l.reserved),
                    available: Some(l.available),
                })
                .collect(),
            low_stock: p.quantity <= p.reorder_level,
            id: p.id,
            sku: p.sku,
            name: p.name,
            quantity: p.quantity,
            reorder_level: p.reorder_level,
        }
    }))
}

/// The names of the categories a page of products is in, by id.
fn category_names(
    core: &Core,
    page: &[Product],
) -> CoreResult<std::collections::HashMap<i64, String>> {
    let ids: Vec<i64> = page.iter().filter_map(|p| p.category_id).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    core.db.read(|c| {
        let named: Vec<(i64, String)> = categories::table
            .filter(categories::id.eq_any(&ids))
            .select((categories::id, categories::name))
            .load(c)?;
        Ok(named.into_iter().collect())
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn lookup(core: &Core, ctx: &Ctx, barcode: &str) -> CoreResult<Product> {
    ctx.read_catalog(core.config.public_read)?;
    let code = barcode.trim();
    if code.is_empty() {
        return Err(CoreError::validation("barcode", "This field is required."));
    }
    core.db.read(|c| {
        Ok(products::table
            .filter(products::barcode.eq(code))
            .filter(products::deleted_at.is_null())
            .first(c)?)
    })
}

/// The live product a scanned code names: its barcode, or else its SKU (labels of products
/// without a barcode print the SKU).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn find_code(core: &Core, ctx: &Ctx, code: &str) -> CoreResult<Product> {
    ctx.read_catalog(core.config.public_read)?;
    let code = code.trim();
    if code.is_empty() {
        return Err(CoreError::validation("barcode", "This field is required."));
    }
    core.db.read(|c| product_by_code(c, code))
}

fn product_by_code(c: &mut DbConn, code: &str) -> CoreResult<Product> {
    let by_barcode: Option<Product> = products::table
        .filter(products::barcode.eq(code))
        .filter(products::deleted_at.is_null())
        .first(c)
        .optional()?;
    match by_barcode {
        Some(p) => Ok(p),
        None => Ok(products::table
            .filter(products::sku.eq(code))
            .filter(products::deleted_at.is_null())
            .first(c)?),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    pub barcode: String,
    pub action: String,
    pub quantity: Option<i64>,
    pub location_id: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// A scan books the matching adjustment: receive, sale, or a count (an `audit`).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn scan(core: &Core, ctx: &Ctx, input: ScanInput) -> CoreResult<Adjustment> {
    ctx.basic_stock()?;
    let kind = match input.action.as_str() {
        "receive" => AdjustmentKind::Receive,
        "sale" => AdjustmentKind::Sale,
        "count" => AdjustmentKind::Audit,
        other => {
            return Err(CoreError::validation(
                "action",
                format!("\"{other}\" is not a valid choice (receive, sale, count)."),
            ))
        }
    };
    let code = input.barcode.trim().to_owned();
    let product_id: i64 = core.db.read(|c| Ok(product_by_code(c, &code)?.id))?;
    let reason = if input.reason.trim().is_empty() {
        format!("Scanned ({})", input.action)
    } else {
        input.reason
    };
    book_adjustment(
        core,
        ctx,
        AdjustmentInput {
            product_id,
            location_id: input.location_id,
            kind: kind.as_str().to_owned(),
            quantity: input.quantity.unwrap_or(1),
            reason,
            reference: Some(code),
            unit_cost: None,
        },
        true,
    )
}

/// The product's barcode (or its SKU when it has none), for drawing a label.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn label_code(core: &Core, ctx: &Ctx, product_id: i64) -> CoreResult<String> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let p = live_product(c, product_id)?;
        Ok(p.barcode.unwrap_or(p.sku))
    })
}
