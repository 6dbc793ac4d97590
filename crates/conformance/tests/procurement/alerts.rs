//! API.md §6 Low-stock alerts: opened on crossing to or below the reorder level (by a sale, a
//! scanned sale, a quantity correction on the product, or a raised reorder level), one open
//! alert a product, out_of_stock at zero, resolved on restock, acknowledged once, filtered by
//! status, and emailed to managers and admins (to the outbox folder, and over real SMTP).

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, TestApp, Value};

/// Every alert of `product` (any status), newest first as listed.
async fn alerts_of(c: &Client, product: i64) -> Vec<Value> {
    all_pages(c, "/api/alerts")
        .await
        .into_iter()
        .filter(|a| a["product_id"] == json!(product))
        .collect()
}

/// The alerts of `product` that are not resolved.
async fn unresolved(c: &Client, product: i64) -> Vec<Value> {
    alerts_of(c, product)
        .await
        .into_iter()
        .filter(|a| a["status"] != "resolved")
        .collect()
}

/// The one open alert of `product`, asserting there is exactly one.
#[track_caller]
fn the_open_alert<'a>(
    c: &'a Client,
    product: i64,
) -> impl std::future::Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let open: Vec<Value> = alerts_of(c, product)
            .await
            .into_iter()
            .filter(|a| a["status"] == "open")
            .collect();
        assert_eq!(
            open.len(),
            1,
            "exactly one open alert for product {product} (called at {caller}): {open:?}"
        );
        open[0].clone()
    }
}

/// A product with `level` as its reorder level and `stock` units at the default location.
async fn stocked(c: &Client, sku: &str, level: i64, stock: i64) -> i64 {
    let p = product(
        c,
        sku,
        json!({"reorder_level": level, "reorder_quantity": 10}),
    )
    .await;
    if stock > 0 {
        book(c, p, None, "receive", stock).await;
    }
    assert!(
        alerts_of(c, p).await.is_empty(),
        "stock above the level opens no alert"
    );
    p
}

fn check_shape(a: &Value) {
    for f in ["id", "product_id", "quantity", "threshold"] {
        assert!(a[f].is_i64(), "alert `{f}` is an integer: {a}");
    }
    assert!(
        ["low_stock", "out_of_stock"].contains(&a["kind"].as_str().unwrap_or("")),
        "{a}"
    );
    assert!(
        ["open", "acknowledged", "resolved"].contains(&a["status"].as_str().unwrap_or("")),
        "{a}"
    );
    assert!(
        a["created_at"]
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "{a}"
    );
}

async fn a_sale_crossing_the_reorder_level_opens_one_alert(app: TestApp) {
    let who = cast(&app).await;
    let p = stocked(&who.root, "LOW-1", 10, 15).await;

    book(&who.employee, p, None, "sale", 4).await;
    assert!(
        alerts_of(&who.root, p).await.is_empty(),
        "11 > 10: still above the level, no alert"
    );
    book(&who.employee, p, None, "sale", 1).await;
    let a = the_open_alert(&who.auditor, p).await;
    check_shape(&a);
    assert_eq!(
        a["kind"], "low_stock",
        "falling *to* the level opens a low_stock alert: {a}"
    );
    assert_eq!(a["quantity"], json!(10));
    assert_eq!(a["threshold"], json!(10));

    // Further sales below the level are not crossings: still that one alert.
    book(&who.employee, p, None, "sale", 2).await;
    book(&who.employee, p, None, "sale", 3).await;
    let all = alerts_of(&who.root, p).await;
    assert_eq!(all.len(), 1, "one open alert a product: {all:?}");
    assert_eq!(all[0]["id"], a["id"]);
    // Rising but staying at or below the level, then falling again: still no second alert.
    book(&who.employee, p, None, "receive", 4).await; // 9
    book(&who.employee, p, None, "sale", 1).await; // 8
    assert_eq!(
        alerts_of(&who.root, p).await.len(),
        1,
        "no crossing, no new alert"
    );

    let listed = who.auditor.get("/api/alerts?status=open").await.page();
    assert!(
        listed.iter().any(|x| x["id"] == a["id"]),
        "?status=open lists it: {listed:?}"
    );
    assert!(who
        .auditor
        .get("/api/alerts?status=resolved")
        .await
        .page()
        .is_empty());
}

async fn a_product_at_zero_gets_an_out_of_stock_alert(app: TestApp) {
    let who = cast(&app).await;
    let gone = stocked(&who.root, "GONE-1", 5, 8).await;
    book(&who.employee, gone, None, "sale", 8).await;
    let a = the_open_alert(&who.root, gone).await;
    assert_eq!(a["kind"], "out_of_stock", "{a}");
    assert_eq!(a["quantity"], json!(0));
    assert_eq!(a["threshold"], json!(5));

    // A level of zero: selling the last unit crosses to it.
    let zero = stocked(&who.root, "ZERO-1", 0, 2).await;
    book(&who.employee, zero, None, "sale", 1).await;
    assert!(
        alerts_of(&who.root, zero).await.is_empty(),
        "1 > 0: no alert"
    );
    book(&who.employee, zero, None, "remove", 1).await;
    let a = the_open_alert(&who.root, zero).await;
    assert_eq!(a["kind"], "out_of_stock", "{a}");

    // Low first, then empty: the open alert is not duplicated.
    let slow = stocked(&who.root, "SLOW-1", 5, 8).await;
    book(&who.employee, slow, None, "sale", 4).await;
    assert_eq!(the_open_alert(&who.root, slow).await["kind"], "low_stock");
    book(&who.employee, slow, None, "sale", 4).await;
    assert_eq!(
        unresolved(&who.root, slow).await.len(),
        1,
        "one open alert a product"
    );
}

async fn a_scanned_sale_opens_an_alert(app: TestApp) {
    let who = cast(&app).await;
    let p = product(
        &who.root,
        "SCAN-1",
        json!({"barcode": "SCAN-LOW-1", "reorder_level": 3}),
    )
    .await;
    book(&who.root, p, None, "receive", 5).await;
    let scan = |q: i64| {
        who.employee.post(
            "/api/scan",
            json!({"barcode": "SCAN-LOW-1", "action": "sale", "quantity": q}),
        )
    };
    scan(1).await.expect(201);
    assert!(alerts_of(&who.root, p).await.is_empty());
    scan(1).await.expect(201);
    let a = the_open_alert(&who.root, p).await;
    assert_eq!(a["kind"], "low_stock");
    assert_eq!(a["quantity"], json!(3));
    scan(3).await.expect(201);
    assert_eq!(alerts_of(&who.root, p).await.len(), 1);
}

async fn editing_the_quantity_down_opens_an_alert(app: TestApp) {
    let who = cast(&app).await;
    let p = stocked(&who.root, "EDIT-1", 10, 15).await;
    who.root
        .patch(&format!("/api/products/{p}"), json!({"quantity": 11}))
        .await
        .expect(200);
    assert!(alerts_of(&who.root, p).await.is_empty());
    who.root
        .patch(&format!("/api/products/{p}"), json!({"quantity": 3}))
        .await
        .expect(200);
    let a = the_open_alert(&who.root, p).await;
    assert_eq!(a["kind"], "low_stock");
    assert_eq!(a["quantity"], json!(3));
    assert_eq!(a["threshold"], json!(10));
    let corrections = ledger(&who.root, &format!("product={p}&kind=correction")).await;
    assert_eq!(
        corrections.len(),
        2,
        "the edits were booked as corrections: {corrections:?}"
    );

    let q = stocked(&who.root, "EDIT-2", 4, 9).await;
    who.manager
        .patch(&format!("/api/products/{q}"), json!({"quantity": 0}))
        .await
        .expect(200);
    let a = the_open_alert(&who.root, q).await;
    assert_eq!(a["kind"], "out_of_stock", "{a}");
    assert_eq!(a["quantity"], json!(0));
}

async fn raising_the_reorder_level_above_the_stock_opens_an_alert(app: TestApp) {
    let who = cast(&app).await;
    let p = stocked(&who.root, "LEVEL-1", 10, 15).await;
    who.root
        .patch(&format!("/api/products/{p}"), json!({"reorder_level": 14}))
        .await
        .expect(200);
    assert!(
        alerts_of(&who.root, p).await.is_empty(),
        "15 > 14: no alert"
    );
    who.root
        .patch(&format!("/api/products/{p}"), json!({"name": "Renamed"}))
        .await
        .expect(200);
    assert!(
        alerts_of(&who.root, p).await.is_empty(),
        "an unrelated edit opens nothing"
    );
    who.root
        .patch(&format!("/api/products/{p}"), json!({"reorder_level": 15}))
        .await
        .expect(200);
    let a = the_open_alert(&who.root, p).await;
    assert_eq!(a["kind"], "low_stock");
    assert_eq!(a["quantity"], json!(15));
    assert_eq!(
        a["threshold"],
        json!(15),
        "the alert records the new level: {a}"
    );
    who.root
        .patch(&format!("/api/products/{p}"), json!({"reorder_level": 30}))
        .await
        .expect(200);
    assert_eq!(
        alerts_of(&who.root, p).await.len(),
        1,
        "already below: no second alert"
    );
}

async fn restocking_above_the_level_resolves_the_alert(app: TestApp) {
    let who = cast(&app).await;
    let p = stocked(&who.root, "BACK-1", 10, 12).await;
    book(&who.employee, p, None, "sale", 5).await; // 7
    let a = the_open_alert(&who.root, p).await;

    book(&who.employee, p, None, "receive", 3).await; // 10: at the level, still low
    assert_eq!(
        the_open_alert(&who.root, p).await["id"],
        a["id"],
        "at the level the alert stays open"
    );
    book(&who.employee, p, None, "receive", 1).await; // 11
    let all = alerts_of(&who.root, p).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        all[0]["status"], "resolved",
        "above the level the alert resolves itself: {all:?}"
    );
    let resolved = who.auditor.get("/api/alerts?status=resolved").await.page();
    assert!(resolved.iter().any(|x| x["id"] == a["id"]));
    assert!(who
        .auditor
        .get("/api/alerts?status=open")
        .await
        .page()
        .iter()
        .all(|x| x["id"] != a["id"]));

    // A new crossing opens a new alert.
    book(&who.employee, p, None, "sale", 2).await; // 9
    let b = the_open_alert(&who.root, p).await;
    assert_ne!(b["id"], a["id"]);
    assert_eq!(alerts_of(&who.root, p).await.len(), 2);

    // An acknowledged alert resolves on restock too; receiving a purchase order restocks.
    who.manager
        .post_empty(&format!("/api/alerts/{}/acknowledge", b["id"]))
        .await
        .expect(200);
    let s = supplier(&who.root, "Restock Co").await;
    link(&who.root, p, s, json!({"unit_cost": "1.00"})).await;
    let o = approved_order(
        &who.employee,
        &who.manager,
        order_body(s, vec![line(p, 20)]),
    )
    .await;
    receive(&who.employee, id_of(&o), &[(p, 20)])
        .await
        .expect(200);
    let all = alerts_of(&who.root, p).await;
    assert!(
        all.iter().all(|x| x["status"] == "resolved"),
        "a received order above the level resolves: {all:?}"
    );
}

async fn an_alert_is_acknowledged_once(app: TestApp) {
    let who = cast(&app).await;
    let p = stocked(&who.root, "ACK-1", 10, 11).await;
    book(&who.employee, p, None, "sale", 2).await;
    let a = the_open_alert(&who.root, p).await;
    let path = format!("/api/alerts/{}/acknowledge", a["id"]);

    who.guest.post_empty(&path).await.expect(401);
    who.auditor.post_empty(&path).await.expect(403);
    assert_eq!(
        the_open_alert(&who.root, p).await["status"],
        "open",
        "refused calls change nothing"
    );

    let r = who.manager.post_empty(&path).await;
    let acked = r.expect(200).clone();
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["id"], a["id"]);
    who.manager
        .post_empty(&path)
        .await
        .expect_error(409, "invalid_transition");
    who.admin.post_empty(&path).await.expect(409);

    let ack_list = who
        .auditor
        .get("/api/alerts?status=acknowledged")
        .await
        .page();
    assert_eq!(
        ack_list.iter().filter(|x| x["id"] == a["id"]).count(),
        1,
        "{ack_list:?}"
    );
    assert!(who
        .auditor
        .get("/api/alerts?status=open")
        .await
        .page()
        .iter()
        .all(|x| x["id"] != a["id"]));
    // Still below the level: selling more is no new crossing.
    book(&who.employee, p, None, "sale", 2).await;
    assert_eq!(alerts_of(&who.root, p).await.len(), 1);

    who.manager
        .post_empty("/api/alerts/999999/acknowledge")
        .await
        .expect(404);
    who.auditor
        .get("/api/alerts?status=snoozed")
        .await
        .expect(400);
    who.guest.get("/api/alerts").await.expect(401);
    let everything = who.employee.get("/api/alerts").await.page();
    assert_eq!(everything.len(), 1);
}

/// The recipients every alert should reach (managers and admins) and must not (others).
struct Audience {
    to: Vec<String>,
    not_to: Vec<String>,
}

fn audience(who: &Cast) -> Audience {
    Audience {
        to: vec![email_of(&who.manager), email_of(&who.admin)],
        not_to: vec![email_of(&who.employee), email_of(&who.auditor)],
    }
}

async fn an_alert_is_emailed_to_managers_and_admins(app: TestApp) {
    let who = cast(&app).await;
    let people = audience(&who);
    let p = stocked(&who.root, "MAIL-LOW-1", 10, 12).await;
    book(&who.employee, p, None, "sale", 3).await;
    the_open_alert(&who.root, p).await;
    for to in &people.to {
        let m = app.wait_for_email(to, "MAIL-LOW-1").await;
        assert!(m.to_ascii_lowercase().contains("subject:"), "{m}");
    }
    // Give any stray message time to land, then check who did not get one.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let outbox = app.outbox();
    let about: Vec<&String> = outbox.iter().filter(|m| m.contains("MAIL-LOW-1")).collect();
    for to in &people.not_to {
        assert!(
            about.iter().all(|m| !m.contains(to.as_str())),
            "{to} gets no alert email: {about:?}"
        );
    }
    for to in &people.to {
        assert_eq!(
            about.iter().filter(|m| m.contains(to.as_str())).count(),
            1,
            "one email to {to}: {about:?}"
        );
    }
    // More sales below the level: no new alert, no new email.
    book(&who.employee, p, None, "sale", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let again = app
        .outbox()
        .iter()
        .filter(|m| m.contains("MAIL-LOW-1"))
        .count();
    assert_eq!(again, about.len(), "no email without a new alert");
}

async fn an_alert_goes_out_over_smtp(app: TestApp, sink: SmtpSink) {
    let who = cast(&app).await;
    let people = audience(&who);
    let p = stocked(&who.root, "SMTP-LOW-1", 10, 12).await;
    book(&who.employee, p, None, "sale", 12).await;
    assert_eq!(the_open_alert(&who.root, p).await["kind"], "out_of_stock");
    let about = |m: &SmtpMessage| m.data.contains("SMTP-LOW-1");
    for to in &people.to {
        let to = to.clone();
        let got = sink
            .wait_for(&format!("alert email to {to}"), |m| {
                about(m) && m.rcpt_to.contains(&to)
            })
            .await;
        assert_eq!(got.len(), 1, "one message to {to}: {got:?}");
        let subject = got[0].header("subject").unwrap_or_default();
        assert!(!subject.is_empty(), "the message has a subject: {got:?}");
        assert!(
            got[0].header("to").is_some_and(|h| h.contains(&to)),
            "the To header names {to}: {got:?}"
        );
        assert!(!got[0].mail_from.is_empty(), "an envelope sender: {got:?}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let all: Vec<SmtpMessage> = sink.messages().into_iter().filter(about).collect();
    for not in &people.not_to {
        assert!(
            all.iter().all(|m| !m.rcpt_to.contains(not)),
            "{not} gets no alert email: {all:?}"
        );
    }
    assert!(
        app.outbox().is_empty(),
        "with EMAIL_URL set, nothing is written to the outbox folder: {:?}",
        app.outbox()
    );
    sink.shutdown();
}

variants!(
    a_sale_crossing_the_reorder_level_opens_one_alert,
    a_product_at_zero_gets_an_out_of_stock_alert,
    a_scanned_sale_opens_an_alert,
    editing_the_quantity_down_opens_an_alert,
    raising_the_reorder_level_above_the_stock_opens_an_alert,
    restocking_above_the_level_resolves_the_alert,
    an_alert_is_acknowledged_once,
    an_alert_is_emailed_to_managers_and_admins,
);

smtp_variants!(an_alert_goes_out_over_smtp);
