//! One set of rules: the ledger, the permissions and the audit log are the API's, proven by
//! doing the same thing through both.

use conformance::{json, variants, TestApp, USER_PASSWORD};

use crate::support::{add, follow, root, staff};

async fn a_sale_beyond_stock_is_refused_by_the_api_and_the_staff_site_alike(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let p = conformance::fixtures::product(
        &api,
        json!({"sku": "Z-1", "name": "Zip", "price": "1.00", "quantity": 3}),
    )
    .await;
    let pid = p["id"].as_i64().unwrap();
    api.post(
        "/api/stock-adjustments",
        json!({"product_id": pid, "kind": "sale", "quantity": 4, "reason": "x"}),
    )
    .await
    .expect_error(409, "insufficient_stock");
    let pid_s = pid.to_string();
    c.get("/admin/adjustments/add/").await;
    let r = c
        .post(
            "/admin/adjustments/add/",
            &[
                ("product_id", &pid_s),
                ("kind", "sale"),
                ("quantity", "4"),
                ("reason", "x"),
                ("_save", "1"),
            ],
        )
        .await;
    r.expect(200)
        .contains("Not enough stock at that location for this change.");
    assert_eq!(
        r.input_value("quantity").as_deref(),
        Some("4"),
        "values kept"
    );
    let r = c
        .post(
            "/admin/scan/",
            &[("code", "Z-1"), ("quantity", "4"), ("action", "sale")],
        )
        .await;
    let page = follow(&c, &r).await;
    assert!(
        page.messages()
            .iter()
            .any(|m| m.contains("Not enough stock")),
        "{:?}",
        page.messages()
    );
    let r = c
        .post(
            &format!("/admin/products/{pid}/adjust/"),
            &[("adj_kind", "sale"), ("adj_quantity", "4")],
        )
        .await;
    let page = follow(&c, &r).await;
    assert!(page
        .messages()
        .iter()
        .any(|m| m.contains("Not enough stock")));
    let p = api.get(&format!("/api/products/{pid}")).await;
    assert_eq!(
        p.expect(200)["quantity"],
        json!(3),
        "nothing booked anywhere"
    );
    let hist = api
        .get(&format!("/api/products/{pid}/history"))
        .await
        .page();
    assert_eq!(hist.len(), 1, "only the starting receipt: {hist:?}");
}

async fn roles_decide_what_the_staff_site_shows_and_allows(app: TestApp) {
    let root_c = root(&app).await;
    let (emp, emp_id, _) = staff(&app, &root_c, "employee").await;
    // An employee-role staff user cannot open users, and is not shown the link.
    emp.get("/admin/")
        .await
        .expect(200)
        .lacks("href=\"/admin/users/\"")
        .lacks("href=\"/admin/audit-log/\"");
    emp.get("/admin/users/").await.expect(403);
    emp.get(&format!("/admin/users/{emp_id}/change/"))
        .await
        .expect(403);
    emp.get("/admin/audit-log/").await.expect(403);
    // Employees change only what they created.
    let api = app.root().await;
    let theirs = conformance::fixtures::simple_product(&api, "ROOT-1", "1.00").await;
    let mine = add(
        &emp,
        "products",
        &[
            ("sku", "EMP-1"),
            ("name", "Mine"),
            ("price", "1.00"),
            ("unit", "pcs"),
        ],
    )
    .await;
    emp.get(&format!("/admin/products/{mine}/change/"))
        .await
        .expect(200)
        .contains("name=\"_save\"");
    let page = emp.get(&format!("/admin/products/{theirs}/change/")).await;
    page.expect(200).lacks("name=\"_save\"").lacks("/delete/\"");
    emp.post(
        &format!("/admin/products/{theirs}/change/"),
        &[
            ("name", "Hijacked"),
            ("price", "1"),
            ("sku", "ROOT-1"),
            ("unit", "pcs"),
        ],
    )
    .await
    .expect(403);
    emp.get(&format!("/admin/products/{theirs}/delete/"))
        .await
        .expect(403);
    emp.get("/admin/locations/add/").await.expect(403);
    // An auditor reads everything it may and changes nothing.
    let (aud, _, _) = staff(&app, &root_c, "auditor").await;
    let page = aud.get("/admin/products/").await;
    page.expect(200).lacks("/admin/products/add/");
    aud.get("/admin/products/add/").await.expect(403);
    aud.get(&format!("/admin/products/{theirs}/change/"))
        .await
        .expect(200)
        .lacks("name=\"_save\"");
    aud.get("/admin/audit-log/").await.expect(200);
    aud.get("/admin/login-attempts/").await.expect(200);
    aud.get("/admin/users/").await.expect(403);
    let r = aud
        .post("/admin/categories/add/", &[("name", "Nope")])
        .await;
    r.expect(403);
    assert_eq!(api.get("/api/products").await.count(), 2);
    // Staff status taken away: the next page sends them to the login page.
    let r = root_c.get(&format!("/admin/users/{emp_id}/change/")).await;
    r.expect(200);
    let username = r.input_value("email").unwrap().replace("@example.com", "");
    let r = root_c
        .post(
            &format!("/admin/users/{emp_id}/change/"),
            &[
                ("email", &format!("{username}@example.com")),
                ("role", "employee"),
                ("is_active", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    r.redirects_to();
    assert!(emp
        .get("/admin/")
        .await
        .redirects_to()
        .starts_with("/admin/login/"));
    let _ = USER_PASSWORD;
}

async fn the_staff_site_writes_the_same_audit_entries_as_the_api(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    add(&c, "categories", &[("name", "From the site")]).await;
    api.post(
        "/api/categories",
        json!({"name": "From the API", "description": ""}),
    )
    .await
    .expect(201);
    let log = api.get("/api/audit-logs?object_type=category").await.page();
    assert_eq!(log.len(), 2);
    let shape = |e: &conformance::Value| {
        let mut keys: Vec<String> = e.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (
            keys,
            e["action"].clone(),
            e["changes"].as_object().map(|m| {
                let mut k: Vec<String> = m.keys().cloned().collect();
                k.sort();
                k
            }),
        )
    };
    assert_eq!(shape(&log[0]), shape(&log[1]), "{log:?}");
    for e in &log {
        assert!(e["ip"].as_str().is_some_and(|i| !i.is_empty()), "{e}");
        assert!(
            e["request_id"].as_str().is_some_and(|i| !i.is_empty()),
            "{e}"
        );
        assert_eq!(e["username"], json!("root"));
    }
    // The staff site's history page shows the entry with its request id.
    let id = log
        .iter()
        .find(|e| e["object_repr"] == json!("From the site"))
        .unwrap()["object_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rid = log
        .iter()
        .find(|e| e["object_repr"] == json!("From the site"))
        .unwrap()["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.get(&format!("/admin/categories/{id}/history/"))
        .await
        .expect(200)
        .contains(&rid);
    c.get("/admin/audit-log/?object_type=category")
        .await
        .expect(200)
        .contains("2 audit entries");
    // Every kind of object the API audits can be picked in the filter: a webhook and an API
    // token too.
    api.post(
        "/api/webhooks",
        json!({"url": "https://93.184.216.34/hook", "events": ["stock.changed"]}),
    )
    .await
    .expect(201);
    let page = c.get("/admin/audit-log/").await;
    for choice in ["webhook", "api_token", "sales_order", "customer"] {
        page.expect(200)
            .contains(&format!("/admin/audit-log/?object_type={choice}\""));
    }
    c.get("/admin/audit-log/?object_type=webhook")
        .await
        .expect(200)
        .contains("1 audit entry");
}

variants!(
    a_sale_beyond_stock_is_refused_by_the_api_and_the_staff_site_alike,
    roles_decide_what_the_staff_site_shows_and_allows,
    the_staff_site_writes_the_same_audit_entries_as_the_api,
);
