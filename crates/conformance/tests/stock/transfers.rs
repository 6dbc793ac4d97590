//! API.md §4 Transfers: request, approve (moving stock in one transaction), reject, cancel.

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, Resp, TestApp, Value};

pub fn transfer_body(product: i64, from: i64, to: i64, quantity: i64) -> Value {
    json!({"product_id": product, "from_location_id": from, "to_location_id": to, "quantity": quantity, "note": "move it"})
}

/// Requests a transfer, asserting 201 `pending`, and returns it.
pub async fn request(c: &Client, product: i64, from: i64, to: i64, quantity: i64) -> Value {
    let r = c
        .post("/api/transfers", transfer_body(product, from, to, quantity))
        .await;
    assert_eq!(
        r.status.as_u16(),
        201,
        "requesting a transfer failed: {r:?}"
    );
    assert_eq!(
        r.body["status"], "pending",
        "a new transfer is pending: {r:?}"
    );
    r.body.clone()
}

pub async fn act(c: &Client, id: i64, action: &str) -> Resp {
    match action {
        "reject" => {
            c.post(
                &format!("/api/transfers/{id}/reject"),
                json!({"reason": "not now"}),
            )
            .await
        }
        _ => c.post_empty(&format!("/api/transfers/{id}/{action}")).await,
    }
}

async fn status(c: &Client, id: i64) -> Value {
    c.get(&format!("/api/transfers/{id}")).await.expect(200)["status"].clone()
}

async fn approving_a_transfer_moves_the_stock(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "MOVE-1").await;
    book(&root, p, Some(main), "receive", 10).await;
    let before = stock(&root, p).await;

    let t = request(&employee, p, main, l2, 4).await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["product_id"], json!(p));
    assert_eq!(t["from_location_id"], json!(main));
    assert_eq!(t["to_location_id"], json!(l2));
    assert_eq!(t["quantity"], json!(4));
    assert_eq!(t["note"], "move it");
    assert_eq!(t["requested_by"], json!(employee.user_id()));
    assert_eq!(t["approved_by"], json!(null));
    assert_eq!(t["decided_at"], json!(null));
    instant(&t["created_at"]);
    instant(&t["updated_at"]);
    assert_eq!(
        stock(&root, p).await,
        before,
        "a pending transfer moves nothing"
    );

    let r = act(&manager, id, "approve").await;
    let done = r.expect(200).clone();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["approved_by"], json!(manager.user_id()));
    instant(&done["decided_at"]);
    assert_eq!(
        root.get(&format!("/api/transfers/{id}")).await.expect(200)["status"],
        "completed"
    );

    let after = stock(&root, p).await;
    assert_eq!(after.at(main), 6);
    assert_eq!(after.at(l2), 4);
    assert_eq!(after.total, 10, "a transfer keeps the total");
    assert_eq!(
        after.ledger_rows,
        before.ledger_rows + 2,
        "one transfer_out and one transfer_in row"
    );
    let out = ledger(&root, &format!("product={p}&kind=transfer_out")).await;
    let inn = ledger(&root, &format!("product={p}&kind=transfer_in")).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(inn.len(), 1, "{inn:?}");
    assert_eq!(out[0]["location_id"], json!(main));
    assert_eq!(out[0]["delta"], json!(-4));
    assert_eq!(out[0]["quantity_after"], json!(6));
    assert_eq!(inn[0]["location_id"], json!(l2));
    assert_eq!(inn[0]["delta"], json!(4));
    assert_eq!(inn[0]["quantity_after"], json!(4));
    assert_eq!(
        inn[0]["product_quantity_after"],
        json!(10),
        "after the whole move the total is unchanged"
    );
}

async fn approving_without_enough_stock_is_a_conflict_and_stays_pending(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "SHORT-1").await;
    book(&root, p, Some(main), "receive", 3).await;
    book(&root, p, Some(l2), "receive", 1).await;

    let id = request(&employee, p, main, l2, 5).await["id"]
        .as_i64()
        .unwrap();
    let before = stock(&root, p).await;
    act(&manager, id, "approve")
        .await
        .expect_error(409, "insufficient_stock");
    assert_eq!(
        status(&root, id).await,
        "pending",
        "a refused approval leaves the transfer pending"
    );
    let t = root
        .get(&format!("/api/transfers/{id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(t["approved_by"], json!(null), "{t}");
    assert_eq!(
        stock(&root, p).await,
        before,
        "nothing moved, nothing booked"
    );
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=transfer_in")).await,
        0
    );
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=transfer_out")).await,
        0
    );

    // Still pending, so it can go through once the stock is there.
    book(&root, p, Some(main), "receive", 2).await;
    act(&manager, id, "approve").await.expect(200);
    let after = stock(&root, p).await;
    assert_eq!(after.at(main), 0);
    assert_eq!(after.at(l2), 6);
}

async fn reject_and_cancel_end_a_transfer_without_moving_stock(app: TestApp) {
    let root = app.root().await;
    let requester = app.user_with_role("employee").await;
    let colleague = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let auditor = app.user_with_role("auditor").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "END-1").await;
    book(&root, p, Some(main), "receive", 10).await;
    let before = stock(&root, p).await;

    // Reject: managers only, with a reason.
    let a = request(&requester, p, main, l2, 2).await["id"]
        .as_i64()
        .unwrap();
    act(&requester, a, "reject").await.expect(403);
    act(&colleague, a, "reject").await.expect(403);
    act(&requester, a, "approve").await.expect(403);
    act(&colleague, a, "approve").await.expect(403);
    act(&auditor, a, "approve").await.expect(403);
    act(&app.client(), a, "approve").await.expect(401);
    assert_eq!(status(&root, a).await, "pending");
    let r = manager
        .post(
            &format!("/api/transfers/{a}/reject"),
            json!({"reason": "no room at L2"}),
        )
        .await;
    let rejected = r.expect(200).clone();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "no room at L2");
    instant(&rejected["decided_at"]);
    assert_eq!(status(&root, a).await, "rejected");

    // Cancel: the requester...
    let b = request(&requester, p, main, l2, 2).await["id"]
        .as_i64()
        .unwrap();
    act(&colleague, b, "cancel").await.expect(403);
    act(&auditor, b, "cancel").await.expect(403);
    act(&app.client(), b, "cancel").await.expect(401);
    assert_eq!(status(&root, b).await, "pending");
    assert_eq!(
        act(&requester, b, "cancel").await.expect(200)["status"],
        "cancelled"
    );
    // ...or a manager.
    let c = request(&requester, p, main, l2, 2).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        act(&manager, c, "cancel").await.expect(200)["status"],
        "cancelled"
    );
    assert_eq!(status(&root, c).await, "cancelled");

    assert_eq!(
        stock(&root, p).await,
        before,
        "rejected and cancelled transfers move nothing"
    );
}

async fn only_a_pending_transfer_changes_state(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "STATE-1").await;
    book(&root, p, Some(main), "receive", 10).await;

    let completed = request(&employee, p, main, l2, 3).await["id"]
        .as_i64()
        .unwrap();
    act(&manager, completed, "approve").await.expect(200);
    let rejected = request(&employee, p, main, l2, 3).await["id"]
        .as_i64()
        .unwrap();
    act(&manager, rejected, "reject").await.expect(200);
    let cancelled = request(&employee, p, main, l2, 3).await["id"]
        .as_i64()
        .unwrap();
    act(&employee, cancelled, "cancel").await.expect(200);
    let settled = stock(&root, p).await;
    assert_eq!(settled.at(main), 7);
    assert_eq!(settled.at(l2), 3);

    for (id, state) in [
        (completed, "completed"),
        (rejected, "rejected"),
        (cancelled, "cancelled"),
    ] {
        for action in ["approve", "reject", "cancel"] {
            let r = act(&manager, id, action).await;
            r.expect_error(409, "invalid_transition");
            assert_eq!(
                status(&root, id).await,
                state,
                "{action} on a {state} transfer changes nothing"
            );
        }
        // The requester cancelling is also refused.
        act(&employee, id, "cancel")
            .await
            .expect_error(409, "invalid_transition");
    }
    assert_eq!(
        stock(&root, p).await,
        settled,
        "stock moved once, by the one approval"
    );

    root.get("/api/transfers/999999").await.expect(404);
    act(&manager, 999999, "approve").await.expect(404);
    act(&manager, 999999, "reject").await.expect(404);
    act(&manager, 999999, "cancel").await.expect(404);
}

async fn nobody_approves_their_own_transfer_except_a_superuser(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let admin = app.user_with_role("admin").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "SELF-1").await;
    book(&root, p, Some(main), "receive", 10).await;

    for c in [&manager, &admin] {
        let id = request(c, p, main, l2, 1).await["id"].as_i64().unwrap();
        let before = stock(&root, p).await;
        act(c, id, "approve")
            .await
            .expect_error(403, "self_approval");
        assert_eq!(status(&root, id).await, "pending");
        assert_eq!(
            stock(&root, p).await,
            before,
            "a refused self-approval moves nothing"
        );
        let other = if std::ptr::eq(c, &manager) {
            &admin
        } else {
            &manager
        };
        act(other, id, "approve").await.expect(200);
    }

    // The superuser may approve their own.
    let id = request(&root, p, main, l2, 1).await["id"].as_i64().unwrap();
    let r = act(&root, id, "approve").await;
    assert_eq!(r.expect(200)["status"], "completed");
    assert_eq!(r.body["approved_by"], json!(root.user_id()));
    let s = stock(&root, p).await;
    assert_eq!(s.at(main), 7);
    assert_eq!(s.at(l2), 3);
}

async fn transfers_filter_by_status_product_and_location(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let l3 = new_location(&root, "L3").await;
    let a = new_product(&root, "TF-A").await;
    let b = new_product(&root, "TF-B").await;
    book(&root, a, Some(main), "receive", 10).await;
    book(&root, b, Some(l2), "receive", 10).await;

    let t1 = request(&employee, a, main, l2, 1).await["id"]
        .as_i64()
        .unwrap(); // completed
    let t2 = request(&employee, a, main, l3, 1).await["id"]
        .as_i64()
        .unwrap(); // pending
    let t3 = request(&employee, b, l2, l3, 1).await["id"]
        .as_i64()
        .unwrap(); // rejected
    let t4 = request(&employee, b, l2, main, 1).await["id"]
        .as_i64()
        .unwrap(); // cancelled
    act(&manager, t1, "approve").await.expect(200);
    act(&manager, t3, "reject").await.expect(200);
    act(&employee, t4, "cancel").await.expect(200);

    let ids = |rows: Vec<Value>| {
        let mut v: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        v.sort();
        v
    };
    let list = |q: String| {
        let root = &root;
        async move { ids(all_pages(root, &format!("/api/transfers?{q}")).await) }
    };
    assert_eq!(list("status=pending".into()).await, vec![t2]);
    assert_eq!(list("status=completed".into()).await, vec![t1]);
    assert_eq!(list("status=rejected".into()).await, vec![t3]);
    assert_eq!(list("status=cancelled".into()).await, vec![t4]);
    assert_eq!(list(format!("product={a}")).await, vec![t1, t2]);
    assert_eq!(list(format!("product={b}")).await, vec![t3, t4]);
    // A location matches either end.
    assert_eq!(list(format!("location={l3}")).await, vec![t2, t3]);
    assert_eq!(list(format!("location={main}")).await, vec![t1, t2, t4]);
    assert_eq!(
        list(format!("location={l2}&status=completed")).await,
        vec![t1]
    );
    assert_eq!(list(format!("product={b}&location={l3}")).await, vec![t3]);
    root.get("/api/transfers?status=lost").await.expect(400);

    // Who may read: signed-in users, not guests.
    app.client().get("/api/transfers").await.expect(401);
    let auditor = app.user_with_role("auditor").await;
    assert_eq!(auditor.get("/api/transfers").await.count(), 4);
    auditor
        .post("/api/transfers", transfer_body(a, main, l2, 1))
        .await
        .expect(403);
    app.client()
        .post("/api/transfers", transfer_body(a, main, l2, 1))
        .await
        .expect(401);
    assert_eq!(root.get("/api/transfers").await.count(), 4);
}

variants!(
    approving_a_transfer_moves_the_stock,
    approving_without_enough_stock_is_a_conflict_and_stays_pending,
    reject_and_cancel_end_a_transfer_without_moving_stock,
    only_a_pending_transfer_changes_state,
    nobody_approves_their_own_transfer_except_a_superuser,
    transfers_filter_by_status_product_and_location,
);
