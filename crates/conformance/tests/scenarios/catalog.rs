//! API.md §3: categories, suppliers and products, create/read/update/delete.

use conformance::fixtures::{category, product, simple_product, supplier};
use conformance::{json, variants, TestApp, Value};

fn is_rfc3339_utc(v: &Value) -> bool {
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

async fn creating_a_product_answers_every_field(app: TestApp) {
    let root = app.root().await;
    let cat = category(&root, "Tools").await;
    let p = product(
        &root,
        json!({
            "sku": "HAM-1", "barcode": "4006381333931", "name": "Hammer", "description": "Claw hammer",
            "category_id": cat, "price": "19.99", "reorder_level": 3, "reorder_quantity": 10, "unit": "pcs"
        }),
    )
    .await;
    assert_eq!(p["sku"], "HAM-1");
    assert_eq!(p["barcode"], "4006381333931");
    assert_eq!(p["name"], "Hammer");
    assert_eq!(p["description"], "Claw hammer");
    assert_eq!(p["category_id"], json!(cat));
    assert_eq!(p["price"], "19.99");
    assert_eq!(p["quantity"], 0);
    assert_eq!(p["reorder_level"], 3);
    assert_eq!(p["reorder_quantity"], 10);
    assert_eq!(p["unit"], "pcs");
    assert_eq!(p["suppliers"], json!([]));
    assert_eq!(p["deleted_at"], Value::Null);
    assert_eq!(p["deleted_by"], Value::Null);
    assert_eq!(p["created_by"], json!(root.user_id()));
    assert!(
        is_rfc3339_utc(&p["created_at"]) && is_rfc3339_utc(&p["updated_at"]),
        "timestamps: {p}"
    );

    let fetched = root.get(&format!("/api/products/{}", p["id"])).await;
    assert_eq!(fetched.expect(200), &p);
}

async fn a_product_needs_a_sku_a_name_and_a_price(app: TestApp) {
    let root = app.root().await;
    root.post("/api/products", json!({"name": "Hammer", "price": "1.00"}))
        .await
        .expect_field_error("sku");
    root.post("/api/products", json!({"sku": "H-1", "price": "1.00"}))
        .await
        .expect_field_error("name");
    root.post("/api/products", json!({"sku": "H-1", "name": "Hammer"}))
        .await
        .expect_field_error("price");
    root.post(
        "/api/products",
        json!({"sku": "H-1", "name": "", "price": "1.00"}),
    )
    .await
    .expect_field_error("name");
    root.post(
        "/api/products",
        json!({"sku": "H-1", "name": "x".repeat(201), "price": "1.00"}),
    )
    .await
    .expect_field_error("name");
    root.post(
        "/api/products",
        json!({"sku": "H-1", "name": "x".repeat(200), "price": "1.00"}),
    )
    .await
    .expect(201);
}

async fn a_duplicate_sku_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    simple_product(&root, "HAM-1", "1.00").await;
    root.post(
        "/api/products",
        json!({"sku": "HAM-1", "name": "Other", "price": "2.00"}),
    )
    .await
    .expect(409);
}

async fn a_duplicate_barcode_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await;
    root.post(
        "/api/products",
        json!({"sku": "B", "name": "B", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await
    .expect(409);
}

async fn an_unknown_category_is_invalid_input(app: TestApp) {
    let root = app.root().await;
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "category_id": 987654}),
    )
    .await
    .expect_field_error("category_id");
}

async fn patching_a_product_changes_it_and_its_updated_at(app: TestApp) {
    let root = app.root().await;
    let p = product(&root, json!({"sku": "A", "name": "Anvil", "price": "1.00"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = root
        .patch(
            &format!("/api/products/{}", p["id"]),
            json!({"name": "Big anvil", "price": "2.50"}),
        )
        .await;
    let u = r.expect(200).clone();
    assert_eq!(u["name"], "Big anvil");
    assert_eq!(u["price"], "2.50");
    assert_eq!(u["sku"], "A");
    assert_eq!(u["created_at"], p["created_at"]);
    let before = chrono::DateTime::parse_from_rfc3339(p["updated_at"].as_str().unwrap()).unwrap();
    let after = chrono::DateTime::parse_from_rfc3339(u["updated_at"].as_str().unwrap()).unwrap();
    assert!(
        after > before,
        "updated_at moves on update: {} -> {}",
        p["updated_at"],
        u["updated_at"]
    );
}

async fn putting_a_product_needs_every_required_field(app: TestApp) {
    let root = app.root().await;
    let p = product(&root, json!({"sku": "A", "name": "Anvil", "price": "1.00"})).await;
    let path = format!("/api/products/{}", p["id"]);
    root.put(&path, json!({"sku": "A", "name": "Anvil"}))
        .await
        .expect_field_error("price");
    let r = root
        .put(
            &path,
            json!({"sku": "A2", "name": "Anvil II", "price": "3.00"}),
        )
        .await;
    assert_eq!(r.expect(200)["sku"], "A2");
    assert_eq!(root.get(&path).await.expect(200)["price"], "3.00");
}

async fn deleting_a_product_hides_it_from_get_and_lists(app: TestApp) {
    let root = app.root().await;
    let id = simple_product(&root, "A", "1.00").await;
    simple_product(&root, "B", "1.00").await;
    root.delete(&format!("/api/products/{id}"))
        .await
        .expect(204);

    root.get(&format!("/api/products/{id}")).await.expect(404);
    root.patch(&format!("/api/products/{id}"), json!({"name": "x"}))
        .await
        .expect(404);
    root.delete(&format!("/api/products/{id}"))
        .await
        .expect(404);
    let list = root.get("/api/products").await;
    assert_eq!(list.column("sku"), vec![json!("B")]);
}

async fn a_deleted_products_sku_and_barcode_are_free_again(app: TestApp) {
    let root = app.root().await;
    let old = product(
        &root,
        json!({"sku": "A", "name": "Old", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await;
    root.delete(&format!("/api/products/{}", old["id"]))
        .await
        .expect(204);

    let new = product(
        &root,
        json!({"sku": "A", "name": "New", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await;
    assert_ne!(new["id"], old["id"]);
}

async fn admins_and_auditors_see_deleted_products_when_asking(app: TestApp) {
    let root = app.root().await;
    let admin = app.user_with_role("admin").await;
    let auditor = app.user_with_role("auditor").await;
    let id = simple_product(&root, "A", "1.00").await;
    simple_product(&root, "B", "1.00").await;
    admin
        .delete(&format!("/api/products/{id}"))
        .await
        .expect(204);

    for who in [&admin, &auditor] {
        let rows = who
            .get("/api/products?include_deleted=true&ordering=sku")
            .await
            .page();
        assert_eq!(rows.len(), 2, "{} sees the deleted product", who.username());
        let deleted = &rows[0];
        assert_eq!(deleted["sku"], "A");
        assert_eq!(deleted["deleted_by"], json!(admin.user_id()));
        assert!(
            is_rfc3339_utc(&deleted["deleted_at"]),
            "deleted_at is kept: {deleted}"
        );
        assert_eq!(rows[1]["deleted_at"], Value::Null);
    }
    let plain = admin.get("/api/products").await;
    assert_eq!(plain.count(), 1);
}

async fn employees_never_see_deleted_products(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let id = simple_product(&root, "A", "1.00").await;
    simple_product(&root, "B", "1.00").await;
    root.delete(&format!("/api/products/{id}"))
        .await
        .expect(204);
    for who in [&employee, &app.client()] {
        let r = who.get("/api/products?include_deleted=true").await;
        if r.status.as_u16() == 200 {
            assert_eq!(
                r.column("sku"),
                vec![json!("B")],
                "only admins and auditors see deleted products"
            );
        } else {
            assert!(matches!(r.status.as_u16(), 400 | 403), "{r:?}");
        }
    }
}

async fn reorder_fields_cannot_be_negative(app: TestApp) {
    let root = app.root().await;
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "reorder_level": -1}),
    )
    .await
    .expect_field_error("reorder_level");
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "reorder_quantity": -5}),
    )
    .await
    .expect_field_error("reorder_quantity");
}

async fn a_product_can_be_moved_out_of_its_category(app: TestApp) {
    let root = app.root().await;
    let cat = category(&root, "Tools").await;
    let p = product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "category_id": cat}),
    )
    .await;
    let r = root
        .patch(
            &format!("/api/products/{}", p["id"]),
            json!({"category_id": null}),
        )
        .await;
    assert_eq!(r.expect(200)["category_id"], Value::Null);
    root.delete(&format!("/api/categories/{cat}"))
        .await
        .expect(204);
}

async fn trailing_slashes_are_accepted(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post("/api/categories/", json!({"name": "Tools"}))
        .await;
    let id = r.expect(201)["id"].clone();
    root.get(&format!("/api/categories/{id}/"))
        .await
        .expect(200);
    root.patch(
        &format!("/api/categories/{id}/"),
        json!({"description": "d"}),
    )
    .await
    .expect(200);
    root.get("/api/categories/").await.page();
    root.get("/api/products/").await.page();
    root.get("/api/suppliers/").await.page();
    root.delete(&format!("/api/categories/{id}/"))
        .await
        .expect(204);
}

async fn a_method_a_resource_does_not_have_is_not_allowed(app: TestApp) {
    let root = app.root().await;
    root.put("/api/products", json!({})).await.expect(405);
    root.delete("/api/categories").await.expect(405);
}

async fn concurrent_creates_of_one_sku_make_exactly_one_product(app: TestApp) {
    let root = app.root().await;
    let attempts = (0..8).map(|i| {
        root.post(
            "/api/products",
            json!({"sku": "RACE", "name": format!("Racer {i}"), "price": "1.00"}),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers.iter().filter(|r| r.status.as_u16() == 201).count();
    let conflicts = answers.iter().filter(|r| r.status.as_u16() == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 7),
        "one wins, the rest conflict: {answers:?}"
    );
    assert_eq!(root.get("/api/products").await.count(), 1);
}

variants!(
    concurrent_creates_of_one_sku_make_exactly_one_product,
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
    creating_a_product_answers_every_field,
    a_product_needs_a_sku_a_name_and_a_price,
    a_duplicate_sku_is_a_conflict,
    a_duplicate_barcode_is_a_conflict,
    an_unknown_category_is_invalid_input,
    patching_a_product_changes_it_and_its_updated_at,
    putting_a_product_needs_every_required_field,
    deleting_a_product_hides_it_from_get_and_lists,
    a_deleted_products_sku_and_barcode_are_free_again,
    admins_and_auditors_see_deleted_products_when_asking,
    employees_never_see_deleted_products,
    reorder_fields_cannot_be_negative,
    a_product_can_be_moved_out_of_its_category,
    trailing_slashes_are_accepted,
    a_method_a_resource_does_not_have_is_not_allowed,
);
