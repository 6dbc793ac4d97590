//! API.md §6 and §7: an export imported again changes nothing, text survives the round trip
//! exactly, and the audit log exports as CSV for auditors.

use super::import_export::{accepted, catalog_state, export, exported, import, without_updated_at};
use crate::support::*;
use conformance::{json, variants, Method, Raw, TestApp};

async fn an_export_imported_again_changes_nothing(app: TestApp) {
    let who = cast(&app).await;
    let garden = conformance::fixtures::category(&who.root, "Garden").await;
    conformance::fixtures::category(&who.root, "Unused").await;
    product(&who.root, "RT-1", json!({"name": "Rake, \"pro\"", "price": "19.99", "category_id": garden,
        "description": "multi\nline, with \"quotes\"", "barcode": "4006381333931", "reorder_level": 3, "reorder_quantity": 12, "unit": "pcs"})).await;
    product(
        &who.root,
        "RT-2",
        json!({"name": "Café ☕", "price": "0.05", "unit": "kg", "quantity": 9}),
    )
    .await;
    product(
        &who.root,
        "RT-3",
        json!({"name": "  spaced  ", "price": "1000000.00"}),
    )
    .await;
    product(
        &who.root,
        "RT-4",
        json!({"name": "Plain", "price": 0, "barcode": "CODE-128/abc"}),
    )
    .await;
    let gone = product(&who.root, "RT-GONE", json!({})).await;
    who.root
        .delete(&format!("/api/products/{gone}"))
        .await
        .expect(204);

    let first = export(&who.root).await;
    exported(&first);
    let (products, categories) = catalog_state(&who.root).await;
    let audit_before = who
        .auditor
        .get("/api/audit-logs?object_type=product")
        .await
        .count();
    // Let a second pass: a changed `updated_at` would be visible.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let r = import(&who.root, first.text.clone()).await;
    accepted(&r);
    let second = export(&who.root).await;
    assert_eq!(
        second.text, first.text,
        "export → import → export gives the same file"
    );
    let (products_after, categories_after) = catalog_state(&who.root).await;
    assert_eq!(
        categories_after, categories,
        "no category created or changed"
    );
    assert_eq!(
        without_updated_at(&products_after),
        without_updated_at(&products),
        "no product changed"
    );
    assert_eq!(
        products_after.len(),
        4,
        "the deleted product did not come back"
    );
    assert_eq!(
        who.auditor
            .get("/api/audit-logs?object_type=product")
            .await
            .count(),
        audit_before,
        "an import that changes nothing writes no audit entry"
    );
    assert_eq!(
        products_after, products,
        "not even the products' `updated_at` (\"last updated\") moved"
    );
}

/// Text is kept as written, leading and trailing spaces included (the API stores a
/// description as given); a round trip through the CSV must not trim it.
async fn a_round_trip_keeps_text_exactly(app: TestApp) {
    let who = cast(&app).await;
    let p = product(
        &who.root,
        "WS-1",
        json!({"name": "Indented", "description": "  indented note  "}),
    )
    .await;
    let stored = who
        .root
        .get(&format!("/api/products/{p}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        stored["description"], "  indented note  ",
        "the API keeps the description as given"
    );
    let file = export(&who.root).await;
    let rows = exported(&file);
    assert_eq!(
        rows["WS-1"]["description"], "  indented note  ",
        "the export writes it as stored"
    );
    accepted(&import(&who.root, file.text.clone()).await);
    let after = who
        .root
        .get(&format!("/api/products/{p}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        after["description"], stored["description"],
        "importing the export leaves the description as it was"
    );
}

async fn the_audit_log_exports_as_csv_for_auditors(app: TestApp) {
    let who = cast(&app).await;
    product(
        &who.employee,
        "AUD-CSV-1",
        json!({"name": "Audited, \"quoted\""}),
    )
    .await;
    let cols = [
        "id",
        "at",
        "user_id",
        "username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
    ];
    let total = who.auditor.get("/api/audit-logs").await.count() as usize;
    for c in [&who.auditor, &who.admin, &who.root] {
        let r = c.get("/api/audit-logs?format=csv").await;
        let recs = csv_records(&r, &cols);
        assert!(
            recs.len() >= total,
            "every entry is in the file ({} < {total}): {r:?}",
            recs.len()
        );
        let mine: Vec<_> = recs
            .iter()
            .filter(|e| {
                e["object_type"] == "product"
                    && e["action"] == "create"
                    && e["object_repr"].contains("AUD-CSV-1")
            })
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "the product's creation is in the CSV: {recs:?}"
        );
        assert_eq!(mine[0]["username"], who.employee.username());
        assert_eq!(mine[0]["user_id"], who.employee.user_id().to_string());
        assert!(
            chrono::DateTime::parse_from_rfc3339(&mine[0]["at"]).is_ok(),
            "{:?}",
            mine[0]
        );
    }
    let r = who
        .auditor
        .raw(Raw::new(Method::GET, "/api/audit-logs").header("Accept", "text/csv"))
        .await;
    csv_records(&r, &cols);
    let r = who
        .auditor
        .get("/api/audit-logs?format=csv&object_type=product")
        .await;
    let recs = csv_records(&r, &cols);
    assert!(
        !recs.is_empty() && recs.iter().all(|e| e["object_type"] == "product"),
        "filters apply to the CSV: {recs:?}"
    );

    for c in [&who.employee, &who.manager] {
        c.get("/api/audit-logs?format=csv").await.expect(403);
        c.raw(Raw::new(Method::GET, "/api/audit-logs").header("Accept", "text/csv"))
            .await
            .expect(403);
    }
    who.guest
        .get("/api/audit-logs?format=csv")
        .await
        .expect(401);
}

variants!(
    an_export_imported_again_changes_nothing,
    a_round_trip_keeps_text_exactly,
    the_audit_log_exports_as_csv_for_auditors,
);
