//! API.md §6 Reorder suggestions, checked against worked examples computed by hand:
//! `suggested_quantity = max(reorder_quantity, reorder_level − available − on_order
//!                            + ⌈avg_daily_sales × lead_time_days⌉)`, where `available` is on
//! hand less what confirmed sales orders reserved and sales orders' shipments count as sales.

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, TestApp, Value};

async fn suggestions(c: &Client) -> Vec<Value> {
    all_pages(c, "/api/reorder-suggestions").await
}

fn for_product(list: &[Value], product: i64) -> Option<Value> {
    list.iter()
        .find(|s| s["product_id"] == json!(product))
        .cloned()
}

/// ⌈sold ÷ 30 × lead⌉ in integers.
fn demand(sold_30d: i64, lead: i64) -> i64 {
    (sold_30d * lead + 29) / 30
}

fn formula(
    reorder_quantity: i64,
    level: i64,
    on_hand: i64,
    on_order: i64,
    sold_30d: i64,
    lead: i64,
) -> i64 {
    reorder_quantity.max(level - on_hand - on_order + demand(sold_30d, lead))
}

/// The shop the examples are worked on. Products:
/// - A: level 20, reorder qty 10, 60 received, sales 20+15+10 = 45 (plus 10 removed, which is
///   no sale) → 5 on hand; an approved order of 3 (on order), a draft of 50, a cancelled order
///   of 40 and a received order of 0 outstanding do not count; preferred supplier S1 (lead 7,
///   unit cost 3.20) while S2 (lead 30) is linked but not preferred.
/// - B: level 10, reorder qty 0, 22 received, 20 sold → 2 on hand; preferred S1 with lead 3.
///   20/30 = 0.666… a day; × 3 = exactly 2 (a rounded 0.67 × 3 = 2.01 would wrongly give 3).
/// - C: level 8, reorder qty 25, 4 on hand, no sales; preferred S2 lead 2 → the reorder
///   quantity wins.
/// - D: level 10, 4 on hand, no supplier at all → supplier null, lead time 0.
/// - E: level 10, 6 on hand, a submitted order of 5 → 11 > 10, not suggested.
/// - F: level 5, 5 on hand, exactly at the level → suggested.
/// - S (the sales side): level 10, 30 received, a sales order of 9 shipped → 21 on hand, well
///   above the level; a confirmed sales order reserves 15 → 6 available, so it is suggested:
///   max(0, 10 − 6 − 0 + 0) = 4 (no supplier, lead 0), and the 9 shipped count as sales
///   (avg 9 / 30 = 0.3 a day).
struct Shop {
    s1: i64,
    s2: i64,
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
    f: i64,
    s: i64,
}

async fn shop(app: &TestApp, who: &Cast) -> Shop {
    let root = &who.root;
    let s1 = supplier(root, "Preferred Parts").await;
    let s2 = supplier(root, "Slow Boat Supply").await;
    let mk = |sku: &'static str, level: i64, rq: i64| {
        product(
            root,
            sku,
            json!({"reorder_level": level, "reorder_quantity": rq}),
        )
    };

    let a = mk("SUG-A", 20, 10).await;
    link(
        root,
        a,
        s2,
        json!({"unit_cost": "2.00", "lead_time_days": 30}),
    )
    .await;
    link(
        root,
        a,
        s1,
        json!({"unit_cost": "3.20", "lead_time_days": 7, "is_preferred": true}),
    )
    .await;
    book(root, a, None, "receive", 60).await;
    for q in [20, 15, 10] {
        book(&who.employee, a, None, "sale", q).await;
    }
    book(&who.employee, a, None, "remove", 10).await;
    assert_eq!(quantity(root, a).await, 5);
    // On order: an approved order of 3.
    approved_order(
        &who.employee,
        &who.manager,
        order_body(s1, vec![line(a, 3)]),
    )
    .await;
    // Not on order: a draft, a cancelled order and a fully received one.
    draft(&who.employee, order_body(s1, vec![line(a, 50)])).await;
    let cancelled = draft(&who.employee, order_body(s2, vec![line(a, 40)])).await;
    step(&who.manager, id_of(&cancelled), "cancel", "cancelled").await;
    let done = approved_order(
        &who.employee,
        &who.manager,
        order_body(s2, vec![line(a, 1)]),
    )
    .await;
    receive(&who.employee, id_of(&done), &[(a, 1)])
        .await
        .expect(200);
    book(&who.employee, a, None, "remove", 1).await; // back to 5 on hand (the receipt is no sale)

    let b = mk("SUG-B", 10, 0).await;
    link(
        root,
        b,
        s1,
        json!({"unit_cost": "0.75", "lead_time_days": 3, "is_preferred": true}),
    )
    .await;
    book(root, b, None, "receive", 22).await;
    book(&who.employee, b, None, "sale", 20).await;

    let c = mk("SUG-C", 8, 25).await;
    link(
        root,
        c,
        s2,
        json!({"unit_cost": "9.99", "lead_time_days": 2, "is_preferred": true}),
    )
    .await;
    book(root, c, None, "receive", 4).await;

    let d = mk("SUG-D", 10, 0).await;
    book(root, d, None, "receive", 4).await;

    let e = mk("SUG-E", 10, 0).await;
    link(
        root,
        e,
        s1,
        json!({"unit_cost": "1.00", "lead_time_days": 1, "is_preferred": true}),
    )
    .await;
    book(root, e, None, "receive", 6).await;
    let sub = draft(&who.employee, order_body(s1, vec![line(e, 5)])).await;
    step(&who.employee, id_of(&sub), "submit", "submitted").await;

    let f = mk("SUG-F", 5, 1).await;
    book(root, f, None, "receive", 5).await;

    // A product well stocked is never suggested; a deleted one neither.
    let g = mk("SUG-G", 5, 1).await;
    book(root, g, None, "receive", 50).await;
    let h = mk("SUG-H", 5, 1).await;
    root.delete(&format!("/api/products/{h}")).await.expect(204);

    let s = mk("SUG-S", 10, 0).await;
    book(root, s, None, "receive", 30).await;
    let buyer = root
        .post("/api/customers", json!({"name": "Suggestion buyer"}))
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    for (quantity, ship) in [(9, true), (15, false)] {
        let o = root
            .post(
                "/api/sales-orders",
                json!({"customer_id": buyer, "lines": [{"product_id": s, "quantity": quantity}]}),
            )
            .await
            .expect(201)["id"]
            .as_i64()
            .unwrap();
        root.post(&format!("/api/sales-orders/{o}/confirm"), json!({}))
            .await
            .expect(200);
        if ship {
            root.post(
                &format!("/api/sales-orders/{o}/ship"),
                json!({"lines": [{"product_id": s, "quantity": quantity}]}),
            )
            .await
            .expect(200);
        }
    }
    assert_eq!(quantity(root, s).await, 21);
    let _ = app;
    Shop {
        s1,
        s2,
        a,
        b,
        c,
        d,
        e,
        f,
        s,
    }
}

async fn suggestions_follow_the_formula_exactly(app: TestApp) {
    let who = cast(&app).await;
    let k = shop(&app, &who).await;
    let list = suggestions(&who.auditor).await;

    // --- Worked example A --------------------------------------------------------------
    let a = for_product(&list, k.a).expect("A is suggested");
    let (level, on_hand, on_order, sold, lead, rq) = (20, 5, 3, 45, 7, 10);
    let avg = sold as f64 / 30.0;
    let gap = level - on_hand - on_order;
    let want_a = formula(rq, level, on_hand, on_order, sold, lead);
    println!(
        "[reorder worked example A] reorder_level={level} reorder_quantity={rq}; received 60, sold 20+15+10={sold} \
         in the last 30 days (10 removed and 1 removed again are not sales, a received order of 1 is not a sale) → on_hand={on_hand}; \
         on_order={on_order} (approved order of 3; a draft of 50, a cancelled order of 40 and a received order are not on order); \
         avg_daily_sales={sold}/30={avg}; preferred supplier lead_time_days={lead} (the non-preferred link's 30 is ignored); \
         demand over lead time=ceil({avg}×{lead})=ceil({})={}; level−on_hand−on_order={gap}; \
         suggested=max({rq}, {gap}+{})={want_a}",
        avg * lead as f64,
        demand(sold, lead),
        demand(sold, lead),
    );
    assert_eq!(want_a, 23, "the hand computation: 20 − 5 − 3 + ⌈10.5⌉ = 23");
    assert_eq!(a["sku"], "SUG-A");
    assert_eq!(a["name"], "Product SUG-A");
    assert_eq!(a["on_hand"], json!(on_hand), "{a}");
    assert_eq!(
        a["on_order"],
        json!(on_order),
        "only submitted/approved orders not yet received are on order: {a}"
    );
    assert_eq!(a["reorder_level"], json!(level));
    let got_avg = a["avg_daily_sales"]
        .as_f64()
        .or_else(|| a["avg_daily_sales"].as_str().and_then(|s| s.parse().ok()));
    assert!(
        got_avg.is_some_and(|g| (g - 1.5).abs() < 1e-9),
        "avg_daily_sales = 45 / 30 = 1.5: {a}"
    );
    assert_eq!(a["suggested_quantity"], json!(want_a), "{a}");
    assert_eq!(
        a["supplier"]["supplier_id"],
        json!(k.s1),
        "the preferred supplier: {a}"
    );
    assert_eq!(a["supplier"]["name"], "Preferred Parts");
    assert_eq!(a["supplier"]["unit_cost"], "3.20");
    assert_eq!(a["supplier"]["lead_time_days"], json!(7));

    // --- Worked example B: the ceiling is taken of the exact product --------------------
    let b = for_product(&list, k.b).expect("B is suggested");
    let want_b = formula(0, 10, 2, 0, 20, 3);
    println!(
        "[reorder worked example B] reorder_level=10 reorder_quantity=0 on_hand=2 on_order=0 sold=20 → avg=20/30=0.666…; lead 3 → \
         ceil(0.666…×3)=ceil(2)=2 (not ceil(0.67×3)=3); suggested=max(0, 10−2−0+2)={want_b}"
    );
    assert_eq!(want_b, 10);
    assert_eq!(b["on_hand"], json!(2));
    assert_eq!(b["on_order"], json!(0));
    let got_avg = b["avg_daily_sales"]
        .as_f64()
        .or_else(|| b["avg_daily_sales"].as_str().and_then(|s| s.parse().ok()));
    assert!(
        got_avg.is_some_and(|g| (g - 20.0 / 30.0).abs() < 0.01),
        "avg_daily_sales ≈ 0.67: {b}"
    );
    assert_eq!(b["suggested_quantity"], json!(want_b), "{b}");

    // --- C: the reorder quantity wins -----------------------------------------------------
    let c = for_product(&list, k.c).expect("C is suggested");
    let want_c = formula(25, 8, 4, 0, 0, 2);
    println!("[reorder worked example C] level 8, on_hand 4, no sales, lead 2 → gap 4 < reorder_quantity 25 → {want_c}");
    assert_eq!(want_c, 25);
    assert_eq!(c["suggested_quantity"], json!(25), "{c}");
    assert_eq!(c["supplier"]["supplier_id"], json!(k.s2));
    assert_eq!(c["supplier"]["unit_cost"], "9.99");

    // --- D: no supplier ------------------------------------------------------------------
    let d = for_product(&list, k.d).expect("D is suggested");
    assert_eq!(
        d["supplier"],
        json!(null),
        "no preferred link → supplier null: {d}"
    );
    assert_eq!(
        d["suggested_quantity"],
        json!(formula(0, 10, 4, 0, 0, 0)),
        "{d}"
    );
    assert_eq!(d["suggested_quantity"], json!(6));

    // --- E: on hand + on order above the level is not suggested; F at the level is ---------
    assert!(
        for_product(&list, k.e).is_none(),
        "6 on hand + 5 on order > 10: not suggested: {list:?}"
    );
    let f = for_product(&list, k.f).expect("F, exactly at its level, is suggested");
    assert_eq!(
        f["suggested_quantity"],
        json!(formula(1, 5, 5, 0, 0, 0)),
        "{f}"
    );
    assert_eq!(f["suggested_quantity"], json!(1));

    // --- S: reserved stock is not available; shipments are sales ---------------------------
    let s = for_product(&list, k.s).expect("S: 21 on hand but only 6 available");
    let want_s = formula(0, 10, 21 - 15, 0, 9, 0);
    println!(
        "[reorder worked example S] reorder_level=10 reorder_quantity=0; received 30, a sales order of 9 shipped \
         → on_hand=21; a confirmed order reserves 15 → available=6; sold (shipped) 9 → avg 0.3; no supplier, lead 0; \
         suggested=max(0, 10−6−0+0)={want_s}"
    );
    assert_eq!(want_s, 4);
    assert_eq!(s["on_hand"], json!(21), "{s}");
    assert_eq!(s["available"], json!(6), "{s}");
    assert_eq!(s["suggested_quantity"], json!(want_s), "{s}");
    let got_avg = s["avg_daily_sales"].as_f64();
    assert!(
        got_avg.is_some_and(|g| (g - 0.3).abs() < 1e-9),
        "shipments count as sales: 9 / 30 = 0.3: {s}"
    );
    assert_eq!(list.len(), 6, "A, B, C, D, F and S only: {list:?}");

    // Everything a signed-in reader sees; guests nothing.
    who.employee
        .get("/api/reorder-suggestions")
        .await
        .expect(200);
    who.guest.get("/api/reorder-suggestions").await.expect(401);

    // Stock moves change the figures: receiving enough removes A from the list.
    book(&who.root, k.a, None, "receive", 13).await; // 18 + 3 on order = 21 > 20
    assert!(
        for_product(&suggestions(&who.root).await, k.a).is_none(),
        "restocked A is no longer suggested"
    );
}

async fn drafting_orders_from_suggestions_makes_one_per_preferred_supplier(app: TestApp) {
    let who = cast(&app).await;
    let k = shop(&app, &who).await;
    let before = suggestions(&who.root).await;
    let orders_before = who.root.get("/api/orders").await.count();

    who.guest
        .post_empty("/api/reorder-suggestions/orders")
        .await
        .expect(401);
    who.auditor
        .post_empty("/api/reorder-suggestions/orders")
        .await
        .expect(403);
    assert_eq!(
        who.root.get("/api/orders").await.count(),
        orders_before,
        "refused calls draft nothing"
    );

    let r = who
        .employee
        .post_empty("/api/reorder-suggestions/orders")
        .await;
    assert_eq!(r.status.as_u16(), 201, "{r:?}");
    let created: Vec<Value> = match &r.body {
        Value::Array(a) => a.clone(),
        Value::Object(o) if o.contains_key("results") => o["results"].as_array().unwrap().clone(),
        other => panic!("the answer lists the created orders: {other}"),
    };
    assert_eq!(
        created.len(),
        2,
        "one order per preferred supplier (S1 for A and B, S2 for C): {created:?}"
    );
    let by_supplier = |s: i64| {
        created
            .iter()
            .find(|o| o["supplier_id"] == json!(s))
            .cloned()
            .unwrap_or_else(|| panic!("an order for supplier {s}: {created:?}"))
    };
    let o1 = by_supplier(k.s1);
    let o2 = by_supplier(k.s2);
    for o in [&o1, &o2] {
        assert_eq!(o["status"], "draft", "{o}");
        assert!(is_order_number(o["number"].as_str().unwrap_or("")), "{o}");
        assert_eq!(
            order(&who.root, id_of(o)).await,
            *o,
            "the answered order is stored"
        );
    }
    let qty = |o: &Value, p: i64| -> Option<(i64, String)> {
        o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["product_id"] == json!(p))
            .map(|l| {
                (
                    l["quantity"].as_i64().unwrap(),
                    l["unit_price"].as_str().unwrap().to_owned(),
                )
            })
    };
    assert_eq!(o1["lines"].as_array().unwrap().len(), 2, "{o1}");
    assert_eq!(
        qty(&o1, k.a),
        Some((23, "3.20".into())),
        "A's suggested quantity at S1's unit cost: {o1}"
    );
    assert_eq!(qty(&o1, k.b), Some((10, "0.75".into())), "{o1}");
    // 23 × 3.20 + 10 × 0.75 = 73.60 + 7.50
    assert_eq!(o1["total"], "81.10");
    assert_eq!(o2["lines"].as_array().unwrap().len(), 1, "{o2}");
    assert_eq!(qty(&o2, k.c), Some((25, "9.99".into())), "{o2}");
    assert_eq!(o2["total"], "249.75");
    assert_eq!(who.root.get("/api/orders").await.count(), orders_before + 2);
    assert_eq!(o1["created_by"], json!(who.employee.user_id()));

    // Drafts are not on order: the suggestions stay as they were.
    let after = suggestions(&who.root).await;
    assert_eq!(
        after, before,
        "drafting orders does not change the suggestions (drafts are not on order)"
    );
    // Submitting them does.
    step(&who.employee, id_of(&o1), "submit", "submitted").await;
    let after = suggestions(&who.root).await;
    assert!(
        for_product(&after, k.a).is_none(),
        "A: 5 on hand + 26 on order > 20: {after:?}"
    );
    assert!(
        for_product(&after, k.b).is_none(),
        "B: 2 + 10 > 10: {after:?}"
    );
    assert!(for_product(&after, k.c).is_some());
}

variants!(
    suggestions_follow_the_formula_exactly,
    drafting_orders_from_suggestions_makes_one_per_preferred_supplier,
);
