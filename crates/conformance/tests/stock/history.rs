//! API.md §4 History: a product's adjustments, newest first, as a person reads them.

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, TestApp, Value};

/// The first of `keys` the entry has (the contract names the facts, not every field name).
#[track_caller]
fn fact<'a>(entry: &'a Value, what: &str, keys: &[&str]) -> &'a Value {
    keys.iter()
        .find_map(|k| entry.get(*k).filter(|v| !v.is_null()))
        .unwrap_or_else(|| panic!("a history entry tells {what} (one of {keys:?}): {entry}"))
}

async fn history_lists_a_products_bookings_newest_first(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "HIST-1").await;
    let other = new_product(&root, "HIST-2").await;

    let mut expected = Vec::new(); // (user, kind, location, delta, quantity_after, reason)
    for (c, kind, loc, q, delta, after) in [
        (&employee, "receive", main, 10, 10, 10),
        (&employee, "sale", main, 3, -3, 7),
        (&manager, "loss", main, 1, -1, 6),
        (&manager, "receive", l2, 4, 4, 4),
        (&manager, "audit", main, 5, -1, 5),
    ] {
        book(c, p, Some(loc), kind, q).await;
        expected.push((
            c.user_id(),
            c.username(),
            kind,
            loc,
            delta,
            after,
            format!("{kind} of {q}"),
        ));
        book(&root, other, None, "receive", 1).await;
    }
    expected.reverse();

    let guest = app.client();
    guest
        .get(&format!("/api/products/{p}/history"))
        .await
        .expect(401);

    let entries = all_pages(&employee, &format!("/api/products/{p}/history")).await;
    assert_eq!(
        entries.len(),
        expected.len(),
        "one entry a booking of this product only: {entries:?}"
    );
    let mut previous: Option<chrono::DateTime<chrono::Utc>> = None;
    for (e, (user_id, username, kind, loc, delta, after, reason)) in entries.iter().zip(&expected) {
        assert_eq!(e["kind"], *kind, "newest first: {entries:?}");
        assert_eq!(e["delta"], json!(delta), "{e}");
        assert_eq!(e["quantity_after"], json!(after), "quantity after: {e}");
        assert_eq!(e["reason"], json!(reason), "{e}");
        assert_eq!(
            *fact(e, "the location", &["location_id", "location"]),
            json!(loc),
            "{e}"
        );
        assert_eq!(*fact(e, "who", &["user_id", "user"]), json!(user_id), "{e}");
        if let Some(name) = e.get("username") {
            assert_eq!(name, &json!(username), "{e}");
        }
        let at = instant(fact(e, "when", &["at", "created_at", "timestamp"]));
        if let Some(p) = previous {
            assert!(at <= p, "newest first: {entries:?}");
        }
        previous = Some(at);
    }

    // Auditors read it too; unknown products are 404.
    let auditor = app.user_with_role("auditor").await;
    assert_eq!(
        auditor
            .get(&format!("/api/products/{p}/history"))
            .await
            .count(),
        5
    );
    root.get("/api/products/999999/history").await.expect(404);
}

async fn history_includes_transfers_and_pages(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "HIST-3").await;
    for _ in 0..3 {
        book(&root, p, Some(main), "receive", 2).await;
    }
    let t = root
        .post("/api/transfers", json!({"product_id": p, "from_location_id": main, "to_location_id": l2, "quantity": 5, "note": "restock"}))
        .await;
    t.expect(201);
    manager
        .post_empty(&format!("/api/transfers/{}/approve", t.id()))
        .await
        .expect(200);

    let r = root
        .get(&format!("/api/products/{p}/history?page_size=2"))
        .await;
    let first = r.page();
    assert_eq!(r.count(), 5);
    let kinds: Vec<&Value> = first.iter().map(|e| &e["kind"]).collect();
    assert!(
        kinds.contains(&&json!("transfer_in")) && kinds.contains(&&json!("transfer_out")),
        "the approved transfer is the newest history: {first:?}"
    );
    for e in &first {
        let who = fact(e, "who", &["user_id", "user"]);
        assert!(
            *who == json!(manager.user_id()) || *who == json!(root.user_id()),
            "a transfer's bookings name the approver or the requester: {e}"
        );
    }
    let r = root
        .get(&format!("/api/products/{p}/history?page_size=2&page=3"))
        .await;
    assert_eq!(r.page().len(), 1);
    assert_eq!(r.page()[0]["kind"], "receive");
    root.get(&format!("/api/products/{p}/history?page_size=2&page=4"))
        .await
        .expect(404);
}

variants!(
    history_lists_a_products_bookings_newest_first,
    history_includes_transfers_and_pages
);
