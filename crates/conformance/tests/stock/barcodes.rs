//! API.md §3/§4 Barcodes: check digits, lookup, scanning, labels.

use crate::support::*;
use conformance::fixtures::product;
use conformance::{json, variants, TestApp};

const EAN13: &str = "4006381333931";
const UPCA: &str = "036000291452";
const EAN8: &str = "96385074";

async fn numeric_barcodes_must_carry_a_valid_check_digit(app: TestApp) {
    let root = app.root().await;
    assert_eq!(
        gtin("400638133393"),
        EAN13,
        "the test's own check digits are right"
    );
    assert_eq!(gtin("03600029145"), UPCA);
    assert_eq!(gtin("9638507"), EAN8);

    let codes = [
        EAN13.to_owned(),
        UPCA.to_owned(),
        EAN8.to_owned(),
        gtin("590123412345"),
        gtin("7351353"),
    ];
    for (i, code) in codes.iter().enumerate() {
        let p = product(
            &root,
            json!({"sku": format!("GOOD-{i}"), "name": "Good", "price": "1.00", "barcode": code}),
        )
        .await;
        assert_eq!(p["barcode"], json!(code));
    }
    for (i, code) in codes.iter().enumerate() {
        let bad = wrong_check_digit(code);
        let r = root
            .post(
                "/api/products",
                json!({"sku": format!("BAD-{i}"), "name": "Bad", "price": "1.00", "barcode": bad}),
            )
            .await;
        r.expect_field_error("barcode");
    }
    // Other lengths and non-numeric codes are free-form.
    product(
        &root,
        json!({"sku": "FREE-1", "name": "Free", "price": "1.00", "barcode": "SKU-ABC-42"}),
    )
    .await;
    product(
        &root,
        json!({"sku": "FREE-2", "name": "Free", "price": "1.00", "barcode": "1234567"}),
    )
    .await;
    // PATCH checks too.
    let id = root.get("/api/products?search=FREE-1").await.page()[0]["id"]
        .as_i64()
        .unwrap();
    root.patch(
        &format!("/api/products/{id}"),
        json!({"barcode": wrong_check_digit(EAN13)}),
    )
    .await
    .expect_field_error("barcode");
    assert_eq!(
        root.get(&format!("/api/products/{id}")).await.expect(200)["barcode"],
        "SKU-ABC-42"
    );
    // None of the refused ones exists.
    assert_eq!(root.get("/api/products?search=BAD-").await.count(), 0);
}

async fn lookup_finds_a_product_by_barcode(app: TestApp) {
    let root = app.root().await;
    let p = product(
        &root,
        json!({"sku": "LOOK-1", "name": "Look", "price": "1.00", "barcode": EAN13}),
    )
    .await;
    let q = product(
        &root,
        json!({"sku": "LOOK-2", "name": "Other", "price": "1.00", "barcode": UPCA}),
    )
    .await;
    let guest = app.client();
    let r = guest
        .get(&format!("/api/products/lookup?barcode={EAN13}"))
        .await;
    assert_eq!(r.expect(200)["id"], p["id"]);
    assert_eq!(r.body["sku"], "LOOK-1");
    let r = root
        .get(&format!("/api/products/lookup?barcode={UPCA}"))
        .await;
    assert_eq!(r.expect(200)["id"], q["id"]);
    root.get(&format!("/api/products/lookup?barcode={EAN8}"))
        .await
        .expect(404);
    root.get("/api/products/lookup?barcode=NOPE-1")
        .await
        .expect(404);
    // A deleted product is not found any more.
    root.delete(&format!("/api/products/{}", q["id"]))
        .await
        .expect(204);
    root.get(&format!("/api/products/lookup?barcode={UPCA}"))
        .await
        .expect(404);
}

async fn scanning_books_receive_sale_and_count(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let id = product(
        &root,
        json!({"sku": "SCAN-1", "name": "Scan", "price": "1.00", "barcode": EAN13}),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let r = employee
        .post("/api/scan", json!({"barcode": EAN13, "action": "receive"}))
        .await;
    let row = r.expect(201).clone();
    assert_eq!(row["kind"], "receive");
    assert_eq!(row["product_id"], json!(id));
    assert_eq!(row["delta"], json!(1), "quantity defaults to 1: {row}");
    assert_eq!(
        row["location_id"],
        json!(main),
        "no location_id means the default: {row}"
    );
    assert_eq!(row["user_id"], json!(employee.user_id()));

    let row = employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "receive", "quantity": 5}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(row["delta"], json!(5));
    assert_eq!(row["quantity_after"], json!(6));
    let row = employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "sale", "quantity": 2}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(row["kind"], "sale");
    assert_eq!(row["delta"], json!(-2));
    assert_eq!(row["quantity_after"], json!(4));
    let row = employee
        .post("/api/scan", json!({"barcode": EAN13, "action": "sale"}))
        .await
        .expect(201)
        .clone();
    assert_eq!(row["delta"], json!(-1));
    assert_eq!(row["quantity_after"], json!(3));

    // A count books an audit of the difference.
    let manager = app.user_with_role("manager").await;
    let row = manager
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "count", "quantity": 10}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(row["kind"], "audit", "count books an audit: {row}");
    assert_eq!(row["delta"], json!(7));
    assert_eq!(row["quantity_after"], json!(10));
    assert_eq!(row["product_quantity_after"], json!(10));

    // At another location.
    let row = employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "receive", "quantity": 2, "location_id": l2}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(row["location_id"], json!(l2));
    assert_eq!(row["quantity_after"], json!(2));
    assert_eq!(row["product_quantity_after"], json!(12));

    let before = stock(&root, id).await;
    employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "sale", "quantity": 3, "location_id": l2}),
        )
        .await
        .expect_error(409, "insufficient_stock");
    employee
        .post(
            "/api/scan",
            json!({"barcode": gtin("590123412345"), "action": "sale"}),
        )
        .await
        .expect(404);
    employee
        .post("/api/scan", json!({"barcode": EAN13, "action": "steal"}))
        .await
        .expect_field_error("action");
    employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "receive", "quantity": 0}),
        )
        .await
        .expect(400);
    employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "sale", "quantity": -2}),
        )
        .await
        .expect(400);
    employee
        .post(
            "/api/scan",
            json!({"barcode": EAN13, "action": "count", "quantity": -1}),
        )
        .await
        .expect(400);
    app.user_with_role("auditor")
        .await
        .post("/api/scan", json!({"barcode": EAN13, "action": "receive"}))
        .await
        .expect(403);
    app.client()
        .post("/api/scan", json!({"barcode": EAN13, "action": "receive"}))
        .await
        .expect(401);
    assert_eq!(stock(&root, id).await, before, "refused scans book nothing");

    let history = root
        .get(&format!("/api/products/{id}/history"))
        .await
        .page();
    assert_eq!(history.len(), 6);
    assert_eq!(history[0]["kind"], "receive");
    assert_eq!(history[1]["kind"], "audit");
}

async fn a_product_barcode_draws_as_svg(app: TestApp) {
    let root = app.root().await;
    let guest = app.client();
    let mut ids = Vec::new();
    for (sku, code) in [
        ("SVG-1", Some(EAN13)),
        ("SVG-2", Some(UPCA)),
        ("SVG-3", Some(EAN8)),
        ("SVG-4", Some("AB-12")),
        ("SVG-5", None),
    ] {
        let mut body = json!({"sku": sku, "name": sku, "price": "1.00"});
        if let Some(c) = code {
            body["barcode"] = json!(c);
        }
        ids.push(product(&root, body).await["id"].as_i64().unwrap());
    }
    for id in ids {
        let r = guest.get(&format!("/api/products/{id}/barcode.svg")).await;
        r.expect(200);
        let ct = r.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("image/svg+xml"),
            "a label is image/svg+xml: {ct} {r:?}"
        );
        assert!(r.text.contains("<svg"), "the body is an SVG drawing: {r:?}");
    }
    root.get("/api/products/999999/barcode.svg")
        .await
        .expect(404);
}

variants!(
    numeric_barcodes_must_carry_a_valid_check_digit,
    lookup_finds_a_product_by_barcode,
    scanning_books_receive_sale_and_count,
    a_product_barcode_draws_as_svg,
);
