//! Demo data for trying the service and for benchmarks: categories, suppliers, locations,
//! products with supplier links, and a ledger of receipts and sales for each product.

use diesel::prelude::*;
use rand::{Rng, SeedableRng};

use crate::auth::Ctx;
use crate::db::{now, Db};
use crate::error::CoreResult;
use crate::schema::{categories, locations, product_suppliers, products, suppliers};
use crate::services::products::{insert_many, NewProduct};
use crate::services::stats;
use crate::services::stock::{self, Booking};
use crate::types::AdjustmentKind;

const CATEGORIES: usize = 50;
const SUPPLIERS: usize = 200;
const EXTRA_LOCATIONS: usize = 4;
const ADJUSTMENTS_PER_PRODUCT: usize = 10;

/// Adds `n` products (and the categories, suppliers and locations they need, once). Returns
/// the number of products created. Deterministic, so benchmark runs are comparable.
/// `progress` hears the running total after each committed batch of 500, so a long seed can
/// show how far it is.
pub fn seed(db: &Db, n: u64, progress: &mut dyn FnMut(u64)) -> CoreResult<u64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let ctx = Ctx::system();
    let t = now();
    let (cat_ids, sup_ids, loc_ids) = db.write(|c| {
        let existing: i64 = categories::table
            .filter(categories::name.like("Seed category %"))
            .count()
            .get_result(c)?;
        if existing == 0 {
            for i in 0..CATEGORIES {
                diesel::insert_into(categories::table)
                    .values((
                        categories::name.eq(format!("Seed category {i:02}")),
                        categories::description.eq("Demo data"),
                        categories::created_at.eq(t),
                        categories::updated_at.eq(t),
                    ))
                    .execute(c)?;
            }
            for i in 0..SUPPLIERS {
                diesel::insert_into(suppliers::table)
                    .values((
                        suppliers::name.eq(format!("Seed supplier {i:03}")),
                        suppliers::email.eq(format!("supplier{i}@example.com")),
                        suppliers::rating.eq(Some((i % 51) as i32)),
                        suppliers::created_at.eq(t),
                        suppliers::updated_at.eq(t),
                    ))
                    .execute(c)?;
            }
            for i in 0..EXTRA_LOCATIONS {
                diesel::insert_into(locations::table)
                    .values((
                        locations::code.eq(format!("SEED{i}")),
                        locations::name.eq(format!("Seed store {i}")),
                        locations::kind.eq(if i == 0 { "warehouse" } else { "store" }),
                        locations::created_at.eq(t),
                        locations::updated_at.eq(t),
                    ))
                    .execute(c)?;
            }
        }
        let cats: Vec<i64> = categories::table
            .filter(categories::name.like("Seed category %"))
            .select(categories::id)
            .load(c)?;
        let sups: Vec<i64> = suppliers::table
            .filter(suppliers::name.like("Seed supplier %"))
            .select(suppliers::id)
            .load(c)?;
        let locs: Vec<i64> = locations::table.select(locations::id).load(c)?;
        for id in &cats {
            stats::ensure_category_row(c, *id)?;
        }
        for id in &sups {
            stats::ensure_supplier_row(c, *id)?;
        }
        Ok((cats, sups, locs))
    })?;
    let start: i64 = db.read(|c| Ok(products::table.count().get_result(c)?))?;
    let mut made = 0u64;
    while made < n {
        let batch = (n - made).min(500);
        db.write(|c| {
            // The batch's products through the one write path, many rows a statement.
            let mut news = Vec::with_capacity(batch as usize);
            let mut prices = Vec::with_capacity(batch as usize);
            for k in 0..batch {
                let idx = start as u64 + made + k;
                let price: i64 = rng.gen_range(50..50_000);
                // One product in ten sits at or below its reorder level and one in fifty is
                // sold out, so the low-stock list, alerts and the dashboard have real work.
                let reorder: i64 = if idx.is_multiple_of(10) {
                    rng.gen_range(250..400)
                } else {
                    rng.gen_range(0..40)
                };
                prices.push(price);
                news.push(NewProduct {
                    sku: format!("SEED-{idx:07}"),
                    barcode: None,
                    name: format!("Demo product {idx}"),
                    description: "Seeded demo product".into(),
                    category_id: cat_ids.get(idx as usize % cat_ids.len().max(1)).copied(),
                    price_cents: price,
                    quantity: 0,
                    reorder_level: reorder,
                    reorder_quantity: reorder * 2,
                    unit: "pcs".into(),
                    created_by: None,
                    created_at: t,
                    updated_at: t,
                });
            }
            let rows = insert_many(c, &ctx, news)?;
            for (k, row) in rows.iter().enumerate() {
                let idx = start as u64 + made + k as u64;
                let (id, price) = (row.id, prices[k]);
                if !sup_ids.is_empty() {
                    let s = sup_ids[rng.gen_range(0..sup_ids.len())];
                    stats::detach(c, id)?;
                    diesel::insert_into(product_suppliers::table)
                        .values((
                            product_suppliers::product_id.eq(id),
                            product_suppliers::supplier_id.eq(s),
                            product_suppliers::quantity.eq(rng.gen_range(0..500i64)),
                            product_suppliers::unit_cost_cents.eq(Some(price * 6 / 10)),
                            product_suppliers::lead_time_days.eq(Some(rng.gen_range(1..30))),
                            product_suppliers::is_preferred.eq(true),
                            product_suppliers::created_at.eq(t),
                            product_suppliers::updated_at.eq(t),
                        ))
                        .execute(c)?;
                    stats::attach(c, id)?;
                }
                let loc = loc_ids[rng.gen_range(0..loc_ids.len())];
                let mut on_hand = 0;
                for a in 0..ADJUSTMENTS_PER_PRODUCT {
                    let (kind, delta) = if a % 3 == 0 {
                        (AdjustmentKind::Receive, rng.gen_range(20..100))
                    } else {
                        (AdjustmentKind::Sale, -rng.gen_range(1..8))
                    };
                    let r = stock::book(
                        c,
                        &ctx,
                        Booking {
                            product_id: id,
                            location_id: loc,
                            kind,
                            delta,
                            reason: "seed",
                            reference: "",
                            unit_cost: None,
                        },
                    );
                    match r {
                        Ok(adj) => on_hand = adj.quantity_after,
                        Err(crate::CoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                if idx.is_multiple_of(50) && on_hand > 0 {
                    stock::book(
                        c,
                        &ctx,
                        Booking {
                            product_id: id,
                            location_id: loc,
                            kind: AdjustmentKind::Sale,
                            delta: -on_hand,
                            reason: "seed",
                            reference: "",
                            unit_cost: None,
                        },
                    )?;
                }
            }
            Ok(())
        })?;
        made += batch;
        progress(made);
    }
    Ok(made)
}
