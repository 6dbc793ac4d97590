//! API.md §1 pagination and ordering, §3 product filters.

use conformance::fixtures::{category, link, location, product, simple_product, supplier};
use conformance::{json, variants, Client, TestApp, Value};

async fn categories(c: &Client, n: usize) {
    for i in 0..n {
        category(c, &format!("Cat {i:02}")).await;
    }
}

fn skus(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["sku"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn a_list_answers_count_next_previous_and_results(app: TestApp) {
    let root = app.root().await;
    categories(&root, 3).await;
    let r = root.get("/api/categories").await;
    let rows = r.page();
    assert_eq!(r.body["count"], 3);
    assert_eq!(rows.len(), 3);
    assert_eq!(r.body["next"], Value::Null);
    assert_eq!(r.body["previous"], Value::Null);
}

async fn an_empty_list_is_an_empty_first_page(app: TestApp) {
    let root = app.root().await;
    let r = root.get("/api/products").await;
    assert_eq!(r.page(), Vec::<Value>::new());
    assert_eq!(r.body["count"], 0);
}

async fn pages_hold_twenty_by_default_and_link_to_each_other(app: TestApp) {
    let root = app.root().await;
    categories(&root, 25).await;

    let first = root.get("/api/categories").await;
    assert_eq!(first.page().len(), 20);
    assert_eq!(first.body["count"], 25);
    assert_eq!(first.body["previous"], Value::Null);
    let next = first.body["next"]
        .as_str()
        .expect("a first page of two links to the next")
        .to_owned();
    assert!(next.contains("page=2"), "next links to page 2: {next}");

    let second = root.get(&next).await;
    assert_eq!(second.page().len(), 5);
    assert_eq!(second.body["next"], Value::Null);
    let previous = second.body["previous"]
        .as_str()
        .expect("a second page links back")
        .to_owned();
    let back = root.get(&previous).await;
    assert_eq!(back.column("id"), first.column("id"));

    let unique: std::collections::BTreeSet<i64> = first
        .column("id")
        .iter()
        .chain(second.column("id").iter())
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(unique.len(), 25, "pages neither repeat nor skip rows");
}

async fn page_size_chooses_the_page_length(app: TestApp) {
    let root = app.root().await;
    categories(&root, 7).await;
    let r = root.get("/api/categories?page_size=3&page=3").await;
    assert_eq!(r.page().len(), 1);
    assert_eq!(r.body["count"], 7);
    let next = r.body["next"].clone();
    assert_eq!(next, Value::Null);
    let prev = r.body["previous"].as_str().unwrap().to_owned();
    assert!(
        prev.contains("page_size=3"),
        "links keep the page size: {prev}"
    );
    root.get("/api/categories?page_size=100").await.page();
}

async fn page_links_keep_the_filters_and_ordering(app: TestApp) {
    let root = app.root().await;
    let tools = category(&root, "Tools").await;
    for i in 0..5 {
        product(&root, json!({"sku": format!("T{i}"), "name": format!("Tool {i}"), "price": "1.00", "category_id": tools}))
            .await;
    }
    simple_product(&root, "OTHER", "1.00").await;
    let first = root
        .get(&format!(
            "/api/products?category={tools}&ordering=-sku&page_size=2"
        ))
        .await;
    assert_eq!(skus(&first.page()), ["T4", "T3"]);
    assert_eq!(first.body["count"], 5);
    let next = first.body["next"].as_str().expect("a next link").to_owned();
    let second = root.get(&next).await;
    assert_eq!(
        skus(&second.page()),
        ["T2", "T1"],
        "the next link keeps filter and ordering: {next}"
    );
    let last = root
        .get(second.body["next"].as_str().expect("a next link"))
        .await;
    assert_eq!(skus(&last.page()), ["T0"]);
    assert_eq!(last.body["next"], Value::Null);
}

async fn a_page_size_out_of_range_is_invalid(app: TestApp) {
    let root = app.root().await;
    for q in ["page_size=0", "page_size=101", "page_size=-1"] {
        let r = root.get(&format!("/api/products?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "{q} is refused: {r:?}");
    }
}

async fn a_page_past_the_end_is_not_found(app: TestApp) {
    let root = app.root().await;
    categories(&root, 3).await;
    root.get("/api/categories?page=2").await.expect(404);
    root.get("/api/categories?page=2&page_size=2").await.page();
    root.get("/api/categories?page=3&page_size=2")
        .await
        .expect(404);
}

async fn an_unknown_ordering_field_is_invalid(app: TestApp) {
    let root = app.root().await;
    for q in [
        "ordering=nope",
        "ordering=-nope",
        "ordering=name,nope",
        "ordering=password",
        "ordering=description",
    ] {
        let r = root.get(&format!("/api/products?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "{q} is refused: {r:?}");
    }
    root.get("/api/categories?ordering=rating")
        .await
        .expect(400);
}

/// Three products whose every sortable field orders them differently.
async fn three_products(c: &Client) -> [i64; 3] {
    let a = product(
        c,
        json!({"sku": "S-B", "name": "Cable", "price": "5.00", "quantity": 9}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let b = product(
        c,
        json!({"sku": "S-C", "name": "Anchor", "price": "15.00", "quantity": 1}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let d = product(
        c,
        json!({"sku": "S-A", "name": "Bolt", "price": "0.50", "quantity": 4}),
    )
    .await;
    [
        a["id"].as_i64().unwrap(),
        b["id"].as_i64().unwrap(),
        d["id"].as_i64().unwrap(),
    ]
}

async fn products_order_by_every_listed_field(app: TestApp) {
    let root = app.root().await;
    three_products(&root).await;
    let cases = [
        ("name", ["S-C", "S-A", "S-B"]),
        ("-name", ["S-B", "S-A", "S-C"]),
        ("sku", ["S-A", "S-B", "S-C"]),
        ("-sku", ["S-C", "S-B", "S-A"]),
        ("price", ["S-A", "S-B", "S-C"]),
        ("-price", ["S-C", "S-B", "S-A"]),
        ("quantity", ["S-C", "S-A", "S-B"]),
        ("-quantity", ["S-B", "S-A", "S-C"]),
        ("created_at", ["S-B", "S-C", "S-A"]),
        ("-created_at", ["S-A", "S-C", "S-B"]),
        ("updated_at", ["S-B", "S-C", "S-A"]),
        ("-updated_at", ["S-A", "S-C", "S-B"]),
    ];
    for (ordering, expected) in cases {
        let rows = root
            .get(&format!("/api/products?ordering={ordering}"))
            .await
            .page();
        assert_eq!(skus(&rows), expected, "ordering={ordering}");
    }
}

async fn ordering_by_several_fields_breaks_ties_in_turn(app: TestApp) {
    let root = app.root().await;
    for (sku, name, price) in [
        ("A", "Zeta", "2.00"),
        ("B", "Alpha", "2.00"),
        ("C", "Mid", "9.00"),
        ("D", "Beta", "1.00"),
    ] {
        product(&root, json!({"sku": sku, "name": name, "price": price})).await;
    }
    let rows = root.get("/api/products?ordering=-price,name").await.page();
    assert_eq!(skus(&rows), ["C", "B", "A", "D"]);
    let rows = root.get("/api/products?ordering=price,-name").await.page();
    assert_eq!(skus(&rows), ["D", "A", "B", "C"]);
}

async fn the_default_order_is_stable_by_id(app: TestApp) {
    let root = app.root().await;
    for (sku, price) in [("C", "1.00"), ("A", "1.00"), ("B", "1.00")] {
        simple_product(&root, sku, price).await;
    }
    let rows = root.get("/api/products?page_size=2").await.page();
    let more = root.get("/api/products?page_size=2&page=2").await.page();
    let ids: Vec<i64> = rows
        .iter()
        .chain(more.iter())
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "default order ends with id");
    // Equal prices: ties fall back to id.
    let by_price = root.get("/api/products?ordering=price").await.page();
    assert_eq!(skus(&by_price), ["C", "A", "B"]);
}

async fn products_filter_by_category(app: TestApp) {
    let root = app.root().await;
    let tools = category(&root, "Tools").await;
    let paint = category(&root, "Paint").await;
    product(
        &root,
        json!({"sku": "T1", "name": "Hammer", "price": "1.00", "category_id": tools}),
    )
    .await;
    product(
        &root,
        json!({"sku": "P1", "name": "Brush", "price": "1.00", "category_id": paint}),
    )
    .await;
    product(
        &root,
        json!({"sku": "T2", "name": "Saw", "price": "1.00", "category_id": tools}),
    )
    .await;
    simple_product(&root, "N1", "1.00").await;

    let rows = root
        .get(&format!("/api/products?category={tools}&ordering=sku"))
        .await
        .page();
    assert_eq!(skus(&rows), ["T1", "T2"]);
    let rows = root
        .get(&format!("/api/products?category={paint}"))
        .await
        .page();
    assert_eq!(skus(&rows), ["P1"]);
}

async fn products_filter_by_supplier(app: TestApp) {
    let root = app.root().await;
    let acme = supplier(&root, "Acme").await;
    let bolt = supplier(&root, "Bolt").await;
    let a = simple_product(&root, "A", "1.00").await;
    let b = simple_product(&root, "B", "1.00").await;
    simple_product(&root, "C", "1.00").await;
    link(&root, a, acme, json!({})).await;
    link(&root, b, acme, json!({})).await;
    link(&root, b, bolt, json!({})).await;

    let rows = root
        .get(&format!("/api/products?supplier={acme}&ordering=sku"))
        .await
        .page();
    assert_eq!(skus(&rows), ["A", "B"]);
    let rows = root
        .get(&format!("/api/products?supplier={bolt}"))
        .await
        .page();
    assert_eq!(skus(&rows), ["B"]);
}

async fn products_filter_by_location(app: TestApp) {
    let root = app.root().await;
    let shop = location(&root, "SHOP").await;
    product(
        &root,
        json!({"sku": "A", "name": "A", "price": "1.00", "quantity": 3, "location_id": shop}),
    )
    .await;
    product(
        &root,
        json!({"sku": "B", "name": "B", "price": "1.00", "quantity": 3}),
    )
    .await;
    simple_product(&root, "C", "1.00").await;

    let rows = root
        .get(&format!("/api/products?location={shop}"))
        .await
        .page();
    assert_eq!(skus(&rows), ["A"]);
}

async fn products_filter_by_owner(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    simple_product(&root, "R1", "1.00").await;
    simple_product(&employee, "E1", "1.00").await;
    simple_product(&employee, "E2", "1.00").await;

    let rows = root
        .get(&format!(
            "/api/products?owner={}&ordering=sku",
            employee.user_id()
        ))
        .await
        .page();
    assert_eq!(skus(&rows), ["E1", "E2"]);
    let rows = root
        .get(&format!("/api/products?owner={}", root.user_id()))
        .await
        .page();
    assert_eq!(skus(&rows), ["R1"]);
}

async fn products_filter_by_price_range_inclusively(app: TestApp) {
    let root = app.root().await;
    for (sku, price) in [
        ("A", "0.99"),
        ("B", "1.00"),
        ("C", "5.50"),
        ("D", "10.00"),
        ("E", "10.01"),
    ] {
        simple_product(&root, sku, price).await;
    }
    let rows = root
        .get("/api/products?min_price=1.00&max_price=10.00&ordering=sku")
        .await
        .page();
    assert_eq!(skus(&rows), ["B", "C", "D"]);
    let rows = root
        .get("/api/products?min_price=5.5&ordering=sku")
        .await
        .page();
    assert_eq!(skus(&rows), ["C", "D", "E"]);
    let rows = root
        .get("/api/products?max_price=1&ordering=sku")
        .await
        .page();
    assert_eq!(skus(&rows), ["A", "B"]);
}

async fn products_filter_by_low_stock(app: TestApp) {
    let root = app.root().await;
    for (sku, qty, level) in [("A", 0, 0), ("B", 5, 5), ("C", 6, 5), ("D", 2, 10)] {
        product(&root, json!({"sku": sku, "name": sku, "price": "1.00", "quantity": qty, "reorder_level": level})).await;
    }
    let rows = root
        .get("/api/products?low_stock=true&ordering=sku")
        .await
        .page();
    assert_eq!(
        skus(&rows),
        ["A", "B", "D"],
        "low stock is quantity <= reorder level"
    );

    let rows = root
        .get("/api/products?low_stock_threshold=5&ordering=sku")
        .await
        .page();
    assert_eq!(
        skus(&rows),
        ["A", "D"],
        "low_stock_threshold=N is quantity < N"
    );
}

async fn products_search_name_sku_and_barcode_ignoring_case(app: TestApp) {
    let root = app.root().await;
    product(
        &root,
        json!({"sku": "HAM-001", "name": "Claw Hammer", "price": "1.00"}),
    )
    .await;
    product(
        &root,
        json!({"sku": "SAW-002", "name": "Hand saw", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await;
    product(
        &root,
        json!({"sku": "XYZ-hammer", "name": "Mallet", "price": "1.00"}),
    )
    .await;
    product(
        &root,
        json!({"sku": "NAIL", "name": "Nails", "price": "1.00"}),
    )
    .await;

    let rows = root
        .get("/api/products?search=HAMMER&ordering=sku")
        .await
        .page();
    assert_eq!(skus(&rows), ["HAM-001", "XYZ-hammer"]);
    let rows = root.get("/api/products?search=saw-0").await.page();
    assert_eq!(skus(&rows), ["SAW-002"]);
    let rows = root.get("/api/products?search=63813339").await.page();
    assert_eq!(skus(&rows), ["SAW-002"]);
    let rows = root
        .get("/api/products?search=nothing-like-this")
        .await
        .page();
    assert!(rows.is_empty());
}

async fn search_treats_wildcards_and_quotes_literally(app: TestApp) {
    let root = app.root().await;
    product(
        &root,
        json!({"sku": "A", "name": "100% cotton", "price": "1.00"}),
    )
    .await;
    product(&root, json!({"sku": "B", "name": "Plain", "price": "1.00"})).await;
    product(
        &root,
        json!({"sku": "C", "name": "O'Brien's", "price": "1.00"}),
    )
    .await;

    let rows = root.get("/api/products?search=%25").await.page();
    assert_eq!(skus(&rows), ["A"], "% is not a wildcard");
    let rows = root.get("/api/products?search=_").await.page();
    assert!(rows.is_empty(), "_ is not a wildcard: {rows:?}");
    let rows = root
        .get("/api/products?search=%27%20OR%201%3D1%20--")
        .await
        .page();
    assert!(rows.is_empty());
    let rows = root.get("/api/products?search=o%27brien").await.page();
    assert_eq!(skus(&rows), ["C"]);
}

async fn filters_combine(app: TestApp) {
    let root = app.root().await;
    let tools = category(&root, "Tools").await;
    product(
        &root,
        json!({"sku": "A", "name": "Hammer", "price": "5.00", "category_id": tools}),
    )
    .await;
    product(
        &root,
        json!({"sku": "B", "name": "Hammer drill", "price": "50.00", "category_id": tools}),
    )
    .await;
    product(
        &root,
        json!({"sku": "C", "name": "Hammer", "price": "5.00"}),
    )
    .await;

    let rows = root
        .get(&format!(
            "/api/products?category={tools}&search=hammer&max_price=10"
        ))
        .await
        .page();
    assert_eq!(skus(&rows), ["A"]);
}

async fn a_filter_value_of_the_wrong_type_is_invalid(app: TestApp) {
    let root = app.root().await;
    for q in [
        "min_price=abc",
        "max_price=1.2.3",
        "category=abc",
        "low_stock=maybe",
        "low_stock_threshold=x",
        "owner=me",
    ] {
        let r = root.get(&format!("/api/products?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "{q} is refused: {r:?}");
    }
}

async fn categories_and_suppliers_order_by_their_listed_fields(app: TestApp) {
    let root = app.root().await;
    for name in ["Beta", "Alpha", "Gamma"] {
        category(&root, name).await;
    }
    let names = root
        .get("/api/categories?ordering=name")
        .await
        .column("name");
    assert_eq!(names, [json!("Alpha"), json!("Beta"), json!("Gamma")]);
    root.get("/api/categories?ordering=-created_at")
        .await
        .page();

    for (name, rating) in [("Acme", "3.5"), ("Bolt", "4.9"), ("Crate", "1.0")] {
        root.post("/api/suppliers", json!({"name": name, "rating": rating}))
            .await
            .expect(201);
    }
    let names = root
        .get("/api/suppliers?ordering=-rating")
        .await
        .column("name");
    assert_eq!(names, [json!("Bolt"), json!("Acme"), json!("Crate")]);
    let names = root
        .get("/api/suppliers?ordering=-name")
        .await
        .column("name");
    assert_eq!(names, [json!("Crate"), json!("Bolt"), json!("Acme")]);
    root.get("/api/suppliers?ordering=created_at").await.page();
}

variants!(
    a_list_answers_count_next_previous_and_results,
    an_empty_list_is_an_empty_first_page,
    pages_hold_twenty_by_default_and_link_to_each_other,
    page_size_chooses_the_page_length,
    page_links_keep_the_filters_and_ordering,
    a_page_size_out_of_range_is_invalid,
    a_page_past_the_end_is_not_found,
    an_unknown_ordering_field_is_invalid,
    products_order_by_every_listed_field,
    ordering_by_several_fields_breaks_ties_in_turn,
    the_default_order_is_stable_by_id,
    products_filter_by_category,
    products_filter_by_supplier,
    products_filter_by_location,
    products_filter_by_owner,
    products_filter_by_price_range_inclusively,
    products_filter_by_low_stock,
    products_search_name_sku_and_barcode_ignoring_case,
    search_treats_wildcards_and_quotes_literally,
    filters_combine,
    a_filter_value_of_the_wrong_type_is_invalid,
    categories_and_suppliers_order_by_their_listed_fields,
);
