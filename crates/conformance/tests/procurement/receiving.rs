//! API.md §5 Purchase orders, receiving and after: order receipts in the ledger at the
//! order's location, links made on receipt, over-receipt refused, filters, supplier deletion.

use super::orders::{catalog, Catalog};
use crate::support::*;
use conformance::fixtures::{all_pages, cents};
use conformance::{json, variants, TestApp, Value};

async fn receiving_books_order_receipts_at_the_orders_location(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let main = main_location(&who.root).await;
    let dock = conformance::fixtures::location(&who.manager, "DOCK").await;
    book(&who.root, k.linked, Some(main), "receive", 4).await;
    assert_eq!(link_quantity(&who.root, k.linked, k.supplier).await, 0);

    let mut body = order_body(k.supplier, vec![line(k.linked, 10)]);
    body["location_id"] = json!(dock);
    let o = approved_order(&who.employee, &who.manager, body).await;
    let id = id_of(&o);
    let number = o["number"].as_str().unwrap().to_owned();

    receive(&who.employee, id, &[(k.linked, 6)])
        .await
        .expect(200);
    let rows = ledger(
        &who.auditor,
        &format!("kind=order_receipt&product={}", k.linked),
    )
    .await;
    assert_eq!(rows.len(), 1, "one order_receipt row: {rows:?}");
    let row = &rows[0];
    assert_eq!(row["kind"], "order_receipt");
    assert_eq!(
        row["location_id"],
        json!(dock),
        "booked at the order's location: {row}"
    );
    assert_eq!(row["delta"], json!(6));
    assert_eq!(row["quantity_after"], json!(6));
    assert_eq!(row["product_quantity_after"], json!(10));
    assert_eq!(row["user_id"], json!(who.employee.user_id()));
    assert!(
        row["reference"]
            .as_str()
            .is_some_and(|r| r.contains(&number))
            || row["reason"].as_str().is_some_and(|r| r.contains(&number)),
        "the receipt row points at the order {number}: {row}"
    );
    assert_eq!(quantity(&who.root, k.linked).await, 10);
    assert_eq!(level(&who.root, k.linked, dock).await, 6);
    assert_eq!(
        level(&who.root, k.linked, main).await,
        4,
        "nothing booked at the default location"
    );
    assert_eq!(
        link_quantity(&who.root, k.linked, k.supplier).await,
        6,
        "receiving adds to the link's quantity"
    );

    receive(&who.employee, id, &[(k.linked, 4)])
        .await
        .expect(200);
    assert_eq!(
        ledger(
            &who.auditor,
            &format!("kind=order_receipt&product={}", k.linked)
        )
        .await
        .len(),
        2
    );
    assert_eq!(
        ledger(&who.auditor, &format!("kind=order_receipt&location={dock}"))
            .await
            .len(),
        2
    );
    assert_eq!(quantity(&who.root, k.linked).await, 14);
    assert_eq!(level(&who.root, k.linked, dock).await, 10);
    assert_eq!(link_quantity(&who.root, k.linked, k.supplier).await, 10);
    let h = who
        .auditor
        .get(&format!("/api/products/{}/history", k.linked))
        .await;
    let kinds: Vec<Value> = h.page().iter().map(|r| r["kind"].clone()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == json!("order_receipt"))
            .count(),
        2,
        "the history shows the receipts: {kinds:?}"
    );
}

async fn receiving_creates_the_supplier_link_when_missing(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    assert!(link_of(&who.root, k.unlinked, k.supplier).await.is_none());
    let o = approved_order(
        &who.employee,
        &who.manager,
        order_body(k.supplier, vec![priced_line(k.unlinked, 8, "3.10")]),
    )
    .await;
    receive(&who.employee, id_of(&o), &[(k.unlinked, 5)])
        .await
        .expect(200);
    let l = link_of(&who.root, k.unlinked, k.supplier)
        .await
        .expect("receiving created the link");
    assert_eq!(l["quantity"], json!(5), "{l}");
    let r = who
        .root
        .get(&format!("/api/suppliers/{}/products", k.supplier))
        .await;
    assert!(
        r.text.contains(&format!("\"product_id\":{}", k.unlinked)),
        "the supplier lists the new link: {r:?}"
    );
    receive(&who.employee, id_of(&o), &[(k.unlinked, 3)])
        .await
        .expect(200);
    assert_eq!(link_quantity(&who.root, k.unlinked, k.supplier).await, 8);
    assert_eq!(quantity(&who.root, k.unlinked).await, 8);
}

/// Everything a refused receipt must leave alone.
async fn receipt_snapshot(
    who: &Cast,
    k: &Catalog,
    id: i64,
) -> (Value, i64, i64, usize, i64, Option<Value>) {
    (
        order(&who.root, id).await,
        quantity(&who.root, k.linked).await,
        quantity(&who.root, k.unlinked).await,
        ledger(&who.root, "kind=order_receipt").await.len(),
        link_quantity(&who.root, k.linked, k.supplier).await,
        link_of(&who.root, k.unlinked, k.supplier)
            .await
            .map(|l| l["quantity"].clone()),
    )
}

async fn receiving_more_than_ordered_is_refused_and_changes_nothing(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let o = approved_order(
        &who.employee,
        &who.manager,
        order_body(
            k.supplier,
            vec![line(k.linked, 5), priced_line(k.unlinked, 2, "1.00")],
        ),
    )
    .await;
    let id = id_of(&o);

    let snapshot = || receipt_snapshot(&who, &k, id);
    let before = snapshot().await;
    assert_eq!(
        receive(&who.employee, id, &[(k.linked, 6)])
            .await
            .status
            .as_u16(),
        409
    );
    assert_eq!(snapshot().await, before, "an over-receipt changes nothing");
    // One good line and one too many: all or nothing.
    let r = receive(&who.employee, id, &[(k.linked, 2), (k.unlinked, 3)]).await;
    assert_eq!(r.status.as_u16(), 409, "{r:?}");
    assert_eq!(
        snapshot().await,
        before,
        "the good line of a refused receipt is not booked either"
    );
    let r = receive(&who.employee, id, &[(k.unlinked, 3), (k.linked, 2)]).await;
    assert_eq!(r.status.as_u16(), 409, "{r:?}");
    assert_eq!(snapshot().await, before);

    receive(&who.employee, id, &[(k.linked, 3)])
        .await
        .expect(200);
    let before = snapshot().await;
    let r = receive(&who.employee, id, &[(k.linked, 3)]).await;
    assert_eq!(r.status.as_u16(), 409, "3 received + 3 > 5 ordered: {r:?}");
    assert_eq!(snapshot().await, before);
    receive(&who.employee, id, &[(k.linked, 2), (k.unlinked, 2)])
        .await
        .expect(200);
    assert_eq!(order_status(&who.root, id).await, "received");
    let before = snapshot().await;
    let r = receive(&who.employee, id, &[(k.linked, 1)]).await;
    assert_eq!(
        r.status.as_u16(),
        409,
        "nothing more on a received order: {r:?}"
    );
    assert_eq!(snapshot().await, before);
    assert_eq!(
        quantity(&who.root, k.linked).await,
        5,
        "never more than ordered"
    );
}

async fn orders_filter_by_status_and_supplier(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let other = supplier(&who.root, "Bolt Brothers").await;
    let a = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 1)]),
    )
    .await;
    let b = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 1)]),
    )
    .await;
    step(&who.employee, id_of(&b), "submit", "submitted").await;
    let c = draft(
        &who.employee,
        order_body(other, vec![priced_line(k.linked, 1, "1.00")]),
    )
    .await;
    let d = draft(
        &who.employee,
        order_body(other, vec![priced_line(k.linked, 1, "1.00")]),
    )
    .await;
    step(&who.manager, id_of(&d), "cancel", "cancelled").await;

    let ids = |path: String| {
        let c = &who.auditor;
        async move {
            let mut v: Vec<i64> = all_pages(c, &path).await.iter().map(id_of).collect();
            v.sort();
            v
        }
    };
    let mut want = vec![id_of(&a), id_of(&c)];
    want.sort();
    assert_eq!(ids("/api/orders?status=draft".into()).await, want);
    assert_eq!(
        ids("/api/orders?status=submitted".into()).await,
        vec![id_of(&b)]
    );
    assert_eq!(
        ids("/api/orders?status=cancelled".into()).await,
        vec![id_of(&d)]
    );
    assert_eq!(
        ids("/api/orders?status=received".into()).await,
        Vec::<i64>::new()
    );
    let mut want = vec![id_of(&a), id_of(&b)];
    want.sort();
    assert_eq!(
        ids(format!("/api/orders?supplier={}", k.supplier)).await,
        want
    );
    assert_eq!(
        ids(format!("/api/orders?supplier={other}&status=draft")).await,
        vec![id_of(&c)]
    );
    assert_eq!(ids("/api/orders".into()).await.len(), 4);
    for o in all_pages(&who.auditor, "/api/orders?status=draft").await {
        assert_eq!(o["status"], "draft");
        cents(&o["total"]);
    }
    who.auditor
        .get("/api/orders?status=shipped")
        .await
        .expect(400);
    who.auditor
        .get("/api/orders?supplier=abc")
        .await
        .expect(400);
}

async fn a_supplier_with_open_orders_cannot_be_deleted(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let o = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 4)]),
    )
    .await;
    let id = id_of(&o);
    let path = format!("/api/suppliers/{}", k.supplier);
    let r = who.root.delete(&path).await;
    assert_eq!(r.status.as_u16(), 409, "a draft keeps its supplier: {r:?}");
    step(&who.employee, id, "submit", "submitted").await;
    assert_eq!(
        who.manager.delete(&path).await.status.as_u16(),
        409,
        "a submitted order keeps its supplier"
    );
    step(&who.manager, id, "approve", "approved").await;
    assert_eq!(
        who.root.delete(&path).await.status.as_u16(),
        409,
        "an approved order keeps its supplier"
    );
    receive(&who.employee, id, &[(k.linked, 1)])
        .await
        .expect(200);
    assert_eq!(
        who.root.delete(&path).await.status.as_u16(),
        409,
        "a partially received order keeps its supplier"
    );
    who.root.get(&path).await.expect(200);
    assert!(
        link_of(&who.root, k.linked, k.supplier).await.is_some(),
        "a refused delete keeps the links"
    );
    assert_eq!(order(&who.root, id).await["supplier_id"], json!(k.supplier));

    // With no orders at all, the supplier goes.
    let spare = supplier(&who.root, "Spare Supplier").await;
    let d = draft(
        &who.employee,
        order_body(spare, vec![priced_line(k.linked, 1, "1.00")]),
    )
    .await;
    assert_eq!(
        who.root
            .delete(&format!("/api/suppliers/{spare}"))
            .await
            .status
            .as_u16(),
        409
    );
    who.employee
        .delete(&format!("/api/orders/{}", id_of(&d)))
        .await
        .expect(204);
    who.root
        .delete(&format!("/api/suppliers/{spare}"))
        .await
        .expect(204);
    who.root
        .get(&format!("/api/suppliers/{spare}"))
        .await
        .expect(404);
}

variants!(
    receiving_books_order_receipts_at_the_orders_location,
    receiving_creates_the_supplier_link_when_missing,
    receiving_more_than_ordered_is_refused_and_changes_nothing,
    orders_filter_by_status_and_supplier,
    a_supplier_with_open_orders_cannot_be_deleted,
);
