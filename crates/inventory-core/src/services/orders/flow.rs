//! An order's way from submitted to received or cancelled: each move one conditional
//! statement (or explains why not), receipts booked on the ledger line by line.

use super::{load, may_edit, Order, ReceiveInput};

use diesel::prelude::*;

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::schema::{product_suppliers, purchase_order_lines, purchase_orders};
use crate::services::stock::{self, Booking};
use crate::services::webhooks::outbox;
use crate::services::{alerts, stats};
use crate::types::{AdjustmentKind, Cost};
use crate::types::{OrderStatus, WebhookEvent};

/// Moves an order from one of `from` to `to` in one statement, or explains why not.
fn transition(
    conn: &mut DbConn,
    id: i64,
    from: &[OrderStatus],
    to: OrderStatus,
    approved_by: Option<i64>,
) -> CoreResult<()> {
    let t = now();
    let n = match approved_by {
        Some(a) => diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(OrderStatus::strs(from))),
        )
        .set((
            purchase_orders::status.eq(to.as_str()),
            purchase_orders::approved_by.eq(Some(a)),
            purchase_orders::updated_at.eq(t),
        ))
        .execute(conn)?,
        None => diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(OrderStatus::strs(from))),
        )
        .set((
            purchase_orders::status.eq(to.as_str()),
            purchase_orders::updated_at.eq(t),
        ))
        .execute(conn)?,
    };
    if n == 1 {
        return Ok(());
    }
    let status: Option<String> = purchase_orders::table
        .find(id)
        .select(purchase_orders::status)
        .first(conn)
        .optional()?;
    match status {
        None => Err(CoreError::NotFound),
        Some(s) => Err(CoreError::conflict(
            "invalid_transition",
            format!("The order is {s}; it cannot become {to}."),
        )),
    }
}

fn simple_transition(
    core: &Core,
    ctx: &Ctx,
    id: i64,
    from: &[OrderStatus],
    to: OrderStatus,
    action: &str,
    approved_by: Option<i64>,
) -> CoreResult<Order> {
    core.db.write(|c| {
        let before: String = purchase_orders::table
            .find(id)
            .select(purchase_orders::status)
            .first(c)?;
        transition(c, id, from, to, approved_by)?;
        let o = load(c, id)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                action,
                &o,
                serde_json::json!({"status": [before, to.as_str()]}),
            ),
        )?;
        Ok(o)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn submit(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let o = core.db.read(|c| load(c, id))?;
    may_edit(ctx, o.created_by)?;
    simple_transition(
        core,
        ctx,
        id,
        &[OrderStatus::Draft],
        OrderStatus::Submitted,
        "submit",
        None,
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn approve(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    let p = ctx.manager_stock()?.clone();
    let o = core.db.read(|c| load(c, id))?;
    if o.created_by == Some(p.user_id) && !p.is_superuser {
        return Err(CoreError::forbidden(
            "self_approval",
            "You cannot approve an order you created.",
        ));
    }
    simple_transition(
        core,
        ctx,
        id,
        &[OrderStatus::Submitted],
        OrderStatus::Approved,
        "approve",
        Some(p.user_id),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn cancel(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    ctx.manager_stock()?;
    core.db.write(|c| {
        let before = load(c, id)?;
        if before.lines.iter().any(|l| l.received_quantity > 0) {
            return Err(CoreError::conflict(
                "invalid_transition",
                "Goods were received on this order; it cannot be cancelled.",
            ));
        }
        transition(
            c,
            id,
            &[
                OrderStatus::Draft,
                OrderStatus::Submitted,
                OrderStatus::Approved,
            ],
            OrderStatus::Cancelled,
            None,
        )?;
        // A receipt may have landed between the check and the transition on another instance.
        let received: i64 = purchase_order_lines::table
            .filter(purchase_order_lines::order_id.eq(id))
            .filter(purchase_order_lines::received_quantity.gt(0))
            .count()
            .get_result(c)?;
        if received > 0 {
            return Err(CoreError::conflict(
                "invalid_transition",
                "Goods were received on this order; it cannot be cancelled.",
            ));
        }
        let o = load(c, id)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "cancel",
                &o,
                serde_json::json!({"status": [before.status, OrderStatus::Cancelled.as_str()]}),
            ),
        )?;
        Ok(o)
    })
}

/// Receives goods: per line one conditional statement (`received + q <= ordered`), the ledger
/// booking, the supplier link's running quantity, then the order's new status.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn receive(core: &Core, ctx: &Ctx, id: i64, input: ReceiveInput) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let mut errs = Errors::default();
    crate::services::check_moved_lines(
        &mut errs,
        input.lines.iter().map(|l| (l.product_id, l.quantity)),
        "Say what was received: at least one line.",
    );
    errs.finish()?;
    let (order, opened) = core.db.write(|c| {
        // Claim the order first (and lock it on PostgreSQL) while it may receive goods.
        let t = now();
        let claimed = diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(OrderStatus::strs(&[
                    OrderStatus::Approved,
                    OrderStatus::PartiallyReceived,
                ]))),
        )
        .set(purchase_orders::updated_at.eq(t))
        .execute(c)?;
        let before = load(c, id)?;
        if claimed == 0 {
            return Err(CoreError::conflict(
                "invalid_transition",
                format!(
                    "The order is {}; only an approved order can receive goods.",
                    before.status
                ),
            ));
        }
        let reference = before.number.clone();
        let mut opened = Vec::new();
        for l in &input.lines {
            let Some(line) = before.lines.iter().find(|x| x.product_id == l.product_id) else {
                return Err(CoreError::validation(
                    "lines",
                    format!("Product {} is not on this order.", l.product_id),
                ));
            };
            let n = diesel::update(
                purchase_order_lines::table
                    .filter(purchase_order_lines::order_id.eq(id))
                    .filter(purchase_order_lines::product_id.eq(l.product_id))
                    .filter(
                        (purchase_order_lines::received_quantity + l.quantity)
                            .le(purchase_order_lines::quantity),
                    ),
            )
            .set(
                purchase_order_lines::received_quantity
                    .eq(purchase_order_lines::received_quantity + l.quantity),
            )
            .execute(c)?;
            if n == 0 {
                return Err(CoreError::conflict(
                    "over_receipt",
                    format!(
                        "Product {}: {} ordered, {} already received; {} more is too many.",
                        l.product_id, line.quantity, line.received_quantity, l.quantity
                    ),
                ));
            }
            let booked = stock::book_full(
                c,
                ctx,
                Booking {
                    product_id: l.product_id,
                    location_id: before.location_id,
                    kind: AdjustmentKind::OrderReceipt,
                    delta: l.quantity,
                    reason: "Purchase order received",
                    reference: &reference,
                    unit_cost: Some(Cost::from_cents(line.unit_price).0),
                },
                0,
            )?;
            stats::detach(c, l.product_id)?;
            let linked =
                diesel::update(product_suppliers::table.find((l.product_id, before.supplier_id)))
                    .set((
                        product_suppliers::quantity.eq(product_suppliers::quantity + l.quantity),
                        product_suppliers::updated_at.eq(t),
                    ))
                    .execute(c)?;
            if linked == 0 {
                diesel::insert_into(product_suppliers::table)
                    .values((
                        product_suppliers::product_id.eq(l.product_id),
                        product_suppliers::supplier_id.eq(before.supplier_id),
                        product_suppliers::quantity.eq(l.quantity),
                        product_suppliers::unit_cost_cents.eq(Some(line.unit_price)),
                        product_suppliers::is_preferred.eq(false),
                        product_suppliers::created_by.eq(ctx.user_id()),
                        product_suppliers::created_at.eq(t),
                        product_suppliers::updated_at.eq(t),
                    ))
                    .execute(c)?;
            }
            stats::attach(c, l.product_id)?;
            if let Some(o) = alerts::after_booking(c, ctx, &booked)? {
                opened.push(o);
            }
        }
        let outstanding: i64 = purchase_order_lines::table
            .filter(purchase_order_lines::order_id.eq(id))
            .filter(purchase_order_lines::received_quantity.lt(purchase_order_lines::quantity))
            .count()
            .get_result(c)?;
        let to = if outstanding == 0 {
            OrderStatus::Received
        } else {
            OrderStatus::PartiallyReceived
        };
        diesel::update(purchase_orders::table.find(id))
            .set(purchase_orders::status.eq(to.as_str()))
            .execute(c)?;
        let after = load(c, id)?;
        let received: serde_json::Map<String, serde_json::Value> = input
            .lines
            .iter()
            .map(|l| {
                (
                    format!("product_{}", l.product_id),
                    serde_json::json!(l.quantity),
                )
            })
            .collect();
        audit::record(
            c,
            ctx,
            Entry::of(
                "receive",
                &after,
                serde_json::json!({"status": [before.status, to.as_str()], "received": [null, received]}),
            ),
        )?;
        outbox::emit_all(
            c,
            &[outbox::Event::about(WebhookEvent::OrderReceived, &after)?],
        )?;
        Ok((after, opened))
    })?;
    alerts::notify(core, &opened);
    Ok(order)
}
