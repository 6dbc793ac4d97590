//! Categories, suppliers, locations and products by hand: list, add, change, history, delete,
//! search, filters and sorting, the product's supplier links inline, and bad input.

use conformance::admin::AdminClient;
use conformance::{json, variants, TestApp};

use crate::support::{add, follow, root};

/// The whole life of one object through its pages.
async fn life(
    app: &TestApp,
    c: &AdminClient,
    model: &str,
    add_fields: &[(&str, &str)],
    change_fields: &[(&str, &str)],
    before: &str,
    after: &str,
) {
    let list = format!("/admin/{model}/");
    c.get(&list).await.expect(200);
    let id = add(c, model, add_fields).await;
    let page = c.get(&format!("/admin/{model}/{id}/change/")).await;
    page.expect(200).contains(before);
    assert!(
        page.messages()
            .iter()
            .any(|m| m.contains("was added successfully")),
        "{:?}",
        page.messages()
    );
    c.get(&list).await.expect(200).contains(before);
    // Change with "Save": back to the list with a message.
    let mut fields = change_fields.to_vec();
    fields.push(("_save", "1"));
    let r = c
        .post(&format!("/admin/{model}/{id}/change/"), &fields)
        .await;
    assert_eq!(r.redirects_to(), list, "{r:?}");
    let page = follow(c, &r).await;
    page.expect(200).contains(after);
    assert!(page
        .messages()
        .iter()
        .any(|m| m.contains("was changed successfully")));
    // History: newest first, with who, what and the request id.
    let h = c.get(&format!("/admin/{model}/{id}/history/")).await;
    h.expect(200)
        .contains("update")
        .contains("create")
        .contains("root");
    let upd = h.html.find(">update<").unwrap();
    let cre = h.html.find(">create<").unwrap();
    assert!(upd < cre, "newest first");
    // Delete: a confirmation page, then the POST.
    let d = c.get(&format!("/admin/{model}/{id}/delete/")).await;
    d.expect(200).contains("Are you sure").contains(after);
    let r = c
        .post(&format!("/admin/{model}/{id}/delete/"), &[("post", "yes")])
        .await;
    assert_eq!(r.redirects_to(), list);
    let page = follow(c, &r).await;
    assert!(page
        .messages()
        .iter()
        .any(|m| m.contains("was deleted successfully")));
    c.get(&format!("/admin/{model}/{id}/change/"))
        .await
        .expect(404);
    let _ = app;
}

async fn categories_suppliers_and_locations_live_and_die_by_hand(app: TestApp) {
    let c = root(&app).await;
    life(
        &app,
        &c,
        "categories",
        &[("name", "Tools"), ("description", "Hand tools")],
        &[("name", "Hand tools"), ("description", "")],
        "Tools",
        "Hand tools",
    )
    .await;
    life(
        &app,
        &c,
        "suppliers",
        &[
            ("name", "Acme"),
            ("email", "sales@acme.example"),
            ("rating", "4.5"),
            ("is_active", "on"),
            ("contract_start", "2026-01-01"),
        ],
        &[
            ("name", "Acme Ltd"),
            ("email", "sales@acme.example"),
            ("rating", "4"),
            ("is_active", "on"),
        ],
        "Acme",
        "Acme Ltd",
    )
    .await;
    life(
        &app,
        &c,
        "locations",
        &[
            ("code", "SHOP1"),
            ("name", "High street"),
            ("kind", "store"),
            ("is_active", "on"),
        ],
        &[
            ("code", "SHOP1"),
            ("name", "High Street shop"),
            ("kind", "store"),
            ("is_active", "on"),
        ],
        "High street",
        "High Street shop",
    )
    .await;
    // The API saw each change, with the same audit entries.
    let api = app.root().await;
    let log = api.get("/api/audit-logs?object_type=category").await.page();
    assert_eq!(log.len(), 3, "create, update, delete: {log:?}");
    assert!(log
        .iter()
        .all(|e| e["ip"].is_string() && e["request_id"].as_str().is_some_and(|r| !r.is_empty())));
}

async fn a_product_is_added_with_its_supplier_links_in_one_save(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let cat = conformance::fixtures::category(&api, "Tools").await;
    let s1 = conformance::fixtures::supplier(&api, "Acme").await;
    let s2 = conformance::fixtures::supplier(&api, "Bolt").await;
    let (cat, s1, s2) = (cat.to_string(), s1.to_string(), s2.to_string());
    let page = c.get("/admin/products/add/").await;
    page.expect(200)
        .contains("suppliers-TOTAL_FORMS")
        .contains("Acme");
    let r = c
        .post(
            "/admin/products/add/",
            &[
                ("sku", "HAM-1"),
                ("name", "Claw hammer"),
                ("price", "19.99"),
                ("category_id", &cat),
                ("quantity", "25"),
                ("location_id", ""),
                ("reorder_level", "5"),
                ("reorder_quantity", "10"),
                ("unit", "pcs"),
                ("barcode", ""),
                ("description", ""),
                ("suppliers-TOTAL_FORMS", "2"),
                ("suppliers-0-supplier_id", &s1),
                ("suppliers-0-unit_cost", "7.50"),
                ("suppliers-0-lead_time_days", "3"),
                ("suppliers-0-is_preferred", "on"),
                ("suppliers-1-supplier_id", ""),
                ("_continue", "1"),
            ],
        )
        .await;
    let to = r.redirects_to();
    let id = conformance::admin::id_in(&to);
    let page = c.get(&to).await;
    page.expect(200)
        .contains("The product “Claw hammer” was added successfully.");
    page.contains("Stock per location")
        .contains("Last stock movements")
        .contains("barcode.svg");
    let p = api.get(&format!("/api/products/{id}")).await;
    let p = p.expect(200);
    assert_eq!(p["quantity"], json!(25));
    assert_eq!(p["suppliers"].as_array().unwrap().len(), 1);
    assert_eq!(p["suppliers"][0]["unit_cost"], json!("7.50"));
    assert_eq!(p["suppliers"][0]["is_preferred"], json!(true));
    // Change: one link removed, another added, in the same save.
    let r = c
        .post(
            &format!("/admin/products/{id}/change/"),
            &[
                ("sku", "HAM-1"),
                ("name", "Claw hammer"),
                ("price", "21.00"),
                ("category_id", &cat),
                ("reorder_level", "5"),
                ("reorder_quantity", "10"),
                ("unit", "pcs"),
                ("barcode", "4006381333931"),
                ("description", "Steel"),
                ("suppliers-TOTAL_FORMS", "2"),
                ("suppliers-0-supplier_id", &s1),
                ("suppliers-0-DELETE", "on"),
                ("suppliers-1-supplier_id", &s2),
                ("suppliers-1-quantity", "4"),
                ("_continue", "1"),
            ],
        )
        .await;
    assert_eq!(r.redirects_to(), format!("/admin/products/{id}/change/"));
    let p = api.get(&format!("/api/products/{id}")).await;
    let p = p.expect(200);
    assert_eq!(p["price"], json!("21.00"));
    assert_eq!(p["barcode"], json!("4006381333931"));
    let links: Vec<_> = p["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["supplier_id"].clone())
        .collect();
    assert_eq!(links, vec![json!(s2.parse::<i64>().unwrap())]);
    // A bad link row refuses the whole save: the price stays as it was.
    let r = c
        .post(
            &format!("/admin/products/{id}/change/"),
            &[
                ("sku", "HAM-1"),
                ("name", "Claw hammer"),
                ("price", "99.00"),
                ("unit", "pcs"),
                ("suppliers-TOTAL_FORMS", "1"),
                ("suppliers-0-supplier_id", "999999"),
                ("_save", "1"),
            ],
        )
        .await;
    r.expect(200).contains("row 1").contains("No such supplier");
    assert_eq!(
        api.get(&format!("/api/products/{id}")).await.expect(200)["price"],
        json!("21.00")
    );
    // The label of the barcode is drawn for the page.
    let svg = c.get(&format!("/admin/products/{id}/barcode.svg")).await;
    svg.expect(200).contains("<svg");
}

async fn invalid_input_is_shown_beside_its_field_with_the_values_kept(app: TestApp) {
    let c = root(&app).await;
    c.get("/admin/products/add/").await;
    let r = c
        .post(
            "/admin/products/add/",
            &[
                ("sku", "X 1"),
                ("name", "Kept name"),
                ("price", "12.345"),
                ("quantity", "many"),
                ("barcode", "4006381333932"),
                ("unit", "pcs"),
                ("_save", "1"),
            ],
        )
        .await;
    r.expect(200).contains("Please correct the errors below.");
    assert_eq!(r.input_value("name").as_deref(), Some("Kept name"));
    assert_eq!(r.input_value("price").as_deref(), Some("12.345"));
    assert_eq!(r.field_errors("quantity"), vec!["Enter a whole number."]);
    // A number that is a number reaches the core, whose messages are the API's.
    let r = c
        .post(
            "/admin/products/add/",
            &[
                ("sku", "X 1"),
                ("name", ""),
                ("price", "12.345"),
                ("barcode", "4006381333932"),
                ("unit", "pcs"),
                ("_save", "1"),
            ],
        )
        .await;
    r.expect(200);
    let api = app.root().await;
    let api_answer = api
        .post(
            "/api/products",
            json!({"sku": "X 1", "name": "", "price": "12.345", "barcode": "4006381333932"}),
        )
        .await;
    for field in ["sku", "name", "price", "barcode"] {
        let expected: Vec<String> = api_answer.body["errors"][field]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            r.field_errors(field),
            expected,
            "the API's message for {field}"
        );
    }
    assert_eq!(api.get("/api/products").await.count(), 0, "nothing saved");
    // A duplicate name is shown beside the name.
    add(&c, "categories", &[("name", "Tools")]).await;
    c.get("/admin/categories/add/").await;
    let r = c
        .post(
            "/admin/categories/add/",
            &[("name", "Tools"), ("_save", "1")],
        )
        .await;
    r.expect(200);
    assert!(!r.field_errors("name").is_empty(), "{r:?}");
}

async fn change_lists_search_filter_sort_page_and_survive_bad_queries(app: TestApp) {
    let c = root(&app).await;
    let api = app.root().await;
    let tools = conformance::fixtures::category(&api, "Tools").await;
    for i in 0..105 {
        let body = if i % 2 == 0 {
            json!({"sku": format!("P-{i:03}"), "name": format!("Widget {i:03}"), "price": format!("{}.00", i + 1), "category_id": tools, "quantity": i, "reorder_level": 10})
        } else {
            json!({"sku": format!("P-{i:03}"), "name": format!("Gadget {i:03}"), "price": format!("{}.00", i + 1), "quantity": i, "reorder_level": 10})
        };
        api.post("/api/products", body).await.expect(201);
    }
    // Exactly a hundred suppliers: the filter's choice list ends on a full page.
    for i in 0..99 {
        conformance::fixtures::supplier(&api, &format!("Supplier {i:03}")).await;
    }
    conformance::fixtures::supplier(&api, "Zeta").await;
    let page = c.get("/admin/products/").await;
    page.expect(200)
        .contains("105 products")
        .contains("Supplier 000");
    assert_eq!(page.selectable_ids().len(), 100, "100 a page");
    c.get("/admin/products/?page=2")
        .await
        .expect(200)
        .contains("P-");
    let p = c.get("/admin/products/?q=gadget").await;
    p.expect(200).contains("52 products");
    let p = c
        .get(&format!("/admin/products/?category_id={tools}"))
        .await;
    p.expect(200).contains("53 products");
    let p = c.get("/admin/products/?low_stock=true").await;
    p.expect(200).contains("11 products");
    let p = c.get("/admin/products/?ordering=-price").await;
    let first = p.html.find("P-104").unwrap();
    let later = p.html.find("P-050").unwrap();
    assert!(first < later, "sorted by price, descending");
    // Unknown filters, orderings and pages: the list with a message, never an error page.
    for q in [
        "?nope=1",
        "?ordering=password",
        "?page=abc",
        "?page=99",
        "?category_id=abc",
        "?low_stock=maybe",
        "?page=-1",
    ] {
        let p = c.get(&format!("/admin/products/{q}")).await;
        p.expect(200);
        assert!(!p.messages().is_empty(), "{q}: a message");
    }
    // Unknown ids and paths are a 404 page.
    c.get("/admin/products/999999/change/").await.expect(404);
    c.get("/admin/products/abc/change/").await.expect(404);
    c.get("/admin/nothing/").await.expect(404);
    c.get("/admin/products/1/nonsense/").await.expect(404);
}

async fn bulk_delete_asks_first_and_then_deletes_each_through_the_service(app: TestApp) {
    let c = root(&app).await;
    let a = add(&c, "categories", &[("name", "A")]).await.to_string();
    let b = add(&c, "categories", &[("name", "B")]).await.to_string();
    let api = app.root().await;
    let used = conformance::fixtures::category(&api, "Used").await;
    api.post(
        "/api/products",
        json!({"sku": "U1", "name": "U", "price": "1", "category_id": used}),
    )
    .await
    .expect(201);
    let used = used.to_string();
    c.get("/admin/categories/").await;
    let r = c
        .post(
            "/admin/categories/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", &a),
                ("_selected_action", &b),
                ("_selected_action", &used),
            ],
        )
        .await;
    r.expect(200)
        .contains("Are you sure")
        .contains("“A”")
        .contains("“B”");
    let r = c
        .post(
            "/admin/categories/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", &a),
                ("_selected_action", &b),
                ("_selected_action", &used),
                ("post", "yes"),
            ],
        )
        .await;
    let page = follow(&c, &r).await;
    let msgs = page.messages().join(" | ");
    assert!(msgs.contains("done for 2 categories"), "{msgs}");
    assert!(
        msgs.contains("Category #") && msgs.contains("used by 1 product"),
        "{msgs}"
    );
    let left: Vec<_> = api.get("/api/categories").await.column("name");
    assert_eq!(left, vec![json!("Used")]);
    // No selection: a message, nothing done.
    let r = c
        .post("/admin/categories/", &[("action", "delete_selected")])
        .await;
    let page = follow(&c, &r).await;
    assert!(page
        .messages()
        .iter()
        .any(|m| m.contains("must be selected")));
}

variants!(
    categories_suppliers_and_locations_live_and_die_by_hand,
    a_product_is_added_with_its_supplier_links_in_one_save,
    invalid_input_is_shown_beside_its_field_with_the_values_kept,
    change_lists_search_filter_sort_page_and_survive_bad_queries,
    bulk_delete_asks_first_and_then_deletes_each_through_the_service,
);
