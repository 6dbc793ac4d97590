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
use crate::schema::{locations, products, stock_adjustments, stock_levels};
use crate::services::stats;
use crate::types::AdjustmentKind;

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
}

/// Books one ledger row: level, product total and audit entry, on the caller's transaction.
/// A change that would leave the location below zero is `insufficient_stock`, and so is an
/// outgoing movement that would take what confirmed sales orders reserved there.
pub fn book(conn: &mut DbConn, ctx: &Ctx, b: Booking<'_>) -> CoreResult<Adjustment> {
    book_releasing(conn, ctx, b, 0)
}

/// As [`book`], for a shipment that consumes `release` units of its own order's reservation
/// in the same statement: the level's quantity and reservation drop together, so the units
/// never count as free in between.
pub fn book_releasing(
    conn: &mut DbConn,
    ctx: &Ctx,
    b: Booking<'_>,
    release: i64,
) -> CoreResult<Adjustment> {
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
    crate::sql::query(
        "INSERT INTO stock_levels (product_id, location_id, quantity, updated_at) \
         VALUES ($1, $2, 0, $3) ON CONFLICT (product_id, location_id) DO NOTHING",
    )
    .bind::<BigInt, _>(b.product_id)
    .bind::<BigInt, _>(b.location_id)
    .bind::<Timestamp, _>(t)
    .execute(conn)?;
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
    let (product_quantity_after, category_id, price, reorder_level, deleted_at): (
        i64,
        Option<i64>,
        i64,
        i64,
        Option<chrono::NaiveDateTime>,
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
        ))
        .get_result(conn)?;
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
    Ok(row)
}
