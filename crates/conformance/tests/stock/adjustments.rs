//! API.md §4 Adjustments: the stock ledger.

use crate::support::*;
use conformance::{json, variants, Method, Raw, TestApp, Value};

#[track_caller]
fn assert_row(
    row: &Value,
    kind: &str,
    delta: i64,
    quantity_after: i64,
    product_quantity_after: i64,
) {
    assert_eq!(row["kind"], kind, "kind: {row}");
    assert_eq!(row["delta"], json!(delta), "delta of {kind}: {row}");
    assert_eq!(
        row["quantity_after"],
        json!(quantity_after),
        "quantity_after of {kind}: {row}"
    );
    assert_eq!(
        row["product_quantity_after"],
        json!(product_quantity_after),
        "product_quantity_after of {kind}: {row}"
    );
}

async fn every_kind_books_its_signed_delta(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let main = main_location(&manager).await;
    let l2 = new_location(&manager, "L2").await;
    let p = new_product(&manager, "KINDS-1").await;

    let r = manager
        .post(
            "/api/stock-adjustments",
            json!({"product_id": p, "kind": "receive", "quantity": 10, "reason": "delivery", "reference": "DN-77"}),
        )
        .await;
    let row = r.expect(201).clone();
    assert_row(&row, "receive", 10, 10, 10);
    assert_eq!(row["product_id"], json!(p));
    assert_eq!(
        row["location_id"],
        json!(main),
        "no location means the default: {row}"
    );
    assert_eq!(row["reason"], "delivery");
    assert_eq!(row["reference"], "DN-77");
    assert_eq!(
        row["user_id"],
        json!(manager.user_id()),
        "the ledger records who booked: {row}"
    );
    let at = instant(&row["created_at"]);
    assert!(
        (chrono::Utc::now() - at).num_seconds().abs() < 120,
        "created_at is now: {row}"
    );
    assert!(row["id"].is_i64());
    let fetched = manager
        .get(&format!("/api/stock-adjustments/{}", r.id()))
        .await;
    assert_eq!(fetched.expect(200), &row, "GET answers the booked row");

    assert_row(
        &book(&manager, p, Some(main), "sale", 3).await,
        "sale",
        -3,
        7,
        7,
    );
    assert_row(
        &book(&manager, p, Some(main), "remove", 2).await,
        "remove",
        -2,
        5,
        5,
    );
    assert_row(
        &book(&manager, p, Some(main), "loss", 1).await,
        "loss",
        -1,
        4,
        4,
    );
    assert_row(
        &book(&manager, p, Some(main), "correction", 3).await,
        "correction",
        3,
        7,
        7,
    );
    assert_row(
        &book(&manager, p, Some(main), "correction", -2).await,
        "correction",
        -2,
        5,
        5,
    );
    // At another location: quantity_after is that location's, product_quantity_after the total.
    let row = book(&manager, p, Some(l2), "receive", 6).await;
    assert_row(&row, "receive", 6, 6, 11);
    assert_eq!(row["location_id"], json!(l2));
    assert_row(
        &book(&manager, p, Some(l2), "sale", 1).await,
        "sale",
        -1,
        5,
        10,
    );

    let s = stock(&manager, p).await;
    assert_eq!(s.total, 10);
    assert_eq!(s.at(main), 5);
    assert_eq!(s.at(l2), 5);
    assert_eq!(s.ledger_rows, 8, "every change is one ledger row");
}

async fn an_audit_books_the_difference_to_the_counted_quantity(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let main = main_location(&manager).await;
    let l2 = new_location(&manager, "L2").await;
    let p = new_product(&manager, "AUDIT-1").await;
    book(&manager, p, Some(main), "receive", 10).await;
    book(&manager, p, Some(l2), "receive", 4).await;

    assert_row(
        &book(&manager, p, Some(main), "audit", 7).await,
        "audit",
        -3,
        7,
        11,
    );
    assert_row(
        &book(&manager, p, Some(main), "audit", 12).await,
        "audit",
        5,
        12,
        16,
    );
    assert_row(
        &book(&manager, p, Some(main), "audit", 0).await,
        "audit",
        -12,
        0,
        4,
    );
    // Counting a location that never held the product.
    let l3 = new_location(&manager, "L3").await;
    assert_row(
        &book(&manager, p, Some(l3), "audit", 2).await,
        "audit",
        2,
        2,
        6,
    );

    let before = stock(&manager, p).await;
    adjust(&manager, p, Some(main), "audit", -1)
        .await
        .expect(400);
    assert_eq!(
        stock(&manager, p).await,
        before,
        "a refused audit books nothing"
    );
    assert_eq!(before.at(main), 0);
    assert_eq!(before.at(l2), 4);
    assert_eq!(before.at(l3), 2);
}

async fn positive_kinds_refuse_zero_and_negative_quantities(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let p = new_product(&manager, "POS-1").await;
    book(&manager, p, None, "receive", 5).await;
    let before = stock(&manager, p).await;
    for kind in ["receive", "sale", "remove", "loss"] {
        for q in [0, -1, -5] {
            let r = adjust(&manager, p, None, kind, q).await;
            r.expect_field_error("quantity");
        }
    }
    adjust(&manager, p, None, "correction", 0)
        .await
        .expect_field_error("quantity");
    adjust(&manager, p, None, "transfer_in", 5)
        .await
        .expect_field_error("kind");
    adjust(&manager, p, None, "order_receipt", 5)
        .await
        .expect_field_error("kind");
    adjust(&manager, p, None, "gift", 5)
        .await
        .expect_field_error("kind");
    assert_eq!(
        stock(&manager, p).await,
        before,
        "refused adjustments book nothing"
    );
}

async fn employees_book_receive_sale_and_remove_but_not_correction_audit_or_loss(app: TestApp) {
    let root = app.root().await;
    let p = new_product(&root, "ROLE-1").await;
    let employee = app.user_with_role("employee").await;

    let row = book(&employee, p, None, "receive", 10).await;
    assert_eq!(row["user_id"], json!(employee.user_id()));
    book(&employee, p, None, "sale", 2).await;
    book(&employee, p, None, "remove", 1).await;
    let before = stock(&root, p).await;
    assert_eq!(before.total, 7);

    adjust(&employee, p, None, "correction", 1)
        .await
        .expect(403);
    adjust(&employee, p, None, "correction", -1)
        .await
        .expect(403);
    adjust(&employee, p, None, "audit", 3).await.expect(403);
    adjust(&employee, p, None, "loss", 1).await.expect(403);
    assert_eq!(
        stock(&root, p).await,
        before,
        "refused adjustments book nothing"
    );

    let auditor = app.user_with_role("auditor").await;
    for kind in ["receive", "sale", "remove", "correction", "audit", "loss"] {
        adjust(&auditor, p, None, kind, 1).await.expect(403);
        adjust(&app.client(), p, None, kind, 1).await.expect(401);
    }
    assert_eq!(
        stock(&root, p).await,
        before,
        "refused adjustments book nothing"
    );

    for role in ["manager", "admin", "superuser"] {
        let c = app.user_with_role(role).await;
        book(&c, p, None, "correction", 1).await;
        book(&c, p, None, "audit", 7).await;
        book(&c, p, None, "loss", 1).await;
        book(&c, p, None, "receive", 1).await;
    }
    assert_eq!(total(&root, p).await, 7);
}

async fn reading_the_ledger_needs_a_sign_in(app: TestApp) {
    let root = app.root().await;
    let p = new_product(&root, "READ-1").await;
    let row = book(&root, p, None, "receive", 1).await;
    let id = row["id"].as_i64().unwrap();
    let guest = app.client();
    guest.get("/api/stock-adjustments").await.expect(401);
    guest
        .get(&format!("/api/stock-adjustments/{id}"))
        .await
        .expect(401);
    for role in ["auditor", "employee"] {
        let c = app.user_with_role(role).await;
        assert_eq!(c.get("/api/stock-adjustments").await.count(), 1);
        c.get(&format!("/api/stock-adjustments/{id}"))
            .await
            .expect(200);
    }
    root.get("/api/stock-adjustments/999999").await.expect(404);
}

async fn overselling_is_insufficient_stock_and_changes_nothing(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let main = main_location(&manager).await;
    let l2 = new_location(&manager, "L2").await;
    let p = new_product(&manager, "OVER-1").await;
    book(&manager, p, Some(main), "receive", 5).await;
    let before = stock(&manager, p).await;

    for kind in ["sale", "remove", "loss"] {
        adjust(&manager, p, Some(main), kind, 6)
            .await
            .expect_error(409, "insufficient_stock");
    }
    adjust(&manager, p, Some(main), "correction", -6)
        .await
        .expect_error(409, "insufficient_stock");
    // The product has 5 in total, but none at L2.
    adjust(&manager, p, Some(l2), "sale", 1)
        .await
        .expect_error(409, "insufficient_stock");
    adjust(&manager, p, Some(l2), "correction", -1)
        .await
        .expect_error(409, "insufficient_stock");

    let after = stock(&manager, p).await;
    assert_eq!(
        after, before,
        "a refused change leaves quantity, levels and ledger as they were"
    );
    assert_eq!(after.total, 5);
    assert_eq!(level(&manager, p, main).await, 5);
    assert_eq!(level(&manager, p, l2).await, 0);

    // Exactly down to zero is fine.
    assert_row(
        &book(&manager, p, Some(main), "sale", 5).await,
        "sale",
        -5,
        0,
        0,
    );
    adjust(&manager, p, Some(main), "sale", 1)
        .await
        .expect_error(409, "insufficient_stock");
    assert_eq!(total(&manager, p).await, 0);
}

async fn ledger_rows_are_immutable(app: TestApp) {
    let root = app.root().await;
    let p = new_product(&root, "IMM-1").await;
    let row = book(&root, p, None, "receive", 4).await;
    let id = row["id"].as_i64().unwrap();
    let path = format!("/api/stock-adjustments/{id}");
    root.put(
        &path,
        json!({"product_id": p, "kind": "receive", "quantity": 400, "reason": "x"}),
    )
    .await
    .expect(405);
    root.patch(&path, json!({"quantity": 400}))
        .await
        .expect(405);
    root.delete(&path).await.expect(405);
    root.raw(Raw::new(Method::DELETE, path.clone()))
        .await
        .expect(405);
    assert_eq!(
        root.get(&path).await.expect(200),
        &row,
        "the row is unchanged"
    );
    assert_eq!(total(&root, p).await, 4);
    assert_eq!(ledger_count(&root, &format!("product={p}")).await, 1);
}

async fn the_ledger_filters_by_product_location_kind_user_and_time(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let a = new_product(&root, "FILT-A").await;
    let b = new_product(&root, "FILT-B").await;

    // Earlier bookings...
    book(&employee, a, Some(main), "receive", 10).await;
    book(&employee, b, Some(l2), "receive", 5).await;
    let last_early = book(&manager, a, Some(main), "loss", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // ...and later ones.
    let first_late = book(&manager, a, Some(l2), "receive", 4).await;
    book(&employee, a, Some(main), "sale", 2).await;
    book(&manager, b, Some(l2), "correction", 1).await;

    let ids = |rows: Vec<Value>| -> Vec<i64> {
        let mut v: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        v.sort();
        v
    };

    let rows = ledger(&root, &format!("product={a}")).await;
    assert_eq!(rows.len(), 4, "product={a}: {rows:?}");
    assert!(rows.iter().all(|r| r["product_id"] == json!(a)));

    let rows = ledger(&root, &format!("location={l2}")).await;
    assert_eq!(rows.len(), 3, "location={l2}: {rows:?}");
    assert!(rows.iter().all(|r| r["location_id"] == json!(l2)));

    let rows = ledger(&root, "kind=receive").await;
    assert_eq!(rows.len(), 3, "kind=receive: {rows:?}");
    assert!(rows.iter().all(|r| r["kind"] == "receive"));

    let rows = ledger(&root, &format!("user={}", employee.user_id())).await;
    assert_eq!(rows.len(), 3, "user=employee: {rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["user_id"] == json!(employee.user_id())));
    assert_eq!(
        ledger(&root, &format!("user={}", manager.user_id()))
            .await
            .len(),
        3
    );
    assert_eq!(
        ledger(&root, &format!("user={}", root.user_id()))
            .await
            .len(),
        0
    );

    let rows = ledger(&root, &format!("product={a}&location={main}&kind=sale")).await;
    assert_eq!(rows.len(), 1, "combined filters: {rows:?}");
    assert_eq!(rows[0]["delta"], json!(-2));

    // A moment between the two batches.
    let t1 = instant(&last_early["created_at"]);
    let t2 = instant(&first_late["created_at"]);
    assert!(
        t2 > t1,
        "later bookings have later timestamps: {last_early} / {first_late}"
    );
    let mid = t1 + (t2 - t1) / 2;
    let mid = mid.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let late = ledger(&root, &format!("since={mid}")).await;
    assert_eq!(late.len(), 3, "since={mid}: {late:?}");
    assert!(late.iter().all(|r| instant(&r["created_at"]) >= t2));
    let early = ledger(&root, &format!("until={mid}")).await;
    assert_eq!(early.len(), 3, "until={mid}: {early:?}");
    assert!(early.iter().all(|r| instant(&r["created_at"]) <= t1));
    let mut all = ids(late.clone());
    all.extend(ids(early));
    all.sort();
    assert_eq!(
        all,
        ids(ledger(&root, "").await),
        "since and until split the ledger"
    );
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        ids(ledger(&root, &format!("since={mid}&until={tomorrow}")).await),
        ids(late)
    );
    assert_eq!(ledger(&root, &format!("since={tomorrow}")).await.len(), 0);

    root.get("/api/stock-adjustments?kind=gift")
        .await
        .expect(400);
    root.get("/api/stock-adjustments?since=yesterday")
        .await
        .expect(400);
    root.get("/api/stock-adjustments?product=abc")
        .await
        .expect(400);
}

variants!(
    every_kind_books_its_signed_delta,
    an_audit_books_the_difference_to_the_counted_quantity,
    positive_kinds_refuse_zero_and_negative_quantities,
    employees_book_receive_sale_and_remove_but_not_correction_audit_or_loss,
    reading_the_ledger_needs_a_sign_in,
    overselling_is_insufficient_stock_and_changes_nothing,
    ledger_rows_are_immutable,
    the_ledger_filters_by_product_location_kind_user_and_time,
);
