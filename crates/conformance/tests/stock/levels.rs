//! API.md §4 Stock levels and inventory levels.

use crate::support::*;
use conformance::fixtures::{all_pages, category, product};
use conformance::{json, variants, TestApp, Value};

async fn stock_levels_show_each_product_at_each_location(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p1 = new_product(&root, "LVL-1").await;
    let p2 = new_product(&root, "LVL-2").await;
    book(&root, p1, Some(main), "receive", 5).await;
    book(&root, p1, Some(l2), "receive", 3).await;
    book(&root, p2, Some(l2), "receive", 7).await;

    let guest = app.client();
    let rows = all_pages(&guest, &format!("/api/stock-levels?product={p1}")).await;
    let mut got: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["location_id"].as_i64().unwrap(),
                r["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(main, 5), (l2, 3)], "product={p1}: {rows:?}");
    for r in &rows {
        assert_eq!(r["product_id"], json!(p1));
        instant(&r["updated_at"]);
    }

    let rows = all_pages(&guest, &format!("/api/stock-levels?location={l2}")).await;
    let mut got: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["product_id"].as_i64().unwrap(),
                r["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(p1, 3), (p2, 7)], "location={l2}: {rows:?}");

    let rows = guest
        .get(&format!("/api/stock-levels?product={p1}&location={l2}"))
        .await
        .page();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["quantity"], json!(3));
    assert_eq!(rows[0]["location_id"], json!(l2));
    let rows = guest
        .get(&format!("/api/stock-levels?product={p2}&location={main}"))
        .await
        .page();
    assert!(
        rows.iter().all(|r| r["quantity"] == json!(0)),
        "P2 has nothing at MAIN: {rows:?}"
    );

    // Levels follow the ledger.
    book(&root, p1, Some(l2), "sale", 2).await;
    assert_eq!(level(&guest, p1, l2).await, 1);
    guest.get("/api/stock-levels?product=abc").await.expect(400);
}

/// Asserts the compact shape of an inventory row (with what sales orders reserve, §11).
#[track_caller]
fn assert_compact(row: &Value) {
    let obj = row
        .as_object()
        .unwrap_or_else(|| panic!("an inventory row is an object: {row}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "available",
            "category",
            "id",
            "locations",
            "low_stock",
            "name",
            "quantity",
            "reorder_level",
            "reserved",
            "sku"
        ],
        "an inventory row is compact: {row}"
    );
    for l in row["locations"]
        .as_array()
        .unwrap_or_else(|| panic!("locations is a list: {row}"))
    {
        let mut keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec!["available", "location_id", "quantity", "reserved"],
            "a location entry is {{location_id, quantity, reserved, available}}: {row}"
        );
    }
}

fn by_sku<'a>(rows: &'a [Value], sku: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["sku"] == sku)
        .unwrap_or_else(|| panic!("no row {sku} in {rows:?}"))
}

fn skus(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["sku"].as_str().unwrap().to_owned())
        .collect()
}

async fn inventory_levels_show_one_compact_row_per_product(app: TestApp) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let tools = category(&root, "Tools").await;
    let hammer = product(
        &root,
        json!({"sku": "HAM-1", "name": "Hammer", "price": "9.00", "category_id": tools, "reorder_level": 2}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let nail = product(
        &root,
        json!({"sku": "NAIL-1", "name": "Nail", "price": "0.10"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    book(&root, hammer, Some(main), "receive", 4).await;
    book(&root, hammer, Some(l2), "receive", 6).await;

    let guest = app.client();
    let rows = all_pages(&guest, "/api/inventory/levels").await;
    assert_eq!(rows.len(), 2, "one row a product: {rows:?}");
    rows.iter().for_each(assert_compact);

    let h = by_sku(&rows, "HAM-1");
    assert_eq!(h["id"], json!(hammer));
    assert_eq!(h["name"], "Hammer");
    assert!(
        h["category"] == json!("Tools") || h["category"] == json!(tools),
        "category names the product's category: {h}"
    );
    assert_eq!(h["quantity"], json!(10));
    assert_eq!(h["reorder_level"], json!(2));
    assert_eq!(h["low_stock"], false);
    let mut locs: Vec<(i64, i64)> = h["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location_id"].as_i64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .filter(|(_, q)| *q != 0)
        .collect();
    locs.sort();
    assert_eq!(
        locs,
        vec![(main, 4), (l2, 6)],
        "per-location quantities: {h}"
    );

    let n = by_sku(&rows, "NAIL-1");
    assert_eq!(n["id"], json!(nail));
    assert_eq!(n["category"], json!(null), "no category is null: {n}");
    assert_eq!(n["quantity"], json!(0));
    assert!(
        n["locations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["quantity"] == json!(0)),
        "{n}"
    );

    // A deleted product drops out.
    root.delete(&format!("/api/products/{nail}"))
        .await
        .expect(204);
    let rows = all_pages(&guest, "/api/inventory/levels").await;
    assert_eq!(skus(&rows), vec!["HAM-1"]);
}

async fn inventory_levels_filter_low_stock(app: TestApp) {
    let root = app.root().await;
    // quantity ≤ reorder_level is low.
    for (sku, quantity, reorder) in [
        ("LOW-A", 2, 5),
        ("LOW-B", 5, 5),
        ("OK-C", 10, 5),
        ("OK-D", 1, 0),
    ] {
        product(
            &root,
            json!({"sku": sku, "name": sku, "price": "1.00", "quantity": quantity, "reorder_level": reorder}),
        )
        .await;
    }
    let rows = all_pages(&root, "/api/inventory/levels?ordering=sku").await;
    assert_eq!(skus(&rows), vec!["LOW-A", "LOW-B", "OK-C", "OK-D"]);
    assert_eq!(by_sku(&rows, "LOW-A")["low_stock"], true);
    assert_eq!(
        by_sku(&rows, "LOW-B")["low_stock"],
        true,
        "quantity = reorder level is low"
    );
    assert_eq!(by_sku(&rows, "OK-C")["low_stock"], false);
    assert_eq!(by_sku(&rows, "OK-D")["low_stock"], false);
    assert_eq!(by_sku(&rows, "LOW-A")["quantity"], json!(2));

    let low = all_pages(&root, "/api/inventory/levels?low_stock=true&ordering=sku").await;
    assert_eq!(skus(&low), vec!["LOW-A", "LOW-B"]);
    low.iter().for_each(assert_compact);
    // quantity < N
    assert_eq!(
        skus(
            &all_pages(
                &root,
                "/api/inventory/levels?low_stock_threshold=5&ordering=sku"
            )
            .await
        ),
        vec!["LOW-A", "OK-D"]
    );
    assert_eq!(
        skus(
            &all_pages(
                &root,
                "/api/inventory/levels?low_stock_threshold=6&ordering=sku"
            )
            .await
        ),
        vec!["LOW-A", "LOW-B", "OK-D"]
    );
    assert!(
        all_pages(&root, "/api/inventory/levels?low_stock_threshold=0")
            .await
            .is_empty()
    );

    // Selling makes a product low; the view follows at once.
    let c = by_sku(&rows, "OK-C")["id"].as_i64().unwrap();
    book(&root, c, None, "sale", 5).await;
    let low = all_pages(&root, "/api/inventory/levels?low_stock=true&ordering=sku").await;
    assert_eq!(skus(&low), vec!["LOW-A", "LOW-B", "OK-C"]);

    root.get("/api/inventory/levels?low_stock_threshold=-1")
        .await
        .expect(400);
    root.get("/api/inventory/levels?low_stock_threshold=many")
        .await
        .expect(400);
    root.get("/api/inventory/levels?low_stock=perhaps")
        .await
        .expect(400);
}

async fn inventory_levels_order_and_paginate(app: TestApp) {
    let root = app.root().await;
    let tools = category(&root, "Tools").await;
    for (sku, name, quantity, cat) in [
        ("C-3", "Bolt", 7, Some(tools)),
        ("A-1", "Clamp", 1, None),
        ("B-2", "Anvil", 30, Some(tools)),
    ] {
        product(
            &root,
            json!({"sku": sku, "name": name, "price": "1.00", "quantity": quantity, "category_id": cat}),
        )
        .await;
    }
    let order = |q: &'static str| {
        let root = &root;
        async move { skus(&all_pages(root, &format!("/api/inventory/levels?ordering={q}")).await) }
    };
    assert_eq!(order("sku").await, vec!["A-1", "B-2", "C-3"]);
    assert_eq!(order("-quantity").await, vec!["B-2", "C-3", "A-1"]);
    assert_eq!(order("quantity").await, vec!["A-1", "C-3", "B-2"]);
    assert_eq!(order("name").await, vec!["B-2", "C-3", "A-1"]);
    root.get("/api/inventory/levels?ordering=secret")
        .await
        .expect(400);

    // Product filters apply.
    let in_tools = all_pages(
        &root,
        &format!("/api/inventory/levels?category={tools}&ordering=sku"),
    )
    .await;
    assert_eq!(skus(&in_tools), vec!["B-2", "C-3"]);
    let found = all_pages(&root, "/api/inventory/levels?search=anv").await;
    assert_eq!(skus(&found), vec!["B-2"]);

    // Pages.
    let r = root
        .get("/api/inventory/levels?ordering=sku&page_size=2")
        .await;
    let first = r.page();
    assert_eq!(r.count(), 3);
    assert_eq!(skus(&first), vec!["A-1", "B-2"]);
    assert!(
        r.body["next"].is_string(),
        "a first page of two links the next: {r:?}"
    );
    assert!(r.body["previous"].is_null());
    let r = root
        .get("/api/inventory/levels?ordering=sku&page_size=2&page=2")
        .await;
    assert_eq!(skus(&r.page()), vec!["C-3"]);
    assert!(r.body["next"].is_null());
    assert!(r.body["previous"].is_string());
    root.get("/api/inventory/levels?ordering=sku&page_size=2&page=3")
        .await
        .expect(404);
    root.get("/api/inventory/levels?page_size=101")
        .await
        .expect(400);
    root.get("/api/inventory/levels?page=0").await.expect(400);
}

variants!(
    stock_levels_show_each_product_at_each_location,
    inventory_levels_show_one_compact_row_per_product,
    inventory_levels_filter_low_stock,
    inventory_levels_order_and_paginate,
);
