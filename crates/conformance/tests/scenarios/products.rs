//! API.md §3: products, create/read/update/delete, deleted products, and the routing rules
//! every resource shares (trailing slashes, 405).

use super::catalog::is_rfc3339_utc;
use conformance::fixtures::{category, product, simple_product};
use conformance::{json, variants, TestApp, Value};

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

async fn a_product_needs_a_name_and_a_price_and_gets_a_sku_when_none_is_given(app: TestApp) {
    let root = app.root().await;
    // API.md §3: a product shaped like a plain item (no SKU) gets a generated one.
    let r = root
        .post("/api/products", json!({"name": "Hammer", "price": "1.00"}))
        .await;
    let p = r.expect(201);
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["sku"], json!(format!("SKU-{id:06}")), "{p}");
    let r = root
        .post(
            "/api/products",
            json!({"sku": format!("SKU-{:06}", id + 2), "name": "Taken", "price": "1.00"}),
        )
        .await;
    r.expect(201);
    let r = root
        .post("/api/products", json!({"name": "Next", "price": "1.00"}))
        .await;
    let p = r.expect(201);
    assert_eq!(
        p["sku"],
        json!(format!("SKU-{:06}-2", id + 2)),
        "a generated SKU never clashes: {p}"
    );
    root.delete(&format!("/api/products/{id}"))
        .await
        .expect(204);
    root.delete(&format!("/api/products/{}", id + 1))
        .await
        .expect(204);
    root.delete(&format!("/api/products/{}", id + 2))
        .await
        .expect(204);
    // A plain item's shape: name, description, quantity, price and its category (by id),
    // no SKU.
    let cat = root
        .post("/api/categories", json!({"name": "Plain items"}))
        .await
        .expect(201)["id"]
        .clone();
    let item = root
        .post(
            "/api/products",
            json!({"name": "Desk lamp", "description": "LED, warm white", "quantity": 12,
                   "price": "24.90", "category": cat}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(item["category_id"], cat, "{item}");
    assert_eq!(item["quantity"], json!(12), "{item}");
    assert!(
        item["sku"].as_str().is_some_and(|s| s.starts_with("SKU-")),
        "{item}"
    );
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
    creating_a_product_answers_every_field,
    a_product_needs_a_name_and_a_price_and_gets_a_sku_when_none_is_given,
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
