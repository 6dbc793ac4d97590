//! Sales orders: the state machine, reservations against other outgoing movements, bad
//! input, returns and the oversold alert. The races are in `races.rs`.

use conformance::fixtures::{adjust, book, ledger, main_location, product};
use conformance::{json, variants, Client, TestApp, Value};

pub(crate) async fn customer(c: &Client, name: &str) -> i64 {
    c.post("/api/customers", json!({"name": name}))
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn stocked(c: &Client, sku: &str, price: &str, quantity: i64) -> i64 {
    product(
        c,
        json!({"sku": sku, "name": format!("Product {sku}"), "price": price, "quantity": quantity}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// `(quantity, reserved, available)` of a product at the default location.
pub(crate) async fn level(c: &Client, product: i64) -> (i64, i64, i64) {
    let r = c.get(&format!("/api/stock-levels?product={product}")).await;
    let rows = r.page();
    assert_eq!(rows.len(), 1, "{r:?}");
    let l = &rows[0];
    (
        l["quantity"].as_i64().unwrap(),
        l["reserved"].as_i64().unwrap(),
        l["available"].as_i64().unwrap(),
    )
}

pub(crate) async fn draft(c: &Client, customer: i64, lines: Value) -> Value {
    c.post(
        "/api/sales-orders",
        json!({"customer_id": customer, "reference": "web-1042", "lines": lines}),
    )
    .await
    .expect(201)
    .clone()
}

pub(crate) fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn an_order_is_drafted_confirmed_shipped_in_parts_and_closed(app: TestApp) {
    let root = app.root().await;
    let clerk = app.user_with_role("employee").await;
    let cust = customer(&clerk, "Corner Shop").await;
    let a = stocked(&root, "SO-A", "2.50", 10).await;
    let b = stocked(&root, "SO-B", "4.00", 5).await;
    let o = draft(
        &clerk,
        cust,
        json!([{"product_id": a, "quantity": 6}, {"product_id": b, "quantity": 2, "unit_price": "3.75"}]),
    )
    .await;
    let oid = id(&o);
    assert_eq!(o["status"], json!("draft"));
    assert_eq!(o["number"], json!(format!("SO-{oid:06}")));
    assert_eq!(
        o["lines"][0]["unit_price"],
        json!("2.50"),
        "the product's price: {o}"
    );
    assert_eq!(o["total"], json!("22.50"), "6 × 2.50 + 2 × 3.75: {o}");
    assert_eq!(o["location_id"], json!(main_location(&root).await));
    // A draft reserves nothing.
    assert_eq!(level(&root, a).await, (10, 0, 10));
    let c = clerk
        .post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await;
    let c = c.expect(200);
    assert_eq!(c["status"], json!("confirmed"));
    assert_eq!(c["lines"][0]["reserved_quantity"], json!(6));
    assert!(c["confirmed_by"].is_i64(), "{c}");
    assert_eq!(level(&root, a).await, (10, 6, 4));
    assert_eq!(level(&root, b).await, (5, 2, 3));
    // Products and inventory levels show the same, in total and per location.
    let pa = root.get(&format!("/api/products/{a}")).await;
    let pa = pa.expect(200);
    assert_eq!(
        (
            pa["quantity"].clone(),
            pa["reserved"].clone(),
            pa["available"].clone()
        ),
        (json!(10), json!(6), json!(4)),
        "{pa}"
    );
    let listed = root.get("/api/products?search=SO-A").await;
    assert_eq!(listed.page()[0]["available"], json!(4));
    let inv = root.get("/api/inventory/levels?search=SO-B").await;
    let row = &inv.page()[0];
    assert_eq!(
        (row["reserved"].clone(), row["available"].clone()),
        (json!(2), json!(3)),
        "{row}"
    );
    assert_eq!(row["locations"][0]["reserved"], json!(2), "{row}");
    assert_eq!(row["locations"][0]["available"], json!(3), "{row}");
    // Other outgoing movements cannot eat the reservation; receipts and counts are not held.
    adjust(&clerk, a, None, "sale", 5).await.expect(409);
    book(&clerk, a, None, "sale", 4).await;
    assert_eq!(level(&root, a).await, (6, 6, 0));
    adjust(&root, a, None, "remove", 1).await.expect(409);
    adjust(&root, a, None, "loss", 1).await.expect(409);
    // Ship part: a shipment ledger row with the order's number, the reservation consumed.
    let s = clerk
        .post(
            &format!("/api/sales-orders/{oid}/ship"),
            json!({"lines": [{"product_id": a, "quantity": 2}], "tracking": "1Z999"}),
        )
        .await;
    let s = s.expect(200);
    assert_eq!(s["status"], json!("partially_shipped"));
    assert_eq!(s["tracking"], json!("1Z999"));
    assert_eq!(s["lines"][0]["shipped_quantity"], json!(2));
    assert_eq!(s["lines"][0]["reserved_quantity"], json!(4));
    assert_eq!(level(&root, a).await, (4, 4, 0));
    let rows = ledger(&root, &format!("product={a}&kind=shipment")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["delta"], json!(-2));
    assert_eq!(rows[0]["reference"], json!(format!("SO-{oid:06}")));
    // A part-shipped order can no longer be cancelled or changed.
    root.post(&format!("/api/sales-orders/{oid}/cancel"), json!({}))
        .await
        .expect(409);
    clerk
        .patch(
            &format!("/api/sales-orders/{oid}"),
            json!({"notes": "late"}),
        )
        .await
        .expect(409);
    // Ship the rest: shipped, nothing reserved any more.
    let s = clerk
        .post(
            &format!("/api/sales-orders/{oid}/ship"),
            json!({"lines": [{"product_id": a, "quantity": 4}, {"product_id": b, "quantity": 2}]}),
        )
        .await;
    assert_eq!(s.expect(200)["status"], json!("shipped"));
    assert_eq!(level(&root, a).await, (0, 0, 0));
    assert_eq!(level(&root, b).await, (3, 0, 3));
    assert_eq!(
        root.get(&format!("/api/products/{b}")).await.expect(200)["quantity"],
        json!(3)
    );
    let r = clerk
        .post(
            &format!("/api/sales-orders/{oid}/ship"),
            json!({"lines": [{"product_id": b, "quantity": 1}]}),
        )
        .await;
    r.expect(409);
    assert_eq!(r.code(), "invalid_transition", "{r:?}");
    // Filters.
    let mine = root
        .get(&format!("/api/sales-orders?customer={cust}&status=shipped"))
        .await;
    assert_eq!(mine.count(), 1);
    assert_eq!(
        root.get(&format!("/api/sales-orders?product={b}"))
            .await
            .count(),
        1
    );
    assert_eq!(root.get("/api/sales-orders?status=draft").await.count(), 0);
    root.get("/api/sales-orders?status=lost").await.expect(400);
    // The audit log tells the story.
    let mut entries = conformance::fixtures::all_pages(
        &root,
        &format!("/api/audit-logs?object_type=sales_order&object_id={oid}"),
    )
    .await;
    entries.sort_by_key(|e| e["id"].as_i64());
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "confirm", "ship", "ship"],
        "{entries:?}"
    );
}

async fn a_confirmation_reserves_every_line_or_none(app: TestApp) {
    let root = app.root().await;
    let cust = customer(&root, "All or nothing").await;
    let a = stocked(&root, "AON-A", "1.00", 5).await;
    let b = stocked(&root, "AON-B", "1.00", 1).await;
    let o = draft(
        &root,
        cust,
        json!([{"product_id": a, "quantity": 5}, {"product_id": b, "quantity": 3}]),
    )
    .await;
    let r = root
        .post(&format!("/api/sales-orders/{}/confirm", id(&o)), json!({}))
        .await;
    r.expect(409);
    assert_eq!(r.code(), "insufficient_stock", "{r:?}");
    let said = r.body["errors"]["lines[1].quantity"][0]
        .as_str()
        .unwrap_or("");
    assert!(
        said.contains("AON-B") && said.contains("1 available"),
        "{r:?}"
    );
    assert!(r.body["errors"].get("lines[0].quantity").is_none(), "{r:?}");
    // Nothing was reserved and the order is still a draft.
    assert_eq!(level(&root, a).await, (5, 0, 5));
    assert_eq!(level(&root, b).await, (1, 0, 1));
    let again = root.get(&format!("/api/sales-orders/{}", id(&o))).await;
    assert_eq!(again.expect(200)["status"], json!("draft"));
    // Fixed by editing the draft, it confirms.
    root.patch(
        &format!("/api/sales-orders/{}", id(&o)),
        json!({"lines": [{"product_id": a, "quantity": 5}, {"product_id": b, "quantity": 1}]}),
    )
    .await
    .expect(200);
    root.post(&format!("/api/sales-orders/{}/confirm", id(&o)), json!({}))
        .await
        .expect(200);
    assert_eq!(level(&root, b).await, (1, 1, 0));
    // A second order for the same units finds nothing available.
    let o2 = draft(&root, cust, json!([{"product_id": a, "quantity": 1}])).await;
    root.post(&format!("/api/sales-orders/{}/confirm", id(&o2)), json!({}))
        .await
        .expect(409);
}

async fn cancelling_releases_the_reservation(app: TestApp) {
    let root = app.root().await;
    let clerk = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let cust = customer(&clerk, "Changed mind").await;
    let a = stocked(&root, "CAN-A", "1.00", 8).await;
    let o = draft(&clerk, cust, json!([{"product_id": a, "quantity": 8}])).await;
    let oid = id(&o);
    clerk
        .post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(200);
    assert_eq!(level(&root, a).await, (8, 8, 0));
    // Employees may not cancel; managers may.
    clerk
        .post(&format!("/api/sales-orders/{oid}/cancel"), json!({}))
        .await
        .expect(403);
    // The customer has an open order: not deletable yet.
    let r = manager.delete(&format!("/api/customers/{cust}")).await;
    r.expect(409);
    assert_eq!(r.code(), "in_use", "{r:?}");
    let c = manager
        .post(&format!("/api/sales-orders/{oid}/cancel"), json!({}))
        .await;
    let c = c.expect(200);
    assert_eq!(c["status"], json!("cancelled"));
    assert_eq!(c["lines"][0]["reserved_quantity"], json!(0));
    assert_eq!(level(&root, a).await, (8, 0, 8));
    book(&clerk, a, None, "sale", 8).await;
    manager
        .post(&format!("/api/sales-orders/{oid}/cancel"), json!({}))
        .await
        .expect(409);
    // Every order done: the customer may go, the orders stay without it.
    manager
        .delete(&format!("/api/customers/{cust}"))
        .await
        .expect(204);
    let kept = root.get(&format!("/api/sales-orders/{oid}")).await;
    assert_eq!(kept.expect(200)["customer_id"], Value::Null);
}

async fn bad_sales_input_is_refused_and_changes_nothing(app: TestApp) {
    let root = app.root().await;
    let auditor = app.user_with_role("auditor").await;
    let cust = customer(&root, "Picky").await;
    let a = stocked(&root, "BAD-A", "1.00", 3).await;
    let path = "/api/sales-orders";
    root.post(path, json!({"lines": [{"product_id": a, "quantity": 1}]}))
        .await
        .expect_field_error("customer_id");
    root.post(
        path,
        json!({"customer_id": 999999, "lines": [{"product_id": a, "quantity": 1}]}),
    )
    .await
    .expect_field_error("customer_id");
    root.post(path, json!({"customer_id": cust, "lines": []}))
        .await
        .expect_field_error("lines");
    let r = root
        .post(
            path,
            json!({"customer_id": cust, "lines": [
                {"product_id": 999999, "quantity": 1},
                {"product_id": a, "quantity": 0},
            ]}),
        )
        .await;
    r.expect(400);
    assert!(
        r.body["errors"].get("lines[0].product_id").is_some(),
        "{r:?}"
    );
    assert!(r.body["errors"].get("lines[1].quantity").is_some(), "{r:?}");
    root.post(
        path,
        json!({"customer_id": cust, "lines": [{"product_id": a, "quantity": 1}, {"product_id": a, "quantity": 2}]}),
    )
    .await
    .expect_field_error("lines[1]");
    root.post(
        path,
        json!({"customer_id": cust, "lines": [{"product_id": a, "quantity": -1}]}),
    )
    .await
    .expect_field_error("lines[0].quantity");
    root.post(
        path,
        json!({"customer_id": cust, "lines": [{"product_id": a, "quantity": 1, "unit_price": "1.001"}]}),
    )
    .await
    .expect_field_error("lines[0].unit_price");
    auditor
        .post(
            path,
            json!({"customer_id": cust, "lines": [{"product_id": a, "quantity": 1}]}),
        )
        .await
        .expect(403);
    app.client().get(path).await.expect(401);
    assert_eq!(root.get(path).await.count(), 0, "nothing was created");
    // Shipping: more than ordered, a product not on the order, a draft.
    let o = draft(&root, cust, json!([{"product_id": a, "quantity": 2}])).await;
    let oid = id(&o);
    root.post(
        &format!("/api/sales-orders/{oid}/ship"),
        json!({"lines": [{"product_id": a, "quantity": 1}]}),
    )
    .await
    .expect(409);
    root.post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(200);
    root.post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(409);
    let r = root
        .post(
            &format!("/api/sales-orders/{oid}/ship"),
            json!({"lines": [{"product_id": a, "quantity": 3}]}),
        )
        .await;
    r.expect(409);
    assert_eq!(r.code(), "over_shipment", "{r:?}");
    root.post(
        &format!("/api/sales-orders/{oid}/ship"),
        json!({"lines": [{"product_id": 999999, "quantity": 1}]}),
    )
    .await
    .expect_field_error("lines[0].product_id");
    root.post(
        &format!("/api/sales-orders/{oid}/ship"),
        json!({"lines": []}),
    )
    .await
    .expect_field_error("lines");
    root.delete(&format!("/api/sales-orders/{oid}"))
        .await
        .expect(409);
    // None of it moved stock.
    assert_eq!(level(&root, a).await, (3, 2, 1));
    root.get("/api/sales-orders/999999").await.expect(404);
    root.post("/api/sales-orders/999999/confirm", json!({}))
        .await
        .expect(404);
}

async fn returns_bring_goods_back_or_only_record_them(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let clerk = app.user_with_role("employee").await;
    let cust = customer(&root, "Returner").await;
    let a = stocked(&root, "RET-A", "1.00", 5).await;
    let o = draft(&root, cust, json!([{"product_id": a, "quantity": 5}])).await;
    let oid = id(&o);
    let returns = format!("/api/sales-orders/{oid}/returns");
    // Nothing shipped yet: nothing can come back.
    let r = manager
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 1}], "reason": "early"}),
        )
        .await;
    r.expect(409);
    assert_eq!(r.code(), "invalid_transition", "{r:?}");
    root.post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(200);
    root.post(
        &format!("/api/sales-orders/{oid}/ship"),
        json!({"lines": [{"product_id": a, "quantity": 5}]}),
    )
    .await
    .expect(200);
    assert_eq!(level(&root, a).await, (0, 0, 0));
    // Restocked: a return ledger row brings two back.
    let r = manager
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 2}], "reason": "Wrong size"}),
        )
        .await;
    let r = r.expect(201).clone();
    assert_eq!(r["restock"], json!(true));
    assert_eq!(r["order_id"], json!(oid));
    assert_eq!(r["lines"], json!([{"product_id": a, "quantity": 2}]));
    assert_eq!(level(&root, a).await, (2, 0, 2));
    let rows = ledger(&root, &format!("product={a}&kind=return")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["delta"], json!(2));
    assert_eq!(rows[0]["reference"], json!(format!("SO-{oid:06}")));
    // Damaged: recorded, stock unchanged.
    manager
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 1}], "reason": "Broken", "restock": false}),
        )
        .await
        .expect(201);
    assert_eq!(level(&root, a).await, (2, 0, 2));
    assert_eq!(
        ledger(&root, &format!("product={a}&kind=return"))
            .await
            .len(),
        1
    );
    // 5 shipped, 3 back: 3 more is too many, 2 is fine.
    let r = manager
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 3}], "reason": "More"}),
        )
        .await;
    r.expect(409);
    assert_eq!(r.code(), "over_return", "{r:?}");
    // Bad input and roles.
    manager
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 1}]}),
        )
        .await
        .expect_field_error("reason");
    manager
        .post(
            &returns,
            json!({"lines": [{"product_id": 999999, "quantity": 1}], "reason": "x"}),
        )
        .await
        .expect_field_error("lines[0].product_id");
    clerk
        .post(
            &returns,
            json!({"lines": [{"product_id": a, "quantity": 1}], "reason": "x"}),
        )
        .await
        .expect(403);
    let listed = clerk.get(&returns).await;
    assert_eq!(listed.count(), 2);
    let order = root.get(&format!("/api/sales-orders/{oid}")).await;
    assert_eq!(order.expect(200)["lines"][0]["returned_quantity"], json!(3));
    root.get("/api/sales-orders/999999/returns")
        .await
        .expect(404);
}

async fn a_count_below_the_reservations_raises_an_oversold_alert_until_covered(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let cust = customer(&root, "Promised").await;
    let p = stocked(&root, "OVER-1", "1.00", 10).await;
    let o = draft(&root, cust, json!([{"product_id": p, "quantity": 8}])).await;
    root.post(&format!("/api/sales-orders/{}/confirm", id(&o)), json!({}))
        .await
        .expect(200);
    let alerts = |c: &Client| {
        let path = format!("/api/alerts?product={p}");
        let c = c.duplicate();
        async move { c.get(&path).await.page() }
    };
    assert!(alerts(&root).await.is_empty());
    // The count finds 5: booked (a count records what is there), 3 short of the promises.
    book(&manager, p, None, "audit", 5).await;
    assert_eq!(level(&root, p).await, (5, 8, -3));
    let open = alerts(&root).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], json!("oversold"));
    assert_eq!(open[0]["status"], json!("open"));
    assert_eq!(open[0]["quantity"], json!(-3), "available: {open:?}");
    assert_eq!(open[0]["threshold"], json!(8), "reserved: {open:?}");
    let pv = root.get(&format!("/api/products/{p}")).await;
    assert_eq!(pv.expect(200)["available"], json!(-3));
    // Nothing else may go out meanwhile; a second count does not open a second alert.
    adjust(&manager, p, None, "sale", 1).await.expect(409);
    book(&manager, p, None, "audit", 4).await;
    assert_eq!(alerts(&root).await.len(), 1);
    // A receipt that covers the reservations resolves it.
    book(&manager, p, None, "receive", 4).await;
    assert_eq!(level(&root, p).await, (8, 8, 0));
    let after = alerts(&root).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["status"], json!("resolved"), "{after:?}");
    // Short again, then the order is cancelled: released, resolved again.
    book(&manager, p, None, "correction", -2).await;
    let open: Vec<Value> = alerts(&root)
        .await
        .into_iter()
        .filter(|a| a["status"] == json!("open"))
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    manager
        .post(&format!("/api/sales-orders/{}/cancel", id(&o)), json!({}))
        .await
        .expect(200);
    assert!(alerts(&root)
        .await
        .iter()
        .all(|a| a["status"] == json!("resolved")));
}

variants!(
    a_count_below_the_reservations_raises_an_oversold_alert_until_covered,
    returns_bring_goods_back_or_only_record_them,
    an_order_is_drafted_confirmed_shipped_in_parts_and_closed,
    a_confirmation_reserves_every_line_or_none,
    cancelling_releases_the_reservation,
    bad_sales_input_is_refused_and_changes_nothing,
);
