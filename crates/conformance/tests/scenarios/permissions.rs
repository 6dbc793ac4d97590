//! API.md §2.4: the permission table, row by row, for the catalog and the private figures.

use conformance::fixtures::{category, link, location, simple_product, supplier};
use conformance::{json, variants, Client, TestApp};

const CATALOG_READS: [&str; 3] = ["/api/products", "/api/categories", "/api/suppliers"];
const LOCATION_READS: [&str; 2] = ["/api/locations", "/api/stock-levels"];
/// Private reads of the catalog area.
const PRIVATE_READS: [&str; 1] = ["/api/dashboard"];
/// Private reads of the stock, order and report areas (kept apart so a missing area fails alone).
const OTHER_PRIVATE_READS: [&str; 6] = [
    "/api/stock-adjustments",
    "/api/alerts",
    "/api/orders",
    "/api/transfers",
    "/api/reports/valuation?group_by=category",
    "/api/reorder-suggestions",
];

/// One product, category and supplier created by `owner`, as `(product, category, supplier)`.
async fn owned_objects(owner: &Client) -> (i64, i64, i64) {
    let p = simple_product(owner, "OWNED-1", "1.00").await;
    let c = category(owner, "Owned category").await;
    let s = supplier(owner, "Owned supplier").await;
    (p, c, s)
}

fn paths((p, c, s): (i64, i64, i64)) -> [String; 3] {
    [
        format!("/api/products/{p}"),
        format!("/api/categories/{c}"),
        format!("/api/suppliers/{s}"),
    ]
}

async fn guests_read_the_catalog(app: TestApp) {
    let root = app.root().await;
    let p = simple_product(&root, "A", "1.00").await;
    let guest = app.client();
    for path in CATALOG_READS {
        guest.get(path).await.page();
    }
    guest.get(&format!("/api/products/{p}")).await.expect(200);
}

async fn guests_read_locations_and_stock_levels(app: TestApp) {
    let guest = app.client();
    for path in LOCATION_READS {
        guest.get(path).await.page();
    }
}

async fn with_public_read_off_guests_cannot_read_locations_or_stock_levels(app: TestApp) {
    let guest = app.client();
    for path in LOCATION_READS {
        guest.get(path).await.expect(401);
    }
}

async fn guests_cannot_write_the_catalog(app: TestApp) {
    let root = app.root().await;
    let objects = owned_objects(&root).await;
    let guest = app.client();
    guest
        .post("/api/categories", json!({"name": "X"}))
        .await
        .expect(401);
    guest
        .post("/api/suppliers", json!({"name": "X"}))
        .await
        .expect(401);
    guest
        .post(
            "/api/products",
            json!({"sku": "X", "name": "X", "price": "1.00"}),
        )
        .await
        .expect(401);
    for path in paths(objects) {
        guest
            .patch(&path, json!({"name": "Hacked"}))
            .await
            .expect(401);
        guest.delete(&path).await.expect(401);
        assert_ne!(root.get(&path).await.expect(200)["name"], "Hacked");
    }
}

async fn guests_cannot_read_private_figures(app: TestApp) {
    let guest = app.client();
    for path in PRIVATE_READS.iter().chain(&[
        "/api/audit-logs",
        "/api/users",
        "/api/auth/login-attempts",
        "/api/auth/me",
    ]) {
        guest.get(path).await.expect(401);
    }
}

fn public_read_off(s: &mut inventory_web::Settings) {
    s.public_read = false;
}

async fn guests_cannot_read_stock_orders_or_reports(app: TestApp) {
    let guest = app.client();
    for path in OTHER_PRIVATE_READS {
        guest.get(path).await.expect(401);
    }
    let root = app.root().await;
    let p = simple_product(&root, "A", "1.00").await;
    guest
        .get(&format!("/api/products/{p}/history"))
        .await
        .expect(401);
}

async fn every_role_reads_stock_orders_and_reports(app: TestApp) {
    let root = app.root().await;
    let p = simple_product(&root, "A", "1.00").await;
    for role in ["auditor", "employee", "manager", "admin"] {
        let who = app.user_with_role(role).await;
        for path in OTHER_PRIVATE_READS {
            who.get(path).await.expect(200);
        }
        who.get(&format!("/api/products/{p}/history"))
            .await
            .expect(200);
    }
}

async fn with_public_read_off_guests_must_sign_in_to_read(app: TestApp) {
    assert!(!app.settings.public_read);
    let root = app.root().await;
    let p = simple_product(&root, "A", "1.00").await;
    let guest = app.client();
    for path in CATALOG_READS {
        guest.get(path).await.expect(401);
    }
    guest.get(&format!("/api/products/{p}")).await.expect(401);
    let employee = app.user_with_role("employee").await;
    for path in CATALOG_READS {
        employee.get(path).await.page();
    }
}

async fn auditors_read_everything_and_change_nothing(app: TestApp) {
    let root = app.root().await;
    let objects = owned_objects(&root).await;
    let auditor = app.user_with_role("auditor").await;
    for path in CATALOG_READS
        .iter()
        .chain(&["/api/audit-logs", "/api/auth/login-attempts"])
    {
        auditor.get(path).await.page();
    }
    for path in PRIVATE_READS {
        auditor.get(path).await.expect(200);
    }
    auditor
        .post("/api/categories", json!({"name": "X"}))
        .await
        .expect(403);
    auditor
        .post("/api/suppliers", json!({"name": "X"}))
        .await
        .expect(403);
    auditor
        .post(
            "/api/products",
            json!({"sku": "X", "name": "X", "price": "1.00"}),
        )
        .await
        .expect(403);
    for path in paths(objects) {
        auditor
            .patch(&path, json!({"name": "Changed"}))
            .await
            .expect(403);
        auditor.delete(&path).await.expect(403);
    }
}

async fn employees_create_products_categories_and_suppliers(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    for (path, body) in [
        ("/api/categories", json!({"name": "Mine"})),
        ("/api/suppliers", json!({"name": "Mine"})),
        (
            "/api/products",
            json!({"sku": "MINE", "name": "Mine", "price": "1.00"}),
        ),
    ] {
        let r = employee.post(path, body).await;
        assert_eq!(
            r.expect(201)["created_by"],
            json!(employee.user_id()),
            "{path}"
        );
    }
    for path in PRIVATE_READS {
        employee.get(path).await.expect(200);
    }
}

async fn employees_update_and_delete_what_they_created(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let objects = owned_objects(&employee).await;
    for path in paths(objects) {
        employee
            .patch(&path, json!({"name": "Renamed"}))
            .await
            .expect(200);
    }
    for path in paths(objects) {
        employee.delete(&path).await.expect(204);
    }
}

async fn employees_cannot_change_what_another_employee_created(app: TestApp) {
    let owner = app.user_with_role("employee").await;
    let other = app.user_with_role("employee").await;
    let objects = owned_objects(&owner).await;
    for path in paths(objects) {
        other
            .patch(&path, json!({"name": "Hijacked"}))
            .await
            .expect(403);
        other.delete(&path).await.expect(403);
        assert_ne!(owner.get(&path).await.expect(200)["name"], "Hijacked");
    }
    let product = format!("/api/products/{}", objects.0);
    other
        .put(
            &product,
            json!({"sku": "OWNED-1", "name": "Hijacked", "price": "1.00"}),
        )
        .await
        .expect(403);
}

async fn employees_cannot_change_what_the_superuser_created(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    for path in paths(owned_objects(&root).await) {
        employee
            .patch(&path, json!({"name": "Hijacked"}))
            .await
            .expect(403);
        employee.delete(&path).await.expect(403);
    }
}

async fn employees_cannot_change_links_another_employee_created(app: TestApp) {
    let owner = app.user_with_role("employee").await;
    let other = app.user_with_role("employee").await;
    let p = simple_product(&owner, "A", "1.00").await;
    let s = supplier(&owner, "Acme").await;
    link(&owner, p, s, json!({"unit_cost": "1.00"})).await;

    let path = format!("/api/products/{p}/suppliers/{s}");
    other
        .patch(&path, json!({"unit_cost": "0.01"}))
        .await
        .expect(403);
    other.delete(&path).await.expect(403);
    let links = owner.get(&format!("/api/products/{p}/suppliers")).await;
    assert!(
        links.text.contains("\"1.00\""),
        "the link is unchanged: {links:?}"
    );
    owner
        .patch(&path, json!({"unit_cost": "0.90"}))
        .await
        .expect(200);
    owner.delete(&path).await.expect(204);
}

async fn employees_cannot_read_the_audit_log(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    employee.get("/api/audit-logs").await.expect(403);
    employee.get("/api/auth/login-attempts").await.expect(403);
}

async fn employees_and_auditors_cannot_manage_locations(app: TestApp) {
    for role in ["employee", "auditor"] {
        let who = app.user_with_role(role).await;
        who.post(
            "/api/locations",
            json!({"code": "X", "name": "X", "kind": "store"}),
        )
        .await
        .expect(403);
    }
    app.client()
        .post(
            "/api/locations",
            json!({"code": "X", "name": "X", "kind": "store"}),
        )
        .await
        .expect(401);
}

async fn managers_update_and_delete_anything(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    let p = simple_product(&employee, "A", "1.00").await;
    let s = supplier(&employee, "Acme").await;
    link(&employee, p, s, json!({})).await;
    manager
        .patch(
            &format!("/api/products/{p}/suppliers/{s}"),
            json!({"lead_time_days": 2}),
        )
        .await
        .expect(200);
    manager
        .delete(&format!("/api/products/{p}/suppliers/{s}"))
        .await
        .expect(204);
    let objects = (p, category(&employee, "Emp cat").await, s);
    for path in paths(objects) {
        manager
            .patch(&path, json!({"name": "Managed"}))
            .await
            .expect(200);
    }
    for path in paths(objects) {
        manager.delete(&path).await.expect(204);
    }
}

async fn managers_cannot_manage_users_or_read_the_audit_log(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    manager.get("/api/audit-logs").await.expect(403);
    manager.get("/api/users").await.expect(403);
}

async fn managers_and_admins_manage_locations(app: TestApp) {
    for role in ["manager", "admin"] {
        let who = app.user_with_role(role).await;
        let id = location(&who, &format!("SHOP-{role}")).await;
        who.patch(
            &format!("/api/locations/{id}"),
            json!({"name": "Shop front"}),
        )
        .await
        .expect(200);
        who.delete(&format!("/api/locations/{id}"))
            .await
            .expect(204);
    }
}

async fn admins_change_anything_in_the_catalog(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let admin = app.user_with_role("admin").await;
    for path in paths(owned_objects(&employee).await) {
        admin
            .patch(&path, json!({"name": "Admin was here"}))
            .await
            .expect(200);
    }
    admin.get("/api/audit-logs").await.page();
}

variants!(
    guests_read_the_catalog,
    guests_read_locations_and_stock_levels,
    guests_cannot_write_the_catalog,
    guests_cannot_read_private_figures,
    guests_cannot_read_stock_orders_or_reports,
    every_role_reads_stock_orders_and_reports,
    auditors_read_everything_and_change_nothing,
    employees_create_products_categories_and_suppliers,
    employees_update_and_delete_what_they_created,
    employees_cannot_change_what_another_employee_created,
    employees_cannot_change_what_the_superuser_created,
    employees_cannot_change_links_another_employee_created,
    employees_cannot_read_the_audit_log,
    employees_and_auditors_cannot_manage_locations,
    managers_update_and_delete_anything,
    managers_cannot_manage_users_or_read_the_audit_log,
    managers_and_admins_manage_locations,
    admins_change_anything_in_the_catalog,
);
variants!(
    with public_read_off:
    with_public_read_off_guests_must_sign_in_to_read,
    with_public_read_off_guests_cannot_read_locations_or_stock_levels,
);
