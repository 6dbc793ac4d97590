//! What stock cost (API §10): every ledger row's `unit_cost`, each product's perpetual
//! average (four places, half-even), valuation at cost or at price, and the movements
//! report's cost of goods sold and received value — checked against sums done by hand.

use conformance::fixtures::{book, ledger, location, main_location, product, supplier};
use conformance::{json, variants, Client, TestApp, Value};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn average(c: &Client, product: i64) -> Value {
    c.get(&format!("/api/products/{product}")).await.expect(200)["average_cost"].clone()
}

/// `receive` with an explicit unit cost; returns the ledger row.
async fn receive_at(c: &Client, product: i64, quantity: i64, cost: &str) -> Value {
    let r = c
        .post(
            "/api/stock-adjustments",
            json!({"product_id": product, "kind": "receive", "quantity": quantity,
                   "unit_cost": cost, "reason": "delivery"}),
        )
        .await;
    r.expect(201).clone()
}

async fn sold_and_shipped(c: &Client, product: i64, quantity: i64) -> i64 {
    let cust = c
        .post(
            "/api/customers",
            json!({"name": format!("Buyer of {product}")}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    let o = c
        .post(
            "/api/sales-orders",
            json!({"customer_id": cust, "lines": [{"product_id": product, "quantity": quantity}]}),
        )
        .await
        .expect(201)
        .clone();
    let oid = id(&o);
    c.post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(200);
    c.post(
        &format!("/api/sales-orders/{oid}/ship"),
        json!({"lines": [{"product_id": product, "quantity": quantity}]}),
    )
    .await
    .expect(200);
    oid
}

/// The worked example. Hand calculation (costs in currency units, averages kept to four
/// places, half-even):
///
/// | step | movement                          | on hand | average                                   |
/// |------|-----------------------------------|---------|-------------------------------------------|
/// | 1    | receive 10 at 4.0000              | 10      | 4.0000 (nothing before)                   |
/// | 2    | sale 3 (costed 4.0000)            | 7       | 4.0000 (outgoing: unchanged)              |
/// | 3    | receive 1 at 4.0004               | 8       | (7×4 + 4.0004)/8 = 4.00005 → 4.0000 (tie, even) |
/// | 4    | receive 4 at 5.5000               | 12      | (8×4 + 4×5.5)/12 = 54/12 = 4.5000         |
/// | 5    | sales order: ship 5 (4.5000)      | 7       | 4.5000                                    |
/// | 6    | receive 3 at 6.3333               | 10      | (7×4.5 + 3×6.3333)/10 = 5.04999 → 5.0500  |
/// | 7    | return 2, restocked (5.0500)      | 12      | 5.0500                                    |
/// | 8    | receive 7 at 1.0001               | 19      | (12×5.05 + 7×1.0001)/19 = 67.6007/19 = 3.557931… → 3.5579 |
/// | 9    | transfer 2 out and in (3.5579)    | 19      | 3.5579                                    |
///
/// Valuation at cost: 19 × 3.5579 = 67.6001; at price: 19 × 20.00 = 380.00.
/// Movements today: received 10+1+4+3+7 = 25 worth 40 + 4.0004 + 22 + 18.9999 + 7.0007 =
/// 92.0010; sold 3 + 5 − 2 = 6 costing 3×4 + 5×4.5 − 2×5.05 = 24.4000.
async fn the_worked_cost_example_matches_the_hand_calculation(app: TestApp) {
    let root = app.root().await;
    let p = id(&product(
        &root,
        json!({"sku": "COST-W", "name": "Worked", "price": "20.00"}),
    )
    .await);
    assert_eq!(average(&root, p).await, Value::Null, "nothing came in yet");

    let r = receive_at(&root, p, 10, "4.0000").await;
    assert_eq!(r["unit_cost"], json!("4.0000"));
    assert_eq!(average(&root, p).await, json!("4.0000"), "step 1");

    let s = book(&root, p, None, "sale", 3).await;
    assert_eq!(
        s["unit_cost"],
        json!("4.0000"),
        "a sale is costed at the average"
    );
    assert_eq!(average(&root, p).await, json!("4.0000"), "step 2");

    receive_at(&root, p, 1, "4.0004").await;
    assert_eq!(
        average(&root, p).await,
        json!("4.0000"),
        "step 3: 4.00005 is a tie and goes to the even neighbour (half-up would say 4.0001)"
    );

    receive_at(&root, p, 4, "5.5").await;
    assert_eq!(average(&root, p).await, json!("4.5000"), "step 4");

    let oid = sold_and_shipped(&root, p, 5).await;
    let shipped = ledger(&root, &format!("product={p}&kind=shipment")).await;
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0]["unit_cost"], json!("4.5000"), "step 5");
    assert_eq!(average(&root, p).await, json!("4.5000"), "step 5");

    receive_at(&root, p, 3, "6.3333").await;
    assert_eq!(
        average(&root, p).await,
        json!("5.0500"),
        "step 6: 5.04999 rounds to 5.0500"
    );

    root.post(
        &format!("/api/sales-orders/{oid}/returns"),
        json!({"lines": [{"product_id": p, "quantity": 2}], "reason": "Changed mind"}),
    )
    .await
    .expect(201);
    let back = ledger(&root, &format!("product={p}&kind=return")).await;
    assert_eq!(
        back[0]["unit_cost"],
        json!("5.0500"),
        "step 7: at the average"
    );
    assert_eq!(average(&root, p).await, json!("5.0500"), "step 7");

    receive_at(&root, p, 7, "1.0001").await;
    assert_eq!(average(&root, p).await, json!("3.5579"), "step 8");

    let shelf = location(&root, "COST-SHELF").await;
    let t = root
        .post(
            "/api/transfers",
            json!({"product_id": p, "from_location_id": main_location(&root).await,
                   "to_location_id": shelf, "quantity": 2, "note": "to the shelf"}),
        )
        .await
        .expect(201)
        .clone();
    root.post_empty(&format!("/api/transfers/{}/approve", id(&t)))
        .await
        .expect(200);
    for kind in ["transfer_out", "transfer_in"] {
        let rows = ledger(&root, &format!("product={p}&kind={kind}")).await;
        assert_eq!(rows[0]["unit_cost"], json!("3.5579"), "step 9 {kind}");
    }
    assert_eq!(average(&root, p).await, json!("3.5579"), "step 9");

    // Every row carries a four-place cost.
    for row in ledger(&root, &format!("product={p}")).await {
        let c = row["unit_cost"].as_str().unwrap_or_default();
        assert!(
            c.split_once('.').is_some_and(|(_, f)| f.len() == 4),
            "{row}"
        );
    }

    let cat = root
        .post("/api/categories", json!({"name": "Costed"}))
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    root.patch(&format!("/api/products/{p}"), json!({"category_id": cat}))
        .await
        .expect(200);
    let v = root.get("/api/reports/valuation").await;
    let v = v.expect(200);
    assert_eq!(v["basis"], json!("cost"));
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == json!(cat))
        .cloned()
        .unwrap();
    assert_eq!(
        (row["quantity"].clone(), row["value"].clone()),
        (json!(19), json!("67.6001"))
    );
    assert_eq!(
        v["total_value"],
        json!("67.6001"),
        "the only stock in this database"
    );
    let v = root.get("/api/reports/valuation?basis=price").await;
    assert_eq!(v.expect(200)["total_value"], json!("380.00"));
    let by_loc = root
        .get("/api/reports/valuation?group_by=location&basis=cost")
        .await;
    let rows = by_loc.expect(200)["rows"].as_array().unwrap().clone();
    let at_shelf = rows.iter().find(|r| r["key"] == json!(shelf)).unwrap();
    assert_eq!(at_shelf["value"], json!("7.1158"), "2 × 3.5579");
    let bad = root.get("/api/reports/valuation?basis=guess").await;
    bad.expect_field_error("basis");

    let m = root
        .get(&format!(
            "/api/reports/movements?product={p}&granularity=month"
        ))
        .await;
    let m = m.expect(200);
    let last = m["rows"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["received"], json!(25), "{last}");
    assert_eq!(last["received_value"], json!("92.0010"), "{last}");
    assert_eq!(
        last["sold"],
        json!(6),
        "3 sold + 5 shipped − 2 returned: {last}"
    );
    assert_eq!(last["cost_of_goods_sold"], json!("24.4000"), "{last}");
    let csv = root
        .get(&format!("/api/reports/movements?product={p}&format=csv"))
        .await;
    assert!(
        csv.text
            .lines()
            .next()
            .unwrap_or_default()
            .contains("cost_of_goods_sold"),
        "{}",
        csv.text
    );
}

/// §10's defaults: a first receipt without a cost takes the preferred supplier's cost, else
/// the price; a later one the preferred supplier's cost, else the average; a purchase-order
/// receipt its line's price; corrections and counts the average.
async fn receipts_without_a_cost_follow_the_defaults(app: TestApp) {
    let root = app.root().await;
    let sup = supplier(&root, "Cost Supplier").await;
    let linked = id(&product(
        &root,
        json!({"sku": "COST-L", "name": "Linked", "price": "9.00", "quantity": 8,
               "suppliers": [{"supplier_id": sup, "unit_cost": "2.50", "is_preferred": true}]}),
    )
    .await);
    assert_eq!(
        average(&root, linked).await,
        json!("2.5000"),
        "the preferred link's cost"
    );
    let r = book(&root, linked, None, "receive", 2).await;
    assert_eq!(r["unit_cost"], json!("2.5000"));

    let bare = product(
        &root,
        json!({"sku": "COST-B", "name": "Bare", "price": "9.99", "quantity": 2}),
    )
    .await;
    assert_eq!(
        bare["average_cost"],
        json!("9.9900"),
        "no link: the price: {bare}"
    );
    let bare = id(&bare);
    receive_at(&root, bare, 2, "1.99").await;
    assert_eq!(
        average(&root, bare).await,
        json!("5.9900"),
        "(2×9.99 + 2×1.99)/4"
    );
    let r = book(&root, bare, None, "receive", 1).await;
    assert_eq!(
        r["unit_cost"],
        json!("5.9900"),
        "no link: the current average"
    );
    let r = book(&root, bare, None, "correction", 1).await;
    assert_eq!(r["unit_cost"], json!("5.9900"));
    assert_eq!(average(&root, bare).await, json!("5.9900"));

    // A purchase order's receipt is costed at its line's price: (10×2.5 + 4×3)/14 = 2.642857…
    let o = root
        .post(
            "/api/orders",
            json!({"supplier_id": sup, "lines": [{"product_id": linked, "quantity": 4, "unit_price": "3.00"}]}),
        )
        .await
        .expect(201)
        .clone();
    let oid = id(&o);
    for step in ["submit", "approve"] {
        root.post_empty(&format!("/api/orders/{oid}/{step}"))
            .await
            .expect(200);
    }
    root.post(
        &format!("/api/orders/{oid}/receive"),
        json!({"lines": [{"product_id": linked, "quantity": 4}]}),
    )
    .await
    .expect(200);
    let rows = ledger(&root, &format!("product={linked}&kind=order_receipt")).await;
    assert_eq!(rows[0]["unit_cost"], json!("3.0000"));
    assert_eq!(average(&root, linked).await, json!("2.6429"));

    // Bad costs are refused and book nothing.
    for bad in [json!("1.23456"), json!("-1"), json!("ten"), json!(true)] {
        root.post(
            "/api/stock-adjustments",
            json!({"product_id": bare, "kind": "receive", "quantity": 1, "unit_cost": bad}),
        )
        .await
        .expect_field_error("unit_cost");
    }
    root.post(
        "/api/stock-adjustments",
        json!({"product_id": bare, "kind": "sale", "quantity": 1, "unit_cost": "1.00"}),
    )
    .await
    .expect_field_error("unit_cost");
    assert_eq!(
        root.get(&format!("/api/products/{bare}")).await.expect(200)["quantity"],
        json!(6)
    );
}

variants!(
    the_worked_cost_example_matches_the_hand_calculation,
    receipts_without_a_cost_follow_the_defaults,
);
