//! API.md §7: the audit log.

use conformance::fixtures::{all_pages, category, product};
use conformance::{json, variants, Client, Method, Raw, TestApp, Value};

const ENTRY_FIELDS: [&str; 11] = [
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "ip",
    "request_id",
];

/// Every entry about one object, oldest first.
async fn entries_for(c: &Client, object_type: &str, id: i64) -> Vec<Value> {
    let mut rows = all_pages(
        c,
        &format!("/api/audit-logs?object_type={object_type}&object_id={id}"),
    )
    .await;
    rows.sort_by_key(|e| e["id"].as_i64());
    rows
}

fn same_id(v: &Value, id: i64) -> bool {
    v.as_i64() == Some(id) || v.as_str() == Some(id.to_string().as_str())
}

async fn creating_updating_and_deleting_a_product_are_audited(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let p = product(
        &employee,
        json!({"sku": "A", "name": "Anvil", "price": "10.00"}),
    )
    .await;
    let id = p["id"].as_i64().unwrap();
    employee
        .patch(
            &format!("/api/products/{id}"),
            json!({"name": "Big anvil", "price": "12.50"}),
        )
        .await
        .expect(200);
    employee
        .delete(&format!("/api/products/{id}"))
        .await
        .expect(204);

    let entries = entries_for(&root, "product", id).await;
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"], "{entries:?}");
    for e in &entries {
        for field in ENTRY_FIELDS {
            assert!(e.get(field).is_some(), "an audit entry has `{field}`: {e}");
        }
        assert_eq!(e["user_id"], json!(employee.user_id()));
        assert_eq!(e["username"], json!(employee.username()));
        assert_eq!(e["object_type"], "product");
        assert!(same_id(&e["object_id"], id), "{e}");
        assert_eq!(e["ip"], "127.0.0.1");
        assert!(
            e["at"]
                .as_str()
                .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
            "{e}"
        );
    }
    let changes = &entries[1]["changes"];
    assert_eq!(
        changes["name"],
        json!(["Anvil", "Big anvil"]),
        "update changes are [old, new]: {changes}"
    );
    let price = changes["price"]
        .as_array()
        .expect("the price change is recorded");
    assert_eq!(price.len(), 2);
    assert_ne!(price[0], price[1]);
    assert!(
        changes.get("sku").is_none(),
        "unchanged fields are not listed: {changes}"
    );
}

async fn an_update_that_changes_nothing_lists_no_changes(app: TestApp) {
    let root = app.root().await;
    let id = category(&root, "Tools").await;
    root.patch(&format!("/api/categories/{id}"), json!({"name": "Tools"}))
        .await
        .expect(200);
    let entries = entries_for(&root, "category", id).await;
    for e in entries.iter().filter(|e| e["action"] == "update") {
        assert!(
            e["changes"].as_object().is_none_or(|c| c.is_empty()),
            "no field changed, so no change is listed: {e}"
        );
    }
}

async fn the_audit_entry_carries_the_request_id(app: TestApp) {
    let root = app.root().await;
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Tools"}))
                .header("X-Request-Id", "audit-trace-42"),
        )
        .await;
    let id = r.expect(201)["id"].as_i64().unwrap();
    let entries = entries_for(&root, "category", id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["request_id"], "audit-trace-42");
    assert_eq!(entries[0]["action"], "create");
}

async fn signing_in_is_audited(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let id = employee.user_id();
    let rows = all_pages(&root, &format!("/api/audit-logs?action=login&user={id}")).await;
    assert_eq!(rows.len(), 1, "one login entry: {rows:?}");
    assert_eq!(rows[0]["user_id"], json!(id));
    assert_eq!(rows[0]["ip"], "127.0.0.1");
}

async fn the_audit_log_filters_by_user_action_object_and_time(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    let c1 = category(&employee, "One").await;
    category(&root, "Two").await;
    employee
        .patch(&format!("/api/categories/{c1}"), json!({"name": "Uno"}))
        .await
        .expect(200);

    let by_user = all_pages(
        &root,
        &format!(
            "/api/audit-logs?user={}&object_type=category",
            employee.user_id()
        ),
    )
    .await;
    assert_eq!(by_user.len(), 2, "{by_user:?}");
    let creates = all_pages(&root, "/api/audit-logs?action=create&object_type=category").await;
    assert_eq!(creates.len(), 2, "{creates:?}");
    let one = all_pages(
        &root,
        &format!("/api/audit-logs?object_type=category&object_id={c1}"),
    )
    .await;
    assert_eq!(one.len(), 2, "{one:?}");
    let since = start.format("%Y-%m-%dT%H:%M:%SZ");
    let recent = all_pages(
        &root,
        &format!("/api/audit-logs?object_type=category&since={since}"),
    )
    .await;
    assert_eq!(recent.len(), 3, "{recent:?}");
    let until = all_pages(
        &root,
        &format!("/api/audit-logs?object_type=category&until={since}"),
    )
    .await;
    assert!(until.is_empty(), "{until:?}");
}

async fn only_auditors_and_admins_read_the_audit_log(app: TestApp) {
    for role in ["auditor", "admin", "superuser"] {
        app.user_with_role(role)
            .await
            .get("/api/audit-logs")
            .await
            .page();
    }
    for role in ["employee", "manager"] {
        app.user_with_role(role)
            .await
            .get("/api/audit-logs")
            .await
            .expect(403);
    }
    app.client().get("/api/audit-logs").await.expect(401);
}

async fn the_audit_log_cannot_be_written(app: TestApp) {
    let root = app.root().await;
    category(&root, "Tools").await;
    let first = root.get("/api/audit-logs").await.page()[0]["id"].clone();
    root.post("/api/audit-logs", json!({"action": "create"}))
        .await
        .expect(405);
    // The contract names no detail route, so a detail path may be unknown (404) or read-only (405).
    let path = format!("/api/audit-logs/{first}");
    for r in [
        root.patch(&path, json!({"action": "x"})).await,
        root.put(&path, json!({"action": "x"})).await,
        root.delete(&path).await,
    ] {
        assert!(
            matches!(r.status.as_u16(), 404 | 405),
            "the audit log is immutable: {r:?}"
        );
    }
    assert_eq!(root.get("/api/audit-logs").await.page()[0]["id"], first);
}

async fn the_audit_log_exports_csv(app: TestApp) {
    let root = app.root().await;
    category(&root, "Tools").await;
    let r = root.get("/api/audit-logs?format=csv").await;
    r.expect(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{r:?}"
    );
    let header = r.text.lines().next().unwrap_or_default();
    assert!(
        header.contains("action") && header.contains("object_type"),
        "a header row: {header}"
    );
    assert!(r.text.lines().count() >= 2, "{r:?}");
}

/// The number of audit entries so far.
async fn entry_count(c: &Client) -> u64 {
    c.get("/api/audit-logs").await.count()
}

async fn linking_a_supplier_is_audited(app: TestApp) {
    let root = app.root().await;
    let s = conformance::fixtures::supplier(&root, "Acme").await;
    let p = conformance::fixtures::simple_product(&root, "A", "1.00").await;
    let before = entry_count(&root).await;
    conformance::fixtures::link(&root, p, s, json!({"unit_cost": "1.00"})).await;
    let after = all_pages(&root, "/api/audit-logs").await;
    assert_eq!(
        after.len() as u64,
        before + 1,
        "one entry for the new link: {after:?}"
    );
    let newest = after.iter().max_by_key(|e| e["id"].as_i64()).unwrap();
    assert_eq!(newest["action"], "create", "{newest}");
    root.patch(
        &format!("/api/products/{p}/suppliers/{s}"),
        json!({"unit_cost": "2.00"}),
    )
    .await
    .expect(200);
    root.delete(&format!("/api/products/{p}/suppliers/{s}"))
        .await
        .expect(204);
    assert_eq!(
        entry_count(&root).await,
        before + 3,
        "the update and the delete are audited too"
    );
}

async fn a_refused_change_writes_no_audit_entry(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let id = category(&root, "Tools").await;
    let before = entry_count(&root).await;
    root.post("/api/categories", json!({"name": "Tools"}))
        .await
        .expect(409);
    root.post("/api/categories", json!({"name": ""}))
        .await
        .expect(400);
    employee
        .patch(&format!("/api/categories/{id}"), json!({"name": "Mine"}))
        .await
        .expect(403);
    employee
        .delete(&format!("/api/categories/{id}"))
        .await
        .expect(403);
    app.client()
        .post("/api/categories", json!({"name": "Guest"}))
        .await
        .expect(401);
    assert_eq!(
        entry_count(&root).await,
        before,
        "an entry is never without its change"
    );
}

async fn a_role_change_is_audited_with_the_old_and_new_role(app: TestApp) {
    let admin = app.user_with_role("admin").await;
    let employee = app.user_with_role("employee").await;
    let id = employee.user_id();
    admin
        .patch(&format!("/api/users/{id}"), json!({"role": "manager"}))
        .await
        .expect(200);
    let entries = entries_for(&admin, "user", id).await;
    let change = entries
        .iter()
        .find(|e| e["action"] != "create" && e["changes"].get("role").is_some())
        .unwrap_or_else(|| panic!("a role change entry: {entries:?}"));
    assert_eq!(change["changes"]["role"], json!(["employee", "manager"]));
    assert_eq!(change["user_id"], json!(admin.user_id()));
}

async fn signing_out_is_audited(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    employee.logout().await.expect(204);
    let rows = all_pages(
        &root,
        &format!("/api/audit-logs?action=logout&user={}", employee.user_id()),
    )
    .await;
    assert_eq!(rows.len(), 1, "one logout entry: {rows:?}");
}

variants!(
    linking_a_supplier_is_audited,
    a_refused_change_writes_no_audit_entry,
    a_role_change_is_audited_with_the_old_and_new_role,
    signing_out_is_audited,
    creating_updating_and_deleting_a_product_are_audited,
    an_update_that_changes_nothing_lists_no_changes,
    the_audit_entry_carries_the_request_id,
    signing_in_is_audited,
    the_audit_log_filters_by_user_action_object_and_time,
    only_auditors_and_admins_read_the_audit_log,
    the_audit_log_cannot_be_written,
    the_audit_log_exports_csv,
);
