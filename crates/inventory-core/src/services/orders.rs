//! Purchase orders: draft → submitted → approved → partially_received → received, or
//! cancelled. Every transition is one conditional statement on the status; receiving books
//! `order_receipt` ledger rows, adds to the supplier link's `quantity`, and can never take a
//! line past what was ordered, even with two clerks receiving at once.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::db::{now, Core, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::paging::{PageReq, Paged};
use crate::schema::{
    product_suppliers, products, purchase_order_lines, purchase_orders, suppliers,
};
use crate::services::ledger::{bookable_location, live_product};
use crate::services::stock::{self, Booking};
use crate::services::{alerts, stats};
use crate::types::{
    bounded_text, double_option, parse_quantity, ser_money, ser_money_wide, ser_ts, Money, Role,
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
pub struct OrderFilter {
    pub status: Option<String>,
    pub supplier: Option<i64>,
}

pub const STATUSES: [&str; 6] = [
    "draft",
    "submitted",
    "approved",
    "partially_received",
    "received",
    "cancelled",
];
/// Orders that still expect goods (they keep a supplier from being deleted).
pub const OPEN: [&str; 4] = ["draft", "submitted", "approved", "partially_received"];

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

pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    ctx.read_operations()?;
    core.db.read(|c| load(c, id))
}

pub fn list(core: &Core, ctx: &Ctx, f: &OrderFilter, page: PageReq) -> CoreResult<Paged<Order>> {
    ctx.read_operations()?;
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(CoreError::validation(
                "status",
                format!("\"{s}\" is not a valid choice."),
            ));
        }
    }
    let query = || {
        let mut q = purchase_orders::table.into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(purchase_orders::status.eq(s.clone()));
        }
        if let Some(s) = f.supplier {
            q = q.filter(purchase_orders::supplier_id.eq(s));
        }
        q
    };
    core.db.read(|c| {
        let count: i64 = query().count().get_result(c)?;
        page.check_in_range(count)?;
        let orders: Vec<OrderRow> = query()
            .order(purchase_orders::id.desc())
            .limit(page.page_size)
            .offset(page.offset())
            .load(c)?;
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
        if let Err(m) = parse_quantity(l.quantity) {
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

fn entry<'a>(action: &'a str, o: &Order, changes: serde_json::Value) -> Entry<'a> {
    Entry {
        action,
        object_type: "purchase_order",
        object_id: o.id.to_string(),
        object_repr: o.number.clone(),
        changes,
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
            purchase_orders::status.eq("draft"),
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
        entry(
            "create",
            &order,
            serde_json::json!({"status": [null, "draft"], "supplier_id": [null, supplier_id], "total": [null, Money::format_wide(order.total)]}),
        ),
    )?;
    Ok(order)
}

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

/// Drafts may be edited by their creator or by a manager.
fn may_edit(ctx: &Ctx, created_by: Option<i64>) -> CoreResult<()> {
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

pub fn update(core: &Core, ctx: &Ctx, id: i64, input: OrderInput) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let notes = input
        .notes
        .as_deref()
        .map(|n| bounded_text(n.trim(), 5000).map_err(|m| CoreError::validation("notes", m)))
        .transpose()?;
    core.db.write(|c| {
        // Claim the row while it is a draft: a concurrent submit cannot slip in between.
        let claimed = diesel::update(purchase_orders::table.find(id).filter(purchase_orders::status.eq("draft")))
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
            entry(
                "update",
                &new,
                serde_json::json!({"total": [Money::format_wide(old.total), Money::format_wide(new.total)], "supplier_id": [old.supplier_id, new.supplier_id]}),
            ),
        )?;
        Ok(new)
    })
}

pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.basic_stock()?;
    core.db.write(|c| {
        let old = load(c, id)?;
        may_edit(ctx, old.created_by)?;
        let n = diesel::delete(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq("draft")),
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
            entry(
                "delete",
                &old,
                serde_json::json!({"status": [old.status, null]}),
            ),
        )?;
        Ok(())
    })
}

/// Moves an order from one of `from` to `to` in one statement, or explains why not.
fn transition(
    conn: &mut DbConn,
    id: i64,
    from: &[&str],
    to: &str,
    approved_by: Option<i64>,
) -> CoreResult<()> {
    let t = now();
    let n = match approved_by {
        Some(a) => diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(from)),
        )
        .set((
            purchase_orders::status.eq(to),
            purchase_orders::approved_by.eq(Some(a)),
            purchase_orders::updated_at.eq(t),
        ))
        .execute(conn)?,
        None => diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(from)),
        )
        .set((
            purchase_orders::status.eq(to),
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
    from: &[&str],
    to: &str,
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
            entry(action, &o, serde_json::json!({"status": [before, to]})),
        )?;
        Ok(o)
    })
}

pub fn submit(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let o = core.db.read(|c| load(c, id))?;
    may_edit(ctx, o.created_by)?;
    simple_transition(core, ctx, id, &["draft"], "submitted", "submit", None)
}

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
        &["submitted"],
        "approved",
        "approve",
        Some(p.user_id),
    )
}

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
            &["draft", "submitted", "approved"],
            "cancelled",
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
            entry(
                "cancel",
                &o,
                serde_json::json!({"status": [before.status, "cancelled"]}),
            ),
        )?;
        Ok(o)
    })
}

/// Receives goods: per line one conditional statement (`received + q <= ordered`), the ledger
/// booking, the supplier link's running quantity, then the order's new status.
pub fn receive(core: &Core, ctx: &Ctx, id: i64, input: ReceiveInput) -> CoreResult<Order> {
    ctx.basic_stock()?;
    let mut errs = Errors::default();
    if input.lines.is_empty() {
        errs.add("lines", "Say what was received: at least one line.");
    }
    let mut seen = HashSet::new();
    for (i, l) in input.lines.iter().enumerate() {
        if l.quantity <= 0 {
            errs.add(
                &format!("lines[{i}].quantity"),
                "Ensure this value is greater than 0.",
            );
        } else if let Err(m) = parse_quantity(l.quantity) {
            errs.add(&format!("lines[{i}].quantity"), m);
        }
        if !seen.insert(l.product_id) {
            errs.add(&format!("lines[{i}]"), "The same product appears twice.");
        }
    }
    errs.finish()?;
    let (order, opened) = core.db.write(|c| {
        // Claim the order first (and lock it on PostgreSQL) while it may receive goods.
        let t = now();
        let claimed = diesel::update(
            purchase_orders::table
                .find(id)
                .filter(purchase_orders::status.eq_any(["approved", "partially_received"])),
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
            let level: i64 = products::table
                .find(l.product_id)
                .select(products::reorder_level)
                .first(c)?;
            let adj = stock::book(
                c,
                ctx,
                Booking {
                    product_id: l.product_id,
                    location_id: before.location_id,
                    kind: "order_receipt",
                    delta: l.quantity,
                    reason: "Purchase order received",
                    reference: &reference,
                },
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
            if let Some(o) = alerts::after_change(
                c,
                ctx,
                l.product_id,
                adj.product_quantity_after - adj.delta,
                level,
            )? {
                opened.push(o);
            }
        }
        let outstanding: i64 = purchase_order_lines::table
            .filter(purchase_order_lines::order_id.eq(id))
            .filter(purchase_order_lines::received_quantity.lt(purchase_order_lines::quantity))
            .count()
            .get_result(c)?;
        let to = if outstanding == 0 {
            "received"
        } else {
            "partially_received"
        };
        diesel::update(purchase_orders::table.find(id))
            .set(purchase_orders::status.eq(to))
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
            entry(
                "receive",
                &after,
                serde_json::json!({"status": [before.status, to], "received": [null, received]}),
            ),
        )?;
        Ok((after, opened))
    })?;
    alerts::notify(core, &opened);
    Ok(order)
}

/// Supplier ids with open orders, for the supplier-delete guard.
pub fn supplier_has_open_orders(conn: &mut DbConn, supplier_id: i64) -> CoreResult<bool> {
    let n: i64 = purchase_orders::table
        .filter(purchase_orders::supplier_id.eq(supplier_id))
        .filter(purchase_orders::status.eq_any(OPEN))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
