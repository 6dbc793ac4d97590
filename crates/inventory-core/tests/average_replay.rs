//! The average cost after each ledger row, filled in at start-up for rows booked before the
//! ledger kept it: the replay must write exactly what bookings write themselves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use inventory_core::db::Db;
use inventory_core::schema::{products, stock_adjustments as sa};
use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self as catalog, ProductInput};

mod support;

fn averages(db: &Db) -> Vec<(i64, Option<i64>)> {
    db.read(|c| {
        Ok(sa::table
            .order(sa::id)
            .select((sa::id, sa::average_cost_after))
            .load(c)?)
    })
    .unwrap()
}

#[test]
fn replayed_averages_equal_the_booked_ones() {
    let (core, ctx, dir) = support::core("average-replay");
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let mut ids = vec![];
    for (sku, price) in [("R1", "9.00"), ("R2", "4.50")] {
        let p = catalog::create(
            &core,
            &ctx,
            ProductInput {
                sku: Some(sku.into()),
                name: Some(format!("Replay {sku}")),
                price: Some(serde_json::json!(price)),
                quantity: Some(3),
                ..ProductInput::default()
            },
        )
        .unwrap();
        ids.push(p.product.id);
    }
    let moves: [(&str, i64, Option<&str>); 8] = [
        ("receive", 10, Some("2.0000")),
        ("receive", 5, Some("3.3333")),
        ("sale", 4, None),
        ("receive", 7, Some("1.0001")),
        ("correction", 2, None),
        ("loss", 1, None),
        ("receive", 3, None),
        ("audit", 0, None),
    ];
    for product_id in &ids {
        for (kind, quantity, cost) in moves {
            ledger::create_adjustment(
                &core,
                &ctx,
                AdjustmentInput {
                    product_id: *product_id,
                    location_id: None,
                    kind: kind.into(),
                    quantity,
                    reason: "replay".into(),
                    reference: None,
                    unit_cost: cost.map(|c| serde_json::json!(c)),
                },
            )
            .unwrap();
        }
    }
    let booked = averages(&core.db);
    assert!(booked.len() >= 2 * 8, "every move booked a row: {booked:?}");
    let distinct: std::collections::BTreeSet<Option<i64>> =
        booked.iter().map(|(_, a)| *a).collect();
    assert!(
        distinct.len() >= 5,
        "the receipts moved the average several times: {distinct:?}"
    );
    // Each product's last row carries the product's own average.
    for product_id in &ids {
        let (last, own): (Option<i64>, Option<i64>) = core
            .db
            .read(|c| {
                let last = sa::table
                    .filter(sa::product_id.eq(product_id))
                    .order(sa::id.desc())
                    .select(sa::average_cost_after)
                    .first(c)?;
                let own = products::table
                    .find(product_id)
                    .select(products::average_cost)
                    .first(c)?;
                Ok((last, own))
            })
            .unwrap();
        assert_eq!(last, own, "product {product_id}");
    }

    // As the migration leaves rows booked before the column existed.
    core.db
        .read(|c| {
            c.batch_execute("UPDATE stock_adjustments SET average_cost_after = -1")?;
            Ok(())
        })
        .unwrap();
    assert!(averages(&core.db).iter().all(|(_, a)| *a == Some(-1)));
    drop(core);

    let reopened = Db::connect(&url, 2).unwrap();
    assert_eq!(averages(&reopened), booked);
}
