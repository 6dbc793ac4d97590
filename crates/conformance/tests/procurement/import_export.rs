//! API.md §6 Import/export of products as CSV (all-or-nothing import with per-row errors,
//! upsert by SKU, categories by name, a lossless round trip) and §7 the audit log as CSV.

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, Method, Raw, Resp, TestApp, Value};
use std::collections::BTreeMap;

pub async fn import(c: &Client, body: impl Into<Vec<u8>>) -> Resp {
    c.raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", body))
        .await
}

pub async fn export(c: &Client) -> Resp {
    c.get("/api/products/export?format=csv").await
}

/// Asserts an import was accepted (200, or 201 for a server that calls it a creation).
#[track_caller]
pub fn accepted(r: &Resp) -> &Value {
    assert!(
        matches!(r.status.as_u16(), 200 | 201),
        "the import is accepted: {r:?}"
    );
    &r.body
}

/// Everything a user can see of the catalog: every live product (with its links), every
/// category. Compared before and after a refused import.
pub(super) async fn catalog_state(c: &Client) -> (Vec<Value>, Vec<Value>) {
    (
        all_pages(c, "/api/products").await,
        all_pages(c, "/api/categories").await,
    )
}

/// The products, without `updated_at`.
pub(super) fn without_updated_at(products: &[Value]) -> Vec<Value> {
    products
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.as_object_mut().unwrap().remove("updated_at");
            p
        })
        .collect()
}

/// The export as `sku → record`.
pub(super) fn exported(r: &Resp) -> BTreeMap<String, BTreeMap<String, String>> {
    csv_records(r, &["sku", "name", "price"])
        .into_iter()
        .map(|rec| (rec["sku"].clone(), rec))
        .collect()
}

/// Whether one entry of `errors` (its key and messages together) names the row (as the file's
/// line number or the data row's number) and the column.
fn names_row_and_column(errors: &Value, line: usize, column: &str) -> bool {
    let Some(map) = errors.as_object() else {
        return false;
    };
    let numbers = |s: &str| -> Vec<usize> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter_map(|t| t.parse().ok())
            .collect()
    };
    map.iter().any(|(k, v)| {
        let text = format!("{k} {v}");
        text.contains(column) && numbers(&text).iter().any(|n| *n == line || *n + 1 == line)
    })
}

async fn export_lists_every_live_product(app: TestApp) {
    let who = cast(&app).await;
    let garden = conformance::fixtures::category(&who.root, "Garden").await;
    product(&who.root, "EXP-1", json!({"name": "Rake", "price": "19.99", "category_id": garden,
        "description": "Steel, \"heavy\" duty\nsecond line", "barcode": "4006381333931", "reorder_level": 3, "reorder_quantity": 12, "unit": "pcs"})).await;
    product(
        &who.root,
        "EXP-2",
        json!({"name": "Café ☕ beans", "price": 0.5, "unit": "kg"}),
    )
    .await;
    let gone = product(&who.root, "EXP-GONE", json!({})).await;
    product(&who.root, "EXP-3", json!({"quantity": 7})).await;
    who.root
        .delete(&format!("/api/products/{gone}"))
        .await
        .expect(204);

    for c in [&who.auditor, &who.employee, &who.guest] {
        let r = export(c).await;
        let rows = exported(&r);
        assert_eq!(
            rows.keys().cloned().collect::<Vec<_>>(),
            vec!["EXP-1", "EXP-2", "EXP-3"],
            "one row per live product, the deleted one left out: {r:?}"
        );
        let rake = &rows["EXP-1"];
        assert_eq!(rake["name"], "Rake");
        assert_eq!(rake["price"], "19.99");
        assert_eq!(
            rake.get("category").map(String::as_str),
            Some("Garden"),
            "the category by name: {rake:?}"
        );
        assert_eq!(
            rake.get("description").map(String::as_str),
            Some("Steel, \"heavy\" duty\nsecond line"),
            "text survives CSV quoting: {rake:?}"
        );
        assert_eq!(
            rake.get("barcode").map(String::as_str),
            Some("4006381333931")
        );
        assert_eq!(rake.get("reorder_level").map(String::as_str), Some("3"));
        assert_eq!(rake.get("reorder_quantity").map(String::as_str), Some("12"));
        assert_eq!(rows["EXP-2"]["name"], "Café ☕ beans");
        assert_eq!(rows["EXP-2"]["price"], "0.50");
    }
    assert!(
        !export(&who.root).await.text.contains("EXP-GONE"),
        "a deleted product is nowhere in the export"
    );
}

async fn import_creates_and_updates_by_sku(app: TestApp) {
    let who = cast(&app).await;
    let tools = conformance::fixtures::category(&who.root, "Tools").await;
    let x = product(
        &who.employee,
        "IMP-X",
        json!({"name": "Old name", "price": "1.00", "category_id": tools, "quantity": 4}),
    )
    .await;
    let before = who.root.get("/api/products").await.count();
    let cats_before = who.root.get("/api/categories").await.count();

    let csv = "sku,name,price,category,description,reorder_level,reorder_quantity,unit\n\
               IMP-X,New name,2.00,Tools,updated,5,20,box\n\
               IMP-Y,Hose,12.34,Garden,\"green, 20 m\",2,6,pcs\n\
               IMP-Z,Saw,7.5,Tools,,,,\n";
    let r = import(&who.employee, csv).await;
    accepted(&r);
    assert_eq!(
        who.root.get("/api/products").await.count(),
        before + 2,
        "two created, one updated: {r:?}"
    );
    assert_eq!(
        who.root.get("/api/categories").await.count(),
        cats_before + 1,
        "Garden created once, Tools reused"
    );

    let px = who
        .root
        .get(&format!("/api/products/{x}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        px["name"], "New name",
        "upsert by SKU keeps the product: {px}"
    );
    assert_eq!(px["price"], "2.00");
    assert_eq!(px["description"], "updated");
    assert_eq!(px["reorder_level"], json!(5));
    assert_eq!(px["reorder_quantity"], json!(20));
    assert_eq!(px["unit"], "box");
    assert_eq!(px["category_id"], json!(tools));
    assert_eq!(px["quantity"], json!(4), "an import never changes stock");

    let garden =
        conformance::fixtures::find_id(&who.root, "/api/categories", "name", "Garden").await;
    let find = |sku: &'static str| {
        let c = &who.root;
        async move {
            let list = c.get(&format!("/api/products?search={sku}")).await.page();
            list.into_iter()
                .find(|p| p["sku"] == json!(sku))
                .unwrap_or_else(|| panic!("{sku} was imported"))
        }
    };
    let y = find("IMP-Y").await;
    assert_eq!(y["name"], "Hose");
    assert_eq!(y["price"], "12.34");
    assert_eq!(
        y["category_id"],
        json!(garden),
        "a category is created by name: {y}"
    );
    assert_eq!(y["description"], "green, 20 m");
    assert_eq!(y["reorder_level"], json!(2));
    assert_eq!(y["quantity"], json!(0));
    let z = find("IMP-Z").await;
    assert_eq!(z["price"], "7.50");
    assert_eq!(z["category_id"], json!(tools));

    // Importing the same file again creates nothing new.
    accepted(&import(&who.employee, csv).await);
    assert_eq!(who.root.get("/api/products").await.count(), before + 2);
    assert_eq!(
        who.root.get("/api/categories").await.count(),
        cats_before + 1
    );

    // The minimum file: sku, name, price; a charset parameter is fine.
    let r = who
        .employee
        .raw(Raw::new(Method::POST, "/api/products/import").body(
            "text/csv; charset=utf-8",
            "sku,name,price\nIMP-MIN,Minimal,0\n",
        ))
        .await;
    accepted(&r);
    assert_eq!(find("IMP-MIN").await["price"], "0.00");
}

async fn a_bad_row_refuses_the_whole_import(app: TestApp) {
    let who = cast(&app).await;
    product(
        &who.root,
        "KEEP-1",
        json!({"name": "Keeper", "price": "3.00"}),
    )
    .await;
    product(
        &who.root,
        "KEEP-2",
        json!({"name": "Other", "price": "4.00"}),
    )
    .await;
    let before = catalog_state(&who.root).await;

    // Line 1 is the header; the bad rows are on lines 4 (price) and 6 (name).
    let csv = "sku,name,price,category\n\
               KEEP-1,Changed,5.00,Tools\n\
               NEW-1,Fresh,1.00,Brand New Category\n\
               NEW-2,Broken,abc,Tools\n\
               NEW-3,Fine,2.00,\n\
               NEW-4,,2.00,\n";
    let r = import(&who.employee, csv).await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let errors = &r.body["errors"];
    assert!(errors.is_object(), "per-row errors: {r:?}");
    assert!(
        names_row_and_column(errors, 4, "price"),
        "an error names row 4 (data row 3) and column price: {errors}"
    );
    assert!(
        names_row_and_column(errors, 6, "name"),
        "an error names row 6 (data row 5) and column name: {errors}"
    );
    assert_eq!(
        catalog_state(&who.root).await,
        before,
        "NOTHING changed: products, categories"
    );

    // The bad row last, after many good ones: still nothing.
    let mut big = String::from("sku,name,price\n");
    for i in 0..200 {
        big.push_str(&format!("BULK-{i},Bulk {i},1.{:02}\n", i % 100));
    }
    big.push_str("BULK-BAD,Bad,-1.00\n");
    let r = import(&who.employee, big).await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert!(
        names_row_and_column(&r.body["errors"], 202, "price"),
        "{}",
        r.body["errors"]
    );
    assert_eq!(
        catalog_state(&who.root).await,
        before,
        "none of the 200 good rows went in"
    );
}

async fn malformed_files_are_refused_and_change_nothing(app: TestApp) {
    let who = cast(&app).await;
    product(
        &who.root,
        "SAFE-1",
        json!({"name": "Safe", "price": "3.00"}),
    )
    .await;
    let before = catalog_state(&who.root).await;
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown column",
            b"sku,name,price,colour\nA-1,Apple,1.00,red\n".to_vec(),
        ),
        (
            "a typo in a column name",
            b"sku,nme,price\nA-1,Apple,1.00\n".to_vec(),
        ),
        (
            "missing required column price",
            b"sku,name\nA-1,Apple\n".to_vec(),
        ),
        (
            "missing required column sku",
            b"name,price\nApple,1.00\n".to_vec(),
        ),
        ("no header row", b"A-1,Apple,1.00\nA-2,Pear,2.00\n".to_vec()),
        (
            "duplicate SKUs",
            b"sku,name,price\nA-1,Apple,1.00\nA-2,Pear,2.00\nA-1,Apple again,3.00\n".to_vec(),
        ),
        (
            "duplicate SKU of an existing product",
            b"sku,name,price\nSAFE-1,Safe,3.00\nSAFE-1,Safe,4.00\n".to_vec(),
        ),
        (
            "invalid UTF-8",
            b"sku,name,price\nA-1,Caf\xe9 latin-1,1.00\n".to_vec(),
        ),
        (
            "invalid UTF-8 in the header",
            b"sku,na\xffme,price\nA-1,Apple,1.00\n".to_vec(),
        ),
        ("empty body", Vec::new()),
        (
            "three decimals",
            b"sku,name,price\nA-1,Apple,1.005\n".to_vec(),
        ),
        ("negative price", b"sku,name,price\nA-1,Apple,-1\n".to_vec()),
        (
            "price too large",
            b"sku,name,price\nA-1,Apple,99999999999999999999.00\n".to_vec(),
        ),
        (
            "negative reorder level",
            b"sku,name,price,reorder_level\nA-1,Apple,1.00,-3\n".to_vec(),
        ),
        (
            "non-numeric reorder quantity",
            b"sku,name,price,reorder_quantity\nA-1,Apple,1.00,lots\n".to_vec(),
        ),
        (
            "bad check digit",
            b"sku,name,price,barcode\nA-1,Apple,1.00,4006381333932\n".to_vec(),
        ),
        ("empty sku", b"sku,name,price\n,Apple,1.00\n".to_vec()),
        (
            "name too long",
            format!("sku,name,price\nA-1,{},1.00\n", "n".repeat(201)).into_bytes(),
        ),
        (
            "too many fields",
            b"sku,name,price\nA-1,Apple,1.00,extra\n".to_vec(),
        ),
        ("too few fields", b"sku,name,price\nA-1,Apple\n".to_vec()),
        (
            "unbalanced quote",
            b"sku,name,price\nA-1,\"Apple,1.00\nA-2,Pear,2.00\n".to_vec(),
        ),
        ("binary garbage", (0u8..=255).cycle().take(2048).collect()),
        (
            "a NUL in a field",
            b"sku,name,price\nA-1,App\0le,1.00\n".to_vec(),
        ),
    ];
    for (what, body) in files {
        let r = import(&who.employee, body).await;
        assert_eq!(r.status.as_u16(), 400, "{what}: {r:?}");
        assert!(r.body["detail"].is_string(), "{what}: {r:?}");
        assert_eq!(
            catalog_state(&who.root).await,
            before,
            "{what}: nothing changed"
        );
    }
    // Only text/csv is an import.
    let good = b"sku,name,price\nA-1,Apple,1.00\n".to_vec();
    for ct in [
        "application/json",
        "text/plain",
        "application/octet-stream",
        "multipart/form-data; boundary=x",
        "text/csvx",
    ] {
        let r = who
            .employee
            .raw(Raw::new(Method::POST, "/api/products/import").body(ct, good.clone()))
            .await;
        assert_eq!(r.status.as_u16(), 415, "{ct}: {r:?}");
    }
    let r = who
        .employee
        .raw(Raw::new(Method::POST, "/api/products/import").body_without_content_type(good.clone()))
        .await;
    assert_eq!(r.status.as_u16(), 415, "no content type: {r:?}");
    let r = who
        .employee
        .post(
            "/api/products/import",
            json!([{"sku": "A-1", "name": "Apple", "price": "1.00"}]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 415, "JSON is no import: {r:?}");
    assert_eq!(catalog_state(&who.root).await, before);
}

async fn who_may_import(app: TestApp) {
    let who = cast(&app).await;
    product(
        &who.root,
        "ROOTS-1",
        json!({"name": "Root's", "price": "3.00"}),
    )
    .await;
    let before = catalog_state(&who.root).await;
    let csv = "sku,name,price\nNEW-9,New,1.00\n";
    import(&who.guest, csv).await.expect(401);
    import(&who.auditor, csv).await.expect(403);
    assert_eq!(catalog_state(&who.root).await, before);

    // Employees update only what they created: a file touching someone else's product is refused whole.
    let r = import(
        &who.employee,
        "sku,name,price\nNEW-9,New,1.00\nROOTS-1,Mine now,0.01\n",
    )
    .await;
    assert!(
        matches!(r.status.as_u16(), 400 | 403),
        "an employee cannot update another's product by import: {r:?}"
    );
    assert_eq!(
        catalog_state(&who.root).await,
        before,
        "and nothing changed"
    );
    // Managers update any.
    accepted(&import(&who.manager, "sku,name,price\nROOTS-1,Managed,0.01\n").await);
    let list = who.root.get("/api/products?search=ROOTS-1").await.page();
    assert_eq!(list[0]["name"], "Managed");
}

variants!(
    export_lists_every_live_product,
    import_creates_and_updates_by_sku,
    a_bad_row_refuses_the_whole_import,
    malformed_files_are_refused_and_change_nothing,
    who_may_import,
);
