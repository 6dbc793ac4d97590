//! Malformed and extreme input to every endpoint of §5 and §6: always a 4xx with the error
//! shape (the harness checks "never a 5xx" on every answer), and nothing changes.

use crate::support::*;
use conformance::{json, variants, Method, Raw, TestApp, Value};

async fn malformed_orders_are_refused(app: TestApp) {
    let who = cast(&app).await;
    let s = supplier(&who.root, "Input Supplies").await;
    let p = product(&who.root, "IN-1", json!({})).await;
    link(&who.root, p, s, json!({"unit_cost": "1.00"})).await;
    let inactive = supplier(&who.root, "Closed Supplier").await;
    who.root
        .patch(
            &format!("/api/suppliers/{inactive}"),
            json!({"is_active": false}),
        )
        .await
        .expect(200);
    let c = &who.employee;

    let bodies: Vec<(&str, Value)> = vec![
        (
            "no supplier",
            json!({"lines": [{"product_id": p, "quantity": 1}]}),
        ),
        ("no lines", json!({"supplier_id": s})),
        ("empty lines", json!({"supplier_id": s, "lines": []})),
        (
            "lines not a list",
            json!({"supplier_id": s, "lines": {"product_id": p}}),
        ),
        (
            "a line not an object",
            json!({"supplier_id": s, "lines": [7]}),
        ),
        (
            "unknown field",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1}], "discount": 5}),
        ),
        (
            "unknown line field",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "colour": "red"}]}),
        ),
        (
            "supplier as text",
            json!({"supplier_id": "one", "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "missing supplier",
            json!({"supplier_id": 987654, "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "inactive supplier",
            json!({"supplier_id": inactive, "lines": [{"product_id": p, "quantity": 1, "unit_price": "1.00"}]}),
        ),
        (
            "missing product",
            json!({"supplier_id": s, "lines": [{"product_id": 987654, "quantity": 1, "unit_price": "1.00"}]}),
        ),
        (
            "missing location",
            json!({"supplier_id": s, "location_id": 987654, "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "zero quantity",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 0}]}),
        ),
        (
            "negative quantity",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": -5}]}),
        ),
        (
            "fractional quantity",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1.5}]}),
        ),
        (
            "quantity as text",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": "ten"}]}),
        ),
        (
            "huge quantity",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": i64::MAX}]}),
        ),
        (
            "quantity beyond i64",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1e30}]}),
        ),
        (
            "three decimals",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "1.005"}]}),
        ),
        (
            "negative price",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "-1.00"}]}),
        ),
        (
            "price as words",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "cheap"}]}),
        ),
        (
            "price as a list",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": [1]}]}),
        ),
        (
            "price NaN-ish",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "NaN"}]}),
        ),
        (
            "price in exponent form",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "1e3"}]}),
        ),
        (
            "price too large",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1, "unit_price": "99999999999999999999.99"}]}),
        ),
        (
            "duplicate product lines",
            json!({"supplier_id": s, "lines": [{"product_id": p, "quantity": 1}, {"product_id": p, "quantity": 2}]}),
        ),
        (
            "impossible date",
            json!({"supplier_id": s, "expected_date": "2026-02-30", "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "date as a timestamp number",
            json!({"supplier_id": s, "expected_date": 1700000000, "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "notes not text",
            json!({"supplier_id": s, "notes": {"a": 1}, "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        (
            "notes with a NUL",
            json!({"supplier_id": s, "notes": "a\u{0}b", "lines": [{"product_id": p, "quantity": 1}]}),
        ),
        ("a list body", json!([{"supplier_id": s}])),
        ("null body", Value::Null),
    ];
    for (what, body) in &bodies {
        let r = c.post("/api/orders", body.clone()).await;
        assert_eq!(r.status.as_u16(), 400, "{what}: {r:?}");
    }
    for (what, raw) in [
        ("broken JSON", b"{\"supplier_id\": 1, \"lines\": [".to_vec()),
        ("not JSON", b"supplier_id=1".to_vec()),
        (
            "invalid UTF-8",
            b"{\"supplier_id\": 1, \"notes\": \"\xff\xfe\"}".to_vec(),
        ),
    ] {
        let r = c
            .raw(Raw::new(Method::POST, "/api/orders").body("application/json", raw))
            .await;
        assert_eq!(r.status.as_u16(), 400, "{what}: {r:?}");
    }
    let r = c
        .raw(Raw::new(Method::POST, "/api/orders").body("text/plain", b"{}".to_vec()))
        .await;
    assert_eq!(r.status.as_u16(), 415, "{r:?}");
    let r = c
        .raw(
            Raw::new(Method::POST, "/api/orders")
                .body("application/json", vec![b' '; 2 * 1024 * 1024]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 413, "{r:?}");
    assert_eq!(
        who.root.get("/api/orders").await.count(),
        0,
        "no malformed request created an order"
    );

    // Paths and filters.
    for path in [
        "/api/orders/abc",
        "/api/orders/99999999999999999999999",
        "/api/orders/-1",
        "/api/orders/987654",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status.as_u16(), 404, "{path}: {r:?}");
    }
    for q in [
        "status=DRAFT",
        "status=open",
        "supplier=abc",
        "supplier=1.5",
        "page=0",
        "page_size=1000",
        "page=abc",
    ] {
        let r = c.get(&format!("/api/orders?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "orders?{q}: {r:?}");
    }
    for action in ["submit", "approve", "cancel", "receive"] {
        let r = who
            .manager
            .post(
                &format!("/api/orders/987654/{action}"),
                json!({"lines": [{"product_id": p, "quantity": 1}]}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 404, "{action} of a missing order: {r:?}");
    }
}

async fn malformed_draft_edits_are_refused(app: TestApp) {
    let who = cast(&app).await;
    let s = supplier(&who.root, "Input Supplies").await;
    let p = product(&who.root, "IN-1", json!({})).await;
    link(&who.root, p, s, json!({"unit_cost": "1.00"})).await;
    let d = draft(&who.employee, order_body(s, vec![line(p, 3)])).await;
    let did = id_of(&d);
    for (what, body) in [
        ("unknown field", json!({"status": "approved"})),
        ("number is not editable", json!({"number": "PO-999999"})),
        ("bad lines", json!({"lines": "all"})),
        ("empty lines", json!({"lines": []})),
        ("bad supplier", json!({"supplier_id": 987654})),
        ("bad date", json!({"expected_date": "soon"})),
        (
            "negative quantity",
            json!({"lines": [{"product_id": p, "quantity": -1}]}),
        ),
    ] {
        let r = who
            .employee
            .patch(&format!("/api/orders/{did}"), body)
            .await;
        assert_eq!(r.status.as_u16(), 400, "{what}: {r:?}");
    }
    assert_eq!(
        order(&who.root, did).await,
        d,
        "refused edits change nothing"
    );
    // A missing location in the body is invalid input (400, as on create), not a missing order (404).
    let r = who
        .employee
        .patch(
            &format!("/api/orders/{did}"),
            json!({"location_id": 987654}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "bad location: {r:?}");
    assert_eq!(order(&who.root, did).await, d);
}

async fn malformed_receipts_are_refused(app: TestApp) {
    let who = cast(&app).await;
    let s = supplier(&who.root, "Input Supplies").await;
    let p = product(&who.root, "IN-1", json!({})).await;
    let q = product(&who.root, "IN-2", json!({})).await;
    link(&who.root, p, s, json!({"unit_cost": "1.00"})).await;
    let o = approved_order(&who.employee, &who.manager, order_body(s, vec![line(p, 5)])).await;
    let id = id_of(&o);
    let path = format!("/api/orders/{id}/receive");
    let bodies: Vec<(&str, Value)> = vec![
        ("no lines", json!({})),
        ("empty lines", json!({"lines": []})),
        (
            "a product not on the order",
            json!({"lines": [{"product_id": q, "quantity": 1}]}),
        ),
        (
            "a missing product",
            json!({"lines": [{"product_id": 987654, "quantity": 1}]}),
        ),
        ("zero", json!({"lines": [{"product_id": p, "quantity": 0}]})),
        (
            "negative",
            json!({"lines": [{"product_id": p, "quantity": -2}]}),
        ),
        (
            "fractional",
            json!({"lines": [{"product_id": p, "quantity": 0.5}]}),
        ),
        (
            "text",
            json!({"lines": [{"product_id": p, "quantity": "1"}]}),
        ),
        (
            "huge",
            json!({"lines": [{"product_id": p, "quantity": i64::MAX}]}),
        ),
        (
            "the same product twice",
            json!({"lines": [{"product_id": p, "quantity": 1}, {"product_id": p, "quantity": 1}]}),
        ),
        (
            "unknown field",
            json!({"lines": [{"product_id": p, "quantity": 1}], "note": "x"}),
        ),
        (
            "unknown line field",
            json!({"lines": [{"product_id": p, "quantity": 1, "unit_price": "1.00"}]}),
        ),
        ("a list body", json!([{"product_id": p, "quantity": 1}])),
    ];
    for (what, body) in &bodies {
        let r = who.employee.post(&path, body.clone()).await;
        assert_eq!(r.status.as_u16(), 400, "receive with {what}: {r:?}");
    }
    let r = who
        .employee
        .raw(Raw::new(Method::POST, &path).body("application/json", b"{\"lines\": [".to_vec()))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let r = who
        .employee
        .raw(Raw::new(Method::POST, &path).body("text/csv", b"product_id,quantity\n1,1\n".to_vec()))
        .await;
    assert_eq!(r.status.as_u16(), 415, "{r:?}");
    assert_eq!(order(&who.root, id).await["status"], "approved");
    assert_eq!(
        quantity(&who.root, p).await,
        0,
        "no malformed receipt booked anything"
    );
    assert_eq!(quantity(&who.root, q).await, 0);
}

/// Products at the largest price the API accepts, and a try at the largest stock (10^12 units
/// of 10^12.00). Stock worth more than the service keeps exactly is refused with a 400, never
/// accepted and wrapped; returns whether the stock was accepted.
async fn extreme_products(who: &Cast) -> (i64, i64, i64, bool) {
    let s = supplier(&who.root, "Big Supplier").await;
    let max_units: i64 = 1_000_000_000_000;
    let a = product(&who.root, "BIG-1", json!({"price": "1000000000000.00", "reorder_level": max_units, "reorder_quantity": max_units})).await;
    let b = product(&who.root, "BIG-2", json!({"price": "1000000000000.00"})).await;
    let mut accepted = true;
    for p in [a, b] {
        let r = adjust(&who.root, p, None, "receive", max_units).await;
        assert!(
            r.status.as_u16() == 201 || r.status.as_u16() == 400,
            "absurd stock is kept exactly or refused with a 400: {r:?}"
        );
        accepted &= r.status.as_u16() == 201;
    }
    if !accepted {
        assert!(
            quantity(&who.root, a).await + quantity(&who.root, b).await <= max_units,
            "a refused receipt books nothing"
        );
    }
    link(
        &who.root,
        a,
        s,
        json!({"unit_cost": "1000000000000.00", "lead_time_days": 365, "is_preferred": true}),
    )
    .await;
    (s, a, b, accepted)
}

/// Valid but extreme values: an order of the biggest quantities at the biggest prices the API
/// accepts has a total beyond 64-bit cents; it must be created with a correct total or refused
/// with a 400, never a server error or a wrapped-around total.
async fn an_order_beyond_64_bit_totals_never_breaks(app: TestApp) {
    let who = cast(&app).await;
    let (s, a, b, _) = extreme_products(&who).await;
    let max_units: i64 = 1_000_000_000_000;
    let r = who
        .employee
        .post(
            "/api/orders",
            order_body(
                s,
                vec![
                    priced_line(a, max_units, "1000000000000.00"),
                    priced_line(b, max_units, "1000000000000.00"),
                ],
            ),
        )
        .await;
    assert!(
        r.status.as_u16() == 201 || r.status.as_u16() == 400,
        "a huge order is created or refused, never a 5xx: {r:?}"
    );
    if r.status.as_u16() == 201 {
        assert_eq!(
            r.body["total"], "2000000000000000000000000.00",
            "the total is exact: {r:?}"
        );
        who.root.get("/api/orders").await.expect(200);
    }
}

/// Valid but extreme values: stock worth more than 64-bit cents must not make a report,
/// a suggestion or an export fail or wrap around.
async fn reports_on_extreme_stock_never_break(app: TestApp) {
    let who = cast(&app).await;
    let (_, _, _, accepted) = extreme_products(&who).await;
    for path in [
        "/api/reports/valuation?group_by=category",
        "/api/reports/valuation?group_by=location",
        "/api/reports/valuation?group_by=supplier",
        "/api/reports/valuation?group_by=supplier&format=csv",
        "/api/reports/movements",
        "/api/reorder-suggestions",
        "/api/alerts",
        "/api/products/export?format=csv",
    ] {
        let r = who.auditor.get(path).await;
        assert!(r.status.as_u16() < 500, "{path}: {r:?}");
        if accepted
            && r.status.as_u16() == 200
            && path.contains("valuation")
            && !path.contains("csv")
        {
            assert_eq!(
                r.body["total_quantity"],
                json!(2_000_000_000_000i64),
                "{path}: {r:?}"
            );
            assert_eq!(
                r.body["total_value"], "2000000000000000000000000.00",
                "{path}: the value is exact: {r:?}"
            );
        }
    }
}

async fn malformed_alert_suggestion_and_report_requests_are_refused(app: TestApp) {
    let who = cast(&app).await;
    let c = &who.manager;
    for path in [
        "/api/alerts/abc/acknowledge",
        "/api/alerts/99999999999999999999/acknowledge",
        "/api/alerts/987654/acknowledge",
    ] {
        let r = c.post_empty(path).await;
        assert_eq!(r.status.as_u16(), 404, "{path}: {r:?}");
    }
    for q in [
        "status=OPEN",
        "status=closed",
        "product=abc",
        "page=0",
        "page_size=101",
    ] {
        let r = c.get(&format!("/api/alerts?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "alerts?{q}: {r:?}");
    }
    for q in ["page=0", "page_size=0", "page=abc", "page_size=500"] {
        let r = c.get(&format!("/api/reorder-suggestions?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "reorder-suggestions?{q}: {r:?}");
    }
    let r = c.get("/api/reorder-suggestions?page=99").await;
    assert_eq!(r.status.as_u16(), 404, "a page past the end: {r:?}");
    // Methods that do not exist.
    for (m, path) in [
        (Method::PUT, "/api/alerts"),
        (Method::DELETE, "/api/reorder-suggestions"),
        (Method::GET, "/api/reorder-suggestions/orders"),
        (Method::POST, "/api/reports/valuation"),
        (Method::DELETE, "/api/products/export"),
        (Method::GET, "/api/products/import"),
    ] {
        let r = c.raw(Raw::new(m.clone(), path)).await;
        assert_eq!(r.status.as_u16(), 405, "{m} {path}: {r:?}");
    }
    let r = c
        .raw(
            Raw::new(Method::POST, "/api/reorder-suggestions/orders")
                .body("application/json", b"{not json".to_vec()),
        )
        .await;
    assert!(
        r.status.is_client_error() || r.status.as_u16() == 201,
        "{r:?}"
    );
    for q in ["format=xml", "format=json&format=csv"] {
        let r = c.get(&format!("/api/products/export?{q}")).await;
        assert!(r.status.is_client_error(), "export?{q}: {r:?}");
    }
}

variants!(
    malformed_orders_are_refused,
    malformed_draft_edits_are_refused,
    malformed_receipts_are_refused,
    an_order_beyond_64_bit_totals_never_breaks,
    reports_on_extreme_stock_never_break,
    malformed_alert_suggestion_and_report_requests_are_refused,
);
