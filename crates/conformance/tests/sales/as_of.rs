//! Stock as of a moment (API §11): stock levels, inventory levels and the valuation answer
//! for a past instant from the ledger. Each answer is checked against a replay done here,
//! independently of the server: quantities by summing the movements booked up to the
//! moment, average costs by §10's rule applied by hand.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use conformance::fixtures::{all_pages, book, location, main_location, product};
use conformance::{json, variants, Client, TestApp, Value};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// A cost or value string ("12.3456", "7") in ten-thousandths.
fn ten_thousandths(v: &Value) -> i128 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("an amount is a string: {v}"));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 4, "at most four places: {s}");
    let frac = format!("{frac:0<4}");
    whole.parse::<i128>().unwrap() * 10_000 + frac.parse::<i128>().unwrap()
}

/// §10 by hand: the weighted average rounded half-even to ten-thousandths.
fn weighted(on_hand: i128, average: i128, received: i128, cost: i128) -> i128 {
    let units = on_hand + received;
    let total = on_hand * average + received * cost;
    let (q, r) = (total.div_euclid(units), total.rem_euclid(units));
    match (2 * r).cmp(&units) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// One movement as the test booked it.
#[derive(Clone)]
struct Move {
    product: i64,
    location: i64,
    delta: i128,
    /// The unit cost of a receipt; `None` for outgoing movements.
    receipt_cost: Option<i128>,
    at: DateTime<Utc>,
}

/// What the replay of the moves up to `t` says: quantity per (product, location), and per
/// product its total and average cost.
struct State {
    levels: BTreeMap<(i64, i64), i128>,
    products: BTreeMap<i64, (i128, Option<i128>)>,
}

fn replay(moves: &[Move], t: DateTime<Utc>) -> State {
    let mut levels = BTreeMap::new();
    let mut products: BTreeMap<i64, (i128, Option<i128>)> = BTreeMap::new();
    for m in moves.iter().filter(|m| m.at <= t) {
        *levels.entry((m.product, m.location)).or_insert(0) += m.delta;
        let (qty, avg) = products.entry(m.product).or_insert((0, None));
        if let Some(cost) = m.receipt_cost {
            *avg = Some(weighted(*qty, avg.unwrap_or(cost), m.delta, cost));
        }
        *qty += m.delta;
    }
    State { levels, products }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn at(row: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(row["created_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn receive(c: &Client, product: i64, location: i64, quantity: i64, cost: &str) -> Value {
    c.post(
        "/api/stock-adjustments",
        json!({"product_id": product, "location_id": location, "kind": "receive",
               "quantity": quantity, "unit_cost": cost, "reason": "delivery"}),
    )
    .await
    .expect(201)
    .clone()
}

/// Checks every as-of answer for moment `t` against the replay.
async fn check(c: &Client, moves: &[Move], ids: &[i64], t: DateTime<Utc>) {
    let want = replay(moves, t);
    let q = stamp(t);
    for &p in ids {
        // Stock levels: exactly the levels that had moved by then, with what was there.
        let rows = all_pages(c, &format!("/api/stock-levels?product={p}&as_of={q}")).await;
        let got: BTreeMap<(i64, i64), i128> = rows
            .iter()
            .map(|r| {
                assert!(
                    r.get("reserved").is_none() && r.get("available").is_none(),
                    "as of a moment, levels carry quantities only: {r}"
                );
                (
                    (
                        r["product_id"].as_i64().unwrap(),
                        r["location_id"].as_i64().unwrap(),
                    ),
                    i128::from(r["quantity"].as_i64().unwrap()),
                )
            })
            .collect();
        let expected: BTreeMap<(i64, i64), i128> = want
            .levels
            .iter()
            .filter(|((product, _), _)| *product == p)
            .map(|(k, v)| (*k, *v))
            .collect();
        assert_eq!(got, expected, "stock levels of {p} as of {q}");
    }
    // Inventory levels: each product's total and its locations.
    let rows = all_pages(c, &format!("/api/inventory/levels?search=ASOF&as_of={q}")).await;
    for r in &rows {
        let p = id(r);
        let (qty, _) = want.products.get(&p).copied().unwrap_or((0, None));
        assert_eq!(
            i128::from(r["quantity"].as_i64().unwrap()),
            qty,
            "inventory level of {p} as of {q}: {r}"
        );
        let by_location: i128 = r["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| i128::from(l["quantity"].as_i64().unwrap()))
            .sum();
        assert_eq!(by_location, qty, "the locations add up: {r}");
        assert!(r.get("reserved").is_none(), "{r}");
    }
    // Valuation at cost, by category (one row: none of these has one) and by location.
    let total_qty: i128 = want.products.values().map(|(q, _)| q).sum();
    let total_value: i128 = want
        .products
        .values()
        .map(|(q, a)| q * a.unwrap_or(0))
        .sum();
    for group in ["category", "location", "supplier"] {
        let v = c
            .get(&format!(
                "/api/reports/valuation?group_by={group}&as_of={q}"
            ))
            .await;
        let v = v.expect(200);
        assert_eq!(
            i128::from(v["total_quantity"].as_i64().unwrap()),
            total_qty,
            "{group} as of {q}: {v}"
        );
        assert_eq!(
            ten_thousandths(&v["total_value"]),
            total_value,
            "{group} as of {q}: {v}"
        );
    }
    let v = c
        .get(&format!(
            "/api/reports/valuation?group_by=location&as_of={q}"
        ))
        .await;
    for row in v.expect(200)["rows"].as_array().unwrap() {
        let l = row["key"].as_i64().unwrap();
        let qty: i128 = want
            .levels
            .iter()
            .filter(|((_, loc), _)| *loc == l)
            .map(|(_, q)| q)
            .sum();
        let value: i128 = want
            .levels
            .iter()
            .filter(|((_, loc), _)| *loc == l)
            .map(|((p, _), q)| q * want.products[p].1.unwrap_or(0))
            .sum();
        assert_eq!(i128::from(row["quantity"].as_i64().unwrap()), qty, "{row}");
        assert_eq!(ten_thousandths(&row["value"]), value, "{row}");
    }
}

/// Receipts at three costs on two locations, a sale, a loss, a correction, a transfer and a
/// product sold out and deleted: at every row's own instant (and just before the first), the
/// three as-of answers equal the replay.
async fn stock_as_of_each_moment_matches_a_replay_of_the_ledger(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = location(&root, "ASOF-L2").await;
    let mk = |sku: &'static str| {
        product(
            &root,
            json!({"sku": sku, "name": format!("ASOF {sku}"), "price": "9.00"}),
        )
    };
    let a = id(&mk("ASOF-A").await);
    let b = id(&mk("ASOF-B").await);
    let c = id(&mk("ASOF-C").await);
    let mut moves: Vec<Move> = vec![];
    let mut booked = |row: &Value, receipt_cost: Option<i128>| {
        moves.push(Move {
            product: row["product_id"].as_i64().unwrap(),
            location: row["location_id"].as_i64().unwrap(),
            delta: i128::from(row["delta"].as_i64().unwrap()),
            receipt_cost,
            at: at(row),
        });
    };
    booked(&receive(&root, a, main, 10, "2.0000").await, Some(20_000));
    booked(&receive(&root, a, l2, 5, "3.0000").await, Some(30_000));
    booked(&receive(&root, b, main, 4, "1.5000").await, Some(15_000));
    booked(&receive(&root, c, main, 5, "1.0001").await, Some(10_001));
    booked(&book(&root, a, Some(main), "sale", 3).await, None);
    booked(&receive(&root, a, main, 6, "2.5000").await, Some(25_000));
    booked(&book(&root, b, Some(main), "correction", -1).await, None);
    booked(&book(&root, a, Some(l2), "loss", 2).await, None);
    booked(&book(&root, c, Some(main), "sale", 5).await, None);
    // A transfer books its two rows at one instant.
    let t = root
        .post(
            "/api/transfers",
            json!({"product_id": a, "from_location_id": main, "to_location_id": l2,
                   "quantity": 4, "note": "rebalance"}),
        )
        .await;
    let t = t.expect(201).clone();
    if t["status"] != json!("completed") {
        root.post(&format!("/api/transfers/{}/approve", id(&t)), json!({}))
            .await
            .expect(200);
    }
    for row in all_pages(&root, &format!("/api/stock-adjustments?product={a}")).await {
        if row["kind"] == json!("transfer_out") || row["kind"] == json!("transfer_in") {
            booked(&row, None);
        }
    }
    root.delete(&format!("/api/products/{c}")).await.expect(204);

    // The hand calculation of A's average, which the replay must reproduce:
    // 10 at 2 → 2.0000; 5 at 3 → (20 + 15)/15 = 2.33333 → 2.3333; sale 3 → 12 on hand;
    // 6 at 2.5 → (12×2.3333 + 15)/18 = 42.9996/18 = 2.388866… → 2.3889; loss 2 → 16 on hand.
    let end = replay(&moves, Utc::now());
    assert_eq!(end.products[&a], (16, Some(23_889)));

    let ids = [a, b, c];
    let first = moves.iter().map(|m| m.at).min().unwrap();
    check(&root, &moves, &ids, first - Duration::microseconds(1)).await;
    let mut instants: Vec<DateTime<Utc>> = moves.iter().map(|m| m.at).collect();
    instants.sort();
    instants.dedup();
    for t in instants {
        check(&root, &moves, &ids, t).await;
    }
    // C was deleted after it sold out: as of before the sale it still counted, and now it
    // does not show at all.
    let before_c_sold = moves
        .iter()
        .find(|m| m.product == c && m.delta < 0)
        .unwrap()
        .at
        - Duration::microseconds(1);
    let v = root
        .get(&format!(
            "/api/reports/valuation?group_by=category&as_of={}",
            stamp(before_c_sold)
        ))
        .await;
    let want = replay(&moves, before_c_sold);
    assert_eq!(want.products[&c].0, 5);
    assert_eq!(
        i128::from(v.expect(200)["total_quantity"].as_i64().unwrap()),
        want.products.values().map(|(q, _)| q).sum::<i128>()
    );
    let now = root.get("/api/reports/valuation").await;
    assert_eq!(now.expect(200)["total_quantity"], json!(16 + 3));
    assert!(now.body.get("as_of").is_none(), "{:?}", now.body);

    // Without as_of the levels still carry what sales orders hold.
    let rows = all_pages(&root, &format!("/api/stock-levels?product={a}")).await;
    assert!(rows
        .iter()
        .all(|r| r["reserved"].is_i64() && r["available"].is_i64()));
}

/// A moment in the future, or one that is not a moment, is a 400 naming `as_of`; so is a
/// quantity filter or ordering beside it.
async fn as_of_refuses_the_future_and_bad_input(app: TestApp) {
    let root = app.root().await;
    let later = stamp(Utc::now() + Duration::hours(1));
    for path in [
        format!("/api/stock-levels?as_of={later}"),
        format!("/api/inventory/levels?as_of={later}"),
        format!("/api/reports/valuation?as_of={later}"),
        "/api/stock-levels?as_of=last-month".to_owned(),
        "/api/stock-levels?as_of=".to_owned(),
        "/api/reports/valuation?as_of=2026-13-01".to_owned(),
        "/api/inventory/levels?as_of=2020-01-01&low_stock=true".to_owned(),
        "/api/inventory/levels?as_of=2020-01-01&ordering=-quantity".to_owned(),
    ] {
        let r = root.get(&path).await;
        assert_eq!(r.status.as_u16(), 400, "{path}: {r:?}");
        assert!(r.body["errors"]["as_of"].is_array(), "{path}: {r:?}");
    }
    // A date is its midnight (UTC); long ago there was nothing.
    let v = root
        .get("/api/reports/valuation?as_of=2020-01-01")
        .await
        .expect(200)
        .clone();
    assert_eq!(v["total_quantity"], json!(0));
    assert_eq!(v["as_of"], json!("2020-01-01T00:00:00Z"));
    let r = root.get("/api/stock-levels?as_of=2020-01-01").await;
    assert_eq!(r.expect(200)["count"], json!(0));
}

variants!(
    stock_as_of_each_moment_matches_a_replay_of_the_ledger,
    as_of_refuses_the_future_and_bad_input,
);
