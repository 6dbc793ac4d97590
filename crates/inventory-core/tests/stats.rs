//! The kept aggregates against a recomputation: they agree after real changes, and the check
//! notices when they do not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use inventory_core::auth::Ctx;
use inventory_core::context::Core;
use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self, ProductInput};
use inventory_core::services::stats;

mod support;

fn core() -> (Core, Ctx, std::path::PathBuf) {
    support::core("stats")
}

#[test]
fn aggregates_follow_bookings_and_the_check_catches_drift() {
    let (core, ctx, dir) = core();
    let p = products::create(
        &core,
        &ctx,
        ProductInput {
            sku: Some("S1".into()),
            name: Some("Saw".into()),
            price: Some(serde_json::json!("12.50")),
            quantity: Some(8),
            reorder_level: Some(5),
            ..ProductInput::default()
        },
    )
    .unwrap();
    ledger::create_adjustment(
        &core,
        &ctx,
        AdjustmentInput {
            product_id: p.product.id,
            location_id: None,
            kind: "sale".into(),
            quantity: 4,
            reason: String::new(),
            reference: None,
            unit_cost: None,
        },
    )
    .unwrap();
    core.db
        .read(stats::verify)
        .expect("kept aggregates match after a sale");

    core.db
        .read(|c| {
            c.batch_execute(
                "UPDATE category_stats SET quantity = quantity + 1 WHERE category_key = 0",
            )?;
            Ok(())
        })
        .unwrap();
    assert!(
        core.db.read(stats::verify).is_err(),
        "a drift must be reported"
    );
    let _ = std::fs::remove_dir_all(dir);
}

thread_local! {
    static STATEMENTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn counting() -> Option<Box<dyn diesel::connection::Instrumentation>> {
    Some(Box::new(
        |event: diesel::connection::InstrumentationEvent<'_>| {
            if matches!(
                event,
                diesel::connection::InstrumentationEvent::StartQuery { .. }
            ) {
                STATEMENTS.with(|n| n.set(n.get() + 1));
            }
        },
    ))
}

/// `n` products (`sku_prefix`0, 1, …) of `quantity` units each, all supplied by one new
/// supplier "Acme"; their ids.
fn supplied_products(
    core: &Core,
    ctx: &Ctx,
    sku_prefix: &str,
    n: usize,
    quantity: i64,
) -> Vec<i64> {
    use inventory_core::services::{catalog, links};
    let supplier = catalog::create_supplier(
        core,
        ctx,
        catalog::SupplierInput {
            name: Some(format!("Acme {sku_prefix}")),
            ..Default::default()
        },
    )
    .unwrap();
    (0..n)
        .map(|i| {
            let p = products::create(
                core,
                ctx,
                ProductInput {
                    sku: Some(format!("{sku_prefix}{i}")),
                    name: Some(format!("Product {sku_prefix}{i}")),
                    price: Some(serde_json::json!("2.00")),
                    quantity: Some(quantity),
                    ..ProductInput::default()
                },
            )
            .unwrap();
            links::create(
                core,
                ctx,
                p.product.id,
                links::LinkInput {
                    supplier_id: Some(supplier.id),
                    ..Default::default()
                },
            )
            .unwrap();
            p.product.id
        })
        .collect()
}

#[test]
fn a_product_page_costs_three_statements_however_many_links() {
    diesel::connection::set_default_instrumentation(counting).unwrap();
    let (core, ctx, dir) = core();
    supplied_products(&core, &ctx, "P", 25, 0);
    let page = inventory_core::paging::PageReq::new(Some(1), Some(20)).unwrap();
    STATEMENTS.with(|n| n.set(0));
    let listed = products::list(&core, &ctx, &products::ProductFilter::default(), page).unwrap();
    let statements = STATEMENTS.with(|n| n.get());
    assert_eq!(listed.count, 25);
    assert_eq!(listed.results.len(), 20);
    assert!(listed.results.iter().all(|p| p.suppliers.len() == 1));
    // The count (from the kept aggregates), the page (reservations are kept on the product
    // row), and every row's supplier links at once.
    assert_eq!(
        statements, 3,
        "a product page must not run one query per row"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn deep_pages_of_the_plain_list_match_offset_paging_and_follow_deletions() {
    let (core, ctx, dir) = core();
    let mut ids = Vec::new();
    for i in 0..2300 {
        let p = products::create(
            &core,
            &ctx,
            ProductInput {
                sku: Some(format!("D{i}")),
                name: Some(format!("Deep {i}")),
                price: Some(serde_json::json!(1)),
                ..ProductInput::default()
            },
        )
        .unwrap();
        ids.push(p.product.id);
    }
    let page_ids = |page: i64| -> Vec<i64> {
        let req = inventory_core::paging::PageReq::new(Some(page), Some(20)).unwrap();
        products::list_rows(&core, &ctx, &products::ProductFilter::default(), req)
            .unwrap()
            .results
            .iter()
            .map(|p| p.id)
            .collect()
    };
    // Page 60 starts at offset 1180: past the first position mark.
    assert_eq!(page_ids(60), ids[1180..1200].to_vec());
    assert_eq!(page_ids(115), ids[2280..2300].to_vec());
    // Deleting products before the page shifts it, at once.
    for id in &ids[10..15] {
        products::delete(&core, &ctx, *id).unwrap();
    }
    let mut live = ids.clone();
    live.drain(10..15);
    assert_eq!(page_ids(60), live[1180..1200].to_vec());
    assert_eq!(page_ids(115), live[2280..2295].to_vec());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn housekeeping_drops_dead_logins_and_keeps_live_ones() {
    use inventory_core::services::tokens;
    let (core, ctx, dir) = core();
    let uid = ctx.principal.as_ref().unwrap().user_id;
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
    let future = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    tokens::start_family(&core.db, uid, "fam-dead", "refresh-dead", past).unwrap();
    tokens::start_family(&core.db, uid, "fam-live", "refresh-live", future).unwrap();
    let purged = tokens::purge_expired(&core.db).unwrap();
    assert_eq!(purged, 2, "the expired refresh token and its family");
    core.db
        .read(|c| {
            assert!(tokens::user_for_access(c, uid, "some-access", "fam-live")?.is_some());
            assert!(tokens::user_for_access(c, uid, "some-access", "fam-dead")?.is_none());
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// The workspace builds SQLite with the options that keep prepared statements across binds
/// and drop needless mutexes; losing them (a changed `.cargo/config.toml`, a system SQLite)
/// would silently cost two thirds of the read throughput.
#[test]
fn sqlite_is_built_for_speed() {
    let (core, _ctx, dir) = core();
    assert_eq!(
        core.db.missing_sqlite_options().unwrap(),
        Vec::<&str>::new()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Under a steady stream of writes with readers beside them the write-ahead log stays short:
/// a passive checkpoint alone never reaches the log's end, and SQLite only rewinds a log that
/// was checkpointed to its end, so before the checkpointer learned to rewind it the log grew by
/// every write (64 KiB a sale; half a gigabyte in five seconds of a benchmark).
#[test]
fn the_write_ahead_log_stays_short_under_steady_writes_and_reads() {
    let (core, ctx, dir) = core();
    let p = products::create(
        &core,
        &ctx,
        ProductInput {
            sku: Some("W1".into()),
            name: Some("Widget".into()),
            price: Some(serde_json::json!("1.00")),
            quantity: Some(1_000_000),
            ..ProductInput::default()
        },
    )
    .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (core, ctx, stop) = (core.clone(), ctx.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    products::get(&core, &ctx, p.product.id, false).unwrap();
                }
            })
        })
        .collect();
    let wal = dir.join("t.db-wal");
    let mut largest = 0;
    for _ in 0..3000 {
        ledger::create_adjustment(
            &core,
            &ctx,
            AdjustmentInput {
                product_id: p.product.id,
                location_id: None,
                kind: "sale".into(),
                quantity: 1,
                reason: "steady".into(),
                reference: None,
                unit_cost: None,
            },
        )
        .unwrap();
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    // 3,000 sales write ~190 MiB of log pages (measured before the ledger's as-of indexes,
    // which add to each sale); rewinding keeps the file near the 16 MiB threshold plus what arrives between
    // two checkpointer rounds: 33–37 MiB on an idle machine, 52 MiB once in CI beside other
    // test binaries, since the checkpointer thread then gets less time. Half the unrewound
    // size still tells the two apart on any load.
    assert!(largest < 96 << 20, "the log reached {} MiB", largest >> 20);
    let _ = std::fs::remove_dir_all(dir);
}

/// The demo data the benchmarks run on has low-stock and sold-out products (so the low-stock
/// list is not trivially empty) and its kept aggregates agree with the base tables.
#[test]
fn seeded_data_has_low_stock_and_sold_out_products() {
    use inventory_core::services::seed;
    let (core, ctx, dir) = core();
    assert_eq!(seed::seed(&core.db, 100, &mut |_| {}).unwrap(), 100);
    let req = inventory_core::paging::PageReq::new(Some(1), Some(100)).unwrap();
    let low = products::list_rows(
        &core,
        &ctx,
        &products::ProductFilter {
            low_stock: Some(true),
            ..Default::default()
        },
        req,
    )
    .unwrap();
    assert!(low.count >= 10, "{} low-stock products", low.count);
    let sold_out = low.results.iter().filter(|p| p.quantity == 0).count();
    assert!(sold_out >= 2, "{sold_out} sold out");
    core.db.read(stats::verify).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// A seed large enough to book through the bulk statements (128 lines each) and to span two
/// of its transactions is as exact as bookings one by one: the aggregates and the ledger
/// verify, every product's average is the one its own ledger rows replay to, each receipt is
/// costed at the preferred supplier's cost, and every ledger row and product has its audit
/// entry.
#[test]
fn a_large_seed_is_as_exact_as_one_booking_at_a_time() {
    use diesel::prelude::*;
    use inventory_core::schema::{
        audit_logs, product_suppliers, products as p, stock_adjustments as sa,
    };
    use inventory_core::services::seed;
    use inventory_core::types::Cost;
    let (core, _ctx, dir) = core();
    assert_eq!(seed::seed(&core.db, 2_300, &mut |_| {}).unwrap(), 2_300);
    core.db.read(stats::verify).unwrap();
    core.db.read(stats::verify_ledger).unwrap();
    core.db
        .read(|c| {
            let rows: Vec<(i64, String, i64, i64, i64, Option<i64>)> = sa::table
                .select((
                    sa::product_id,
                    sa::kind,
                    sa::delta,
                    sa::product_quantity_after,
                    sa::unit_cost,
                    sa::average_cost_after,
                ))
                .order(sa::id)
                .load(c)?;
            assert!(rows.len() > 15_000, "{} ledger rows", rows.len());
            let costs: std::collections::HashMap<i64, Option<i64>> = product_suppliers::table
                .select((
                    product_suppliers::product_id,
                    product_suppliers::unit_cost_cents,
                ))
                .load::<(i64, Option<i64>)>(c)?
                .into_iter()
                .collect();
            let mut replayed: std::collections::HashMap<i64, Option<i64>> = Default::default();
            for (product, kind, delta, after, unit_cost, average_after) in &rows {
                let receipt = kind == "receive";
                if receipt {
                    let link = costs[product].map(|c| Cost::from_cents(c).0);
                    assert_eq!(Some(*unit_cost), link, "a receipt of product {product}");
                }
                let before = replayed.get(product).copied().flatten();
                let next = Cost::next_average(receipt, *delta, *after, *unit_cost, before);
                assert_eq!(next, *average_after, "the average after a row of {product}");
                replayed.insert(*product, next);
            }
            let averages: Vec<(i64, Option<i64>)> =
                p::table.select((p::id, p::average_cost)).load(c)?;
            assert_eq!(averages.len(), 2_300);
            for (id, average) in averages {
                assert_eq!(
                    replayed.get(&id).copied().flatten(),
                    average,
                    "product {id}"
                );
            }
            let audited: i64 = audit_logs::table
                .filter(audit_logs::object_type.eq("stock_adjustment"))
                .count()
                .get_result(c)?;
            assert_eq!(audited as usize, rows.len());
            let created: i64 = audit_logs::table
                .filter(audit_logs::object_type.eq("product"))
                .count()
                .get_result(c)?;
            assert_eq!(created, 2_300);
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// Statements run by `f`.
fn statements_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    STATEMENTS.with(|n| n.set(0));
    let out = f();
    (out, STATEMENTS.with(|n| n.get()))
}

#[test]
fn an_order_of_many_lines_costs_the_statements_of_one_line() {
    use inventory_core::services::customers::{self, CustomerInput};
    use inventory_core::services::sales::{
        self, SalesLineInput, SalesOrderInput, ShipInput, ShipLine,
    };
    diesel::connection::set_default_instrumentation(counting).unwrap();
    let (core, ctx, dir) = core();
    let ids = supplied_products(&core, &ctx, "L", 6, 100);
    let customer = customers::create(
        &core,
        &ctx,
        CustomerInput {
            name: Some("Shop".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // create, confirm and ship an order of these products; the statements of each step
    let life = |products: &[i64]| -> [usize; 3] {
        let input = SalesOrderInput {
            customer_id: Some(customer.id),
            lines: Some(
                products
                    .iter()
                    .map(|&product_id| SalesLineInput {
                        product_id,
                        quantity: 2,
                        unit_price: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        let (order, create) = statements_of(|| sales::create(&core, &ctx, input).unwrap());
        let (_, confirm) = statements_of(|| sales::confirm(&core, &ctx, order.id).unwrap());
        let ship_input = ShipInput {
            lines: products
                .iter()
                .map(|&product_id| ShipLine {
                    product_id,
                    quantity: 2,
                })
                .collect(),
            tracking: None,
        };
        let (shipped, ship) =
            statements_of(|| sales::ship(&core, &ctx, order.id, ship_input).unwrap());
        assert_eq!(shipped.status, "shipped");
        [create, confirm, ship]
    };
    let one = life(&ids[..1]);
    let three = life(&ids[1..4]);
    let two = life(&ids[4..]);
    let (_, sale) = statements_of(|| {
        ledger::create_adjustment(
            &core,
            &ctx,
            AdjustmentInput {
                product_id: ids[0],
                location_id: None,
                kind: "sale".into(),
                quantity: 1,
                reason: String::new(),
                reference: None,
                unit_cost: None,
            },
        )
        .unwrap()
    });
    eprintln!("statements (create, confirm, ship): {one:?}; a sale: {sale}");
    // Each table is written once a step whatever the number of lines; only the SQL differs.
    assert_eq!(
        one, three,
        "create, confirm, ship: 1 line {one:?}, 3 lines {three:?}"
    );
    assert_eq!(
        one, two,
        "create, confirm, ship: 1 line {one:?}, 2 lines {two:?}"
    );
    // A confirmed order, cancelled: the products' kept reservations go back with the levels'.
    let held = sales::create(
        &core,
        &ctx,
        SalesOrderInput {
            customer_id: Some(customer.id),
            lines: Some(
                ids.iter()
                    .map(|&product_id| SalesLineInput {
                        product_id,
                        quantity: 5,
                        unit_price: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        },
    )
    .unwrap();
    sales::confirm(&core, &ctx, held.id).unwrap();
    let page = products::get(&core, &ctx, ids[0], false).unwrap();
    assert_eq!(
        (page.reserved, page.available),
        (5, page.product.quantity - 5)
    );
    core.db
        .read(stats::verify_ledger)
        .expect("kept reservations match the levels while the order holds stock");
    sales::cancel(&core, &ctx, held.id).unwrap();
    core.db
        .read(stats::verify)
        .expect("kept aggregates match after the shipments");
    core.db
        .read(stats::verify_ledger)
        .expect("levels and quantities match the ledger");
    let _ = std::fs::remove_dir_all(dir);
}
