//! Sales orders: draft → confirmed → partially_shipped → shipped, or cancelled. Confirming
//! reserves every line at the order's location in one transaction (all lines or none);
//! shipping books `shipment` ledger rows that consume the reservation; cancelling releases it.
//! Every move is a conditional statement, so racing requests can never reserve, ship or
//! release more than there is.

mod flow;
mod returns;

pub use flow::{cancel, confirm, ship, ShipInput, ShipLine};
pub use returns::{list_returns, take_return, ReturnInput, ReturnLine, SalesReturn};

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::paging::{PageReq, Paged};
use crate::schema::{customers, sales_order_lines, sales_orders};
use crate::services::ledger::bookable_location;
use crate::sql::{batch, keys, rows, Vals, MAX_BATCH};
use crate::types::SalesStatus;
use crate::types::{bounded_text, ser_money, ser_money_wide, ser_ts, Money, Quantity, Role};

#[derive(Debug, Clone, Queryable, QueryableByName)]
#[diesel(table_name = sales_orders)]
pub struct SalesRow {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub location_id: i64,
    pub status: String,
    pub reference: String,
    pub notes: String,
    pub tracking: String,
    pub created_by: Option<i64>,
    pub confirmed_by: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct SalesLineRow {
    pub id: i64,
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub reserved_quantity: i64,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesLine {
    pub product_id: i64,
    pub quantity: i64,
    #[serde(serialize_with = "ser_money")]
    #[schema(value_type = String)]
    pub unit_price: i64,
    /// What this line holds at the order's location now (confirmed and not yet shipped).
    pub reserved_quantity: i64,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesOrder {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub location_id: i64,
    pub status: String,
    pub reference: String,
    pub notes: String,
    pub tracking: String,
    pub lines: Vec<SalesLine>,
    /// Σ quantity × unit price, exact even past 64 bits.
    #[serde(serialize_with = "ser_money_wide")]
    #[schema(value_type = String)]
    pub total: i128,
    pub created_by: Option<i64>,
    pub confirmed_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesLineInput {
    pub product_id: i64,
    /// Units, > 0.
    pub quantity: i64,
    /// Defaults to the product's price.
    #[schema(value_type = Option<String>)]
    pub unit_price: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesOrderInput {
    pub customer_id: Option<i64>,
    /// Where the goods are reserved and shipped from; the default location if left out.
    pub location_id: Option<i64>,
    pub reference: Option<String>,
    pub notes: Option<String>,
    /// At least one line; a product at most once. On PATCH, replaces every line.
    pub lines: Option<Vec<SalesLineInput>>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesFilter {
    pub status: Option<String>,
    pub customer: Option<i64>,
    /// Orders with a line of this product.
    pub product: Option<i64>,
}

pub(super) fn assemble(order: SalesRow, lines: Vec<SalesLineRow>) -> SalesOrder {
    let total = lines
        .iter()
        .map(|l| i128::from(l.quantity) * i128::from(l.unit_price_cents))
        .sum();
    SalesOrder {
        id: order.id,
        number: order.number,
        customer_id: order.customer_id,
        location_id: order.location_id,
        status: order.status,
        reference: order.reference,
        notes: order.notes,
        tracking: order.tracking,
        lines: lines
            .into_iter()
            .map(|l| SalesLine {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price_cents,
                reserved_quantity: l.reserved_quantity,
                shipped_quantity: l.shipped_quantity,
                returned_quantity: l.returned_quantity,
            })
            .collect(),
        total,
        created_by: order.created_by,
        confirmed_by: order.confirmed_by,
        created_at: order.created_at,
        updated_at: order.updated_at,
    }
}

impl SalesOrder {
    /// A shipment or return may name only the order's products: 400 on each line that does not.
    pub(crate) fn all_on_order(&self, products: impl Iterator<Item = i64>) -> CoreResult<()> {
        let mut unknown = Errors::default();
        for (i, p) in products.enumerate() {
            if !self.lines.iter().any(|x| x.product_id == p) {
                unknown.add(
                    &format!("lines[{i}].product_id"),
                    format!("Product {p} is not on this order."),
                );
            }
        }
        unknown.finish()
    }
}

pub(crate) fn load(conn: &mut DbConn, id: i64) -> CoreResult<SalesOrder> {
    let order: SalesRow = sales_orders::table.find(id).first(conn)?;
    Ok(assemble(order, lines_of(conn, id)?))
}

/// The lines of order `id`, in the order they were written.
pub(super) fn lines_of(conn: &mut DbConn, id: i64) -> CoreResult<Vec<SalesLineRow>> {
    Ok(sales_order_lines::table
        .filter(sales_order_lines::order_id.eq(id))
        .order(sales_order_lines::id)
        .load(conn)?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<SalesOrder> {
    ctx.read_operations()?;
    core.db.read(|c| load(c, id))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    f: &SalesFilter,
    page: PageReq,
) -> CoreResult<Paged<SalesOrder>> {
    ctx.read_operations()?;
    let status = f
        .status
        .as_deref()
        .map(|s| SalesStatus::parse_field("status", s))
        .transpose()?;
    let query = || {
        let mut q = sales_orders::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(sales_orders::status.eq(s.as_str()));
        }
        if let Some(c) = f.customer {
            q = q.filter(sales_orders::customer_id.eq(c));
        }
        if let Some(p) = f.product {
            q = q.filter(
                sales_orders::id.eq_any(
                    sales_order_lines::table
                        .filter(sales_order_lines::product_id.eq(p))
                        .select(sales_order_lines::order_id),
                ),
            );
        }
        q
    };
    core.db.read(|c| {
        let Paged {
            count,
            results: orders,
        }: Paged<SalesRow> = page.load(c, query, |q| q.order(sales_orders::id.desc()))?;
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let mut lines: BTreeMap<i64, Vec<SalesLineRow>> = BTreeMap::new();
        let all: Vec<SalesLineRow> = sales_order_lines::table
            .filter(sales_order_lines::order_id.eq_any(&ids))
            .order(sales_order_lines::id)
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

/// Checks the lines of a body (every problem at once) and fills in default prices; the
/// products named are read in one statement.
fn resolve_lines(conn: &mut DbConn, lines: &[SalesLineInput]) -> CoreResult<Vec<(i64, i64, i64)>> {
    let mut errs = Errors::default();
    if lines.is_empty() {
        errs.add("lines", "An order needs at least one line.");
    }
    let ids: Vec<i64> = lines.iter().map(|l| l.product_id).collect();
    let mut prices: Vec<Price> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        for p in chunk {
            vals.int(*p);
        }
        prices.extend(
            batch(
                "sales.prices",
                chunk.len(),
                |n| {
                    format!(
                        "SELECT id, price_cents FROM products WHERE id IN ({}) \
                         AND deleted_at IS NULL",
                        keys(n, 1, 1, 0)
                    )
                },
                vals,
            )?
            .load::<Price>(conn)?,
        );
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
        let Some(list_price) = prices
            .iter()
            .find(|p| p.id == l.product_id)
            .map(|p| p.price_cents)
        else {
            errs.add(&format!("{field}.product_id"), "No such product.");
            continue;
        };
        let price = match &l.unit_price {
            Some(v) => match Money::parse_json(v) {
                Ok(m) => m.0,
                Err(m) => {
                    errs.add(&format!("{field}.unit_price"), m);
                    continue;
                }
            },
            None => list_price,
        };
        out.push((l.product_id, l.quantity, price));
    }
    errs.finish()?;
    Ok(out)
}

/// A product's id and list price, for an order line that names no price.
#[derive(QueryableByName)]
struct Price {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    price_cents: i64,
}

/// Writes an order's lines, one kept statement per [`MAX_BATCH`] lines.
fn insert_lines(conn: &mut DbConn, order_id: i64, lines: &[(i64, i64, i64)]) -> CoreResult<()> {
    for chunk in lines.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        vals.int(order_id);
        for (product_id, quantity, price) in chunk {
            vals.int(*product_id).int(*quantity).int(*price);
        }
        batch(
            "sales.lines",
            chunk.len(),
            |n| {
                format!(
                    "INSERT INTO sales_order_lines (order_id, product_id, quantity, \
                     unit_price_cents) VALUES {}",
                    rows(n, 2, 3, |f| format!("$1, ${f}, ${}, ${}", f + 1, f + 2))
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    Ok(())
}

/// An existing, active customer, or the field error saying why not.
fn active_customer(conn: &mut DbConn, id: i64) -> CoreResult<()> {
    let active: Option<bool> = customers::table
        .find(id)
        .select(customers::is_active)
        .first(conn)
        .optional()?;
    match active {
        Some(true) => Ok(()),
        Some(false) => Err(CoreError::validation(
            "customer_id",
            "This customer is inactive.",
        )),
        None => Err(CoreError::validation("customer_id", "No such customer.")),
    }
}

pub(super) fn order_location(conn: &mut DbConn, id: Option<i64>) -> CoreResult<i64> {
    bookable_location(conn, id).map_err(|e| match e {
        CoreError::NotFound => CoreError::validation("location_id", "No such location."),
        other => other,
    })
}

fn text(field: &str, v: Option<&str>, max: usize) -> CoreResult<Option<String>> {
    v.map(|s| bounded_text(s.trim(), max).map_err(|m| CoreError::validation(field, m)))
        .transpose()
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: SalesOrderInput) -> CoreResult<SalesOrder> {
    ctx.sell()?;
    let Some(customer_id) = input.customer_id else {
        return Err(CoreError::validation(
            "customer_id",
            "This field is required.",
        ));
    };
    let reference = text("reference", input.reference.as_deref(), 200)?.unwrap_or_default();
    let notes = text("notes", input.notes.as_deref(), 5000)?.unwrap_or_default();
    let lines = input.lines.unwrap_or_default();
    core.db.write(|c| {
        active_customer(c, customer_id)?;
        let location_id = order_location(c, input.location_id)?;
        let resolved = resolve_lines(c, &lines)?;
        let t = now();
        let placeholder = format!("TMP-{}", hex::encode(rand::random::<[u8; 12]>()));
        let row: SalesRow = diesel::insert_into(sales_orders::table)
            .values((
                sales_orders::number.eq(&placeholder),
                sales_orders::customer_id.eq(customer_id),
                sales_orders::location_id.eq(location_id),
                sales_orders::status.eq(SalesStatus::Draft.as_str()),
                sales_orders::reference.eq(&reference),
                sales_orders::notes.eq(&notes),
                sales_orders::created_by.eq(ctx.user_id()),
                sales_orders::created_at.eq(t),
                sales_orders::updated_at.eq(t),
            ))
            .returning(sales_orders::all_columns)
            .get_result(c)?;
        // The number derives from the id, so it never repeats however many are made at once.
        let id = row.id;
        let number = format!("SO-{id:06}");
        diesel::update(sales_orders::table.find(id))
            .set(sales_orders::number.eq(&number))
            .execute(c)?;
        insert_lines(c, id, &resolved)?;
        // Written just now, so known without reading it back.
        let lines = resolved
            .iter()
            .map(|&(product_id, quantity, unit_price_cents)| SalesLineRow {
                id: 0,
                order_id: id,
                product_id,
                quantity,
                unit_price_cents,
                reserved_quantity: 0,
                shipped_quantity: 0,
                returned_quantity: 0,
            })
            .collect();
        let order = assemble(SalesRow { number, ..row }, lines);
        audit::record(
            c,
            ctx,
            Entry::of(
                "create",
                &order,
                serde_json::json!({"status": [null, order.status], "customer_id": [null, customer_id], "total": [null, Money::format_wide(order.total)]}),
            ),
        )?;
        Ok(order)
    })
}

/// Who may change or delete a draft: its creator, or a manager and up.
pub(crate) fn may_edit(ctx: &Ctx, created_by: Option<i64>) -> CoreResult<()> {
    let p = ctx.sell()?;
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
pub fn update(core: &Core, ctx: &Ctx, id: i64, input: SalesOrderInput) -> CoreResult<SalesOrder> {
    ctx.sell()?;
    let reference = text("reference", input.reference.as_deref(), 200)?;
    let notes = text("notes", input.notes.as_deref(), 5000)?;
    core.db.write(|c| {
        // Claim the row while it is a draft: a concurrent confirm cannot slip in between.
        let claimed = diesel::update(
            sales_orders::table
                .find(id)
                .filter(sales_orders::status.eq(SalesStatus::Draft.as_str())),
        )
        .set(sales_orders::updated_at.eq(now()))
        .execute(c)?;
        let old = load(c, id)?;
        if claimed == 0 {
            return Err(not_draft(&old.status));
        }
        may_edit(ctx, old.created_by)?;
        let customer_id = input.customer_id.or(old.customer_id);
        if let Some(id) = input.customer_id {
            active_customer(c, id)?;
        }
        let location_id = match input.location_id {
            Some(l) => order_location(c, Some(l))?,
            None => old.location_id,
        };
        diesel::update(sales_orders::table.find(id))
            .set((
                sales_orders::customer_id.eq(customer_id),
                sales_orders::location_id.eq(location_id),
                sales_orders::reference.eq(reference.clone().unwrap_or(old.reference.clone())),
                sales_orders::notes.eq(notes.clone().unwrap_or(old.notes.clone())),
            ))
            .execute(c)?;
        if let Some(lines) = &input.lines {
            let resolved = resolve_lines(c, lines)?;
            diesel::delete(sales_order_lines::table.filter(sales_order_lines::order_id.eq(id)))
                .execute(c)?;
            insert_lines(c, id, &resolved)?;
        }
        let new = load(c, id)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "update",
                &new,
                serde_json::json!({"total": [Money::format_wide(old.total), Money::format_wide(new.total)], "customer_id": [old.customer_id, new.customer_id], "location_id": [old.location_id, new.location_id]}),
            ),
        )?;
        Ok(new)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.sell()?;
    core.db.write(|c| {
        let old = load(c, id)?;
        may_edit(ctx, old.created_by)?;
        let n = diesel::delete(
            sales_orders::table
                .find(id)
                .filter(sales_orders::status.eq(SalesStatus::Draft.as_str())),
        )
        .execute(c)?;
        if n == 0 {
            return Err(not_draft(&old.status));
        }
        diesel::delete(sales_order_lines::table.filter(sales_order_lines::order_id.eq(id)))
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

/// Whether a customer has an order still in progress (not shipped or cancelled), for the
/// customer-delete guard.
pub fn customer_has_open_orders(conn: &mut DbConn, customer_id: i64) -> CoreResult<bool> {
    let n: i64 = sales_orders::table
        .filter(sales_orders::customer_id.eq(customer_id))
        .filter(sales_orders::status.eq_any(SalesStatus::strs(&[
            SalesStatus::Draft,
            SalesStatus::Confirmed,
            SalesStatus::PartiallyShipped,
        ])))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
