//! Bad input to the stock endpoints: unknown objects (404), invalid quantities and transfers
//! (400), never a 5xx (the client asserts that on every answer), never a half-booked transfer.

use crate::support::*;
use crate::transfers::{act, request, transfer_body};
use conformance::fixtures::{all_pages, product};
use conformance::{json, variants, Client, Method, Raw, TestApp};

const NOWHERE: i64 = 999_999;

/// How many transfers exist.
async fn transfer_count(c: &Client) -> u64 {
    c.get("/api/transfers").await.count()
}

async fn unknown_products_and_locations_are_not_found(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = product(
        &root,
        json!({"sku": "KNOWN-1", "name": "Known", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    book(&root, p, Some(main), "receive", 5).await;
    let before = stock(&root, p).await;
    let all_rows = ledger_count(&root, "").await;

    for kind in ["receive", "sale", "correction", "audit"] {
        adjust(&root, NOWHERE, None, kind, 1).await.expect(404);
        adjust(&root, NOWHERE, Some(main), kind, 1)
            .await
            .expect(404);
        adjust(&root, p, Some(NOWHERE), kind, 1).await.expect(404);
    }
    root.post("/api/transfers", transfer_body(NOWHERE, main, l2, 1))
        .await
        .expect(404);
    root.post("/api/transfers", transfer_body(p, NOWHERE, l2, 1))
        .await
        .expect(404);
    root.post("/api/transfers", transfer_body(p, main, NOWHERE, 1))
        .await
        .expect(404);
    root.post(
        "/api/scan",
        json!({"barcode": "4006381333931", "action": "receive", "location_id": NOWHERE}),
    )
    .await
    .expect(404);
    root.get(&format!("/api/locations/{NOWHERE}"))
        .await
        .expect(404);
    root.patch(&format!("/api/locations/{NOWHERE}"), json!({"name": "x"}))
        .await
        .expect(404);
    root.delete(&format!("/api/locations/{NOWHERE}"))
        .await
        .expect(404);
    root.get(&format!("/api/products/{NOWHERE}/history"))
        .await
        .expect(404);
    root.get(&format!("/api/products/{NOWHERE}/barcode.svg"))
        .await
        .expect(404);
    root.get(&format!("/api/stock-adjustments/{NOWHERE}"))
        .await
        .expect(404);

    // A deleted product is unknown to new bookings.
    let gone = new_product(&root, "GONE-1").await;
    root.delete(&format!("/api/products/{gone}"))
        .await
        .expect(204);
    adjust(&root, gone, None, "receive", 1).await.expect(404);
    root.post("/api/transfers", transfer_body(gone, main, l2, 1))
        .await
        .expect(404);

    assert_eq!(stock(&root, p).await, before);
    assert_eq!(
        ledger_count(&root, "").await,
        all_rows,
        "nothing was booked"
    );
    assert_eq!(transfer_count(&root).await, 0, "no transfer was created");
}

async fn a_transfer_needs_two_locations_and_a_positive_quantity(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "TQ-1").await;
    book(&root, p, Some(main), "receive", 5).await;

    root.post("/api/transfers", transfer_body(p, main, main, 1))
        .await
        .expect(400);
    root.post("/api/transfers", transfer_body(p, l2, l2, 1))
        .await
        .expect(400);
    for q in [0, -1, -1000] {
        root.post("/api/transfers", transfer_body(p, main, l2, q))
            .await
            .expect_field_error("quantity");
    }
    for missing in [
        "product_id",
        "from_location_id",
        "to_location_id",
        "quantity",
    ] {
        let mut body = transfer_body(p, main, l2, 1);
        body.as_object_mut().unwrap().remove(missing);
        root.post("/api/transfers", body).await.expect(400);
    }
    let mut body = transfer_body(p, main, l2, 1);
    body["urgent"] = json!(true);
    root.post("/api/transfers", body).await.expect(400);
    assert_eq!(transfer_count(&root).await, 0, "no transfer was created");
    assert_eq!(stock(&root, p).await.at(main), 5);
}

/// Sends `template` with `QTY` replaced by `qty` as raw JSON text.
async fn send_raw(c: &Client, path: &str, template: &str, qty: &str) -> conformance::Resp {
    let text = template.replace("QTY", qty);
    c.raw(Raw::new(Method::POST, path).body("application/json", text))
        .await
}

async fn quantities_that_overflow_or_are_not_integers_are_invalid(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = product(
        &root,
        json!({"sku": "OVF-1", "name": "Overflow", "price": "1.00", "barcode": "96385074"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    book(&root, p, Some(main), "receive", 5).await;
    let before = stock(&root, p).await;
    let all_rows = ledger_count(&root, "").await;

    let bad = [
        "1e30",
        "-1e30",
        "99999999999999999999",
        "-99999999999999999999",
        "9223372036854775808",
        "-9223372036854775809",
        "1.5",
        "\"ten\"",
        "null",
        "[]",
        "{}",
        "true",
    ];
    let adjust_t = format!(
        r#"{{"product_id": {p}, "location_id": {main}, "kind": "KIND", "quantity": QTY, "reason": "x"}}"#
    );
    for qty in bad {
        for kind in ["receive", "sale", "correction", "audit", "loss"] {
            let r = send_raw(
                &root,
                "/api/stock-adjustments",
                &adjust_t.replace("KIND", kind),
                qty,
            )
            .await;
            assert_eq!(r.status.as_u16(), 400, "{kind} quantity {qty}: {r:?}");
        }
        let r = send_raw(
            &root,
            "/api/transfers",
            &format!(r#"{{"product_id": {p}, "from_location_id": {main}, "to_location_id": {l2}, "quantity": QTY}}"#),
            qty,
        )
        .await;
        assert_eq!(r.status.as_u16(), 400, "transfer quantity {qty}: {r:?}");
        if qty == "null" {
            // Optional where scanning (default 1) and creating a product (no stock): not asserted.
            continue;
        }
        for action in ["receive", "sale", "count"] {
            let r = send_raw(
                &root,
                "/api/scan",
                &format!(r#"{{"barcode": "96385074", "action": "{action}", "quantity": QTY}}"#),
                qty,
            )
            .await;
            assert_eq!(
                r.status.as_u16(),
                400,
                "scan {action} quantity {qty}: {r:?}"
            );
        }
        let r = send_raw(
            &root,
            "/api/products",
            r#"{"sku": "OVF-NEW", "name": "New", "price": "1.00", "quantity": QTY}"#,
            qty,
        )
        .await;
        assert_eq!(r.status.as_u16(), 400, "product quantity {qty}: {r:?}");
    }
    // Malformed JSON and unknown fields.
    let r = root
        .raw(Raw::new(Method::POST, "/api/stock-adjustments").body(
            "application/json",
            format!(r#"{{"product_id": {p}, "kind": "sale", "quantity": 1"#),
        ))
        .await;
    r.expect(400);
    let mut body = adjustment(p, None, "sale", 1);
    body["qty"] = json!(1);
    root.post("/api/stock-adjustments", body).await.expect(400);
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/stock-adjustments")
                .body("text/plain", adjustment(p, None, "sale", 1).to_string()),
        )
        .await;
    r.expect(415);

    let after = stock(&root, p).await;
    assert_eq!(
        after.levels, before.levels,
        "no refused quantity changed a level"
    );
    assert_eq!(after.total, before.total);
    let transfers = all_pages(&root, "/api/transfers").await;
    assert!(
        transfers.is_empty(),
        "no transfer was created: {transfers:?}"
    );
    assert_eq!(
        ledger_count(&root, "").await,
        all_rows,
        "nothing was booked"
    );
    assert_eq!(
        root.get("/api/products?search=OVF-NEW").await.count(),
        0,
        "no product was created"
    );
}

async fn huge_valid_integers_never_overflow_the_stock(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "HUGE-1").await;
    book(&root, p, Some(main), "receive", 5).await;
    book(&root, p, Some(l2), "receive", 5).await;

    for (kind, q) in [
        ("receive", i64::MAX),
        ("receive", i64::MAX - 4),
        ("correction", i64::MAX),
        ("audit", i64::MAX),
    ] {
        let r = adjust(&root, p, Some(main), kind, q).await;
        assert!(
            r.status.as_u16() == 201 || r.status.as_u16() == 400 || r.status.as_u16() == 409,
            "{kind} {q}: {r:?}"
        );
        // Whatever was accepted, the books still add up (stock() checks total = Σ levels).
        stock(&root, p).await;
    }
    for (kind, q) in [
        ("correction", i64::MIN),
        ("correction", i64::MIN + 1),
        ("sale", i64::MAX),
        ("audit", i64::MIN),
    ] {
        let r = adjust(&root, p, Some(main), kind, q).await;
        assert!(
            r.status.as_u16() == 400 || r.status.as_u16() == 409,
            "{kind} {q}: {r:?}"
        );
    }
    // Adding to a location that may now hold a huge amount must not wrap around.
    for _ in 0..2 {
        let r = adjust(&root, p, Some(main), "receive", 1_000_000_000).await;
        assert!([201, 400, 409].contains(&r.status.as_u16()), "{r:?}");
        let s = stock(&root, p).await;
        assert!(
            s.at(main) >= 0 && s.total >= 0,
            "no quantity wraps negative: {s:?}"
        );
    }
    // A transfer of a huge quantity cannot be approved from 5 in stock at L2.
    let r = root
        .post("/api/transfers", transfer_body(p, l2, main, i64::MAX))
        .await;
    if r.status.as_u16() == 201 {
        let manager = app.user_with_role("manager").await;
        let before = stock(&root, p).await;
        let a = act(&manager, r.id(), "approve").await;
        a.expect_error(409, "insufficient_stock");
        assert_eq!(stock(&root, p).await, before);
    } else {
        r.expect(400);
    }
}

/// After any approval attempt: either both halves are booked or neither.
async fn assert_whole_or_nothing(
    root: &Client,
    product: i64,
    transfer: i64,
    before: &Stock,
    from: i64,
    to: i64,
    quantity: i64,
) {
    let status = root
        .get(&format!("/api/transfers/{transfer}"))
        .await
        .expect(200)["status"]
        .clone();
    let after = stock(root, product).await;
    let outs = ledger_count(root, &format!("product={product}&kind=transfer_out")).await;
    let ins = ledger_count(root, &format!("product={product}&kind=transfer_in")).await;
    assert_eq!(outs, ins, "transfer_out and transfer_in rows come in pairs");
    if status == json!("completed") {
        assert_eq!(
            after.at(from),
            before.at(from) - quantity,
            "a completed transfer took the stock out"
        );
        assert_eq!(
            after.at(to),
            before.at(to) + quantity,
            "a completed transfer put the stock in"
        );
        assert_eq!(after.ledger_rows, before.ledger_rows + 2);
    } else {
        assert_eq!(
            status,
            json!("pending"),
            "a failed approval leaves the transfer pending"
        );
        assert_eq!(&after, before, "a failed approval moved nothing");
    }
}

async fn never_a_half_booked_transfer(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let p = new_product(&root, "HALF-1").await;
    book(&root, p, Some(main), "receive", 20).await;

    // The destination is deactivated while the transfer waits.
    let l2 = new_location(&root, "L2").await;
    let t = request(&employee, p, main, l2, 3).await["id"]
        .as_i64()
        .unwrap();
    manager
        .patch(&format!("/api/locations/{l2}"), json!({"is_active": false}))
        .await
        .expect(200);
    let before = stock(&root, p).await;
    let r = act(&manager, t, "approve").await;
    assert!([200, 400, 409].contains(&r.status.as_u16()), "{r:?}");
    assert_whole_or_nothing(&root, p, t, &before, main, l2, 3).await;

    // The source is deactivated while the transfer waits.
    let l3 = new_location(&root, "L3").await;
    let l4 = new_location(&root, "L4").await;
    book(&root, p, Some(l3), "receive", 4).await;
    let t = request(&employee, p, l3, l4, 4).await["id"]
        .as_i64()
        .unwrap();
    manager
        .patch(&format!("/api/locations/{l3}"), json!({"is_active": false}))
        .await
        .expect(200);
    let before = stock(&root, p).await;
    let r = act(&manager, t, "approve").await;
    assert!([200, 400, 409].contains(&r.status.as_u16()), "{r:?}");
    assert_whole_or_nothing(&root, p, t, &before, l3, l4, 4).await;

    // The source ran dry while the transfer waited.
    let l5 = new_location(&root, "L5").await;
    let t = request(&employee, p, main, l5, 10).await["id"]
        .as_i64()
        .unwrap();
    let at_main = level(&root, p, main).await;
    book(&root, p, Some(main), "sale", at_main - 9).await;
    let before = stock(&root, p).await;
    act(&manager, t, "approve")
        .await
        .expect_error(409, "insufficient_stock");
    assert_whole_or_nothing(&root, p, t, &before, main, l5, 10).await;

    // The product is deleted while the transfer waits.
    let q = new_product(&root, "HALF-2").await;
    book(&root, q, Some(main), "receive", 5).await;
    let t = request(&employee, q, main, l5, 2).await["id"]
        .as_i64()
        .unwrap();
    root.delete(&format!("/api/products/{q}")).await.expect(204);
    let r = act(&manager, t, "approve").await;
    assert!([200, 400, 404, 409].contains(&r.status.as_u16()), "{r:?}");
    let outs = ledger_count(&root, &format!("product={q}&kind=transfer_out")).await;
    let ins = ledger_count(&root, &format!("product={q}&kind=transfer_in")).await;
    assert_eq!(outs, ins, "transfer_out and transfer_in rows come in pairs");
    if r.status.as_u16() != 200 {
        assert_eq!(outs, 0);
        assert_eq!(
            root.get(&format!("/api/transfers/{t}")).await.expect(200)["status"],
            "pending"
        );
    }
}

variants!(
    unknown_products_and_locations_are_not_found,
    a_transfer_needs_two_locations_and_a_positive_quantity,
    quantities_that_overflow_or_are_not_integers_are_invalid,
    huge_valid_integers_never_overflow_the_stock,
    never_a_half_booked_transfer,
);
