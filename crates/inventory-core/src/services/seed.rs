//! Demo data for trying the service and for benchmarks: categories, suppliers, locations,
//! products with supplier links, and a ledger of receipts and sales for each product.

use std::collections::BTreeMap;

use diesel::prelude::*;
use rand::{Rng, SeedableRng};

use crate::auth::Ctx;
use crate::db::{now, Db};
use crate::error::CoreResult;
use crate::schema::{categories, locations, product_suppliers, products, suppliers};
use crate::services::products::{insert_many, NewProduct};
use crate::services::stats;
use crate::services::stock::{self, Batch, BatchLine};
use crate::types::AdjustmentKind;

const CATEGORIES: usize = 50;
const SUPPLIERS: usize = 200;
const EXTRA_LOCATIONS: usize = 4;
const ADJUSTMENTS_PER_PRODUCT: usize = 10;
/// Products a transaction: enough that each round's bookings at a location fill the bulk
/// statements ([`crate::sql::BULK_BATCH`] lines), few enough that a progress line comes
/// every second or so.
const BATCH: u64 = 2048;

/// Adds `n` products (and the categories, suppliers and locations they need, once). Returns
/// the number of products created. Deterministic, so benchmark runs are comparable.
/// `progress` hears the running total after each committed batch of [`BATCH`], so a long seed
/// can show how far it is.
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
        let batch = (n - made).min(BATCH);
        // Everything random about the batch first, drawn per product in one order, so a run
        // is the same whatever the chunking below.
        let mut plans = Vec::with_capacity(batch as usize);
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
            let link = (!sup_ids.is_empty()).then(|| {
                (
                    sup_ids[rng.gen_range(0..sup_ids.len())],
                    rng.gen_range(0..500i64),
                    rng.gen_range(1..30),
                )
            });
            let loc = loc_ids[rng.gen_range(0..loc_ids.len())];
            let deltas: Vec<i64> = (0..ADJUSTMENTS_PER_PRODUCT)
                .map(|a| {
                    if a % 3 == 0 {
                        rng.gen_range(20..100)
                    } else {
                        -rng.gen_range(1..8)
                    }
                })
                .collect();
            plans.push(Plan {
                idx,
                price,
                reorder,
                link,
                loc,
                deltas,
            });
        }
        db.write(|c| write_batch(c, &ctx, &plans, cat_ids.as_slice(), t))?;
        made += batch;
        progress(made);
    }
    if made > 0 && db.backend() == crate::db::Backend::Postgres {
        // A batch's transaction updates each aggregate row hundreds of times, and no dead
        // version can be pruned before it commits, so the few hundred rows of category_stats
        // were spread over 16 MB. Every list count and the dashboard read that whole file
        // (10 ms a count, against 0.1 ms compacted); VACUUM FULL rewrites the small tables
        // compactly. Every product row was rewritten once a round as well: the plain vacuum
        // clears those dead versions, and the analyze gives the planner current statistics.
        db.read(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("VACUUM FULL category_stats, supplier_stats")?;
            c.batch_execute("VACUUM ANALYZE")?;
            Ok(())
        })?;
    }
    Ok(made)
}

/// One seeded product, drawn before anything is written.
struct Plan {
    idx: u64,
    price: i64,
    reorder: i64,
    /// (supplier, units supplied, lead time in days)
    link: Option<(i64, i64, i32)>,
    loc: i64,
    /// Signed ledger changes, receipts and sales; a sale of more than is there is left out.
    deltas: Vec<i64>,
}

/// Writes a batch of products through the service's own write paths, many rows a statement:
/// the products ([`insert_many`]), their supplier links (with what they add to the supplier
/// aggregates), then each round of ledger rows as one booking batch per location
/// ([`stock::book_batch`], the path every movement takes, with its audit entries and
/// aggregates). The stock on hand is known here (new products start at zero), so a sale the
/// stock could not cover is left out instead of refused.
fn write_batch(
    c: &mut crate::db::DbConn,
    ctx: &Ctx,
    plans: &[Plan],
    cat_ids: &[i64],
    t: chrono::NaiveDateTime,
) -> CoreResult<()> {
    let news = plans
        .iter()
        .map(|p| NewProduct {
            sku: format!("SEED-{:07}", p.idx),
            barcode: None,
            name: format!("Demo product {}", p.idx),
            description: "Seeded demo product".into(),
            category_id: cat_ids.get(p.idx as usize % cat_ids.len().max(1)).copied(),
            price_cents: p.price,
            quantity: 0,
            reorder_level: p.reorder,
            reorder_quantity: p.reorder * 2,
            unit: "pcs".into(),
            created_by: None,
            created_at: t,
            updated_at: t,
        })
        .collect();
    let rows = insert_many(c, ctx, news)?;
    let mut pending = stats::Pending::default();
    let mut links = Vec::new();
    for (row, p) in rows.iter().zip(plans) {
        let Some((supplier, supplied, lead)) = p.link else {
            continue;
        };
        links.push((
            product_suppliers::product_id.eq(row.id),
            product_suppliers::supplier_id.eq(supplier),
            product_suppliers::quantity.eq(supplied),
            product_suppliers::unit_cost_cents.eq(Some(p.price * 6 / 10)),
            product_suppliers::lead_time_days.eq(Some(lead)),
            product_suppliers::is_preferred.eq(true),
            product_suppliers::created_at.eq(t),
            product_suppliers::updated_at.eq(t),
        ));
        // The product as it stands (no stock yet), out without the link and in with it.
        let (category, price, level) = (row.category_id, row.price_cents, row.reorder_level);
        pending.add_facts(row.id, category, price, 0, level, &[], -1)?;
        pending.add_facts(
            row.id,
            category,
            price,
            0,
            level,
            &[(supplier, supplied)],
            1,
        )?;
    }
    // 8 columns a row: 500 rows stay far below either engine's bind limit.
    for chunk in links.chunks(500) {
        match c {
            crate::db::DbConn::Sqlite(s) => {
                diesel::insert_into(product_suppliers::table)
                    .values(chunk)
                    .execute(s)?;
            }
            crate::db::DbConn::Pg(pg) => {
                diesel::insert_into(product_suppliers::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
    }
    pending.flush(c)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut on_hand = vec![0i64; plans.len()];
    let rounds = plans.iter().map(|p| p.deltas.len()).max().unwrap_or(0);
    // Each round, then a last one that sells one product in fifty out.
    for round in 0..=rounds {
        let mut by_place: BTreeMap<(i64, bool), Vec<BatchLine>> = BTreeMap::new();
        for (i, p) in plans.iter().enumerate() {
            let delta = match p.deltas.get(round) {
                Some(d) => *d,
                None if round == rounds && p.idx.is_multiple_of(50) => -on_hand[i],
                None => 0,
            };
            if delta == 0 || on_hand[i] + delta < 0 {
                continue;
            }
            on_hand[i] += delta;
            by_place
                .entry((p.loc, delta > 0))
                .or_default()
                .push(BatchLine {
                    product_id: ids[i],
                    delta,
                    unit_cost: None,
                    release: 0,
                });
        }
        for ((location_id, incoming), lines) in by_place {
            let kind = if incoming {
                AdjustmentKind::Receive
            } else {
                AdjustmentKind::Sale
            };
            stock::book_batch(
                c,
                ctx,
                &Batch {
                    location_id,
                    kind,
                    reason: "seed",
                    reference: "",
                    lines: &lines,
                },
            )?;
        }
    }
    Ok(())
}
