//! Stock by hand: adjustments, transfers and their buttons, purchase orders from draft to
//! received, alerts, the scan page, stock levels and the dashboard.

use conformance::{json, variants, TestApp};

use crate::support::{add, follow, root, staff};

async fn adjustments_are_booked_and_read_but_never_changed(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let p = conformance::fixtures::product(
        &api,
        json!({"sku": "A-1", "name": "Apple", "price": "1.00", "quantity": 5}),
    )
    .await;
    let pid = p["id"].as_i64().unwrap().to_string();
    let id = add(
        &c,
        "adjustments",
        &[
            ("product_id", &pid),
            ("kind", "receive"),
            ("quantity", "7"),
            ("reason", "delivery"),
        ],
    )
    .await;
    let page = c.get(&format!("/admin/adjustments/{id}/change/")).await;
    page.expect(200)
        .contains("delivery")
        .lacks("name=\"_save\"");
    assert_eq!(
        api.get(&format!("/api/products/{pid}")).await.expect(200)["quantity"],
        json!(12)
    );
    // The ledger rows are immutable here as in the API.
    c.get(&format!("/admin/adjustments/{id}/delete/"))
        .await
        .expect(403);
    let r = c
        .post(
            &format!("/admin/adjustments/{id}/change/"),
            &[("reason", "x")],
        )
        .await;
    r.expect(403);
    let list = c
        .get(&format!("/admin/adjustments/?product_id={pid}"))
        .await;
    list.expect(200).contains("2 adjustments");
    let list = c
        .get("/admin/adjustments/?kind=receive&since=2020-01-01")
        .await;
    list.expect(200).contains("2 adjustments");
    // The product page's small form books too.
    let r = c
        .post(
            &format!("/admin/products/{pid}/adjust/"),
            &[
                ("adj_kind", "sale"),
                ("adj_quantity", "2"),
                ("adj_location_id", ""),
                ("adj_reason", "counter"),
            ],
        )
        .await;
    let page = follow(&c, &r).await;
    assert!(
        page.messages().iter().any(|m| m.contains("10 on hand")),
        "{:?}",
        page.messages()
    );
    c.get("/admin/stock-levels/")
        .await
        .expect(200)
        .contains("MAIN");
}

async fn transfers_are_approved_rejected_and_cancelled_with_buttons(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let p = conformance::fixtures::product(
        &api,
        json!({"sku": "T-1", "name": "Tent", "price": "50.00", "quantity": 10}),
    )
    .await;
    let pid = p["id"].as_i64().unwrap().to_string();
    let shop = conformance::fixtures::location(&api, "SHOP")
        .await
        .to_string();
    let main = api
        .get("/api/locations?ordering=code")
        .await
        .page()
        .iter()
        .find(|l| l["code"] == json!("MAIN"))
        .unwrap()["id"]
        .to_string();
    let (emp, _, _) = staff(&app, &c, "employee").await;
    let (mgr, _, _) = staff(&app, &c, "manager").await;
    let t1 = add(
        &emp,
        "transfers",
        &[
            ("product_id", &pid),
            ("from_location_id", &main),
            ("to_location_id", &shop),
            ("quantity", "4"),
            ("note", "for the window"),
        ],
    )
    .await;
    // The employee sees no approve button and may not approve.
    emp.get(&format!("/admin/transfers/{t1}/change/"))
        .await
        .expect(200)
        .lacks(">Approve<");
    let r = emp
        .post(&format!("/admin/transfers/{t1}/approve/"), &[])
        .await;
    let page = follow(&emp, &r).await;
    assert!(
        page.messages().iter().any(|m| m.contains("permission")),
        "{:?}",
        page.messages()
    );
    // The manager approves through the confirmation page.
    mgr.get(&format!("/admin/transfers/{t1}/change/"))
        .await
        .expect(200)
        .contains(">Approve<");
    mgr.get(&format!("/admin/transfers/{t1}/approve/"))
        .await
        .expect(200)
        .contains("Are you sure");
    let r = mgr
        .post(
            &format!("/admin/transfers/{t1}/approve/"),
            &[("post", "yes")],
        )
        .await;
    let page = follow(&mgr, &r).await;
    assert!(
        page.messages().iter().any(|m| m.contains("approved")),
        "{:?}",
        page.messages()
    );
    let levels = api
        .get(&format!("/api/stock-levels?product={pid}"))
        .await
        .page();
    assert!(
        levels.iter().any(|l| l["quantity"] == json!(4)),
        "{levels:?}"
    );
    // Approving twice: a message on the page, not an error page.
    let r = mgr
        .post(&format!("/admin/transfers/{t1}/approve/"), &[])
        .await;
    let page = follow(&mgr, &r).await;
    page.expect(200);
    assert!(
        page.messages()
            .iter()
            .any(|m| m.contains("pending") || m.contains("transition") || m.contains("not")),
        "{:?}",
        page.messages()
    );
    // A manager cannot approve their own request.
    let t2 = add(
        &mgr,
        "transfers",
        &[
            ("product_id", &pid),
            ("from_location_id", &main),
            ("to_location_id", &shop),
            ("quantity", "1"),
        ],
    )
    .await;
    let r = mgr
        .post(&format!("/admin/transfers/{t2}/approve/"), &[])
        .await;
    let page = follow(&mgr, &r).await;
    assert!(
        page.messages()
            .iter()
            .any(|m| m.to_lowercase().contains("own") || m.contains("approve")),
        "{:?}",
        page.messages()
    );
    assert_eq!(
        api.get(&format!("/api/transfers/{t2}")).await.expect(200)["status"],
        json!("pending")
    );
    // Reject with a reason; cancel by the requester.
    let r = c
        .post(
            &format!("/admin/transfers/{t2}/reject/"),
            &[("reason", "not now"), ("post", "yes")],
        )
        .await;
    follow(&c, &r).await.expect(200);
    let t = api.get(&format!("/api/transfers/{t2}")).await;
    assert_eq!(t.expect(200)["status"], json!("rejected"));
    assert_eq!(t.body["reason"], json!("not now"));
    let t3 = add(
        &emp,
        "transfers",
        &[
            ("product_id", &pid),
            ("from_location_id", &main),
            ("to_location_id", &shop),
            ("quantity", "1"),
        ],
    )
    .await;
    let r = emp
        .post(
            &format!("/admin/transfers/{t3}/cancel/"),
            &[("post", "yes")],
        )
        .await;
    follow(&emp, &r).await.expect(200);
    assert_eq!(
        api.get(&format!("/api/transfers/{t3}")).await.expect(200)["status"],
        json!("cancelled")
    );
    // Bulk approve: each transfer through the service; the one beyond stock is refused.
    let t4 = add(
        &emp,
        "transfers",
        &[
            ("product_id", &pid),
            ("from_location_id", &main),
            ("to_location_id", &shop),
            ("quantity", "2"),
        ],
    )
    .await
    .to_string();
    let t5 = add(
        &emp,
        "transfers",
        &[
            ("product_id", &pid),
            ("from_location_id", &main),
            ("to_location_id", &shop),
            ("quantity", "500"),
        ],
    )
    .await
    .to_string();
    mgr.get("/admin/transfers/").await;
    let r = mgr
        .post(
            "/admin/transfers/",
            &[
                ("action", "approve"),
                ("_selected_action", &t4),
                ("_selected_action", &t5),
                ("post", "yes"),
            ],
        )
        .await;
    let page = follow(&mgr, &r).await;
    let msgs = page.messages().join(" | ");
    assert!(msgs.contains("done for 1 transfer"), "{msgs}");
    assert!(msgs.contains("Not enough stock"), "{msgs}");
}

async fn a_purchase_order_goes_from_draft_to_received(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let sup = conformance::fixtures::supplier(&api, "Acme")
        .await
        .to_string();
    let p1 = conformance::fixtures::simple_product(&api, "O-1", "2.00")
        .await
        .to_string();
    let p2 = conformance::fixtures::simple_product(&api, "O-2", "3.00")
        .await
        .to_string();
    let (emp, _, _) = staff(&app, &c, "employee").await;
    emp.get("/admin/orders/add/")
        .await
        .expect(200)
        .contains("lines-TOTAL_FORMS");
    let r = emp
        .post(
            "/admin/orders/add/",
            &[
                ("supplier_id", &sup),
                ("location_id", ""),
                ("expected_date", "2026-12-24"),
                ("notes", "for Christmas"),
                ("lines-TOTAL_FORMS", "3"),
                ("lines-0-product_id", &p1),
                ("lines-0-quantity", "10"),
                ("lines-0-unit_price", "1.50"),
                ("lines-1-product_id", &p2),
                ("lines-1-quantity", "4"),
                ("lines-1-unit_price", "2.25"),
                ("lines-2-product_id", ""),
                ("_continue", "1"),
            ],
        )
        .await;
    let id = conformance::admin::id_in(&r.redirects_to());
    let page = emp.get(&format!("/admin/orders/{id}/change/")).await;
    page.expect(200)
        .contains("PO-")
        .contains("24.00")
        .contains(">Submit<");
    let r = emp.post(&format!("/admin/orders/{id}/submit/"), &[]).await;
    follow(&emp, &r).await.expect(200);
    // Submitted: the form is read-only now.
    emp.get(&format!("/admin/orders/{id}/change/"))
        .await
        .expect(200)
        .lacks("name=\"_save\"");
    let r = c
        .post(&format!("/admin/orders/{id}/approve/"), &[("post", "yes")])
        .await;
    follow(&c, &r).await.expect(200);
    let page = emp.get(&format!("/admin/orders/{id}/change/")).await;
    page.contains(">Receive<")
        .contains(&format!("name=\"receive_{p1}\""));
    let (k1, k2) = (format!("receive_{p1}"), format!("receive_{p2}"));
    let r = emp
        .post(
            &format!("/admin/orders/{id}/receive/"),
            &[(&k1, "10"), (&k2, "1")],
        )
        .await;
    let page = follow(&emp, &r).await;
    assert!(
        page.messages()
            .iter()
            .any(|m| m.contains("partially received")),
        "{:?}",
        page.messages()
    );
    // More than ordered: refused as a message; nothing booked.
    let r = emp
        .post(&format!("/admin/orders/{id}/receive/"), &[(&k2, "9")])
        .await;
    let page = follow(&emp, &r).await;
    assert!(
        page.messages()
            .iter()
            .any(|m| m.contains("more") || m.contains("than")),
        "{:?}",
        page.messages()
    );
    let o = api.get(&format!("/api/orders/{id}")).await;
    let o = o.expect(200);
    assert_eq!(o["status"], json!("partially_received"));
    assert_eq!(
        api.get(&format!("/api/products/{p1}")).await.expect(200)["quantity"],
        json!(10)
    );
    // A second draft is cancelled by a manager.
    let id2 = add(
        &emp,
        "orders",
        &[
            ("supplier_id", &sup),
            ("lines-TOTAL_FORMS", "1"),
            ("lines-0-product_id", &p1),
            ("lines-0-quantity", "1"),
        ],
    )
    .await;
    let r = c
        .post(&format!("/admin/orders/{id2}/cancel/"), &[("post", "yes")])
        .await;
    follow(&c, &r).await.expect(200);
    assert_eq!(
        api.get(&format!("/api/orders/{id2}")).await.expect(200)["status"],
        json!("cancelled")
    );
    c.get("/admin/orders/?status=cancelled")
        .await
        .expect(200)
        .contains("1 purchase order");
}

async fn alerts_are_acknowledged_and_the_dashboard_shows_what_waits(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let tools = conformance::fixtures::category(&api, "Tools").await;
    let p = conformance::fixtures::product(&api, json!({"sku": "L-1", "name": "Lamp", "price": "10.00", "quantity": 20, "reorder_level": 5, "category_id": tools})).await;
    let pid = p["id"].as_i64().unwrap();
    api.post(
        "/api/stock-adjustments",
        json!({"product_id": pid, "kind": "sale", "quantity": 16, "reason": "big order"}),
    )
    .await
    .expect(201);
    let d = c.get("/admin/").await;
    d.expect(200)
        .contains("Stock value by category")
        .contains("<svg")
        .contains("Tools")
        .contains("40.00")
        .contains("Units in and out per day")
        .contains("Open alerts");
    let alerts = api.get("/api/alerts?status=open").await.page();
    let aid = alerts[0]["id"].as_i64().unwrap();
    let page = c.get(&format!("/admin/alerts/{aid}/change/")).await;
    page.expect(200).contains(">Acknowledge<");
    let r = c
        .post(&format!("/admin/alerts/{aid}/acknowledge/"), &[])
        .await;
    follow(&c, &r).await.expect(200);
    let alerts = api.get("/api/alerts?status=acknowledged").await.page();
    assert_eq!(alerts.len(), 1);
}

async fn the_scan_page_finds_by_barcode_or_sku_and_books(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    conformance::fixtures::product(&api, json!({"sku": "S-1", "name": "Soap", "price": "2.00", "quantity": 3, "barcode": "4006381333931"})).await;
    conformance::fixtures::product(
        &api,
        json!({"sku": "NOBAR", "name": "Brush", "price": "2.00", "quantity": 1}),
    )
    .await;
    c.get("/admin/scan/")
        .await
        .expect(200)
        .contains("autofocus");
    let page = c.get("/admin/scan/?code=4006381333931").await;
    page.expect(200)
        .contains("Soap")
        .contains("value=\"receive\"");
    let r = c
        .post(
            "/admin/scan/",
            &[
                ("code", "4006381333931"),
                ("quantity", "2"),
                ("location_id", ""),
                ("action", "receive"),
            ],
        )
        .await;
    let page = follow(&c, &r).await;
    assert!(
        page.messages().iter().any(|m| m.contains("5 on hand")),
        "{:?}",
        page.messages()
    );
    let page = c.get("/admin/scan/?code=NOBAR").await;
    page.expect(200).contains("Brush");
    let r = c
        .post(
            "/admin/scan/",
            &[("code", "NOBAR"), ("quantity", "4"), ("action", "count")],
        )
        .await;
    let page = follow(&c, &r).await;
    assert!(
        page.messages().iter().any(|m| m.contains("4 on hand")),
        "{:?}",
        page.messages()
    );
    c.get("/admin/scan/?code=UNKNOWN")
        .await
        .expect(200)
        .contains("No product has");
}

variants!(
    adjustments_are_booked_and_read_but_never_changed,
    transfers_are_approved_rejected_and_cancelled_with_buttons,
    a_purchase_order_goes_from_draft_to_received,
    alerts_are_acknowledged_and_the_dashboard_shows_what_waits,
    the_scan_page_finds_by_barcode_or_sku_and_books,
);

async fn every_object_has_its_history_and_products_and_drafts_delete(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let sup = conformance::fixtures::supplier(&api, "Acme").await;
    let p = conformance::fixtures::product(&api, json!({"sku": "H-1", "name": "Hinge", "price": "3.00", "quantity": 30, "reorder_level": 20})).await;
    let pid = p["id"].as_i64().unwrap();
    api.post(
        "/api/stock-adjustments",
        json!({"product_id": pid, "kind": "sale", "quantity": 15}),
    )
    .await
    .expect(201);
    let shop = conformance::fixtures::location(&api, "SHOP").await;
    let main = api
        .get("/api/locations")
        .await
        .page()
        .iter()
        .find(|l| l["code"] == json!("MAIN"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let t = api.post("/api/transfers", json!({"product_id": pid, "from_location_id": main, "to_location_id": shop, "quantity": 1})).await;
    let tid = t.expect(201)["id"].as_i64().unwrap();
    let o = api.post("/api/orders", json!({"supplier_id": sup, "lines": [{"product_id": pid, "quantity": 2, "unit_price": "1.00"}]})).await;
    let oid = o.expect(201)["id"].as_i64().unwrap();
    let adj = api
        .post(
            "/api/stock-adjustments",
            json!({"product_id": pid, "kind": "receive", "quantity": 1}),
        )
        .await;
    let aid = adj.expect(201)["id"].as_i64().unwrap();
    let user = app.create_user("hist", "employee").await["id"]
        .as_i64()
        .unwrap();
    let alert = api.get("/api/alerts").await.page()[0]["id"]
        .as_i64()
        .unwrap();
    for (model, id, action) in [
        ("products", pid, "create"),
        ("suppliers", sup, "create"),
        ("locations", shop, "create"),
        ("transfers", tid, "create"),
        ("orders", oid, "create"),
        ("users", user, "create"),
    ] {
        let h = c.get(&format!("/admin/{model}/{id}/history/")).await;
        h.expect(200).contains(&format!(">{action}<"));
    }
    c.get(&format!("/admin/adjustments/{aid}/history/"))
        .await
        .expect(200);
    c.get(&format!("/admin/alerts/{alert}/history/"))
        .await
        .expect(200);
    // A draft order deletes; a submitted one does not offer it.
    c.get(&format!("/admin/orders/{oid}/delete/"))
        .await
        .expect(200)
        .contains("line(s)");
    let r = c
        .post(&format!("/admin/orders/{oid}/delete/"), &[("post", "yes")])
        .await;
    assert_eq!(r.redirects_to(), "/admin/orders/");
    api.get(&format!("/api/orders/{oid}"))
        .await
        .expect_error(404, "not_found");
    // A product deletes softly: gone from lists, history kept.
    c.get(&format!("/admin/products/{pid}/delete/"))
        .await
        .expect(200)
        .contains("kept");
    let r = c
        .post(
            &format!("/admin/products/{pid}/delete/"),
            &[("post", "yes")],
        )
        .await;
    assert_eq!(r.redirects_to(), "/admin/products/");
    c.get("/admin/products/")
        .await
        .expect(200)
        .contains("0 products");
    api.get(&format!("/api/products/{pid}"))
        .await
        .expect_error(404, "not_found");
    let log = api
        .get(&format!(
            "/api/audit-logs?object_type=product&object_id={pid}"
        ))
        .await
        .page();
    assert!(log.iter().any(|e| e["action"] == json!("delete")));
}

variants!(every_object_has_its_history_and_products_and_drafts_delete);
