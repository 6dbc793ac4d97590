//! Product–supplier links: the "through" rows of the many-to-many, with their own data.

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{LinkRow, LinkView, Product};
use crate::schema::{product_suppliers, products, suppliers};
use crate::services::stats;
use crate::types::{bounded_text, double_option, Money, Quantity};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// Required when creating; ignored (must match) when updating.
    pub supplier_id: Option<i64>,
    pub quantity: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit_cost: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "double_option")]
    pub lead_time_days: Option<Option<i32>>,
    pub contract_ref: Option<String>,
    pub is_preferred: Option<bool>,
}

#[derive(QueryableByName)]
struct NamedLink {
    #[diesel(embed)]
    link: LinkRow,
    #[diesel(sql_type = diesel::sql_types::Text)]
    supplier_name: String,
}

/// All links of the given products, with supplier names, in one query (no N+1 in lists).
pub fn links_for(conn: &mut DbConn, product_ids: &[i64]) -> CoreResult<Vec<LinkView>> {
    if product_ids.is_empty() {
        return Ok(vec![]);
    }
    // The ids travel as one JSON array, so a page of any size is the same statement and its
    // prepared form is kept (diesel's `eq_any` writes one placeholder per id and is
    // re-prepared on every call).
    const SQLITE: &str = "SELECT ps.*, s.name AS supplier_name FROM product_suppliers ps \
        JOIN suppliers s ON s.id = ps.supplier_id \
        WHERE ps.product_id IN (SELECT value FROM json_each($1)) \
        ORDER BY ps.product_id, ps.supplier_id";
    const POSTGRES: &str = "SELECT ps.*, s.name AS supplier_name FROM product_suppliers ps \
        JOIN suppliers s ON s.id = ps.supplier_id \
        WHERE ps.product_id = ANY(CAST($1 AS BIGINT[])) \
        ORDER BY ps.product_id, ps.supplier_id";
    // PostgreSQL estimates a set-returning function at 100 rows and planned a hash semi-join
    // over a scan of the whole link table (4.5 ms at 20,000 links, growing with the catalogue);
    // `= ANY(array)` walks the primary key. The array travels as its text form `{1,2,3}`, so
    // the one text bind serves both engines.
    let (sql, ids) = match conn {
        DbConn::Sqlite(_) => (
            SQLITE,
            serde_json::to_string(product_ids)
                .map_err(|e| CoreError::Internal(format!("cannot encode ids: {e}")))?,
        ),
        DbConn::Pg(_) => (POSTGRES, pg_array(product_ids)),
    };
    let rows: Vec<NamedLink> = crate::sql::query(sql)
        .bind::<diesel::sql_types::Text, _>(ids)
        .load(conn)?;
    // Sorted by supplier name here rather than in SQL, so the query walks the primary key in
    // order with no sort step.
    let mut links: Vec<LinkView> = rows
        .into_iter()
        .map(|r| LinkView::new(r.link, r.supplier_name))
        .collect();
    links.sort_by(|a, b| {
        (a.product_id, &a.supplier_name, a.supplier_id).cmp(&(
            b.product_id,
            &b.supplier_name,
            b.supplier_id,
        ))
    });
    Ok(links)
}

/// The text form of a PostgreSQL `bigint[]`.
fn pg_array(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push('}');
    out
}

fn live_product(conn: &mut DbConn, id: i64) -> CoreResult<Product> {
    Ok(products::table
        .find(id)
        .filter(products::deleted_at.is_null())
        .first(conn)?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_for_product(core: &Core, ctx: &Ctx, product_id: i64) -> CoreResult<Vec<LinkView>> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        live_product(c, product_id)?;
        links_for(c, &[product_id])
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn get(core: &Core, ctx: &Ctx, product_id: i64, supplier_id: i64) -> CoreResult<LinkView> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        live_product(c, product_id)?;
        view(c, product_id, supplier_id)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_for_supplier(core: &Core, ctx: &Ctx, supplier_id: i64) -> CoreResult<Vec<LinkView>> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let name: String = suppliers::table
            .find(supplier_id)
            .select(suppliers::name)
            .first(c)?;
        let rows: Vec<LinkRow> = product_suppliers::table
            .inner_join(products::table)
            .filter(product_suppliers::supplier_id.eq(supplier_id))
            .filter(products::deleted_at.is_null())
            .select(product_suppliers::all_columns)
            .order(product_suppliers::product_id)
            .load(c)?;
        Ok(rows
            .into_iter()
            .map(|r| LinkView::new(r, name.clone()))
            .collect())
    })
}

struct LinkFields {
    quantity: Option<i64>,
    unit_cost: Option<Option<i64>>,
    lead_time_days: Option<Option<i32>>,
    contract_ref: Option<String>,
}

fn validate(input: &LinkInput) -> CoreResult<LinkFields> {
    let mut errs = Errors::default();
    let quantity = input
        .quantity
        .and_then(|q| errs.take("quantity", Quantity::parse(q).map(Quantity::get)));
    let unit_cost = match &input.unit_cost {
        Some(Some(v)) => errs
            .take("unit_cost", Money::parse_json(v).map(|m| m.0))
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let lead_time_days = match input.lead_time_days {
        Some(Some(d)) if !(0..=3650).contains(&d) => {
            errs.add("lead_time_days", "Ensure this value is between 0 and 3650.");
            None
        }
        other => other,
    };
    let contract_ref = input
        .contract_ref
        .as_deref()
        .and_then(|s| errs.take("contract_ref", bounded_text(s.trim(), 200)));
    errs.finish()?;
    Ok(LinkFields {
        quantity,
        unit_cost,
        lead_time_days,
        contract_ref,
    })
}

fn view(conn: &mut DbConn, product_id: i64, supplier_id: i64) -> CoreResult<LinkView> {
    let (r, n): (LinkRow, String) = product_suppliers::table
        .inner_join(suppliers::table)
        .filter(product_suppliers::product_id.eq(product_id))
        .filter(product_suppliers::supplier_id.eq(supplier_id))
        .select((product_suppliers::all_columns, suppliers::name))
        .first(conn)?;
    Ok(LinkView::new(r, n))
}

/// Keeps at most one preferred supplier a product: setting one unsets the others.
fn unset_other_preferred(conn: &mut DbConn, product_id: i64, supplier_id: i64) -> CoreResult<()> {
    diesel::update(
        product_suppliers::table
            .filter(product_suppliers::product_id.eq(product_id))
            .filter(product_suppliers::supplier_id.ne(supplier_id))
            .filter(product_suppliers::is_preferred.eq(true)),
    )
    .set(product_suppliers::is_preferred.eq(false))
    .execute(conn)?;
    Ok(())
}

fn link_entry<'a>(action: &'a str, product: &Product, supplier_id: i64, ch: Changes) -> Entry<'a> {
    Entry {
        action,
        object_type: "product_supplier",
        object_id: format!("{}:{}", product.id, supplier_id),
        object_repr: format!("{} ← supplier {}", product.sku, supplier_id),
        changes: ch.into_value(),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, product_id: i64, input: LinkInput) -> CoreResult<LinkView> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let product = live_product(c, product_id)?;
        ctx.modify_catalog(product.created_by)?;
        create_on(c, ctx, &product, &input)
    })
}

/// Links a supplier to `product` on the caller's transaction (the product's own permission
/// already checked): the link, the aggregates and the audit entry.
pub fn create_on(
    c: &mut DbConn,
    ctx: &Ctx,
    product: &Product,
    input: &LinkInput,
) -> CoreResult<LinkView> {
    let v = validate(input)?;
    let Some(supplier_id) = input.supplier_id else {
        return Err(CoreError::validation(
            "supplier_id",
            "This field is required.",
        ));
    };
    let product_id = product.id;
    let exists: Option<i64> = suppliers::table
        .find(supplier_id)
        .select(suppliers::id)
        .first(c)
        .optional()?;
    if exists.is_none() {
        return Err(CoreError::validation("supplier_id", "No such supplier."));
    }
    let preferred = input.is_preferred.unwrap_or(false);
    if preferred {
        unset_other_preferred(c, product_id, supplier_id)?;
    }
    let t = now();
    stats::detach(c, product_id)?;
    diesel::insert_into(product_suppliers::table)
        .values((
            product_suppliers::product_id.eq(product_id),
            product_suppliers::supplier_id.eq(supplier_id),
            product_suppliers::quantity.eq(v.quantity.unwrap_or(0)),
            product_suppliers::unit_cost_cents.eq(v.unit_cost.flatten()),
            product_suppliers::lead_time_days.eq(v.lead_time_days.flatten()),
            product_suppliers::contract_ref.eq(v.contract_ref.clone().unwrap_or_default()),
            product_suppliers::is_preferred.eq(preferred),
            product_suppliers::created_by.eq(ctx.user_id()),
            product_suppliers::created_at.eq(t),
            product_suppliers::updated_at.eq(t),
        ))
        .execute(c)?;
    stats::attach(c, product_id)?;
    let link = view(c, product_id, supplier_id)?;
    let mut ch = Changes::new();
    ch.set("supplier_id", &supplier_id);
    ch.set("quantity", &link.quantity);
    ch.set("unit_cost", &link.unit_cost.map(Money::format));
    ch.set("lead_time_days", &link.lead_time_days);
    ch.set("is_preferred", &link.is_preferred);
    audit::record(c, ctx, link_entry("create", product, supplier_id, ch))?;
    Ok(link)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn update(
    core: &Core,
    ctx: &Ctx,
    product_id: i64,
    supplier_id: i64,
    input: LinkInput,
) -> CoreResult<LinkView> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let product = live_product(c, product_id)?;
        ctx.modify_catalog(product.created_by)?;
        update_on(c, ctx, &product, supplier_id, &input)
    })
}

/// Changes the link of `product` to `supplier_id` on the caller's transaction; an audit entry
/// only when something changed.
pub fn update_on(
    c: &mut DbConn,
    ctx: &Ctx,
    product: &Product,
    supplier_id: i64,
    input: &LinkInput,
) -> CoreResult<LinkView> {
    let v = validate(input)?;
    if input.supplier_id.is_some_and(|s| s != supplier_id) {
        return Err(CoreError::validation(
            "supplier_id",
            "The supplier of a link cannot change.",
        ));
    }
    let product_id = product.id;
    let old = view(c, product_id, supplier_id)?;
    if input.is_preferred == Some(true) {
        unset_other_preferred(c, product_id, supplier_id)?;
    }
    stats::detach(c, product_id)?;
    diesel::update(
        product_suppliers::table
            .filter(product_suppliers::product_id.eq(product_id))
            .filter(product_suppliers::supplier_id.eq(supplier_id)),
    )
    .set((
        product_suppliers::quantity.eq(v.quantity.unwrap_or(old.quantity)),
        product_suppliers::unit_cost_cents.eq(v.unit_cost.unwrap_or(old.unit_cost)),
        product_suppliers::lead_time_days.eq(v.lead_time_days.unwrap_or(old.lead_time_days)),
        product_suppliers::contract_ref
            .eq(v.contract_ref.clone().unwrap_or(old.contract_ref.clone())),
        product_suppliers::is_preferred.eq(input.is_preferred.unwrap_or(old.is_preferred)),
        product_suppliers::updated_at.eq(now()),
    ))
    .execute(c)?;
    stats::attach(c, product_id)?;
    let link = view(c, product_id, supplier_id)?;
    let mut ch = Changes::new();
    ch.diff("quantity", &old.quantity, &link.quantity);
    ch.diff(
        "unit_cost",
        &old.unit_cost.map(Money::format),
        &link.unit_cost.map(Money::format),
    );
    ch.diff("lead_time_days", &old.lead_time_days, &link.lead_time_days);
    ch.diff("contract_ref", &old.contract_ref, &link.contract_ref);
    ch.diff("is_preferred", &old.is_preferred, &link.is_preferred);
    if !ch.is_empty() {
        audit::record(c, ctx, link_entry("update", product, supplier_id, ch))?;
    }
    Ok(link)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn delete(core: &Core, ctx: &Ctx, product_id: i64, supplier_id: i64) -> CoreResult<()> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let product = live_product(c, product_id)?;
        ctx.modify_catalog(product.created_by)?;
        delete_on(c, ctx, &product, supplier_id)
    })
}

/// Unlinks on the caller's transaction.
pub fn delete_on(c: &mut DbConn, ctx: &Ctx, product: &Product, supplier_id: i64) -> CoreResult<()> {
    let product_id = product.id;
    let old = view(c, product_id, supplier_id)?;
    stats::detach(c, product_id)?;
    diesel::delete(
        product_suppliers::table
            .filter(product_suppliers::product_id.eq(product_id))
            .filter(product_suppliers::supplier_id.eq(supplier_id)),
    )
    .execute(c)?;
    stats::attach(c, product_id)?;
    let mut ch = Changes::new();
    ch.diff("supplier_id", &Some(supplier_id), &None);
    ch.diff("quantity", &Some(old.quantity), &None);
    audit::record(c, ctx, link_entry("delete", product, supplier_id, ch))?;
    Ok(())
}

/// Makes the product's links exactly `wanted` (API.md §3 nested writes): missing ones are
/// removed, new ones created, others changed, on the caller's transaction. A problem in any
/// row is a 400 under `suppliers` naming the row, and (the caller's transaction failing)
/// nothing is saved.
pub fn replace_on(
    c: &mut DbConn,
    ctx: &Ctx,
    product: &Product,
    wanted: &[LinkInput],
) -> CoreResult<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, w) in wanted.iter().enumerate() {
        match w.supplier_id {
            None => return Err(row_error(i, "supplier_id", "This field is required.")),
            Some(s) if !seen.insert(s) => {
                return Err(row_error(
                    i,
                    "supplier_id",
                    "This supplier is listed twice.",
                ))
            }
            Some(_) => {}
        }
    }
    let current: Vec<i64> = product_suppliers::table
        .filter(product_suppliers::product_id.eq(product.id))
        .select(product_suppliers::supplier_id)
        .load(c)?;
    for s in &current {
        if !seen.contains(s) {
            delete_on(c, ctx, product, *s)?;
        }
    }
    // Preferred links last, so "at most one preferred" settles on the one the list names.
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|i| wanted[*i].is_preferred == Some(true));
    for i in order {
        let w = &wanted[i];
        let Some(s) = w.supplier_id else { continue };
        let r = if current.contains(&s) {
            update_on(c, ctx, product, s, w).map(|_| ())
        } else {
            create_on(c, ctx, product, w).map(|_| ())
        };
        r.map_err(|e| in_row(i, e))?;
    }
    Ok(())
}

fn row_error(i: usize, field: &str, msg: &str) -> CoreError {
    CoreError::validation("suppliers", format!("row {}: {field}: {msg}", i + 1))
}

/// A row's error as the `suppliers` field's, naming the row.
fn in_row(i: usize, e: CoreError) -> CoreError {
    match e {
        CoreError::Validation { errors, .. } | CoreError::Conflict { errors, .. }
            if !errors.is_empty() =>
        {
            let msgs = errors
                .into_iter()
                .flat_map(|(f, m)| {
                    m.into_iter()
                        .map(move |m| format!("row {}: {f}: {m}", i + 1))
                })
                .collect();
            let mut out = crate::error::FieldErrors::new();
            out.insert("suppliers".into(), msgs);
            CoreError::from_fields(out)
        }
        CoreError::Conflict { detail, .. } => {
            CoreError::validation("suppliers", format!("row {}: {detail}", i + 1))
        }
        other => other,
    }
}
