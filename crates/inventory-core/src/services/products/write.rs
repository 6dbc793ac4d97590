//! The one write path of products. A product is created from a checked [`NewProduct`] and
//! changed by a [`ProductChanges`], always through [`Writes`], which keeps the aggregates and
//! writes the audit entries in the caller's transaction, many rows at a time when there are
//! many (a CSV import of 100,000 rows, `seed`), one when there is one (the API, the staff
//! site). Validation turns the API's JSON input into those typed values first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::input::{check_category, validate, validate_new, ProductInput};
use super::with_links;
use crate::audit::{self, Changes, Entry, NewEntry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::models::{Product, ProductView};
use crate::schema::products;
use crate::services::stock::{self, Booking};
use crate::services::webhooks::outbox;
use crate::services::{alerts, stats};
use crate::types::{AdjustmentKind, WebhookEvent};
use crate::types::{Money, Quantity};

/// A checked product to insert. An empty `sku` asks for a generated one (`SKU-000042`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = products, treat_none_as_default_value = false)]
pub struct NewProduct {
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: String,
    pub category_id: Option<i64>,
    pub price_cents: i64,
    pub quantity: i64,
    pub reorder_level: i64,
    pub reorder_quantity: i64,
    pub unit: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A checked change: `None` leaves a column as it is.
#[derive(Debug, Default, Clone)]
pub struct ProductChanges {
    pub sku: Option<String>,
    pub barcode: Option<Option<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<Option<i64>>,
    pub price_cents: Option<i64>,
    pub reorder_level: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub unit: Option<String>,
}

impl ProductChanges {
    /// The row as it would be after the change.
    fn applied(&self, old: &Product) -> Product {
        Product {
            sku: self.sku.clone().unwrap_or_else(|| old.sku.clone()),
            barcode: self.barcode.clone().unwrap_or_else(|| old.barcode.clone()),
            name: self.name.clone().unwrap_or_else(|| old.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| old.description.clone()),
            category_id: self.category_id.unwrap_or(old.category_id),
            price_cents: self.price_cents.unwrap_or(old.price_cents),
            reorder_level: self.reorder_level.unwrap_or(old.reorder_level),
            reorder_quantity: self.reorder_quantity.unwrap_or(old.reorder_quantity),
            unit: self.unit.clone().unwrap_or_else(|| old.unit.clone()),
            ..old.clone()
        }
    }
}

/// The audit changes between two versions of a product (or of a new one).
fn product_changes(old: Option<&Product>, new: &Product) -> Changes {
    let mut ch = Changes::new();
    macro_rules! field {
        ($name:literal, $f:ident) => {
            match old {
                Some(o) => ch.diff($name, &o.$f, &new.$f),
                None => ch.set($name, &new.$f),
            }
        };
    }
    field!("sku", sku);
    field!("barcode", barcode);
    field!("name", name);
    field!("description", description);
    field!("category_id", category_id);
    match old {
        Some(o) => ch.diff(
            "price",
            &Money::format(o.price_cents),
            &Money::format(new.price_cents),
        ),
        None => ch.set("price", &Money::format(new.price_cents)),
    }
    field!("reorder_level", reorder_level);
    field!("reorder_quantity", reorder_quantity);
    field!("unit", unit);
    ch
}

/// A unit of product writes on one transaction: rows inserted and changed as they come, the
/// aggregates and audit entries they cause gathered and written by [`Writes::finish`], so a
/// bulk change touches each shared aggregate row once, at its end.
#[derive(Default)]
pub struct Writes {
    pending: stats::Pending,
    audit: Vec<NewEntry>,
    /// The webhook events the changes raise, written to the outbox with them.
    events: Vec<outbox::Event>,
    /// A product whose creation or deletion changed the set of live products (cached list
    /// positions must be rebuilt), if any did.
    live_set_changed: Option<i64>,
}

impl Writes {
    pub fn new() -> Writes {
        Writes::default()
    }

    /// Inserts checked products (multi-row statements), returning them in the given order.
    pub fn insert(
        &mut self,
        c: &mut DbConn,
        ctx: &Ctx,
        mut rows: Vec<NewProduct>,
    ) -> CoreResult<Vec<Product>> {
        let generate: Vec<bool> = rows.iter().map(|r| r.sku.trim().is_empty()).collect();
        for (r, g) in rows.iter_mut().zip(&generate) {
            if *g {
                // A placeholder no one else can hold, renamed once the id is known.
                r.sku = format!("~pending-{}", hex::encode(rand::random::<[u8; 8]>()));
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        // 13 columns a row: 500 rows stay far below either engine's bind limit.
        for chunk in rows.chunks(500) {
            let mut done: Vec<Product> = match c {
                DbConn::Sqlite(s) => diesel::insert_into(products::table)
                    .values(chunk)
                    .returning(products::all_columns)
                    .get_results(s)?,
                DbConn::Pg(p) => diesel::insert_into(products::table)
                    .values(chunk)
                    .returning(products::all_columns)
                    .get_results(p)?,
            };
            // RETURNING gives the rows in insertion order on both engines; make sure.
            done.sort_by_key(|p| p.id);
            out.extend(done);
        }
        for (row, g) in out.iter_mut().zip(generate) {
            if g {
                *row = generated_sku(c, row.clone())?;
            }
        }
        for row in &out {
            self.pending.add_facts(
                row.id,
                row.category_id,
                row.price_cents,
                row.quantity,
                row.reorder_level,
                &[],
                1,
            )?;
            self.audit.push(NewEntry::by(
                ctx,
                Entry::of("create", row, product_changes(None, row)),
            ));
            self.events
                .push(outbox::Event::about(WebhookEvent::ProductCreated, row)?);
        }
        if let Some(first) = out.first() {
            self.live_set_changed = Some(first.id);
        }
        Ok(out)
    }

    /// Applies a change to the live product `old` (as read in this transaction, or before it:
    /// a product changed since is refused with `NotFound`). `None` when nothing changes.
    pub fn change(
        &mut self,
        c: &mut DbConn,
        ctx: &Ctx,
        old: &Product,
        ch: &ProductChanges,
    ) -> CoreResult<Option<Product>> {
        let target = ch.applied(old);
        let diff = product_changes(Some(old), &target);
        if diff.is_empty() {
            return Ok(None);
        }
        let row: Product = diesel::update(
            products::table
                .find(old.id)
                .filter(products::deleted_at.is_null())
                .filter(products::updated_at.eq(old.updated_at)),
        )
        .set((
            products::sku.eq(&target.sku),
            products::barcode.eq(&target.barcode),
            products::name.eq(&target.name),
            products::description.eq(&target.description),
            products::category_id.eq(target.category_id),
            products::price_cents.eq(target.price_cents),
            products::reorder_level.eq(target.reorder_level),
            products::reorder_quantity.eq(target.reorder_quantity),
            products::unit.eq(&target.unit),
            products::updated_at.eq(now()),
        ))
        .returning(products::all_columns)
        .get_result(c)?;
        // The update matched `old`'s version (`updated_at`, which every booking moves too), so
        // `old` is what the aggregates hold for it: out with it, in with the new row.
        let links = product_links(c, old.id)?;
        self.pending.add_facts(
            old.id,
            old.category_id,
            old.price_cents,
            old.quantity,
            old.reorder_level,
            &links,
            -1,
        )?;
        self.pending.add_facts(
            row.id,
            row.category_id,
            row.price_cents,
            row.quantity,
            row.reorder_level,
            &links,
            1,
        )?;
        self.audit
            .push(NewEntry::by(ctx, Entry::of("update", &row, diff)));
        self.events
            .push(outbox::Event::about(WebhookEvent::ProductUpdated, &row)?);
        Ok(Some(row))
    }

    /// Soft-deletes the live product `old`: it leaves every list, keeps its history, and its
    /// SKU and barcode become free.
    pub fn delete(&mut self, c: &mut DbConn, ctx: &Ctx, old: &Product) -> CoreResult<()> {
        self.pending.add(c, old.id, -1)?;
        let t = now();
        let n = diesel::update(
            products::table
                .find(old.id)
                .filter(products::deleted_at.is_null()),
        )
        .set((
            products::deleted_at.eq(t),
            products::deleted_by.eq(ctx.user_id()),
            products::updated_at.eq(t),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(CoreError::NotFound);
        }
        let mut ch = Changes::new();
        ch.diff(
            "deleted_at",
            &None::<String>,
            &Some(crate::types::fmt_ts(&t)),
        );
        self.audit
            .push(NewEntry::by(ctx, Entry::of("delete", old, ch)));
        self.events
            .push(outbox::Event::about(WebhookEvent::ProductDeleted, old)?);
        self.live_set_changed = Some(old.id);
        Ok(())
    }

    /// Writes what the changes caused: the aggregates (each touched row once), the audit
    /// entries, and the new version of the live product set when it changed.
    pub fn finish(self, c: &mut DbConn, ctx: &Ctx) -> CoreResult<()> {
        self.pending.flush(c)?;
        audit::record_many(c, ctx, &self.audit)?;
        outbox::emit_all(c, &self.events)?;
        if let Some(product_id) = self.live_set_changed {
            crate::positions::bump_live_set(c, product_id)?;
        }
        Ok(())
    }
}

/// (supplier id, units supplied) of a product's links.
fn product_links(c: &mut DbConn, product_id: i64) -> CoreResult<Vec<(i64, i64)>> {
    use crate::schema::product_suppliers;
    Ok(product_suppliers::table
        .filter(product_suppliers::product_id.eq(product_id))
        .select((product_suppliers::supplier_id, product_suppliers::quantity))
        .load(c)?)
}

/// Gives a product created without a SKU its generated one, `SKU-` and its id in six digits
/// (more when the id needs them); should a live product already hold that, a suffix.
fn generated_sku(c: &mut DbConn, row: Product) -> CoreResult<Product> {
    let base = format!("SKU-{:06}", row.id);
    let mut sku = base.clone();
    let mut n = 1;
    loop {
        let taken: Option<i64> = products::table
            .filter(products::sku.eq(&sku))
            .filter(products::deleted_at.is_null())
            .select(products::id)
            .first(c)
            .optional()?;
        if taken.is_none() {
            break;
        }
        n += 1;
        sku = format!("{base}-{n}");
    }
    Ok(diesel::update(products::table.find(row.id))
        .set(products::sku.eq(sku))
        .returning(products::all_columns)
        .get_result(c)?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: ProductInput) -> CoreResult<ProductView> {
    let principal = ctx.create_catalog()?.clone();
    let (v, name, price) = validate_new(&input)?;
    let category_id = input.category_id.flatten();
    core.db.write(|c| {
        check_category(c, category_id)?;
        let location_id = match input.location_id {
            Some(l) => stock::active_location(c, l)?,
            None => stock::default_location(c)?,
        };
        let t = now();
        let mut w = Writes::new();
        let row = w
            .insert(
                c,
                ctx,
                vec![NewProduct {
                    // No SKU given: an empty one asks `Writes::insert` to generate it.
                    sku: v.sku.clone().map(String::from).unwrap_or_default(),
                    barcode: v.barcode.clone().flatten().map(String::from),
                    name,
                    description: v.description.clone().unwrap_or_default(),
                    category_id,
                    price_cents: price,
                    quantity: 0,
                    reorder_level: v.reorder_level.map_or(0, Quantity::get),
                    reorder_quantity: v.reorder_quantity.map_or(0, Quantity::get),
                    unit: v.unit.clone().unwrap_or_else(|| "pcs".into()),
                    created_by: Some(principal.user_id),
                    created_at: t,
                    updated_at: t,
                }],
            )?
            .remove(0);
        w.finish(c, ctx)?;
        if let Some(links) = &input.suppliers {
            crate::services::links::replace_on(c, ctx, &row, links)?;
        }
        let qty = v.quantity.map_or(0, Quantity::get);
        let row = if qty > 0 {
            let booked = stock::book_full(
                c,
                ctx,
                Booking {
                    product_id: row.id,
                    location_id,
                    kind: AdjustmentKind::Receive,
                    delta: qty,
                    reason: "Initial quantity",
                    reference: "",
                    unit_cost: None,
                },
                0,
            )?;
            Product {
                quantity: booked.row.product_quantity_after,
                updated_at: booked.row.created_at,
                average_cost: booked.average_cost,
                ..row
            }
        } else {
            row
        };
        Ok(with_links(c, vec![row])?.remove(0))
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update(core: &Core, ctx: &Ctx, id: i64, input: ProductInput) -> CoreResult<ProductView> {
    ctx.create_catalog()?;
    let v = validate(&input)?;
    let (view, opened) = core.db.write(|c| {
        // Touch the row first: on PostgreSQL this takes its lock, so the quantity read below
        // cannot go stale before the correction is booked.
        let touched = diesel::update(
            products::table
                .find(id)
                .filter(products::deleted_at.is_null()),
        )
        .set(products::updated_at.eq(now()))
        .execute(c)?;
        if touched == 0 {
            return Err(CoreError::NotFound);
        }
        let old: Product = products::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        if let Some(cat) = input.category_id {
            check_category(c, cat)?;
        }
        let changes = ProductChanges {
            sku: v.sku.clone().map(String::from),
            barcode: v.barcode.clone().map(|b| b.map(String::from)),
            name: v.name.clone(),
            description: v.description.clone(),
            category_id: input.category_id,
            price_cents: v.price,
            reorder_level: v.reorder_level.map(Quantity::get),
            reorder_quantity: v.reorder_quantity.map(Quantity::get),
            unit: v.unit.clone(),
        };
        let mut w = Writes::new();
        let row = w
            .change(c, ctx, &old, &changes)?
            .unwrap_or_else(|| old.clone());
        w.finish(c, ctx)?;
        if let Some(links) = &input.suppliers {
            crate::services::links::replace_on(c, ctx, &row, links)?;
        }
        let row = match v.quantity.map(Quantity::get) {
            Some(q) if q != row.quantity => {
                let location_id = stock::default_location(c)?;
                let booked = stock::book_full(
                    c,
                    ctx,
                    Booking {
                        product_id: id,
                        location_id,
                        kind: AdjustmentKind::Correction,
                        delta: q - row.quantity,
                        reason: "Quantity edited on the product",
                        reference: "",
                        unit_cost: None,
                    },
                    0,
                )?;
                Product {
                    quantity: booked.row.product_quantity_after,
                    average_cost: booked.average_cost,
                    ..row
                }
            }
            _ => row,
        };
        let opened = if row.quantity != old.quantity || row.reorder_level != old.reorder_level {
            alerts::after_change(c, ctx, id, old.quantity, old.reorder_level)?
        } else {
            None
        };
        Ok((with_links(c, vec![row])?.remove(0), opened))
    })?;
    alerts::notify(core, opened.as_slice());
    Ok(view)
}

/// Soft delete: the row stays for history; SKU and barcode become free again.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let old: Product = products::table
            .find(id)
            .filter(products::deleted_at.is_null())
            .first(c)?;
        ctx.modify_catalog(old.created_by)?;
        let mut w = Writes::new();
        w.delete(c, ctx, &old)?;
        w.finish(c, ctx)
    })
}

/// Inserts checked products and writes their aggregates and audit entries, on the caller's
/// transaction (bulk creators: the CSV import, `seed`).
pub fn insert_many(c: &mut DbConn, ctx: &Ctx, rows: Vec<NewProduct>) -> CoreResult<Vec<Product>> {
    let mut w = Writes::new();
    let out = w.insert(c, ctx, rows)?;
    w.finish(c, ctx)?;
    Ok(out)
}
