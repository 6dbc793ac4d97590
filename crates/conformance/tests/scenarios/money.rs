//! API.md §1 money, §3 barcodes and the stock booked by product quantities.

use conformance::fixtures::product;
use conformance::{json, variants, Client, TestApp, Value};

/// History rows, whether the history answers a page or a plain list (kept light on purpose).
fn ledger_rows(r: &conformance::Resp) -> Vec<Value> {
    r.expect(200);
    match r.body.as_array() {
        Some(rows) => rows.clone(),
        None => r.page(),
    }
}

async fn create_with_price(c: &Client, sku: &str, price: Value) -> conformance::Resp {
    c.post(
        "/api/products",
        json!({"sku": sku, "name": format!("Product {sku}"), "price": price}),
    )
    .await
}

async fn a_price_is_accepted_as_a_string_or_a_number_and_answered_as_a_two_place_string(
    app: TestApp,
) {
    let root = app.root().await;
    let cases = [
        (json!("19.99"), "19.99"),
        (json!(19.99), "19.99"),
        (json!("5"), "5.00"),
        (json!(5), "5.00"),
        (json!("0.1"), "0.10"),
        (json!(0), "0.00"),
        (json!("0.00"), "0.00"),
        (json!(1234567.89), "1234567.89"),
    ];
    for (i, (input, answer)) in cases.iter().enumerate() {
        let r = create_with_price(&root, &format!("P{i}"), input.clone()).await;
        assert_eq!(
            r.expect(201)["price"],
            json!(answer),
            "price {input} is answered as {answer}"
        );
        let fetched = root.get(&format!("/api/products/{}", r.id())).await;
        assert_eq!(fetched.expect(200)["price"], json!(answer));
    }
}

async fn a_price_with_three_decimals_is_invalid(app: TestApp) {
    let root = app.root().await;
    create_with_price(&root, "A", json!("19.999"))
        .await
        .expect_field_error("price");
    create_with_price(&root, "A", json!(19.999))
        .await
        .expect_field_error("price");
}

async fn a_negative_price_is_invalid(app: TestApp) {
    let root = app.root().await;
    create_with_price(&root, "A", json!("-1.00"))
        .await
        .expect_field_error("price");
    create_with_price(&root, "A", json!(-0.01))
        .await
        .expect_field_error("price");
}

async fn a_price_that_is_not_a_number_is_invalid(app: TestApp) {
    let root = app.root().await;
    for bad in [
        json!("abc"),
        json!(""),
        json!("1,50"),
        json!("1.2.3"),
        json!("NaN"),
        json!(true),
        json!([1]),
        json!({"amount": 1}),
    ] {
        create_with_price(&root, "A", bad)
            .await
            .expect_field_error("price");
    }
    let none = root.get("/api/products").await;
    assert_eq!(none.count(), 0, "no invalid price created a product");
}

async fn a_price_too_large_to_store_is_invalid_not_a_crash(app: TestApp) {
    let root = app.root().await;
    for huge in [
        json!("99999999999999999999999.99"),
        json!(1e30),
        json!("92233720368547758.08"),
    ] {
        create_with_price(&root, "A", huge)
            .await
            .expect_field_error("price");
    }
}

async fn updating_a_price_validates_it_too(app: TestApp) {
    let root = app.root().await;
    let p = product(&root, json!({"sku": "A", "name": "A", "price": "1.00"})).await;
    let path = format!("/api/products/{}", p["id"]);
    root.patch(&path, json!({"price": "1.001"}))
        .await
        .expect_field_error("price");
    root.patch(&path, json!({"price": -3}))
        .await
        .expect_field_error("price");
    let r = root.patch(&path, json!({"price": 2.5})).await;
    assert_eq!(r.expect(200)["price"], "2.50");
}

async fn a_valid_ean_or_upc_barcode_is_accepted(app: TestApp) {
    let root = app.root().await;
    for (i, code) in [
        "4006381333931",
        "96385074",
        "036000291452",
        "ABC-123 x/y",
        "123456",
    ]
    .iter()
    .enumerate()
    {
        let r = root
            .post(
                "/api/products",
                json!({"sku": format!("B{i}"), "name": "Thing", "price": "1.00", "barcode": code}),
            )
            .await;
        assert_eq!(r.expect(201)["barcode"], json!(code));
    }
}

async fn a_numeric_barcode_with_a_wrong_check_digit_is_invalid(app: TestApp) {
    let root = app.root().await;
    for code in ["4006381333932", "96385075", "036000291453"] {
        root.post(
            "/api/products",
            json!({"sku": "B", "name": "Thing", "price": "1.00", "barcode": code}),
        )
        .await
        .expect_field_error("barcode");
    }
}

async fn a_barcode_longer_than_48_characters_or_not_printable_ascii_is_invalid(app: TestApp) {
    let root = app.root().await;
    let long = "A".repeat(49);
    for code in [long.as_str(), "caf\u{e9}", "tab\there", "line\nbreak"] {
        root.post(
            "/api/products",
            json!({"sku": "B", "name": "Thing", "price": "1.00", "barcode": code}),
        )
        .await
        .expect_field_error("barcode");
    }
    let ok = "A".repeat(48);
    root.post(
        "/api/products",
        json!({"sku": "B", "name": "Thing", "price": "1.00", "barcode": ok}),
    )
    .await
    .expect(201);
}

async fn creating_a_product_with_a_quantity_books_it_as_received(app: TestApp) {
    let root = app.root().await;
    let p = product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": 12}),
    )
    .await;
    assert_eq!(p["quantity"], 12);
    let fetched = root.get(&format!("/api/products/{}", p["id"])).await;
    assert_eq!(fetched.expect(200)["quantity"], 12);

    let history = root
        .get(&format!("/api/products/{}/history", p["id"]))
        .await;
    let rows = ledger_rows(&history);
    assert_eq!(
        rows.len(),
        1,
        "one ledger row explains the quantity: {history:?}"
    );
    assert_eq!(rows[0]["kind"], "receive");
    assert_eq!(rows[0]["delta"], 12);
}

async fn patching_a_quantity_books_a_correction(app: TestApp) {
    let root = app.root().await;
    let p = product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": 12}),
    )
    .await;
    let path = format!("/api/products/{}", p["id"]);
    let r = root.patch(&path, json!({"quantity": 5})).await;
    assert_eq!(r.expect(200)["quantity"], 5);
    assert_eq!(root.get(&path).await.expect(200)["quantity"], 5);

    let history = root.get(&format!("{path}/history")).await;
    let rows = ledger_rows(&history);
    let correction = rows.iter().find(|r| r["kind"] == "correction");
    assert!(
        correction.is_some_and(|c| c["delta"] == -7),
        "a correction of -7 is booked: {history:?}"
    );
}

async fn a_negative_quantity_is_invalid(app: TestApp) {
    let root = app.root().await;
    root.post(
        "/api/products",
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": -1}),
    )
    .await
    .expect_field_error("quantity");
    let p = product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": 2}),
    )
    .await;
    let r = root
        .patch(
            &format!("/api/products/{}", p["id"]),
            json!({"quantity": -1}),
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        400,
        "a negative quantity is refused: {r:?}"
    );
    assert_eq!(
        root.get(&format!("/api/products/{}", p["id"]))
            .await
            .expect(200)["quantity"],
        2
    );
}

variants!(
    a_price_is_accepted_as_a_string_or_a_number_and_answered_as_a_two_place_string,
    a_price_with_three_decimals_is_invalid,
    a_negative_price_is_invalid,
    a_price_that_is_not_a_number_is_invalid,
    a_price_too_large_to_store_is_invalid_not_a_crash,
    updating_a_price_validates_it_too,
    a_valid_ean_or_upc_barcode_is_accepted,
    a_numeric_barcode_with_a_wrong_check_digit_is_invalid,
    a_barcode_longer_than_48_characters_or_not_printable_ascii_is_invalid,
    creating_a_product_with_a_quantity_books_it_as_received,
    patching_a_quantity_books_a_correction,
    a_negative_quantity_is_invalid,
);
