//! CSV exports never hand a spreadsheet a live formula, and the escaping survives a round
//! trip through the import.

use conformance::fixtures::{category, product};
use conformance::{json, variants, Method, Raw, TestApp};

/// The cells of the CSV row whose first cell is `first` (a minimal CSV reader for the test:
/// quoted cells may hold commas and doubled quotes).
fn row_starting_with(csv: &str, first: &str) -> Vec<String> {
    for line in csv.lines() {
        let mut cells = vec![];
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => cells.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        cells.push(cur);
        if cells.first().is_some_and(|c| c == first) {
            return cells;
        }
    }
    panic!("no row starting with {first:?} in {csv}");
}

async fn exports_escape_formulas_and_the_import_takes_them_back(app: TestApp) {
    let root = app.root().await;
    let evil = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let cat = category(&root, "@SUM(A1)").await;
    product(
        &root,
        json!({"sku": "F-1", "name": evil, "price": "2.50", "quantity": 3,
               "description": "+cmd|' /C calc'!A0", "unit": "-pcs", "category_id": cat}),
    )
    .await;
    product(
        &root,
        json!({"sku": "F-2", "name": "Plain", "price": "1.00"}),
    )
    .await;

    let r = root.get("/api/products/export?format=csv").await;
    r.expect(200);
    let cells = row_starting_with(&r.text, "F-1");
    assert_eq!(cells[1], format!("'{evil}"), "name defused: {cells:?}");
    assert_eq!(
        cells[3], "'+cmd|' /C calc'!A0",
        "description defused: {cells:?}"
    );
    assert_eq!(cells[4], "'@SUM(A1)", "category defused: {cells:?}");
    assert_eq!(cells[8], "'-pcs", "unit defused: {cells:?}");
    assert_eq!(cells[2], "2.50", "numbers stay numbers: {cells:?}");
    for line in r.text.lines() {
        for cell in line.split(',') {
            let c = cell.trim_start_matches('"');
            assert!(
                !c.starts_with(['=', '+', '@']),
                "no cell starts a formula: {line}"
            );
        }
    }

    // The exported file imports back as exactly what was there.
    let r = root
        .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", r.text.clone()))
        .await;
    let body = r.expect(200);
    assert_eq!(body["unchanged"], json!(2), "{r:?}");
    assert_eq!(body["updated"], json!(0), "{r:?}");
    let p = root.get("/api/products?search=F-1").await.page()[0].clone();
    assert_eq!(p["name"], json!(evil));

    // The audit log and the reports are defused too.
    let r = root.get("/api/audit-logs?format=csv").await;
    r.expect(200);
    assert!(
        r.text.contains(&format!("'{}", "@SUM(A1)")),
        "audit CSV defuses the category name: {}",
        r.text
    );
    assert!(!r.text.contains(",@SUM"), "{}", r.text);
    let r = root
        .get("/api/reports/valuation?group_by=category&format=csv")
        .await;
    r.expect(200);
    assert!(r.text.contains("'@SUM(A1)"), "{}", r.text);
}

variants!(exports_escape_formulas_and_the_import_takes_them_back);
