//! A sales order's way from draft to shipped or cancelled: confirm reserves, ship consumes the
//! reservation through the ledger, cancel releases it. Each move claims the order with one
//! conditional statement on its status, and each quantity moves with one conditional
//! statement on the level or line, so concurrent requests serialise on the rows they touch.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use serde::Deserialize;

use super::{assemble, lines_of, SalesOrder, SalesRow};
use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors, FieldErrors};
use crate::schema::{products, sales_order_lines, sales_orders, stock_levels};
use crate::services::alerts;
use crate::services::stock::{self, Batch, BatchLine};
use crate::services::webhooks::outbox;
use crate::sql::{batch, case, keys, Vals, MAX_BATCH};
use crate::types::{bounded_text, AdjustmentKind, Role, SalesStatus, WebhookEvent};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipLine {
    pub product_id: i64,
    /// Units, > 0, at most what is ordered and not yet shipped.
    pub quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipInput {
    pub lines: Vec<ShipLine>,
    /// The carrier's tracking number, kept on the order.
    pub tracking: Option<String>,
}

/// Claims order `id` if its status is one of `from`, setting `to` (and `confirmed_by`) when
/// given and `updated_at` to `t`, and answers the order's row as it now is; otherwise explains
/// why not (404, or 409 `invalid_transition`). One statement when it succeeds.
fn claim(
    conn: &mut DbConn,
    id: i64,
    from: &[SalesStatus],
    to: Option<SalesStatus>,
    confirmed_by: Option<i64>,
    t: chrono::NaiveDateTime,
    verb: &str,
) -> CoreResult<SalesRow> {
    // `status = a OR status = b` rather than `IN (…)`, and one hand-written statement for
    // every claim: diesel marks its own UPDATEs unsafe to cache, so SQLite parsed and planned
    // this one (every column in its RETURNING) again inside the write lock on each step.
    let (a, b) = match from {
        [a] => (*a, *a),
        [a, b] => (*a, *b),
        _ => {
            return Err(CoreError::Internal(
                "a claim names one or two states".into(),
            ))
        }
    };
    let row: Option<SalesRow> = crate::sql::query(
        "UPDATE sales_orders SET status = COALESCE($4, status), \
         confirmed_by = COALESCE($5, confirmed_by), updated_at = $6 \
         WHERE id = $1 AND (status = $2 OR status = $3) \
         RETURNING id, number, customer_id, location_id, status, reference, notes, tracking, \
         created_by, confirmed_by, created_at, updated_at",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(a.as_str())
    .bind::<Text, _>(b.as_str())
    .bind::<Nullable<Text>, _>(to.map(|s| s.as_str()))
    .bind::<Nullable<BigInt>, _>(confirmed_by)
    .bind::<Timestamp, _>(t)
    .get_result(conn)
    .optional()?;
    if let Some(row) = row {
        return Ok(row);
    }
    let now_status: String = sales_orders::table
        .find(id)
        .select(sales_orders::status)
        .first(conn)?;
    Err(CoreError::conflict(
        "invalid_transition",
        format!("The order is {now_status}; it cannot be {verb}."),
    ))
}

/// What a batch statement on the lines or levels answered: the products it changed.
#[derive(QueryableByName)]
struct Touched {
    #[diesel(sql_type = BigInt)]
    product_id: i64,
}

/// Reserves `lines` (product, quantity) at `location` where that much is still available,
/// one statement per [`MAX_BATCH`] lines; answers the products it could not reserve.
fn reserve(
    conn: &mut DbConn,
    location: i64,
    lines: &[(i64, i64)],
    t: chrono::NaiveDateTime,
) -> CoreResult<Vec<i64>> {
    let mut missed = Vec::new();
    for chunk in lines.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        vals.time(t).int(location);
        for (p, q) in chunk {
            vals.int(*p).int(*q);
        }
        let done: Vec<Touched> = batch(
            "sales.reserve",
            chunk.len(),
            |n| {
                let q = case("product_id", n, 3, 2, 0, 1);
                format!(
                    "UPDATE stock_levels SET reserved = reserved + {q}, updated_at = $1 \
                     WHERE location_id = $2 AND product_id IN ({}) AND quantity - reserved >= {q} \
                     RETURNING product_id",
                    keys(n, 3, 2, 0)
                )
            },
            vals,
        )?
        .load(conn)?;
        missed.extend(
            chunk
                .iter()
                .map(|(p, _)| *p)
                .filter(|p| !done.iter().any(|d| d.product_id == *p)),
        );
    }
    Ok(missed)
}

/// Adds `sign` × quantity to the products' own totals of reservations (`products.reserved`),
/// beside the levels' that [`reserve`] or a cancellation moved.
fn hold(conn: &mut DbConn, lines: &[(i64, i64)], sign: i64) -> CoreResult<()> {
    for chunk in lines.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        vals.int(sign);
        for (p, q) in chunk {
            vals.int(*p).int(*q);
        }
        batch(
            "sales.hold",
            chunk.len(),
            |n| {
                format!(
                    "UPDATE products SET reserved = reserved + $1 * {} WHERE id IN ({})",
                    case("id", n, 2, 2, 0, 1),
                    keys(n, 2, 2, 0)
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    Ok(())
}

/// Moves `lines` (product, quantity) of order `id` from reserved to shipped where that much is
/// still reserved, one statement per [`MAX_BATCH`] lines; answers the first product it could
/// not move.
fn consume(conn: &mut DbConn, id: i64, lines: &[(i64, i64)]) -> CoreResult<Option<i64>> {
    for chunk in lines.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        vals.int(id);
        for (p, q) in chunk {
            vals.int(*p).int(*q);
        }
        let done: Vec<Touched> = batch(
            "sales.consume",
            chunk.len(),
            |n| {
                let q = case("product_id", n, 2, 2, 0, 1);
                format!(
                    "UPDATE sales_order_lines SET reserved_quantity = reserved_quantity - {q}, \
                     shipped_quantity = shipped_quantity + {q} WHERE order_id = $1 \
                     AND product_id IN ({}) AND reserved_quantity >= {q} RETURNING product_id",
                    keys(n, 2, 2, 0)
                )
            },
            vals,
        )?
        .load(conn)?;
        if let Some((p, _)) = chunk
            .iter()
            .find(|(p, _)| !done.iter().any(|d| d.product_id == *p))
        {
            return Ok(Some(*p));
        }
    }
    Ok(None)
}

/// Draft → confirmed, reserving every line at the order's location: all lines or none. A
/// line that wants more than is available names its product in the 409.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn confirm(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<SalesOrder> {
    let p = ctx.sell()?.clone();
    core.db.write(|c| {
        let t = now();
        let row = claim(
            c,
            id,
            &[SalesStatus::Draft],
            Some(SalesStatus::Confirmed),
            Some(p.user_id),
            t,
            "confirmed",
        )?;
        let lines = lines_of(c, id)?;
        let mut order = assemble(row, lines);
        let wanted: Vec<(i64, i64)> = order
            .lines
            .iter()
            .map(|l| (l.product_id, l.quantity))
            .collect();
        let missed = reserve(c, order.location_id, &wanted, t)?;
        let mut short = FieldErrors::new();
        for (i, l) in order.lines.iter().enumerate() {
            if !missed.contains(&l.product_id) {
                continue;
            }
            let available: Option<i64> = stock_levels::table
                .filter(stock_levels::product_id.eq(l.product_id))
                .filter(stock_levels::location_id.eq(order.location_id))
                .select(stock_levels::quantity - stock_levels::reserved)
                .first(c)
                .optional()?;
            let sku: String = products::table
                .find(l.product_id)
                .select(products::sku)
                .first(c)?;
            short.insert(
                format!("lines[{i}].quantity"),
                vec![format!(
                    "Product {sku}: {} wanted, {} available at this location.",
                    l.quantity,
                    available.unwrap_or(0).max(0)
                )],
            );
        }
        if !short.is_empty() {
            // Returning the error rolls back the claim and every reservation made above.
            return Err(CoreError::Conflict {
                code: "insufficient_stock",
                detail: "Not enough available stock for every line; nothing was reserved.".into(),
                errors: short,
            });
        }
        hold(c, &wanted, 1)?;
        crate::sql::query(
            "UPDATE sales_order_lines SET reserved_quantity = quantity WHERE order_id = $1",
        )
        .bind::<BigInt, _>(id)
        .execute(c)?;
        for l in &mut order.lines {
            l.reserved_quantity = l.quantity;
        }
        audit::record(
            c,
            ctx,
            Entry::of(
                "confirm",
                &order,
                serde_json::json!({"status": [SalesStatus::Draft.as_str(), order.status]}),
            ),
        )?;
        Ok(order)
    })
}

/// Ships some or all of a confirmed order: per line one conditional statement on what is
/// still reserved for it, then a `shipment` ledger row that takes the units out of the level
/// and out of its reservation together.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn ship(core: &Core, ctx: &Ctx, id: i64, input: ShipInput) -> CoreResult<SalesOrder> {
    ctx.sell()?;
    let mut errs = Errors::default();
    crate::services::check_moved_lines(
        &mut errs,
        input.lines.iter().map(|l| (l.product_id, l.quantity)),
        "Say what is shipped: at least one line.",
    );
    let tracking = match input.tracking.as_deref() {
        Some(s) => errs.take("tracking", bounded_text(s.trim(), 200)),
        None => None,
    };
    errs.finish()?;
    let (order, opened) = core.db.write(|c| {
        let t = now();
        let row = claim(
            c,
            id,
            &[SalesStatus::Confirmed, SalesStatus::PartiallyShipped],
            None,
            None,
            t,
            "shipped",
        )?;
        // The claim locked the order and left its status alone: what is read now is what
        // this shipment starts from, and only this transaction changes it until commit.
        let mut before = assemble(row, lines_of(c, id)?);
        let before_status = before.status.clone();
        before.all_on_order(input.lines.iter().map(|l| l.product_id))?;
        let moved: Vec<(i64, i64)> = input
            .lines
            .iter()
            .map(|l| (l.product_id, l.quantity))
            .collect();
        if let Some(p) = consume(c, id, &moved)? {
            let line = before.lines.iter().find(|x| x.product_id == p);
            let (ordered, shipped) = line.map_or((0, 0), |x| (x.quantity, x.shipped_quantity));
            let wanted = moved.iter().find(|(x, _)| *x == p).map_or(0, |(_, q)| *q);
            return Err(CoreError::conflict(
                "over_shipment",
                format!(
                    "Product {p}: {ordered} ordered, {shipped} already shipped; {wanted} more is too many."
                ),
            ));
        }
        for (p, q) in &moved {
            if let Some(x) = before.lines.iter_mut().find(|x| x.product_id == *p) {
                x.reserved_quantity -= q;
                x.shipped_quantity += q;
            }
        }
        let lines: Vec<BatchLine> = moved
            .iter()
            .map(|(p, q)| BatchLine {
                product_id: *p,
                delta: -q,
                unit_cost: None,
                release: *q,
            })
            .collect();
        let booked = stock::book_batch(
            c,
            ctx,
            &Batch {
                location_id: before.location_id,
                kind: AdjustmentKind::Shipment,
                reason: "Sales order shipped",
                reference: &before.number,
                lines: &lines,
            },
        )?;
        let opened = alerts::after_bookings(c, ctx, &booked)?;
        let to = if before.lines.iter().all(|l| l.shipped_quantity >= l.quantity) {
            SalesStatus::Shipped
        } else {
            SalesStatus::PartiallyShipped
        };
        let mut after = before;
        after.status = to.as_str().to_owned();
        after.updated_at = t;
        if let Some(tr) = tracking {
            after.tracking = tr;
        }
        crate::sql::query("UPDATE sales_orders SET status = $2, tracking = $3 WHERE id = $1")
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(to.as_str())
            .bind::<Text, _>(&after.tracking)
            .execute(c)?;
        let shipped: serde_json::Map<String, serde_json::Value> = input
            .lines
            .iter()
            .map(|l| (format!("product_{}", l.product_id), serde_json::json!(l.quantity)))
            .collect();
        audit::record(
            c,
            ctx,
            Entry::of(
                "ship",
                &after,
                serde_json::json!({"status": [before_status, to.as_str()], "shipped": [null, shipped]}),
            ),
        )?;
        outbox::emit_all(
            c,
            &[outbox::Event::about(WebhookEvent::SalesOrderShipped, &after)?],
        )?;
        Ok((after, opened))
    })?;
    alerts::notify(core, &opened);
    Ok(order)
}

/// A draft, or a confirmed order with nothing shipped, → cancelled; what it reserved is free
/// again. Managers and up only.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn cancel(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<SalesOrder> {
    ctx.require(&[Role::Manager, Role::Admin])?;
    core.db.write(|c| {
        let before: String = sales_orders::table
            .find(id)
            .select(sales_orders::status)
            .first(c)?;
        let t = now();
        let row = claim(
            c,
            id,
            &[SalesStatus::Draft, SalesStatus::Confirmed],
            Some(SalesStatus::Cancelled),
            None,
            t,
            "cancelled",
        )?;
        let order = assemble(row, lines_of(c, id)?);
        for l in order.lines.iter().filter(|l| l.reserved_quantity > 0) {
            diesel::update(
                stock_levels::table
                    .filter(stock_levels::product_id.eq(l.product_id))
                    .filter(stock_levels::location_id.eq(order.location_id)),
            )
            .set((
                stock_levels::reserved.eq(stock_levels::reserved - l.reserved_quantity),
                stock_levels::updated_at.eq(t),
            ))
            .execute(c)?;
        }
        let released: Vec<(i64, i64)> = order
            .lines
            .iter()
            .filter(|l| l.reserved_quantity > 0)
            .map(|l| (l.product_id, l.reserved_quantity))
            .collect();
        hold(c, &released, -1)?;
        diesel::update(sales_order_lines::table.filter(sales_order_lines::order_id.eq(id)))
            .set(sales_order_lines::reserved_quantity.eq(0))
            .execute(c)?;
        // Releasing may cover a location a count had left short.
        for l in order.lines.iter().filter(|l| l.reserved_quantity > 0) {
            alerts::oversold_changed(c, ctx, l.product_id)?;
        }
        let mut after = order;
        for l in &mut after.lines {
            l.reserved_quantity = 0;
        }
        audit::record(
            c,
            ctx,
            Entry::of(
                "cancel",
                &after,
                serde_json::json!({"status": [before, after.status]}),
            ),
        )?;
        Ok(after)
    })
}
