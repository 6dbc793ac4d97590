//! Returns against a shipped (or partly shipped) sales order: never more than was shipped
//! and not yet returned, per line one conditional statement; with `restock` the goods come
//! back into stock through `return` ledger rows.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::load;
use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::schema::{sales_order_lines, sales_orders, sales_return_lines, sales_returns};
use crate::services::alerts;
use crate::services::stock::{self, Booking};
use crate::types::{required_text, ser_ts, AdjustmentKind, Role, SalesStatus};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    pub product_id: i64,
    /// Units, > 0, at most what was shipped and not yet returned.
    pub quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub lines: Vec<ReturnLine>,
    /// Where restocked goods go; the order's location if left out.
    pub location_id: Option<i64>,
    /// Why the goods came back (1–500 characters).
    pub reason: Option<String>,
    /// Book the goods back into stock (default); `false` only records them (damaged goods).
    pub restock: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesReturn {
    pub id: i64,
    pub order_id: i64,
    pub lines: Vec<ReturnLine>,
    pub restock: bool,
    pub reason: String,
    pub location_id: i64,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Queryable)]
struct ReturnRow {
    id: i64,
    order_id: i64,
    location_id: i64,
    restock: bool,
    reason: String,
    created_by: Option<i64>,
    created_at: chrono::NaiveDateTime,
}

fn assemble(r: ReturnRow, lines: Vec<ReturnLine>) -> SalesReturn {
    SalesReturn {
        id: r.id,
        order_id: r.order_id,
        lines,
        restock: r.restock,
        reason: r.reason,
        location_id: r.location_id,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

fn load_returns(conn: &mut DbConn, order_id: i64) -> CoreResult<Vec<SalesReturn>> {
    let rows: Vec<ReturnRow> = sales_returns::table
        .filter(sales_returns::order_id.eq(order_id))
        .order(sales_returns::id)
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut lines: BTreeMap<i64, Vec<ReturnLine>> = BTreeMap::new();
    let all: Vec<(i64, i64, i64)> = sales_return_lines::table
        .filter(sales_return_lines::return_id.eq_any(&ids))
        .order(sales_return_lines::id)
        .select((
            sales_return_lines::return_id,
            sales_return_lines::product_id,
            sales_return_lines::quantity,
        ))
        .load(conn)?;
    for (return_id, product_id, quantity) in all {
        lines.entry(return_id).or_default().push(ReturnLine {
            product_id,
            quantity,
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let ls = lines.remove(&r.id).unwrap_or_default();
            assemble(r, ls)
        })
        .collect())
}

/// The returns of one order, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = order_id))]
pub fn list_returns(core: &Core, ctx: &Ctx, order_id: i64) -> CoreResult<Vec<SalesReturn>> {
    ctx.read_operations()?;
    core.db.read(|c| {
        sales_orders::table
            .find(order_id)
            .select(sales_orders::id)
            .first::<i64>(c)?;
        load_returns(c, order_id)
    })
}

/// Takes goods back on a shipped or partly shipped order. Managers and up.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = order_id))]
pub fn take_return(
    core: &Core,
    ctx: &Ctx,
    order_id: i64,
    input: ReturnInput,
) -> CoreResult<SalesReturn> {
    ctx.require(&[Role::Manager, Role::Admin])?;
    let mut errs = Errors::default();
    crate::services::check_moved_lines(
        &mut errs,
        input.lines.iter().map(|l| (l.product_id, l.quantity)),
        "Say what came back: at least one line.",
    );
    let reason = match input.reason.as_deref() {
        Some(r) => errs.take("reason", required_text(r, 500)),
        None => {
            errs.add("reason", "This field is required.");
            None
        }
    };
    errs.finish()?;
    let reason = reason.unwrap_or_default();
    let restock = input.restock.unwrap_or(true);
    core.db.write(|c| {
        // Claim the order while it has shipped goods (and lock it on PostgreSQL).
        let claimed = diesel::update(
            sales_orders::table
                .find(order_id)
                .filter(sales_orders::status.eq_any(SalesStatus::strs(&[
                    SalesStatus::PartiallyShipped,
                    SalesStatus::Shipped,
                ]))),
        )
        .set(sales_orders::updated_at.eq(now()))
        .execute(c)?;
        let order = load(c, order_id)?;
        if claimed == 0 {
            return Err(CoreError::conflict(
                "invalid_transition",
                format!(
                    "The order is {}; only shipped goods can come back.",
                    order.status
                ),
            ));
        }
        let location_id = match input.location_id {
            Some(l) => super::order_location(c, Some(l))?,
            None => order.location_id,
        };
        order.all_on_order(input.lines.iter().map(|l| l.product_id))?;
        let t = now();
        let return_id: i64 = diesel::insert_into(sales_returns::table)
            .values((
                sales_returns::order_id.eq(order_id),
                sales_returns::location_id.eq(location_id),
                sales_returns::restock.eq(restock),
                sales_returns::reason.eq(&reason),
                sales_returns::created_by.eq(ctx.user_id()),
                sales_returns::created_at.eq(t),
            ))
            .returning(sales_returns::id)
            .get_result(c)?;
        for l in &input.lines {
            let n = diesel::update(
                sales_order_lines::table
                    .filter(sales_order_lines::order_id.eq(order_id))
                    .filter(sales_order_lines::product_id.eq(l.product_id))
                    .filter(
                        (sales_order_lines::returned_quantity + l.quantity)
                            .le(sales_order_lines::shipped_quantity),
                    ),
            )
            .set(
                sales_order_lines::returned_quantity
                    .eq(sales_order_lines::returned_quantity + l.quantity),
            )
            .execute(c)?;
            if n == 0 {
                let line = order.lines.iter().find(|x| x.product_id == l.product_id);
                let (shipped, returned) =
                    line.map_or((0, 0), |x| (x.shipped_quantity, x.returned_quantity));
                return Err(CoreError::conflict(
                    "over_return",
                    format!(
                        "Product {}: {shipped} shipped, {returned} already returned; {} more is too many.",
                        l.product_id, l.quantity
                    ),
                ));
            }
            diesel::insert_into(sales_return_lines::table)
                .values((
                    sales_return_lines::return_id.eq(return_id),
                    sales_return_lines::product_id.eq(l.product_id),
                    sales_return_lines::quantity.eq(l.quantity),
                ))
                .execute(c)?;
            if restock {
                let booked = stock::book_full(
                    c,
                    ctx,
                    Booking {
                        product_id: l.product_id,
                        location_id,
                        kind: AdjustmentKind::Return,
                        delta: l.quantity,
                        reason: &reason,
                        reference: &order.number,
                        unit_cost: None,
                    },
                    0,
                )?;
                // Stock coming back can lift the product above its reorder level: its
                // low-stock alert resolves (an incoming movement never opens one).
                alerts::after_booking(c, ctx, &booked)?;
            }
        }
        let returned: serde_json::Map<String, serde_json::Value> = input
            .lines
            .iter()
            .map(|l| (format!("product_{}", l.product_id), serde_json::json!(l.quantity)))
            .collect();
        let after = load(c, order_id)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "return",
                &after,
                serde_json::json!({"returned": [null, returned], "restock": [null, restock], "reason": [null, reason]}),
            ),
        )?;
        let mut all = load_returns(c, order_id)?;
        all.retain(|r| r.id == return_id);
        all.pop().ok_or(CoreError::NotFound)
    })
}
