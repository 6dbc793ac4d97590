//! The stock ledger: the only code that changes a quantity.
//!
//! Every change is one conditional statement on the level row (`quantity + d >= 0`), so
//! concurrent requests can neither lose an update nor drive stock negative, on either backend
//! and across server instances. The product total follows in the same transaction.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::models::Adjustment;
use crate::schema::{locations, product_suppliers, products, stock_adjustments, stock_levels};
use crate::services::stats;
use crate::types::{AdjustmentKind, Cost};

pub fn default_location(conn: &mut DbConn) -> CoreResult<i64> {
    locations::table
        .filter(locations::is_default.eq(true))
        .select(locations::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| CoreError::Internal("no default location".into()))
}

/// Checks that a location exists and is active, for bookings that name one.
pub fn active_location(conn: &mut DbConn, id: i64) -> CoreResult<i64> {
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
        None => Err(CoreError::validation("location_id", "No such location.")),
    }
}

/// A ledger booking to make.
pub struct Booking<'a> {
    pub product_id: i64,
    pub location_id: i64,
    pub kind: AdjustmentKind,
    pub delta: i64,
    pub reason: &'a str,
    pub reference: &'a str,
    /// What a unit of a receipt cost, when the caller knows (a `receive` that names it, an
    /// order receipt at its line's price). `None` costs the row by §10's defaults.
    pub unit_cost: Option<i64>,
}

/// Books one ledger row: level, product total and audit entry, on the caller's transaction.
/// A change that would leave the location below zero is `insufficient_stock`, and so is an
/// outgoing movement that would take what confirmed sales orders reserved there.
pub fn book(conn: &mut DbConn, ctx: &Ctx, b: Booking<'_>) -> CoreResult<Adjustment> {
    Ok(book_full(conn, ctx, b, 0)?.row)
}

/// A booked ledger row with what the low-stock rule needs of its product, read by the
/// booking's own statements so the caller need not read the product again.
pub struct Booked {
    pub row: Adjustment,
    pub reorder_level: i64,
    /// The product's average cost after this booking (§10).
    pub average_cost: Option<i64>,
}

/// As [`book`]; `release` is for a shipment that consumes that many units of its own order's
/// reservation in the same statement: the level's quantity and reservation drop together, so
/// the units never count as free in between.
pub fn book_full(conn: &mut DbConn, ctx: &Ctx, b: Booking<'_>, release: i64) -> CoreResult<Booked> {
    let t = now();
    // One statement shape for every kind: the floor is `reserved − release` for movements
    // that may not eat other orders' reservations, 0 for receipts, corrections and counts
    // (which record what is physically there, and may leave `available` below zero).
    let respects: i64 = match b.kind {
        AdjustmentKind::Sale
        | AdjustmentKind::Remove
        | AdjustmentKind::Loss
        | AdjustmentKind::TransferOut
        | AdjustmentKind::Shipment => 1,
        AdjustmentKind::Receive
        | AdjustmentKind::Correction
        | AdjustmentKind::Audit
        | AdjustmentKind::TransferIn
        | AdjustmentKind::OrderReceipt
        | AdjustmentKind::Return => 0,
    };
    if b.delta > 0 {
        // Only stock coming in can need a new level row: taking from a location that never
        // held the product finds no row below and is refused like any shortfall.
        crate::sql::query(
            "INSERT INTO stock_levels (product_id, location_id, quantity, updated_at) \
             VALUES ($1, $2, 0, $3) ON CONFLICT (product_id, location_id) DO NOTHING",
        )
        .bind::<BigInt, _>(b.product_id)
        .bind::<BigInt, _>(b.location_id)
        .bind::<Timestamp, _>(t)
        .execute(conn)?;
    }
    let after: Option<(i64, i64)> = diesel::update(
        stock_levels::table
            .filter(stock_levels::product_id.eq(b.product_id))
            .filter(stock_levels::location_id.eq(b.location_id))
            .filter((stock_levels::quantity + b.delta).ge(0))
            .filter(
                (stock_levels::quantity + b.delta).ge(stock_levels::reserved * respects - release),
            )
            .filter(stock_levels::reserved.ge(release)),
    )
    .set((
        stock_levels::quantity.eq(stock_levels::quantity + b.delta),
        stock_levels::reserved.eq(stock_levels::reserved - release),
        stock_levels::updated_at.eq(t),
    ))
    .returning((stock_levels::quantity, stock_levels::reserved))
    .get_result(conn)
    .optional()?;
    let Some((quantity_after, reserved_after)) = after else {
        return Err(CoreError::insufficient_stock());
    };
    // Only a correction or a count can leave a level below its reservation, and a receipt
    // or a cancelled order can lift it back: the oversold alert is looked at only then.
    let was_short = quantity_after - b.delta < reserved_after + release;
    let is_short = quantity_after < reserved_after;
    if was_short != is_short {
        crate::services::alerts::oversold_changed(conn, ctx, b.product_id)?;
    }
    crate::metrics::booked(b.kind);
    let (product_quantity_after, category_id, price, reorder_level, deleted_at, average): (
        i64,
        Option<i64>,
        i64,
        i64,
        Option<chrono::NaiveDateTime>,
        Option<i64>,
    ) = diesel::update(products::table.find(b.product_id))
        .set((
            products::quantity.eq(products::quantity + b.delta),
            products::updated_at.eq(t),
        ))
        .returning((
            products::quantity,
            products::category_id,
            products::price_cents,
            products::reorder_level,
            products::deleted_at,
            products::average_cost,
        ))
        .get_result(conn)?;
    // The product row is now locked (PostgreSQL) or the database is (SQLite): the average
    // read above cannot change before the one written below.
    let (unit_cost, average_cost) = costing(conn, &b, average, price, product_quantity_after)?;
    stats::quantity_changed(
        conn,
        &stats::QuantityChange {
            product_id: b.product_id,
            category_id,
            price,
            reorder_level,
            before: product_quantity_after - b.delta,
            after: product_quantity_after,
            deleted: deleted_at.is_some(),
        },
    )?;
    let row: Adjustment = diesel::insert_into(stock_adjustments::table)
        .values((
            stock_adjustments::product_id.eq(b.product_id),
            stock_adjustments::location_id.eq(b.location_id),
            stock_adjustments::kind.eq(b.kind.as_str()),
            stock_adjustments::delta.eq(b.delta),
            stock_adjustments::quantity_after.eq(quantity_after),
            stock_adjustments::product_quantity_after.eq(product_quantity_after),
            stock_adjustments::reason.eq(b.reason),
            stock_adjustments::reference.eq(b.reference),
            stock_adjustments::user_id.eq(ctx.user_id()),
            stock_adjustments::created_at.eq(t),
            stock_adjustments::unit_cost.eq(unit_cost),
        ))
        .returning(stock_adjustments::all_columns)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        Entry {
            action: "create",
            object_type: "stock_adjustment",
            object_id: row.id.to_string(),
            object_repr: format!("{} {:+} of product {}", row.kind, row.delta, row.product_id),
            changes: serde_json::json!({
                "quantity": [quantity_after - b.delta, quantity_after],
                "product_quantity": [product_quantity_after - b.delta, product_quantity_after],
            }),
        },
    )?;
    Ok(Booked {
        row,
        reorder_level,
        average_cost,
    })
}

/// The preferred supplier link's unit cost, if it has one.
fn preferred_cost(conn: &mut DbConn, product_id: i64) -> CoreResult<Option<i64>> {
    let cents: Option<Option<i64>> = product_suppliers::table
        .filter(product_suppliers::product_id.eq(product_id))
        .filter(product_suppliers::is_preferred.eq(true))
        .order(product_suppliers::supplier_id)
        .select(product_suppliers::unit_cost_cents)
        .first(conn)
        .optional()?;
    Ok(cents.flatten().map(|c| Cost::from_cents(c).0))
}

/// Costs one booking by §10 and keeps the product's perpetual average: a receipt (`receive`,
/// order receipt) moves the average to the weighted one, rounded half-even; every other row
/// is costed at the average and leaves it alone. A product with no average yet (nothing ever
/// came in) is costed at its preferred supplier's cost, else its price, and its first incoming
/// units set the average. Refuses (400) a cost whose value reports could not sum exactly
/// ([`stats::cost_value_fits`]). Answers the row's unit cost and the average after it.
fn costing(
    conn: &mut DbConn,
    b: &Booking<'_>,
    average: Option<i64>,
    price_cents: i64,
    quantity_after: i64,
) -> CoreResult<(i64, Option<i64>)> {
    let receipt = matches!(
        b.kind,
        AdjustmentKind::Receive | AdjustmentKind::OrderReceipt
    );
    let unit_cost = match (b.unit_cost, average) {
        (Some(given), _) if receipt => given,
        (_, Some(avg)) if b.kind != AdjustmentKind::Receive => avg,
        (_, avg) => match preferred_cost(conn, b.product_id)? {
            Some(link) => link,
            None => avg.unwrap_or_else(|| Cost::from_cents(price_cents).0),
        },
    };
    let new_average = if b.delta > 0 && (receipt || average.is_none()) {
        let before = (quantity_after - b.delta).max(0);
        Cost::weighted_average(before, average.unwrap_or(unit_cost), b.delta, unit_cost)
    } else {
        average
    };
    if !stats::cost_value_fits(b.delta, unit_cost)
        || !stats::cost_value_fits(quantity_after, new_average.unwrap_or(0))
    {
        return Err(CoreError::out_of_range());
    }
    if new_average != average {
        diesel::update(products::table.find(b.product_id))
            .set(products::average_cost.eq(new_average))
            .execute(conn)?;
    }
    Ok((unit_cost, new_average))
}
