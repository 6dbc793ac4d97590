//! Shipments of several lines at once: every line's products, levels, category and supplier
//! totals, ledger rows and alerts come out as if each line had been booked by itself.

use super::orders::customer;
use conformance::fixtures::{category, ledger, product, supplier};
use conformance::{json, variants, Client, TestApp, Value};

async fn linked(c: &Client, product: i64, supplier: i64) {
    c.post(
        &format!("/api/products/{product}/suppliers"),
        json!({"supplier_id": supplier}),
    )
    .await
    .expect(201);
}

async fn made(c: &Client, fields: Value) -> i64 {
    product(c, fields).await["id"].as_i64().unwrap()
}

/// A confirmed order of `lines` for a new customer; its id.
async fn confirmed(c: &Client, customer_name: &str, lines: Value) -> i64 {
    let cust = customer(c, customer_name).await;
    let order = c
        .post(
            "/api/sales-orders",
            json!({"customer_id": cust, "lines": lines}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    c.post(&format!("/api/sales-orders/{order}/confirm"), json!({}))
        .await
        .expect(200);
    order
}

async fn open_alert_kinds(c: &Client, product: i64) -> Vec<String> {
    let r = c
        .get(&format!("/api/alerts?product={product}&status=open"))
        .await;
    r.page()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_shipment_of_several_lines_keeps_every_total_exact(app: TestApp) {
    let c = app.root().await;
    let (tools, paint) = (category(&c, "Tools").await, category(&c, "Paint").await);
    let (acme, brush) = (supplier(&c, "Acme").await, supplier(&c, "Brush Co").await);
    let saw = made(&c, json!({"sku": "SAW", "name": "Saw", "price": "2.50", "quantity": 10, "reorder_level": 2, "category_id": tools})).await;
    let drill = made(&c, json!({"sku": "DRL", "name": "Drill", "price": "4.00", "quantity": 20, "reorder_level": 15, "category_id": tools})).await;
    let tin = made(&c, json!({"sku": "TIN", "name": "Tin", "price": "1.25", "quantity": 5, "reorder_level": 0, "category_id": paint})).await;
    let rag = made(
        &c,
        json!({"sku": "RAG", "name": "Rag", "price": "3.00", "quantity": 8, "reorder_level": 1}),
    )
    .await;
    for p in [saw, drill, tin] {
        linked(&c, p, acme).await;
    }
    linked(&c, tin, brush).await;
    let order = confirmed(
        &c,
        "Corner shop",
        json!([
            {"product_id": saw, "quantity": 4},
            {"product_id": drill, "quantity": 6},
            {"product_id": tin, "quantity": 5},
            {"product_id": rag, "quantity": 2},
        ]),
    )
    .await;
    // Three lines in one shipment: one to zero, one across its reorder level, one plain.
    let shipped = c
        .post(
            &format!("/api/sales-orders/{order}/ship"),
            json!({"lines": [
                {"product_id": tin, "quantity": 5},
                {"product_id": saw, "quantity": 4},
                {"product_id": drill, "quantity": 6},
            ]}),
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(shipped["status"], "partially_shipped", "{shipped}");
    let rows = ledger(&c, "kind=shipment").await;
    let got: Vec<(i64, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["product_id"].as_i64().unwrap(),
                r["delta"].as_i64().unwrap(),
                r["product_quantity_after"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut want = vec![(saw, -4, 6), (drill, -6, 14), (tin, -5, 0)];
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want, "one shipment row a line: {rows:?}");
    assert_eq!(open_alert_kinds(&c, drill).await, ["low_stock"]);
    assert_eq!(open_alert_kinds(&c, tin).await, ["out_of_stock"]);
    assert!(open_alert_kinds(&c, saw).await.is_empty());
    c.post(
        &format!("/api/sales-orders/{order}/ship"),
        json!({"lines": [{"product_id": rag, "quantity": 2}]}),
    )
    .await
    .expect(200);

    // Left: saw 6 × 2.50, drill 14 × 4.00, tin 0, rag 6 × 3.00.
    let d = c.get("/api/dashboard").await.expect(200).clone();
    assert_eq!(d["inventory"]["total_quantity"], 26, "{d}");
    assert_eq!(d["inventory"]["total_value"], "89.00", "{d}");
    assert_eq!(d["products"]["out_of_stock"], 1, "{d}");
    assert_eq!(
        d["products"]["low_stock"], 2,
        "drill at 14 ≤ 15 and tin at 0: {d}"
    );
    let value = |id: i64| {
        d["suppliers"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["supplier_id"] == json!(id))
            .map(|r| r["stock_value"].clone())
    };
    assert_eq!(value(acme), Some(json!("71.00")), "15.00 + 56.00 + 0: {d}");
    assert_eq!(value(brush), Some(json!("0.00")), "{d}");
    let v = c
        .get("/api/reports/valuation?group_by=category&basis=price")
        .await
        .expect(200)
        .clone();
    let row = |key: Value| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .map(|r| (r["quantity"].clone(), r["value"].clone()))
    };
    assert_eq!(row(json!(tools)), Some((json!(20), json!("71.00"))), "{v}");
    assert_eq!(row(json!(paint)), Some((json!(0), json!("0.00"))), "{v}");
}

async fn a_shipment_short_of_stock_on_one_line_books_none(app: TestApp) {
    let c = app.root().await;
    let manager = app.user_with_role("manager").await;
    let a = made(
        &c,
        json!({"sku": "A1", "name": "A", "price": "1.00", "quantity": 5}),
    )
    .await;
    let b = made(
        &c,
        json!({"sku": "B1", "name": "B", "price": "1.00", "quantity": 5}),
    )
    .await;
    let order = confirmed(
        &c,
        "Shop",
        json!([{"product_id": a, "quantity": 3}, {"product_id": b, "quantity": 3}]),
    )
    .await;
    // A count finds only one unit of B: the reservation stands, the shelf cannot cover it.
    manager
        .post(
            "/api/stock-adjustments",
            json!({"product_id": b, "kind": "audit", "quantity": 1, "reason": "count"}),
        )
        .await
        .expect(201);
    c.post(
        &format!("/api/sales-orders/{order}/ship"),
        json!({"lines": [{"product_id": a, "quantity": 3}, {"product_id": b, "quantity": 3}]}),
    )
    .await
    .expect_error(409, "insufficient_stock");
    assert!(
        ledger(&c, "kind=shipment").await.is_empty(),
        "nothing booked"
    );
    let o = c
        .get(&format!("/api/sales-orders/{order}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(o["status"], "confirmed", "{o}");
    assert!(
        o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["shipped_quantity"] == 0 && l["reserved_quantity"] == 3),
        "{o}"
    );
    let p = c
        .get(&format!("/api/products/{a}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(p["quantity"], 5, "A untouched: {p}");
}

variants!(
    a_shipment_of_several_lines_keeps_every_total_exact,
    a_shipment_short_of_stock_on_one_line_books_none,
);
