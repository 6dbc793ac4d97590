//! API.md §6: the dashboard's figures on a small data set whose every figure is known.

use conformance::fixtures::{category, link, product, supplier};
use conformance::{json, variants, Client, TestApp, Value};
use std::collections::BTreeMap;

/// The ids of the hand-built data set.
struct Data {
    tools: i64,
    paint: i64,
    empty: i64,
    suppliers: BTreeMap<&'static str, i64>,
}

/// sku, category, price, quantity, reorder level, links (supplier name, link quantity).
type Row<'a> = (
    &'a str,
    Option<i64>,
    &'a str,
    i64,
    i64,
    &'a [(&'a str, i64)],
);

/// Categories Tools, Paint, Empty; suppliers Acme, Bolt, Crate, Delta, Echo, Fox; five live
/// products and one deleted product (which must never count).
///
/// | product | category | price | qty | reorder | links (supplier: link qty) |
/// |---|---|---|---|---|---|
/// | P1 Hammer | Tools | 10.00 | 5 | 2 | Acme 100, Bolt 10 |
/// | P2 Saw | Tools | 25.50 | 0 | 1 | Bolt 4 |
/// | P3 Brush | Paint | 3.99 | 2 | 5 | Acme 20, Fox 1 |
/// | P4 Roller | none | 7.25 | 10 | 0 | Crate 7 |
/// | P6 Tape | none | 1.10 | 0 | 0 | Echo 3 |
/// | P5 Gold paint (deleted) | Paint | 100.00 | 50 | 0 | Acme 1000 |
async fn data_set(c: &Client) -> Data {
    let tools = category(c, "Tools").await;
    let paint = category(c, "Paint").await;
    let empty = category(c, "Empty").await;
    let mut suppliers = BTreeMap::new();
    for name in ["Acme", "Bolt", "Crate", "Delta", "Echo", "Fox"] {
        suppliers.insert(name, supplier(c, name).await);
    }
    let rows: [Row; 6] = [
        (
            "P1",
            Some(tools),
            "10.00",
            5,
            2,
            &[("Acme", 100), ("Bolt", 10)],
        ),
        ("P2", Some(tools), "25.50", 0, 1, &[("Bolt", 4)]),
        ("P3", Some(paint), "3.99", 2, 5, &[("Acme", 20), ("Fox", 1)]),
        ("P4", None, "7.25", 10, 0, &[("Crate", 7)]),
        ("P5", Some(paint), "100.00", 50, 0, &[("Acme", 1000)]),
        ("P6", None, "1.10", 0, 0, &[("Echo", 3)]),
    ];
    for (sku, cat, price, qty, reorder, links) in rows {
        let p = product(
            c,
            json!({"sku": sku, "name": format!("Product {sku}"), "category_id": cat, "price": price,
                   "quantity": qty, "reorder_level": reorder}),
        )
        .await;
        let id = p["id"].as_i64().unwrap();
        for (name, quantity) in links {
            link(
                c,
                id,
                suppliers[name],
                json!({"quantity": quantity, "unit_cost": "1.00"}),
            )
            .await;
        }
        if sku == "P5" {
            c.delete(&format!("/api/products/{id}")).await.expect(204);
        }
    }
    Data {
        tools,
        paint,
        empty,
        suppliers,
    }
}

async fn dashboard(c: &Client) -> Value {
    c.get("/api/dashboard").await.expect(200).clone()
}

/// `[{key_field, count_field}]` rows as a map from key to count.
fn counts(rows: &Value, key: &str, count: &str) -> BTreeMap<Option<i64>, i64> {
    rows.as_array()
        .unwrap_or_else(|| panic!("expected a list: {rows}"))
        .iter()
        .map(|r| {
            (
                r[key].as_i64(),
                r[count]
                    .as_i64()
                    .unwrap_or_else(|| panic!("integer `{count}`: {r}")),
            )
        })
        .collect()
}

async fn the_dashboard_counts_products_low_and_out_of_stock(app: TestApp) {
    let root = app.root().await;
    data_set(&root).await;
    let d = dashboard(&root).await;
    assert_eq!(
        d["products"]["total"], 5,
        "the deleted product does not count: {d}"
    );
    assert_eq!(d["products"]["out_of_stock"], 2, "{d}");
    // Low stock is quantity <= reorder level, the same rule as the `low_stock=true` filter.
    let filtered = root.get("/api/products?low_stock=true").await.count();
    assert_eq!(d["products"]["low_stock"], json!(filtered), "{d}");
    assert_eq!(d["products"]["low_stock"], 3, "{d}");
}

async fn the_dashboard_counts_products_by_category_with_the_uncategorised(app: TestApp) {
    let root = app.root().await;
    let data = data_set(&root).await;
    let d = dashboard(&root).await;
    let rows = &d["products"]["by_category"];
    let by = counts(rows, "category_id", "count");
    assert_eq!(by.get(&Some(data.tools)), Some(&2), "{rows}");
    assert_eq!(by.get(&Some(data.paint)), Some(&1), "{rows}");
    assert_eq!(
        by.get(&None),
        Some(&2),
        "uncategorised products have a null category_id: {rows}"
    );
    assert!(by.get(&Some(data.empty)).is_none_or(|n| *n == 0), "{rows}");
    for r in rows.as_array().unwrap() {
        if r["category_id"].is_null() {
            continue;
        }
        let name = if r["category_id"] == json!(data.tools) {
            "Tools"
        } else if r["category_id"] == json!(data.paint) {
            "Paint"
        } else {
            "Empty"
        };
        assert_eq!(r["category"], name, "{r}");
    }
}

async fn the_dashboard_counts_products_of_every_supplier_even_with_none(app: TestApp) {
    let root = app.root().await;
    let data = data_set(&root).await;
    let d = dashboard(&root).await;
    let rows = &d["products"]["by_supplier"];
    let by = counts(rows, "supplier_id", "count");
    let expected: BTreeMap<Option<i64>, i64> = [
        ("Acme", 2),
        ("Bolt", 2),
        ("Crate", 1),
        ("Delta", 0),
        ("Echo", 1),
        ("Fox", 1),
    ]
    .into_iter()
    .map(|(n, c)| (Some(data.suppliers[n]), c))
    .collect();
    assert_eq!(
        by, expected,
        "every supplier, zero included, deleted products excluded: {rows}"
    );
    for r in rows.as_array().unwrap() {
        let name = data
            .suppliers
            .iter()
            .find(|(_, id)| r["supplier_id"] == json!(id))
            .map(|(n, _)| *n);
        assert_eq!(r["supplier"], json!(name), "{r}");
    }
}

async fn the_dashboard_values_each_suppliers_supplied_and_stocked_goods(app: TestApp) {
    let root = app.root().await;
    let data = data_set(&root).await;
    let d = dashboard(&root).await;
    let rows = d["suppliers"]["value"]
        .as_array()
        .unwrap_or_else(|| panic!("suppliers.value is a list: {d}"));
    let expected = [
        ("Acme", "1079.80", "57.98"),
        ("Bolt", "202.00", "50.00"),
        ("Crate", "50.75", "72.50"),
        ("Delta", "0.00", "0.00"),
        ("Echo", "3.30", "0.00"),
        ("Fox", "3.99", "7.98"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (name, supplied, stocked) in expected {
        let row = rows
            .iter()
            .find(|r| r["supplier_id"] == json!(data.suppliers[name]))
            .unwrap_or_else(|| panic!("a value row for {name}: {rows:?}"));
        assert_eq!(row["supplier"], name);
        assert_eq!(
            row["supplied_value"], supplied,
            "{name}: Σ price × link quantity: {row}"
        );
        assert_eq!(
            row["stock_value"], stocked,
            "{name}: Σ price × product quantity: {row}"
        );
    }
}

async fn the_dashboard_ranks_suppliers_by_product_count_breaking_ties_by_name(app: TestApp) {
    let root = app.root().await;
    data_set(&root).await;
    let d = dashboard(&root).await;
    let ranked = |key: &str| -> Vec<(String, i64)> {
        d["suppliers"][key]
            .as_array()
            .unwrap_or_else(|| panic!("suppliers.{key} is a list: {d}"))
            .iter()
            .map(|r| {
                (
                    r["supplier"].as_str().unwrap_or_default().to_owned(),
                    r["count"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    let s = |n: &str, c: i64| (n.to_owned(), c);
    assert_eq!(
        ranked("most_products"),
        [
            s("Acme", 2),
            s("Bolt", 2),
            s("Crate", 1),
            s("Echo", 1),
            s("Fox", 1)
        ]
    );
    assert_eq!(
        ranked("least_products"),
        [
            s("Delta", 0),
            s("Crate", 1),
            s("Echo", 1),
            s("Fox", 1),
            s("Acme", 2)
        ]
    );
}

async fn the_dashboard_totals_inventory_quantity_and_value(app: TestApp) {
    let root = app.root().await;
    data_set(&root).await;
    let d = dashboard(&root).await;
    assert_eq!(d["inventory"]["total_quantity"], 17, "{d}");
    assert_eq!(d["inventory"]["total_value"], "130.48", "{d}");
}

async fn an_empty_dashboard_is_all_zeros(app: TestApp) {
    let root = app.root().await;
    let d = dashboard(&root).await;
    assert_eq!(d["products"]["total"], 0);
    assert_eq!(d["products"]["low_stock"], 0);
    assert_eq!(d["products"]["out_of_stock"], 0);
    assert_eq!(d["products"]["by_supplier"], json!([]));
    assert_eq!(d["suppliers"]["value"], json!([]));
    assert_eq!(d["suppliers"]["most_products"], json!([]));
    assert_eq!(d["inventory"]["total_quantity"], 0);
    assert_eq!(d["inventory"]["total_value"], "0.00");
}

async fn every_signed_in_role_reads_the_dashboard(app: TestApp) {
    for role in ["auditor", "employee", "manager", "admin"] {
        app.user_with_role(role)
            .await
            .get("/api/dashboard")
            .await
            .expect(200);
    }
    app.client().get("/api/dashboard").await.expect(401);
}

variants!(
    the_dashboard_counts_products_low_and_out_of_stock,
    the_dashboard_counts_products_by_category_with_the_uncategorised,
    the_dashboard_counts_products_of_every_supplier_even_with_none,
    the_dashboard_values_each_suppliers_supplied_and_stocked_goods,
    the_dashboard_ranks_suppliers_by_product_count_breaking_ties_by_name,
    the_dashboard_totals_inventory_quantity_and_value,
    an_empty_dashboard_is_all_zeros,
    every_signed_in_role_reads_the_dashboard,
);
