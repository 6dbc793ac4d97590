//! API.md §1: malformed input gets a 4xx in the one error shape, never a 5xx.
//! (The client itself checks the shape and the absence of 5xx on every answer.)

use conformance::fixtures::simple_product;
use conformance::{json, variants, Method, Raw, TestApp};

async fn malformed_json_is_invalid_input(app: TestApp) {
    let root = app.root().await;
    for body in [
        "{",
        "{\"name\": }",
        "not json",
        "{\"name\": \"x\",}",
        "\u{0}",
    ] {
        let r = root
            .raw(Raw::new(Method::POST, "/api/categories").body("application/json", body))
            .await;
        assert_eq!(r.status.as_u16(), 400, "{body:?} is refused: {r:?}");
    }
    assert_eq!(root.get("/api/categories").await.count(), 0);
}

async fn an_empty_or_non_object_body_is_invalid_input(app: TestApp) {
    let root = app.root().await;
    for body in ["", "[]", "[{\"name\": \"x\"}]", "\"name\"", "42", "null"] {
        let r = root
            .raw(Raw::new(Method::POST, "/api/categories").body("application/json", body))
            .await;
        assert_eq!(r.status.as_u16(), 400, "{body:?} is refused: {r:?}");
    }
}

async fn a_value_of_the_wrong_type_is_a_field_error(app: TestApp) {
    let root = app.root().await;
    root.post("/api/categories", json!({"name": 123}))
        .await
        .expect_field_error("name");
    root.post("/api/categories", json!({"name": ["a"]}))
        .await
        .expect_field_error("name");
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": "many"}),
    )
    .await
    .expect_field_error("quantity");
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": 1.5}),
    )
    .await
    .expect_field_error("quantity");
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "category_id": "tools"}),
    )
    .await
    .expect_field_error("category_id");
    root.post(
        "/api/products",
        json!({"sku": 7, "name": "A", "price": "1.00"}),
    )
    .await
    .expect_field_error("sku");
    root.post(
        "/api/suppliers",
        json!({"name": "A", "is_active": "yes please"}),
    )
    .await
    .expect_field_error("is_active");
    root.post(
        "/api/suppliers",
        json!({"name": "A", "contract_start": "31/12/2026"}),
    )
    .await
    .expect_field_error("contract_start");
    assert_eq!(root.get("/api/products").await.count(), 0);
}

async fn an_unknown_field_is_invalid_input(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post("/api/categories", json!({"name": "Tools", "colour": "red"}))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let r = root
        .post(
            "/api/products",
            json!({"sku": "A", "name": "A", "prize": "1.00", "price": "1.00"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let id = simple_product(&root, "B", "1.00").await;
    let r = root
        .patch(&format!("/api/products/{id}"), json!({"nmae": "typo"}))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert_eq!(root.get("/api/categories").await.count(), 0);
}

async fn read_only_fields_cannot_be_written(app: TestApp) {
    let root = app.root().await;
    let id = simple_product(&root, "A", "1.00").await;
    let path = format!("/api/products/{id}");
    for body in [
        json!({"id": 999}),
        json!({"created_by": 999}),
        json!({"deleted_at": "2020-01-01T00:00:00Z"}),
    ] {
        let r = root.patch(&path, body.clone()).await;
        if r.status.as_u16() == 200 {
            assert_eq!(r.body["id"], json!(id), "{body} is ignored: {r:?}");
            assert_eq!(
                r.body["created_by"],
                json!(root.user_id()),
                "{body} is ignored: {r:?}"
            );
            assert!(r.body["deleted_at"].is_null(), "{body} is ignored: {r:?}");
        } else {
            r.expect(400);
        }
    }
}

async fn a_body_that_is_not_json_is_an_unsupported_media_type(app: TestApp) {
    let root = app.root().await;
    for (ct, body) in [
        ("text/plain", "name=Tools"),
        ("application/x-www-form-urlencoded", "name=Tools"),
        (
            "multipart/form-data; boundary=x",
            "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nTools\r\n--x--\r\n",
        ),
        ("application/xml", "<name>Tools</name>"),
    ] {
        let r = root
            .raw(Raw::new(Method::POST, "/api/categories").body(ct, body))
            .await;
        assert_eq!(r.status.as_u16(), 415, "{ct} is refused: {r:?}");
    }
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .body("application/json; charset=utf-8", "{\"name\": \"Tools\"}"),
        )
        .await;
    r.expect(201);
}

async fn a_body_over_one_mebibyte_is_too_large(app: TestApp) {
    let root = app.root().await;
    let big = format!(
        "{{\"name\": \"Tools\", \"description\": \"{}\"}}",
        "x".repeat(1024 * 1024 + 10)
    );
    let r = root
        .raw(Raw::new(Method::POST, "/api/categories").body("application/json", big))
        .await;
    r.expect(413);
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/products").body("application/json", "[".repeat(1_100_000)),
        )
        .await;
    r.expect(413);
}

async fn deeply_nested_json_is_refused_without_crashing(app: TestApp) {
    let root = app.root().await;
    let deep = format!("{{\"name\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let r = root
        .raw(Raw::new(Method::POST, "/api/categories").body("application/json", deep))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    root.get("/api/categories").await.page();
}

async fn a_nul_character_or_odd_unicode_never_crashes(app: TestApp) {
    let root = app.root().await;
    let r = root
        .post("/api/categories", json!({"name": "bad\u{0}name"}))
        .await;
    assert!(matches!(r.status.as_u16(), 201 | 400), "{r:?}");
    let name = "Café ☕ 日本 \u{1F600}";
    let r = root.post("/api/categories", json!({"name": name})).await;
    assert_eq!(r.expect(201)["name"], name);
    let got = root.get(&format!("/api/categories/{}", r.id())).await;
    assert_eq!(got.expect(200)["name"], name);
}

async fn an_absurd_id_in_a_path_is_not_found_or_invalid(app: TestApp) {
    let root = app.root().await;
    for path in [
        "/api/products/99999999999999999999999",
        "/api/products/-1",
        "/api/products/abc",
        "/api/products/1.5",
        "/api/categories/%00",
    ] {
        let r = root.get(path).await;
        assert!(matches!(r.status.as_u16(), 400 | 404), "{path}: {r:?}");
    }
}

async fn an_unknown_path_is_not_found_in_the_error_shape(app: TestApp) {
    let root = app.root().await;
    root.get("/api/no-such-thing").await.expect(404);
    app.client().get("/api/no-such-thing").await.expect(404);
    root.post("/api/no-such-thing", json!({})).await.expect(404);
}

async fn absurd_query_values_never_crash(app: TestApp) {
    let root = app.root().await;
    for q in [
        "page=99999999999999999999",
        "page_size=99999999999999999999",
        "min_price=1e400",
        "max_price=-99999999999999999999",
        "low_stock_threshold=99999999999999999999",
        "ordering=",
        "ordering=,,,",
        "search=%FF%FE",
        "category=-5",
    ] {
        let r = root.get(&format!("/api/products?{q}")).await;
        assert!(
            r.status.is_success() || matches!(r.status.as_u16(), 400 | 404),
            "{q}: {r:?}"
        );
    }
}

variants!(
    malformed_json_is_invalid_input,
    an_empty_or_non_object_body_is_invalid_input,
    a_value_of_the_wrong_type_is_a_field_error,
    an_unknown_field_is_invalid_input,
    read_only_fields_cannot_be_written,
    a_body_that_is_not_json_is_an_unsupported_media_type,
    a_body_over_one_mebibyte_is_too_large,
    deeply_nested_json_is_refused_without_crashing,
    a_nul_character_or_odd_unicode_never_crashes,
    an_absurd_id_in_a_path_is_not_found_or_invalid,
    an_unknown_path_is_not_found_in_the_error_shape,
    absurd_query_values_never_crash,
);
