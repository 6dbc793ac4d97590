//! Purchase orders: draft → submitted → approved → partially_received → received, or
//! cancelled. Every transition is one conditional statement on the status; receiving books
//! `order_receipt` ledger rows, adds to the supplier link's `quantity`, and can never take a
//! line past what was ordered, even with two clerks receiving at once.

mod flow;

pub use flow::{approve, cancel, receive, submit};

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::paging::{PageReq, Paged};
use crate::schema::{product_suppliers, purchase_order_lines, purchase_orders, suppliers};
use crate::services::ledger::{bookable_location, live_product};
use crate::services::stock::{self};
use crate::types::{
    bounded_text, double_option, ser_money, ser_money_wide, ser_ts, Money, OrderStatus, Quantity,
    Role,
};

#[derive(Debug, Clone, Queryable)]
pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub supplier_id: i64,
    pub location_id: i64,
    pub status: String,
    pub expected_date: Option<NaiveDate>,
    pub notes: String,
    pub created_by: Option<i64>,
    pub approved_by: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct LineRow {
    pub id: i64,
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub received_quantity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub product_id: i64,
    pub quantity: i64,
    #[serde(serialize_with = "ser_money")]
    #[schema(value_type = String)]
    pub unit_price: i64,
    pub received_quantity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    pub number: String,
    pub supplier_id: i64,
    pub location_id: i64,
    pub status: String,
    pub expected_date: Option<NaiveDate>,
    pub notes: String,
    pub lines: Vec<OrderLine>,
    /// Exact even where quantity × price passes 64 bits.
    #[serde(serialize_with = "ser_money_wide")]
    #[schema(value_type = String)]
    pub total: i128,
    pub created_by: Option<i64>,
    pub approved_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub product_id: i64,
    pub quantity: i64,
    #[schema(value_type = Option<String>)]
    pub unit_price: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub supplier_id: Option<i64>,
    pub location_id: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    pub expected_date: Option<Option<NaiveDate>>,
    pub notes: Option<String>,
    pub lines: Option<Vec<LineInput>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveLine {
    pub product_id: i64,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    pub lines: Vec<ReceiveLine>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub supplier: Option<i64>,
}

fn assemble(order: OrderRow, lines: Vec<LineRow>) -> Order {
    let total = lines
        .iter()
        .map(|l| i128::from(l.quantity) * i128::from(l.unit_price_cents))
        .sum();
    Order {
        id: order.id,
        number: order.number,
        supplier_id: order.supplier_id,
        location_id: order.location_id,
        status: order.status,
        expected_date: order.expected_date,
        notes: order.notes,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price_cents,
                received_quantity: l.received_quantity,
            })
            .collect(),
        total,
        created_by: order.created_by,
        approved_by: order.approved_by,
        created_at: order.created_at,
        updated_at: order.updated_at,
    }
}

fn load(conn: &mut DbConn, id: i64) -> CoreResult<Order> {
    let order: OrderRow = purchase_orders::table.find(id).first(conn)?;
    let lines: Vec<LineRow> = purchase_order_lines::table
        .filter(purchase_order_lines::order_id.eq(id))
        .order(purchase_order_lines::id)
        .load(conn)?;
    Ok(assemble(order, lines))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    ctx.read_operations()?;
    core.db.read(|c| load(c, id))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(core: &Core, ctx: &Ctx, f: &OrderFilter, page: PageReq) -> CoreResult<Paged<Order>> {
    ctx.read_operations()?;
    let status = f
        .status
        .as_deref()
        .map(|s| OrderStatus::parse_field("status", s))
        .transpose()?;
    let query = || {
        let mut q = purchase_orders::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(purchase_orders::status.eq(s.as_str()));
        }
        if let Some(s) = f.supplier {
            q = q.filter(purchase_orders::supplier_id.eq(s));
        }
        q
    };
    core.db.read(|c| {
        let Paged {
            count,
            results: orders,
        }: Paged<OrderRow> = page.load(c, query, |q| q.order(purchase_orders::id.desc()))?;
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let mut lines: BTreeMap<i64, Vec<LineRow>> = BTreeMap::new();
        let all: Vec<LineRow> = purchase_order_lines::table
            .filter(purchase_order_lines::order_id.eq_any(&ids))
            .order(purchase_order_lines::id)
            .load(c)?;
        for l in all {
            lines.entry(l.order_id).or_default().push(l);
        }
        Ok(Paged {
            count,
            results: orders
                .into_iter()
                .map(|o| {
                    let ls = lines.remove(&o.id).unwrap_or_default();
                    assemble(o, ls)
                })
                .collect(),
        })
    })
}

/// Checks lines and fills in default prices from the supplier link's `unit_cost`.
fn resolve_lines(
    conn: &mut DbConn,
    supplier_id: i64,
    lines: &[LineInput],
) -> CoreResult<Vec<(i64, i64, i64)>> {
    let mut errs = Errors::default();
    if lines.is_empty() {
        errs.add("lines", "An order needs at least one line.");
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        if !seen.insert(l.product_id) {
            errs.add(
                &field,
                "The same product appears twice; put it on one line.",
            );
            continue;
        }
        if l.quantity <= 0 {
            errs.add(
                &format!("{field}.quantity"),
                "Ensure this value is greater than 0.",
            );
            continue;
        }
        if let Err(m) = Quantity::parse(l.quantity) {
            errs.add(&format!("{field}.quantity"), m);
            continue;
        }
        if live_product(conn, l.product_id).is_err() {
            errs.add(&format!("{field}.product_id"), "No such product.");
            continue;
        }
        let price = match &l.unit_price {
            Some(v) => match Money::parse_json(v) {
                Ok(m) => m.0,
                Err(m) => {
                    errs.add(&format!("{field}.unit_price"), m);
                    continue;
                }
            },
            None => {
                let cost: Option<Option<i64>> = product_suppliers::table
                    .find((l.product_id, supplier_id))
                    .select(product_suppliers::unit_cost_cents)
                    .first(conn)
                    .optional()?;
                match cost.flatten() {
                    Some(c) => c,
                    None => {
                        errs.add(
                            &format!("{field}.unit_price"),
                            "No unit price given and the supplier link has no unit cost.",
                        );
                        continue;
                    }
                }
            }
        };
        out.push((l.product_id, l.quantity, price));
    }
    errs.finish()?;
    Ok(out)
}

fn insert_lines(conn: &mut DbConn, order_id: i64, lines: &[(i64, i64, i64)]) -> CoreResult<()> {
    for (product_id, quantity, price) in lines {
        diesel::insert_into(purchase_order_lines::table)
            .values((
                purchase_order_lines::order_id.eq(order_id),
                purchase_order_lines::product_id.eq(product_id),
                purchase_order_lines::quantity.eq(quantity),
                purchase_order_lines::unit_price_cents.eq(price),
                purchase_order_lines::received_quantity.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn active_supplier(conn: &mut DbConn, id: i64) -> CoreResult<()> {
    let active: Option<bool> = suppliers::table
        .find(id)
        .select(suppliers::is_active)
        .first(conn)
        .optional()?;
    match active {
        Some(true) => Ok(()),
        Some(false) => Err(CoreError::validation(
            "supplier_id",
            "This supplier is inactive.",
        )),
        None => Err(CoreError::validation("supplier_id", "No such supplier.")),
    }
}

/// Drafts an order on the caller's transaction; the number derives from the id, so it never
/// repeats however many orders are created at once.
pub fn draft_on(
    conn: &mut DbConn,
    ctx: &Ctx,
    supplier_id: i64,
    location_id: Option<i64>,
    expected: Option<NaiveDate>,
    notes: &str,
    lines: &[LineInput],
) -> CoreResult<Order> {
    active_supplier(conn, supplier_id)?;
    let location_id = match location_id {
        Some(l) => bookable_location(conn, Some(l)).map_err(|e| match e {
            CoreError::NotFound => CoreError::validation("location_id", "No such location."),
            other => other,
        })?,
        None => stock::default_location(conn)?,
    };
    let resolved = resolve_lines(conn, supplier_id, lines)?;
    let t = now();
    let placeholder = format!("TMP-{}", hex::encode(rand::random::<[u8; 12]>()));
    let id: i64 = diesel::insert_into(purchase_orders::table)
        .values((
            purchase_orders::number.eq(&placeholder),
            purchase_orders::supplier_id.eq(supplier_id),
            purchase_orders::location_id.eq(location_id),
            purchase_orders::status.eq(OrderStatus::Draft.as_str()),
            purchase_orders::expected_date.eq(expected),
            purchase_orders::notes.eq(notes),
            purchase_orders::created_by.eq(ctx.user_id()),
            purchase_orders::created_at.eq(t),
            purchase_orders::updated_at.eq(t),
        ))
        .returning(purchase_orders::id)
        .get_result(conn)?;
    diesel::update(purchase_orders::table.find(id))
        .set(purchase_orders::number.eq(format!("PO-{id:06}")))
        .execute(conn)?;
    insert_lines(conn, id, &resolved)?;
    let order = load(conn, id)?;
    audit::record(
        conn,
        ctx,
        Entry::of(
            "create",
            &order,
            serde_json::json!({"status": [null, OrderStatus::Draft.as_str()], "supplier_id": [null, supplier_id], "total": [null, Money::format_wide(order.total)]}),
        ),
    )?;
    Ok(order)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: OrderInput) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let Some(supplier_id) = input.supplier_id else {
        return Err(CoreError::validation(
            "supplier_id",
            "This field is required.",
        ));
    };
    let notes = bounded_text(input.notes.as_deref().unwrap_or("").trim(), 5000)
        .map_err(|m| CoreError::validation("notes", m))?;
    let lines = input.lines.unwrap_or_default();
    core.db.write(|c| {
        draft_on(
            c,
            ctx,
            supplier_id,
            input.location_id,
            input.expected_date.flatten(),
            &notes,
            &lines,
        )
    })
}

/// Who may change, submit or delete a draft: its creator, or a manager and up.
pub fn may_edit(ctx: &Ctx, created_by: Option<i64>) -> CoreResult<()> {
    let p = ctx.basic_stock()?;
    if p.is_superuser
        || matches!(p.role, Role::Manager | Role::Admin)
        || created_by == Some(p.user_id)
    {
        Ok(())
    } else {
        Err(CoreError::forbidden(
            "permission_denied",
            "Only the creator or a manager may change this order.",
        ))
    }
}

fn not_draft(status: &str) -> CoreError {
    CoreError::conflict(
        "invalid_transition",
        format!("The order is {status}; only a draft can be changed."),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update(core: &Core, ctx: &Ctx, id: i64, input: OrderInput) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let notes = input
        .notes
        .as_deref()
        .map(|n| bounded_text(n.trim(), 5000).map_err(|m| CoreError::validation("notes", m)))
        .transpose()?;
    core.db.write(|c| {
        // Claim the row while it is a draft: a concurrent submit cannot slip in between.
        let claimed = diesel::update(purchase_orders::table.find(id).filter(purchase_orders::status.eq(OrderStatus::Draft.as_str())))
            .set(purchase_orders::updated_at.eq(now()))
            .execute(c)?;
        let old = load(c, id)?;
        if claimed == 0 {
            return Err(not_draft(&old.status));
        }
        may_edit(ctx, old.created_by)?;
        let supplier_id = input.supplier_id.unwrap_or(old.supplier_id);
        if input.supplier_id.is_some() {
            active_supplier(c, supplier_id)?;
        }
        let location_id = match input.location_id {
            Some(l) => bookable_location(c, Some(l)).map_err(|e| match e {
                CoreError::NotFound => CoreError::validation("location_id", "No such location."),
                other => other,
            })?,
            None => old.location_id,
        };
        diesel::update(purchase_orders::table.find(id))
            .set((
                purchase_orders::supplier_id.eq(supplier_id),
                purchase_orders::location_id.eq(location_id),
                purchase_orders::expected_date.eq(input.expected_date.unwrap_or(old.expected_date)),
                purchase_orders::notes.eq(notes.clone().unwrap_or(old.notes.clone())),
            ))
            .execute(c)?;
        if let Some(lines) = &input.lines {
            let resolved = resolve_lines(c, supplier_id, lines)?;
            diesel::delete(purchase_order_lines::table.filter(purchase_order_lines::order_id.eq(id))).execute(c)?;
            insert_lines(c, id, &resolved)?;
        }
        let new = load(c, id)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "update",
                &new,
                serde_json::json!({"total": [Money::format_wide(old.total), Money::format_wide(new.total)], "supplier_id": [old.supplier_id, new.supplier_id]}),
            ),
        )?;
        Ok(new)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.basic_stock()?;
    core.db.write(|c| {
        let old = load(c, id)?;
        may_edit(ctx, old.created_by)?;
        let n = diesel::delete(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq(OrderStatus::Draft.as_str())),
        )
        .execute(c)?;
        if n == 0 {
            return Err(not_draft(&old.status));
        }
        diesel::delete(purchase_order_lines::table.filter(purchase_order_lines::order_id.eq(id)))
            .execute(c)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "delete",
                &old,
                serde_json::json!({"status": [old.status, null]}),
            ),
        )?;
        Ok(())
    })
}

/// Supplier ids with open orders, for the supplier-delete guard.
pub fn supplier_has_open_orders(conn: &mut DbConn, supplier_id: i64) -> CoreResult<bool> {
    let n: i64 = purchase_orders::table
        .filter(purchase_orders::supplier_id.eq(supplier_id))
        .filter(purchase_orders::status.eq_any(OrderStatus::strs(&OrderStatus::OPEN)))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
