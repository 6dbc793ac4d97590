//! API.md §3: the product–supplier links (the many-to-many "through" table).

use conformance::fixtures::{link, simple_product, supplier};
use conformance::{json, variants, Resp, TestApp, Value};

/// Links answered by a list endpoint. Lenient on purpose (a page or a bare list), so that
/// these scenarios test the links; `link_lists_are_paginated` tests the shape.
fn rows(r: &Resp) -> Vec<Value> {
    r.expect(200);
    match r.body.as_array() {
        Some(rows) => rows.clone(),
        None => r.page(),
    }
}

/// The link between `p` and supplier `s`, found in the product's list of links.
async fn the_link(c: &conformance::Client, p: i64, s: i64) -> Option<Value> {
    rows(&c.get(&format!("/api/products/{p}/suppliers")).await)
        .into_iter()
        .find(|l| l["supplier_id"] == json!(s))
}

async fn link_lists_are_paginated(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({})).await;
    assert_eq!(
        root.get(&format!("/api/products/{p}/suppliers"))
            .await
            .page()
            .len(),
        1
    );
    assert_eq!(
        root.get(&format!("/api/suppliers/{acme}/products"))
            .await
            .page()
            .len(),
        1
    );
}

async fn a_single_link_is_read_at_its_own_path(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({"unit_cost": "1.50"})).await;
    let one = root
        .get(&format!("/api/products/{p}/suppliers/{acme}"))
        .await;
    assert_eq!(one.expect(200)["unit_cost"], "1.50");
    assert_eq!(one.body["supplier_id"], json!(acme));
    let other = supplier(&root, "Other").await;
    root.get(&format!("/api/products/{p}/suppliers/{other}"))
        .await
        .expect(404);
}

async fn linking_a_supplier_answers_the_link(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;

    let l = link(
        &root,
        p,
        acme,
        json!({"unit_cost": "1.25", "lead_time_days": 7, "contract_ref": "C-9", "is_preferred": true}),
    )
    .await;
    assert_eq!(l["supplier_id"], json!(acme));
    assert_eq!(l["supplier_name"], "Acme");
    assert_eq!(l["quantity"], 0);
    assert_eq!(l["unit_cost"], "1.25");
    assert_eq!(l["lead_time_days"], 7);
    assert_eq!(l["contract_ref"], "C-9");
    assert_eq!(l["is_preferred"], true);
    assert!(
        l["created_at"].is_string() && l["updated_at"].is_string(),
        "timestamps: {l}"
    );
}

async fn a_products_links_are_listed_under_it_and_in_its_summary(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let bolt = supplier(&root, "Bolt").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({"unit_cost": "1.00"})).await;
    link(&root, p, bolt, json!({"unit_cost": "1.50"})).await;

    let listed = rows(&root.get(&format!("/api/products/{p}/suppliers")).await);
    let mut ids: Vec<i64> = listed
        .iter()
        .map(|l| l["supplier_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [acme, bolt]);

    assert_eq!(the_link(&root, p, bolt).await.unwrap()["unit_cost"], "1.50");

    let product = root.get(&format!("/api/products/{p}")).await;
    let summary = product.expect(200)["suppliers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut ids: Vec<i64> = summary
        .iter()
        .filter_map(|l| l["supplier_id"].as_i64())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [acme, bolt],
        "the product's `suppliers` summarises its links: {product:?}"
    );
}

async fn a_suppliers_products_are_listed_under_it(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let other = supplier(&root, "Other").await;
    let a = simple_product(&root, "A", "2.00").await;
    let b = simple_product(&root, "B", "2.00").await;
    let c = simple_product(&root, "C", "2.00").await;
    link(&root, a, acme, json!({})).await;
    link(&root, b, acme, json!({})).await;
    link(&root, c, other, json!({})).await;

    let listed = rows(&root.get(&format!("/api/suppliers/{acme}/products")).await);
    assert_eq!(listed.len(), 2, "{listed:?}");
    // A supplier's link rows name their product as `product_id` (or a nested `product`).
    let mut ids: Vec<i64> = listed
        .iter()
        .filter_map(|l| {
            l["product_id"]
                .as_i64()
                .or_else(|| l["product"]["id"].as_i64())
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [a, b],
        "the supplier's links name its products: {listed:?}"
    );
    root.get("/api/suppliers/987654/products").await.expect(404);
}

async fn a_duplicate_link_is_a_conflict(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({})).await;
    root.post(
        &format!("/api/products/{p}/suppliers"),
        json!({"supplier_id": acme}),
    )
    .await
    .expect(409);
}

async fn linking_an_unknown_supplier_or_product_fails(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    let r = root
        .post(
            &format!("/api/products/{p}/suppliers"),
            json!({"supplier_id": 987654}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 400 | 404),
        "an unknown supplier is refused: {r:?}"
    );
    root.post(
        "/api/products/987654/suppliers",
        json!({"supplier_id": acme}),
    )
    .await
    .expect(404);
}

async fn updating_a_link_changes_it(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(
        &root,
        p,
        acme,
        json!({"unit_cost": "1.00", "lead_time_days": 3}),
    )
    .await;

    let path = format!("/api/products/{p}/suppliers/{acme}");
    let r = root
        .patch(&path, json!({"unit_cost": "0.95", "lead_time_days": 10}))
        .await;
    assert_eq!(r.expect(200)["unit_cost"], "0.95");
    let again = the_link(&root, p, acme).await.unwrap();
    assert_eq!(again["lead_time_days"], 10);
    assert_eq!(again["unit_cost"], "0.95");
    root.patch(&path, json!({"unit_cost": "0.955"}))
        .await
        .expect_field_error("unit_cost");
}

async fn deleting_a_link_removes_only_the_link(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({})).await;

    let path = format!("/api/products/{p}/suppliers/{acme}");
    root.delete(&path).await.expect(204);
    assert!(the_link(&root, p, acme).await.is_none());
    root.delete(&path).await.expect(404);
    root.patch(&path, json!({"lead_time_days": 1}))
        .await
        .expect(404);
    assert!(rows(&root.get(&format!("/api/products/{p}/suppliers")).await).is_empty());
    root.get(&format!("/api/suppliers/{acme}"))
        .await
        .expect(200);
    root.get(&format!("/api/products/{p}")).await.expect(200);
}

async fn a_product_has_at_most_one_preferred_supplier(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let bolt = supplier(&root, "Bolt").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({"is_preferred": true})).await;
    link(&root, p, bolt, json!({"is_preferred": true})).await;

    let preferred = |links: &[Value]| -> Vec<i64> {
        links
            .iter()
            .filter(|l| l["is_preferred"] == true)
            .filter_map(|l| l["supplier_id"].as_i64())
            .collect()
    };
    let listed = rows(&root.get(&format!("/api/products/{p}/suppliers")).await);
    assert_eq!(
        preferred(&listed),
        [bolt],
        "the newest preferred link wins: {listed:?}"
    );

    root.patch(
        &format!("/api/products/{p}/suppliers/{acme}"),
        json!({"is_preferred": true}),
    )
    .await
    .expect(200);
    let listed = rows(&root.get(&format!("/api/products/{p}/suppliers")).await);
    assert_eq!(
        preferred(&listed),
        [acme],
        "setting one unsets the other: {listed:?}"
    );
}

async fn a_deleted_supplier_no_longer_appears_in_links(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let p = simple_product(&root, "A", "2.00").await;
    link(&root, p, acme, json!({})).await;
    let r = root.delete(&format!("/api/suppliers/{acme}")).await;
    if r.status.as_u16() == 204 {
        assert!(rows(&root.get(&format!("/api/products/{p}/suppliers")).await).is_empty());
    } else {
        r.expect(409);
    }
}

variants!(
    link_lists_are_paginated,
    a_single_link_is_read_at_its_own_path,
    linking_a_supplier_answers_the_link,
    a_products_links_are_listed_under_it_and_in_its_summary,
    a_suppliers_products_are_listed_under_it,
    a_duplicate_link_is_a_conflict,
    linking_an_unknown_supplier_or_product_fails,
    updating_a_link_changes_it,
    deleting_a_link_removes_only_the_link,
    a_product_has_at_most_one_preferred_supplier,
    a_deleted_supplier_no_longer_appears_in_links,
);
