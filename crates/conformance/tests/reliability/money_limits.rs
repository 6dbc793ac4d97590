//! Money totals stay exact past 64 bits, and a single value that cannot be kept exactly is a
//! clear 400 for its own request, never a failure of everyone's dashboard.

use conformance::fixtures::product;
use conformance::{json, variants, TestApp};

async fn totals_beyond_64_bits_stay_exact_and_single_values_are_bounded(app: TestApp) {
    let root = app.root().await;
    // Each product: 1,000,000,000,000.00 × 90,000 = 90,000,000,000,000,000.00 (9 × 10^18
    // cents, just inside 64 bits); the two together are not.
    let a = product(
        &root,
        json!({"sku": "BIG-A", "name": "A", "price": "1000000000000", "quantity": 90000}),
    )
    .await;
    product(
        &root,
        json!({"sku": "BIG-B", "name": "B", "price": "1000000000000", "quantity": 90000}),
    )
    .await;
    let d = root.get("/api/dashboard").await;
    let d = d.expect(200);
    assert_eq!(
        d["inventory"]["total_value"],
        json!("180000000000000000.00"),
        "{d}"
    );
    let v = root
        .get("/api/reports/valuation?group_by=category&basis=price")
        .await;
    let v = v.expect(200);
    assert_eq!(v["total_value"], json!("180000000000000000.00"), "{v}");
    assert_eq!(v["rows"][0]["value"], json!("180000000000000000.00"), "{v}");
    // At cost (the first receipt's cost is the price) the same value has four places, and
    // each product's value is a hundred times wider in ten-thousandths than in cents.
    let v = root.get("/api/reports/valuation?group_by=category").await;
    let v = v.expect(200);
    assert_eq!(v["total_value"], json!("180000000000000000.0000"), "{v}");
    assert_eq!(
        v["rows"][0]["value"],
        json!("180000000000000000.0000"),
        "{v}"
    );

    // Other users read the same figures (it used to be a 400 for everyone on PostgreSQL).
    let auditor = app.user_with_role("auditor").await;
    auditor.get("/api/dashboard").await.expect(200);

    // One more unit of A would put its own value past 64 bits: refused, nothing booked.
    let id = a["id"].as_i64().unwrap();
    let r = root
        .post(
            "/api/stock-adjustments",
            json!({"product_id": id, "kind": "receive", "quantity": 10000, "reason": "too much"}),
        )
        .await;
    r.expect_field_error("non_field_errors");
    assert_eq!(
        root.get(&format!("/api/products/{id}")).await.expect(200)["quantity"],
        json!(90000)
    );

    // Selling brings the totals back down exactly.
    root.post(
        "/api/stock-adjustments",
        json!({"product_id": id, "kind": "sale", "quantity": 89999, "reason": "sold"}),
    )
    .await
    .expect(201);
    let d = root.get("/api/dashboard").await;
    assert_eq!(
        d.expect(200)["inventory"]["total_value"],
        json!("90001000000000000.00")
    );
    // Every aggregate is re-checked against the data when the test ends (the harness).
}

variants!(totals_beyond_64_bits_stay_exact_and_single_values_are_bounded);
