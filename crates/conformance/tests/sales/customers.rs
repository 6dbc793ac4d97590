//! Customers: fields, validation, search and ordering, who may do what, the audit log.

use conformance::fixtures::all_pages;
use conformance::{json, variants, TestApp, Value};

async fn a_customer_is_created_read_changed_and_deleted(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post(
            "/api/customers",
            json!({"name": "Corner Shop", "email": "Buyer@Corner.example", "phone": "+44 20 7946 0000",
                   "billing_address": "1 High St", "shipping_address": "Dock 4, 1 High St",
                   "notes": "Pays on delivery"}),
        )
        .await;
    let c = r.expect(201).clone();
    let id = c["id"].as_i64().unwrap();
    for field in [
        "id",
        "name",
        "email",
        "phone",
        "billing_address",
        "shipping_address",
        "notes",
        "is_active",
        "created_by",
        "created_at",
        "updated_at",
    ] {
        assert!(c.get(field).is_some(), "{field} missing: {c}");
    }
    assert_eq!(c["is_active"], json!(true));
    assert_eq!(c["shipping_address"], json!("Dock 4, 1 High St"));
    let got = root.get(&format!("/api/customers/{id}")).await;
    assert_eq!(got.expect(200)["name"], json!("Corner Shop"));
    let changed = root
        .patch(
            &format!("/api/customers/{id}"),
            json!({"phone": "", "is_active": false}),
        )
        .await;
    let changed = changed.expect(200);
    assert_eq!(changed["phone"], json!(""));
    assert_eq!(changed["is_active"], json!(false));
    assert_eq!(
        changed["name"],
        json!("Corner Shop"),
        "untouched fields stay"
    );
    // PUT needs the required fields.
    root.put(&format!("/api/customers/{id}"), json!({"notes": "x"}))
        .await
        .expect_field_error("name");
    root.put(
        &format!("/api/customers/{id}"),
        json!({"name": "Corner Shop Ltd"}),
    )
    .await
    .expect(200);
    root.delete(&format!("/api/customers/{id}"))
        .await
        .expect(204);
    root.get(&format!("/api/customers/{id}")).await.expect(404);
    root.delete(&format!("/api/customers/{id}"))
        .await
        .expect(404);
}

async fn bad_customer_input_is_refused_field_by_field(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post(
            "/api/customers",
            json!({"email": "not-an-address", "phone": "1".repeat(33), "notes": "x".repeat(5001)}),
        )
        .await;
    r.expect(400);
    for field in ["name", "email", "phone", "notes"] {
        assert!(r.body["errors"].get(field).is_some(), "{field}: {r:?}");
    }
    root.post("/api/customers", json!({"name": ""}))
        .await
        .expect_field_error("name");
    root.post("/api/customers", json!({"name": "x".repeat(201)}))
        .await
        .expect_field_error("name");
    root.post("/api/customers", json!({"name": "A", "vip": true}))
        .await
        .expect(400);
    root.post("/api/customers", json!({"name": "Twice"}))
        .await
        .expect(201);
    let r = root.post("/api/customers", json!({"name": "Twice"})).await;
    r.expect(409);
    assert_eq!(r.code(), "unique", "{r:?}");
    assert!(r.body["errors"].get("name").is_some(), "{r:?}");
    root.get("/api/customers?ordering=email").await.expect(400);
    root.get("/api/customers/999999").await.expect(404);
}

async fn customers_are_searched_filtered_and_ordered(app: TestApp) {
    let root = app.root().await;
    for (name, email, active) in [
        ("Bakery Brown", "orders@brown.example", true),
        ("Alpha Cafe", "hello@alpha.example", true),
        ("Closed Corner", "old@corner.example", false),
    ] {
        root.post(
            "/api/customers",
            json!({"name": name, "email": email, "is_active": active}),
        )
        .await
        .expect(201);
    }
    let names = |v: Vec<Value>| -> Vec<String> {
        v.iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = root.get("/api/customers?ordering=name").await;
    assert_eq!(
        names(all.page()),
        ["Alpha Cafe", "Bakery Brown", "Closed Corner"]
    );
    let desc = root.get("/api/customers?ordering=-name").await;
    assert_eq!(names(desc.page())[0], "Closed Corner");
    // Search finds the name or the email, in any case.
    let r = root.get("/api/customers?search=BROWN").await;
    assert_eq!(names(r.page()), ["Bakery Brown"]);
    let r = root.get("/api/customers?search=alpha.example").await;
    assert_eq!(names(r.page()), ["Alpha Cafe"]);
    let r = root.get("/api/customers?is_active=false").await;
    assert_eq!(names(r.page()), ["Closed Corner"]);
    let first = root.get("/api/customers?page_size=1&ordering=name").await;
    assert_eq!(first.count(), 3);
    assert_eq!(names(first.page()), ["Alpha Cafe"]);
    assert!(first.body["next"].as_str().is_some(), "{first:?}");
}

async fn who_may_do_what_with_customers(app: TestApp) {
    let guest = app.client();
    guest.get("/api/customers").await.expect(401);
    guest
        .post("/api/customers", json!({"name": "Guest"}))
        .await
        .expect(401);
    let employee = app.user_with_role("employee").await;
    let other = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let auditor = app.user_with_role("auditor").await;
    let mine = employee
        .post("/api/customers", json!({"name": "Employee's"}))
        .await;
    let mine = mine.expect(201)["id"].as_i64().unwrap();
    let path = format!("/api/customers/{mine}");
    // Auditors read and change nothing.
    auditor.get(&path).await.expect(200);
    auditor.get("/api/customers").await.expect(200);
    auditor
        .post("/api/customers", json!({"name": "Auditor's"}))
        .await
        .expect(403);
    auditor
        .patch(&path, json!({"notes": "x"}))
        .await
        .expect(403);
    // Employees change what they created, not what another employee did, and delete nothing.
    employee
        .patch(&path, json!({"notes": "mine"}))
        .await
        .expect(200);
    other
        .patch(&path, json!({"notes": "theirs"}))
        .await
        .expect(403);
    employee.delete(&path).await.expect(403);
    // Managers change and delete any.
    manager
        .patch(&path, json!({"notes": "managed"}))
        .await
        .expect(200);
    manager.delete(&path).await.expect(204);
}

async fn customer_changes_are_in_the_audit_log(app: TestApp) {
    let root = app.root().await;
    let id = root
        .post(
            "/api/customers",
            json!({"name": "Audited", "email": "a@b.example"}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    root.patch(
        &format!("/api/customers/{id}"),
        json!({"email": "c@d.example"}),
    )
    .await
    .expect(200);
    root.delete(&format!("/api/customers/{id}"))
        .await
        .expect(204);
    let mut rows = all_pages(
        &root,
        &format!("/api/audit-logs?object_type=customer&object_id={id}"),
    )
    .await;
    rows.sort_by_key(|e| e["id"].as_i64());
    let actions: Vec<&str> = rows.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update", "delete"], "{rows:?}");
    assert_eq!(rows[0]["object_repr"], json!("Audited"));
    assert_eq!(
        rows[1]["changes"]["email"],
        json!(["a@b.example", "c@d.example"]),
        "{rows:?}"
    );
    assert!(rows
        .iter()
        .all(|e| e["request_id"].as_str().is_some_and(|r| !r.is_empty())));
}

variants!(
    a_customer_is_created_read_changed_and_deleted,
    bad_customer_input_is_refused_field_by_field,
    customers_are_searched_filtered_and_ordered,
    who_may_do_what_with_customers,
    customer_changes_are_in_the_audit_log,
);
