//! API.md §5 Purchase orders: numbers, lines and totals, editing drafts, the state machine,
//! self-approval, roles. Receiving and what follows from it are in `receiving.rs`.

use crate::support::*;
use conformance::{json, variants, TestApp};

/// A supplier and two products, one linked at a unit cost of 1.99.
pub(super) struct Catalog {
    pub supplier: i64,
    pub linked: i64,
    pub unlinked: i64,
}

pub(super) async fn catalog(c: &conformance::Client) -> Catalog {
    let supplier = supplier(c, "Acme Parts").await;
    let linked = product(c, "BOLT-1", json!({})).await;
    let unlinked = product(c, "NUT-1", json!({})).await;
    link(
        c,
        linked,
        supplier,
        json!({"unit_cost": "1.99", "lead_time_days": 5}),
    )
    .await;
    Catalog {
        supplier,
        linked,
        unlinked,
    }
}

async fn a_new_order_is_a_numbered_draft_with_exact_totals(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let main = main_location(&who.root).await;

    let body = json!({
        "supplier_id": k.supplier,
        "expected_date": "2031-02-03",
        "notes": "spring stock",
        "lines": [
            {"product_id": k.linked, "quantity": 7},
            {"product_id": k.unlinked, "quantity": 3, "unit_price": "2.50"},
        ],
    });
    let o = draft(&who.employee, body).await;
    let number = o["number"].as_str().expect("an order has a number");
    assert!(
        is_order_number(number),
        "a number like PO-000123, got {number:?}"
    );
    assert_eq!(o["supplier_id"], json!(k.supplier));
    assert_eq!(
        o["location_id"],
        json!(main),
        "an order without location_id goes to the default location"
    );
    assert_eq!(o["expected_date"], "2031-02-03");
    assert_eq!(o["notes"], "spring stock");
    assert_eq!(o["created_by"], json!(who.employee.user_id()));
    assert_eq!(o["approved_by"], json!(null));
    let lines = o["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2, "{o}");
    let first = lines
        .iter()
        .find(|l| l["product_id"] == json!(k.linked))
        .expect("the linked product's line");
    assert_eq!(first["quantity"], json!(7));
    assert_eq!(
        first["unit_price"], "1.99",
        "unit_price defaults to the supplier link's unit_cost: {o}"
    );
    assert_eq!(first["received_quantity"], json!(0));
    let second = lines
        .iter()
        .find(|l| l["product_id"] == json!(k.unlinked))
        .expect("the second line");
    assert_eq!(second["unit_price"], "2.50");
    assert_eq!(second["received_quantity"], json!(0));
    // 7 × 1.99 + 3 × 2.50 = 13.93 + 7.50
    assert_eq!(
        o["total"], "21.43",
        "total = Σ quantity × unit_price, exact: {o}"
    );
    for f in ["created_at", "updated_at"] {
        assert!(
            o[f].as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "{f} is RFC 3339: {o}"
        );
    }
    assert_eq!(
        order(&who.auditor, id_of(&o)).await,
        o,
        "GET answers the order as created"
    );

    // An explicit price wins over the link's cost; numbers with ≤ 2 places are accepted.
    let l2 = conformance::fixtures::location(&who.manager, "DOCK").await;
    let o2 = draft(
        &who.employee,
        json!({"supplier_id": k.supplier, "location_id": l2, "notes": "",
        "lines": [{"product_id": k.linked, "quantity": 3, "unit_price": 0.1}]}),
    )
    .await;
    assert_eq!(o2["location_id"], json!(l2));
    assert_eq!(o2["lines"][0]["unit_price"], "0.10");
    assert_eq!(o2["total"], "0.30", "3 × 0.10 is exactly 0.30: {o2}");
    assert_ne!(o2["number"], o["number"], "numbers never repeat");
    assert!(is_order_number(o2["number"].as_str().unwrap()));

    // Creating nothing else: exactly two orders exist.
    assert_eq!(who.auditor.get("/api/orders").await.count(), 2);
}

async fn a_line_without_a_price_needs_the_links_unit_cost(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    // A link with no unit cost cannot price a line either.
    let costless = product(&who.root, "WASHER-1", json!({})).await;
    link(&who.root, costless, k.supplier, json!({})).await;

    for p in [k.unlinked, costless] {
        let r = who
            .employee
            .post("/api/orders", order_body(k.supplier, vec![line(p, 2)]))
            .await;
        assert_eq!(
            r.status.as_u16(),
            400,
            "no unit_price and no link cost is a 400: {r:?}"
        );
        let errors = serde_json::to_string(&r.body["errors"]).unwrap();
        assert!(
            errors.contains("unit_price"),
            "the error names unit_price: {r:?}"
        );
    }
    // A good line beside the bad one does not make it through either.
    let r = who
        .employee
        .post(
            "/api/orders",
            order_body(k.supplier, vec![line(k.linked, 1), line(k.unlinked, 2)]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert_eq!(
        who.root.get("/api/orders").await.count(),
        0,
        "no order was created"
    );

    // Price given, no link needed.
    let o = draft(
        &who.employee,
        order_body(k.supplier, vec![priced_line(k.unlinked, 2, "4.05")]),
    )
    .await;
    assert_eq!(o["total"], "8.10");
}

async fn a_draft_can_be_edited_and_deleted_only_while_it_is_a_draft(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let o = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 2)]),
    )
    .await;
    let id = id_of(&o);
    assert_eq!(o["total"], "3.98");

    let r = who
        .employee
        .patch(
            &format!("/api/orders/{id}"),
            json!({"notes": "more bolts", "lines": [
                {"product_id": k.linked, "quantity": 10},
                {"product_id": k.unlinked, "quantity": 1, "unit_price": "19.99"},
            ]}),
        )
        .await;
    let edited = r.expect(200).clone();
    assert_eq!(edited["notes"], "more bolts");
    assert_eq!(edited["lines"].as_array().unwrap().len(), 2);
    assert_eq!(edited["total"], "39.89", "10 × 1.99 + 19.99: {edited}");
    assert_eq!(edited["number"], o["number"], "editing keeps the number");
    assert_eq!(edited["status"], "draft");
    assert_eq!(order(&who.root, id).await["total"], "39.89");

    step(&who.employee, id, "submit", "submitted").await;
    let before = order(&who.root, id).await;
    let r = who
        .employee
        .patch(&format!("/api/orders/{id}"), json!({"notes": "too late"}))
        .await;
    r.expect_error(409, "invalid_transition");
    let r = who
        .manager
        .patch(
            &format!("/api/orders/{id}"),
            json!({"lines": [{"product_id": k.linked, "quantity": 1}]}),
        )
        .await;
    r.expect_error(409, "invalid_transition");
    let r = who.manager.delete(&format!("/api/orders/{id}")).await;
    assert_eq!(r.status.as_u16(), 409, "only a draft can be deleted: {r:?}");
    assert_eq!(
        order(&who.root, id).await,
        before,
        "a refused edit or delete changes nothing"
    );

    // Deleting a draft.
    let d = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 1)]),
    )
    .await;
    let r = who
        .employee
        .delete(&format!("/api/orders/{}", id_of(&d)))
        .await;
    assert_eq!(r.status.as_u16(), 204, "{r:?}");
    who.root
        .get(&format!("/api/orders/{}", id_of(&d)))
        .await
        .expect(404);
    assert_eq!(who.root.get("/api/orders").await.count(), 1);

    // Every later state refuses edits and deletes too.
    step(&who.manager, id, "approve", "approved").await;
    let r = who
        .manager
        .patch(&format!("/api/orders/{id}"), json!({"notes": "x"}))
        .await;
    r.expect_error(409, "invalid_transition");
    receive(&who.employee, id, &[(k.linked, 1)])
        .await
        .expect(200);
    let r = who.manager.delete(&format!("/api/orders/{id}")).await;
    assert_eq!(r.status.as_u16(), 409, "{r:?}");
    let c = draft(
        &who.employee,
        order_body(k.supplier, vec![line(k.linked, 1)]),
    )
    .await;
    assert_ne!(
        c["number"], d["number"],
        "the number of a deleted draft is never given out again"
    );
    assert_ne!(c["number"], o["number"]);
    step(&who.manager, id_of(&c), "cancel", "cancelled").await;
    let r = who
        .manager
        .patch(&format!("/api/orders/{}", id_of(&c)), json!({"notes": "x"}))
        .await;
    r.expect_error(409, "invalid_transition");
    let r = who
        .manager
        .delete(&format!("/api/orders/{}", id_of(&c)))
        .await;
    assert_eq!(
        r.status.as_u16(),
        409,
        "a cancelled order is not deleted: {r:?}"
    );
}

async fn an_order_goes_from_draft_to_received(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let o = draft(
        &who.employee,
        order_body(
            k.supplier,
            vec![line(k.linked, 10), priced_line(k.unlinked, 4, "1.00")],
        ),
    )
    .await;
    let id = id_of(&o);
    let s = step(&who.employee, id, "submit", "submitted").await;
    assert_eq!(s["approved_by"], json!(null));
    let a = step(&who.manager, id, "approve", "approved").await;
    assert_eq!(
        a["approved_by"],
        json!(who.manager.user_id()),
        "approved_by is the approver"
    );

    let r = receive(&who.employee, id, &[(k.linked, 6)]).await;
    let p = r.expect(200).clone();
    assert_eq!(p["status"], "partially_received");
    let l = p["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == json!(k.linked))
        .unwrap()
        .clone();
    assert_eq!(l["received_quantity"], json!(6));

    let r = receive(&who.employee, id, &[(k.linked, 4), (k.unlinked, 1)]).await;
    assert_eq!(
        r.expect(200)["status"],
        "partially_received",
        "one line still outstanding"
    );
    let r = receive(&who.manager, id, &[(k.unlinked, 3)]).await;
    let done = r.expect(200).clone();
    assert_eq!(done["status"], "received");
    for l in done["lines"].as_array().unwrap() {
        assert_eq!(
            l["received_quantity"], l["quantity"],
            "every line is fully received: {done}"
        );
    }
    assert_eq!(
        done["total"], "23.90",
        "receiving does not change the total"
    );
    assert_eq!(order_status(&who.auditor, id).await, "received");
}

/// Every state × every action: the allowed moves succeed, all others are 409
/// `invalid_transition` and change nothing.
async fn every_move_outside_the_state_machine_is_an_invalid_transition(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let states = [
        "draft",
        "submitted",
        "approved",
        "partially_received",
        "received",
        "cancelled",
    ];
    let actions = ["submit", "approve", "receive", "cancel"];
    let allowed = |state: &str, action: &str| -> Option<&'static str> {
        match (state, action) {
            ("draft", "submit") => Some("submitted"),
            ("draft", "cancel") => Some("cancelled"),
            ("submitted", "approve") => Some("approved"),
            ("submitted", "cancel") => Some("cancelled"),
            ("approved", "receive") => Some("partially_received"),
            ("approved", "cancel") => Some("cancelled"),
            ("partially_received", "receive") => Some("partially_received"),
            _ => None,
        }
    };
    // An order of 10 in the given state (received by taking all 10).
    let make = |state: &'static str| {
        let who = &who;
        let k = &k;
        async move {
            let o = draft(
                &who.employee,
                order_body(k.supplier, vec![line(k.linked, 10)]),
            )
            .await;
            let id = id_of(&o);
            match state {
                "draft" => {}
                "cancelled" => {
                    step(&who.manager, id, "cancel", "cancelled").await;
                }
                _ => {
                    step(&who.employee, id, "submit", "submitted").await;
                    if state != "submitted" {
                        step(&who.manager, id, "approve", "approved").await;
                    }
                    if state == "partially_received" {
                        receive(&who.employee, id, &[(k.linked, 4)])
                            .await
                            .expect(200);
                    }
                    if state == "received" {
                        receive(&who.employee, id, &[(k.linked, 10)])
                            .await
                            .expect(200);
                    }
                }
            }
            assert_eq!(order_status(&who.root, id).await, state);
            id
        }
    };
    let mut tried = 0;
    for state in states {
        for action in actions {
            let id = make(state).await;
            let before = order(&who.root, id).await;
            let stock_before = quantity(&who.root, k.linked).await;
            // The manager does everything: allowed to act, and never the creator.
            let r = if action == "receive" {
                receive(&who.manager, id, &[(k.linked, 1)]).await
            } else {
                act(&who.manager, id, action).await
            };
            tried += 1;
            match allowed(state, action) {
                Some(to) => {
                    assert_eq!(
                        r.status.as_u16(),
                        200,
                        "{action} from {state} is allowed: {r:?}"
                    );
                    assert_eq!(
                        r.body["status"],
                        json!(to),
                        "{action} from {state} → {to}: {r:?}"
                    );
                }
                None => {
                    assert_eq!(
                        r.status.as_u16(),
                        409,
                        "{action} from {state} is refused: {r:?}"
                    );
                    assert_eq!(
                        r.body["code"], "invalid_transition",
                        "{action} from {state}: {r:?}"
                    );
                    assert_eq!(
                        order(&who.root, id).await,
                        before,
                        "a refused {action} from {state} changes nothing"
                    );
                    assert_eq!(
                        quantity(&who.root, k.linked).await,
                        stock_before,
                        "a refused {action} from {state} books nothing"
                    );
                }
            }
        }
    }
    assert_eq!(tried, states.len() * actions.len());
}

async fn approving_your_own_order_is_refused_except_for_a_superuser(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    for approver in [&who.manager, &who.admin] {
        let o = draft(approver, order_body(k.supplier, vec![line(k.linked, 1)])).await;
        let id = id_of(&o);
        step(approver, id, "submit", "submitted").await;
        act(approver, id, "approve")
            .await
            .expect_error(403, "self_approval");
        let now = order(&who.root, id).await;
        assert_eq!(
            now["status"], "submitted",
            "a refused approval changes nothing"
        );
        assert_eq!(now["approved_by"], json!(null));
    }
    // A manager may approve an admin's order and the other way round.
    let mine = draft(
        &who.manager,
        order_body(k.supplier, vec![line(k.linked, 1)]),
    )
    .await;
    step(&who.manager, id_of(&mine), "submit", "submitted").await;
    let a = step(&who.admin, id_of(&mine), "approve", "approved").await;
    assert_eq!(a["approved_by"], json!(who.admin.user_id()));

    // The superuser may approve an order it created itself.
    let own = draft(&who.root, order_body(k.supplier, vec![line(k.linked, 1)])).await;
    step(&who.root, id_of(&own), "submit", "submitted").await;
    let a = step(&who.root, id_of(&own), "approve", "approved").await;
    assert_eq!(a["approved_by"], json!(who.root.user_id()));
}

async fn who_may_do_what_with_orders(app: TestApp) {
    let who = cast(&app).await;
    let k = catalog(&who.root).await;
    let body = order_body(k.supplier, vec![line(k.linked, 5)]);

    // Guests: nothing at all.
    who.guest.get("/api/orders").await.expect(401);
    who.guest
        .post("/api/orders", body.clone())
        .await
        .expect(401);
    // Auditors: read only.
    who.auditor
        .post("/api/orders", body.clone())
        .await
        .expect(403);

    // Employees draft and submit.
    let o = draft(&who.employee, body.clone()).await;
    let id = id_of(&o);
    who.guest
        .get(&format!("/api/orders/{id}"))
        .await
        .expect(401);
    assert_eq!(
        order(&who.auditor, id).await["id"],
        json!(id),
        "auditors read orders"
    );
    assert_eq!(who.auditor.get("/api/orders").await.count(), 1);
    act(&who.auditor, id, "submit").await.expect(403);
    who.auditor
        .patch(&format!("/api/orders/{id}"), json!({"notes": "x"}))
        .await
        .expect(403);
    who.auditor
        .delete(&format!("/api/orders/{id}"))
        .await
        .expect(403);
    act(&who.guest, id, "submit").await.expect(401);
    step(&who.employee, id, "submit", "submitted").await;

    // Only managers (and admins) approve and cancel.
    let other_employee = app.user_with_role("employee").await;
    act(&other_employee, id, "approve").await.expect(403);
    act(&who.employee, id, "approve").await.expect(403);
    act(&who.auditor, id, "approve").await.expect(403);
    act(&who.guest, id, "approve").await.expect(401);
    act(&who.employee, id, "cancel").await.expect(403);
    act(&who.auditor, id, "cancel").await.expect(403);
    assert_eq!(
        order_status(&who.root, id).await,
        "submitted",
        "refused calls change nothing"
    );
    step(&who.manager, id, "approve", "approved").await;

    // Employees receive approved orders; auditors and guests do not.
    receive(&who.auditor, id, &[(k.linked, 1)])
        .await
        .expect(403);
    receive(&who.guest, id, &[(k.linked, 1)]).await.expect(401);
    assert_eq!(
        quantity(&who.root, k.linked).await,
        0,
        "refused receipts book nothing"
    );
    receive(&other_employee, id, &[(k.linked, 2)])
        .await
        .expect(200);
    receive(&who.employee, id, &[(k.linked, 3)])
        .await
        .expect(200);
    assert_eq!(order_status(&who.root, id).await, "received");
    assert_eq!(quantity(&who.root, k.linked).await, 5);

    // Managers and admins cancel.
    let c1 = draft(&who.employee, body.clone()).await;
    step(&who.manager, id_of(&c1), "cancel", "cancelled").await;
    let c2 = draft(&who.employee, body.clone()).await;
    step(&who.employee, id_of(&c2), "submit", "submitted").await;
    step(&who.admin, id_of(&c2), "cancel", "cancelled").await;
    // Admins approve too.
    let c3 = draft(&who.employee, body.clone()).await;
    step(&who.employee, id_of(&c3), "submit", "submitted").await;
    step(&who.admin, id_of(&c3), "approve", "approved").await;
}

variants!(
    a_new_order_is_a_numbered_draft_with_exact_totals,
    a_line_without_a_price_needs_the_links_unit_cost,
    a_draft_can_be_edited_and_deleted_only_while_it_is_a_draft,
    an_order_goes_from_draft_to_received,
    every_move_outside_the_state_machine_is_an_invalid_transition,
    approving_your_own_order_is_refused_except_for_a_superuser,
    who_may_do_what_with_orders,
);
