//! API.md §3: categories, suppliers and products, create/read/update/delete.

use conformance::fixtures::{category, product, supplier};
use conformance::{json, variants, TestApp, Value};

pub(super) fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|t| t.offset().local_minus_utc() == 0)
}

async fn creating_a_category_answers_it_with_its_audit_fields(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post(
            "/api/categories",
            json!({"name": "Tools", "description": "Hand tools"}),
        )
        .await;
    let created = r.expect(201).clone();
    assert_eq!(created["name"], "Tools");
    assert_eq!(created["description"], "Hand tools");
    assert_eq!(created["created_by"], json!(root.user_id()));
    assert!(
        is_rfc3339_utc(&created["created_at"]),
        "created_at is RFC 3339 UTC: {created}"
    );
    assert!(
        is_rfc3339_utc(&created["updated_at"]),
        "updated_at is RFC 3339 UTC: {created}"
    );

    let fetched = root.get(&format!("/api/categories/{}", r.id())).await;
    assert_eq!(fetched.expect(200), &created);
}

async fn patching_a_category_changes_only_the_given_fields(app: TestApp) {
    let root = app.root().await;
    let id = root
        .post(
            "/api/categories",
            json!({"name": "Tools", "description": "Hand tools"}),
        )
        .await
        .id();

    let r = root
        .patch(
            &format!("/api/categories/{id}"),
            json!({"name": "Power tools"}),
        )
        .await;
    assert_eq!(r.expect(200)["name"], "Power tools");
    let fetched = root.get(&format!("/api/categories/{id}")).await;
    assert_eq!(fetched.expect(200)["name"], "Power tools");
    assert_eq!(fetched.body["description"], "Hand tools");
}

async fn putting_a_category_replaces_it(app: TestApp) {
    let root = app.root().await;
    let id = root
        .post(
            "/api/categories",
            json!({"name": "Tools", "description": "Hand tools"}),
        )
        .await
        .id();

    let r = root
        .put(
            &format!("/api/categories/{id}"),
            json!({"name": "Paint", "description": "Wet"}),
        )
        .await;
    r.expect(200);
    let fetched = root.get(&format!("/api/categories/{id}")).await;
    assert_eq!(fetched.expect(200)["name"], "Paint");
    assert_eq!(fetched.body["description"], "Wet");
}

async fn a_duplicate_category_name_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    category(&root, "Tools").await;
    let r = root.post("/api/categories", json!({"name": "Tools"})).await;
    r.expect(409);
}

async fn renaming_a_category_to_a_taken_name_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    category(&root, "Tools").await;
    let paint = category(&root, "Paint").await;
    root.patch(
        &format!("/api/categories/{paint}"),
        json!({"name": "Tools"}),
    )
    .await
    .expect(409);
}

async fn a_category_name_has_one_to_one_hundred_characters(app: TestApp) {
    let root = app.root().await;
    root.post("/api/categories", json!({"name": ""}))
        .await
        .expect_field_error("name");
    root.post("/api/categories", json!({"name": "x".repeat(101)}))
        .await
        .expect_field_error("name");
    root.post("/api/categories", json!({"description": "no name"}))
        .await
        .expect_field_error("name");
    root.post("/api/categories", json!({"name": "x".repeat(100)}))
        .await
        .expect(201);
}

async fn deleting_an_unused_category_removes_it(app: TestApp) {
    let root = app.root().await;
    let id = category(&root, "Tools").await;
    root.delete(&format!("/api/categories/{id}"))
        .await
        .expect(204);
    root.get(&format!("/api/categories/{id}")).await.expect(404);
    root.delete(&format!("/api/categories/{id}"))
        .await
        .expect(404);
}

async fn deleting_a_category_in_use_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    let id = category(&root, "Tools").await;
    product(
        &root,
        json!({"sku": "HAM-1", "name": "Hammer", "price": "9.99", "category_id": id}),
    )
    .await;

    root.delete(&format!("/api/categories/{id}"))
        .await
        .expect_error(409, "in_use");
    root.get(&format!("/api/categories/{id}")).await.expect(200);
}

async fn deleting_a_category_or_supplier_only_a_deleted_product_used_never_crashes(app: TestApp) {
    let root = app.root().await;
    let cat = category(&root, "Tools").await;
    let sup = supplier(&root, "Acme").await;
    let p = product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "category_id": cat}),
    )
    .await;
    let id = p["id"].as_i64().unwrap();
    conformance::fixtures::link(&root, id, sup, json!({})).await;
    root.delete(&format!("/api/products/{id}"))
        .await
        .expect(204);

    for path in [
        format!("/api/categories/{cat}"),
        format!("/api/suppliers/{sup}"),
    ] {
        let r = root.delete(&path).await;
        assert!(matches!(r.status.as_u16(), 204 | 409), "{r:?}");
    }
    let deleted = root.get("/api/products?include_deleted=true").await.page();
    assert_eq!(deleted.len(), 1, "the deleted product is kept: {deleted:?}");
}

async fn a_missing_object_is_not_found(app: TestApp) {
    let root = app.root().await;
    for path in [
        "/api/categories/987654",
        "/api/suppliers/987654",
        "/api/products/987654",
    ] {
        root.get(path).await.expect(404);
        root.patch(path, json!({"name": "x"})).await.expect(404);
        root.delete(path).await.expect(404);
    }
}

async fn creating_a_supplier_answers_every_field(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post(
            "/api/suppliers",
            json!({
                "name": "Acme", "contact_name": "Wile E.", "email": "sales@acme.test", "phone": "+1 555 0100",
                "address": "1 Desert Road", "contract_terms": "Net 30", "contract_start": "2026-01-01",
                "contract_end": "2026-12-31", "rating": "4.5", "is_active": true
            }),
        )
        .await;
    let s = r.expect(201).clone();
    assert_eq!(s["name"], "Acme");
    assert_eq!(s["contact_name"], "Wile E.");
    assert_eq!(s["email"], "sales@acme.test");
    assert_eq!(s["contract_start"], "2026-01-01");
    assert_eq!(s["contract_end"], "2026-12-31");
    assert_eq!(s["is_active"], true);
    let rating = s["rating"]
        .as_f64()
        .or_else(|| s["rating"].as_str().and_then(|r| r.parse().ok()));
    assert_eq!(rating, Some(4.5), "rating round-trips: {s}");
    assert_eq!(s["created_by"], json!(root.user_id()));
    let fetched = root.get(&format!("/api/suppliers/{}", r.id())).await;
    assert_eq!(fetched.expect(200), &s);
}

async fn a_supplier_rating_is_between_zero_and_five_with_one_decimal(app: TestApp) {
    let root = app.root().await;
    for bad in [json!("5.5"), json!(-1), json!("4.55"), json!("good")] {
        root.post("/api/suppliers", json!({"name": "Acme", "rating": bad}))
            .await
            .expect_field_error("rating");
    }
    root.post("/api/suppliers", json!({"name": "Acme", "rating": "5.0"}))
        .await
        .expect(201);
    root.post("/api/suppliers", json!({"name": "Bolt", "rating": 0}))
        .await
        .expect(201);
}

async fn a_supplier_email_must_be_an_email(app: TestApp) {
    let root = app.root().await;
    root.post(
        "/api/suppliers",
        json!({"name": "Acme", "email": "not an email"}),
    )
    .await
    .expect_field_error("email");
}

async fn a_duplicate_supplier_name_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    supplier(&root, "Acme").await;
    root.post("/api/suppliers", json!({"name": "Acme"}))
        .await
        .expect(409);
}

async fn deleting_a_supplier_removes_it(app: TestApp) {
    let root = app.root().await;
    let id = supplier(&root, "Acme").await;
    root.delete(&format!("/api/suppliers/{id}"))
        .await
        .expect(204);
    root.get(&format!("/api/suppliers/{id}")).await.expect(404);
}

async fn patching_a_supplier_changes_it(app: TestApp) {
    let root = app.root().await;
    let id = supplier(&root, "Acme").await;
    let r = root
        .patch(
            &format!("/api/suppliers/{id}"),
            json!({"is_active": false, "phone": "123"}),
        )
        .await;
    assert_eq!(r.expect(200)["is_active"], false);
    let fetched = root.get(&format!("/api/suppliers/{id}")).await;
    assert_eq!(fetched.expect(200)["is_active"], false);
    assert_eq!(fetched.body["phone"], "123");
    assert_eq!(fetched.body["name"], "Acme");
}

variants!(
    creating_a_category_answers_it_with_its_audit_fields,
    patching_a_category_changes_only_the_given_fields,
    putting_a_category_replaces_it,
    a_duplicate_category_name_is_a_conflict,
    renaming_a_category_to_a_taken_name_is_a_conflict,
    a_category_name_has_one_to_one_hundred_characters,
    deleting_an_unused_category_removes_it,
    deleting_a_category_in_use_is_a_conflict,
    deleting_a_category_or_supplier_only_a_deleted_product_used_never_crashes,
    a_missing_object_is_not_found,
    creating_a_supplier_answers_every_field,
    a_supplier_rating_is_between_zero_and_five_with_one_decimal,
    a_supplier_email_must_be_an_email,
    a_duplicate_supplier_name_is_a_conflict,
    deleting_a_supplier_removes_it,
    patching_a_supplier_changes_it,
);
