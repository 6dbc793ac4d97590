//! API.md §6 Reports: valuation by category, location and supplier (exact money, totals), and
//! movements by day, week and month on a known ledger; both as JSON and as CSV (`?format=csv`
//! and `Accept: text/csv`); bad input is a 400.

use crate::support::*;
use conformance::fixtures::cents;
use conformance::{json, variants, Client, Method, Raw, Resp, TestApp, Value};
use std::collections::BTreeMap;

/// The valuation shop:
/// - Tools: WRENCH 19.99 × 3 (MAIN), HAMMER 0.10 × 7 (2 MAIN, 5 at L2)
/// - Toys:  BALL 0.99 × 11 (MAIN)
/// - no category: TAPE 1.10 × 1 (L2)
/// - deleted: GHOST 1000.00 × 9 (never counts)
/// - suppliers: S1 supplies WRENCH and BALL; S2 supplies HAMMER; TAPE has none; GHOST had S2.
struct Valued {
    tools: i64,
    toys: i64,
    main: i64,
    l2: i64,
    s1: i64,
    s2: i64,
}

async fn valued(who: &Cast) -> Valued {
    let root = &who.root;
    let tools = conformance::fixtures::category(root, "Tools").await;
    let toys = conformance::fixtures::category(root, "Toys").await;
    let main = main_location(root).await;
    let l2 = conformance::fixtures::location(root, "L2").await;
    let s1 = supplier(root, "Supplier One").await;
    let s2 = supplier(root, "Supplier Two").await;
    let wrench = product(
        root,
        "WRENCH",
        json!({"price": "19.99", "category_id": tools}),
    )
    .await;
    let hammer = product(
        root,
        "HAMMER",
        json!({"price": "0.10", "category_id": tools}),
    )
    .await;
    let ball = product(root, "BALL", json!({"price": 0.99, "category_id": toys})).await;
    let tape = product(root, "TAPE", json!({"price": "1.10"})).await;
    let ghost = product(
        root,
        "GHOST",
        json!({"price": "1000.00", "category_id": toys}),
    )
    .await;
    book(root, wrench, Some(main), "receive", 3).await;
    book(root, hammer, Some(main), "receive", 2).await;
    book(root, hammer, Some(l2), "receive", 5).await;
    book(root, ball, Some(main), "receive", 11).await;
    book(root, tape, Some(l2), "receive", 1).await;
    book(root, ghost, Some(main), "receive", 9).await;
    link(root, wrench, s1, json!({})).await;
    link(root, ball, s1, json!({})).await;
    link(root, hammer, s2, json!({})).await;
    link(root, ghost, s2, json!({})).await;
    root.delete(&format!("/api/products/{ghost}"))
        .await
        .expect(204);
    Valued {
        tools,
        toys,
        main,
        l2,
        s1,
        s2,
    }
}

/// Rows by key (`null` keys under "null").
fn by_key(v: &Value) -> BTreeMap<String, Value> {
    v["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("a report has rows: {v}"))
        .iter()
        .map(|r| (r["key"].to_string(), r.clone()))
        .collect()
}

#[track_caller]
fn row(
    rows: &BTreeMap<String, Value>,
    key: Option<i64>,
    name: Option<&str>,
    quantity: i64,
    value: &str,
) {
    let k = key.map(|k| k.to_string()).unwrap_or_else(|| "null".into());
    let r = rows
        .get(&k)
        .unwrap_or_else(|| panic!("a row with key {k}: {rows:?}"));
    if let Some(n) = name {
        assert_eq!(r["name"], json!(n), "{r}");
    } else {
        assert!(r["name"].is_string(), "every row has a name: {r}");
    }
    assert_eq!(r["quantity"], json!(quantity), "quantity of row {k}: {r}");
    assert_eq!(
        r["value"],
        json!(value),
        "value of row {k} is exact money: {r}"
    );
}

/// The total value as cents, checking the rows add up to it (when every product is in exactly
/// one row, i.e. by category and by location).
#[track_caller]
fn totals(v: &Value, quantity: i64, value: &str, rows_add_up: bool) {
    assert_eq!(v["total_quantity"], json!(quantity), "{v}");
    assert_eq!(v["total_value"], json!(value), "{v}");
    if rows_add_up {
        let rows = v["rows"].as_array().unwrap();
        let q: i64 = rows.iter().map(|r| r["quantity"].as_i64().unwrap()).sum();
        let c: i64 = rows.iter().map(|r| cents(&r["value"])).sum();
        assert_eq!(q, quantity, "rows add up to total_quantity: {v}");
        assert_eq!(c, cents(&json!(value)), "rows add up to total_value: {v}");
    }
}

async fn valuation_groups_stock_value_exactly(app: TestApp) {
    let who = cast(&app).await;
    let k = valued(&who).await;
    // Totals: 3×19.99 + 7×0.10 + 11×0.99 + 1×1.10 = 59.97 + 0.70 + 10.89 + 1.10 = 72.66
    let r = who
        .auditor
        .get("/api/reports/valuation?basis=price&group_by=category")
        .await;
    let v = r.expect(200).clone();
    let rows = by_key(&v);
    row(&rows, Some(k.tools), Some("Tools"), 10, "60.67");
    row(&rows, Some(k.toys), Some("Toys"), 11, "10.89");
    row(&rows, None, None, 1, "1.10");
    assert_eq!(rows.len(), 3, "deleted products never count: {v}");
    totals(&v, 22, "72.66", true);

    let v = who
        .auditor
        .get("/api/reports/valuation?basis=price&group_by=location")
        .await
        .expect(200)
        .clone();
    let rows = by_key(&v);
    // MAIN: 59.97 + 0.20 + 10.89 = 71.06 (16 units); L2: 0.50 + 1.10 = 1.60 (6 units)
    row(&rows, Some(k.main), None, 16, "71.06");
    row(&rows, Some(k.l2), None, 6, "1.60");
    assert!(
        rows.values().all(|r| r["key"].is_i64()),
        "every location row has its id as key: {v}"
    );
    totals(&v, 22, "72.66", true);

    let v = who
        .auditor
        .get("/api/reports/valuation?basis=price&group_by=supplier")
        .await
        .expect(200)
        .clone();
    let rows = by_key(&v);
    row(&rows, Some(k.s1), Some("Supplier One"), 14, "70.86");
    row(&rows, Some(k.s2), Some("Supplier Two"), 7, "0.70");
    row(&rows, None, None, 1, "1.10");
    totals(&v, 22, "72.66", true);

    // The default grouping answers too; every reader may see it; guests may not.
    who.employee.get("/api/reports/valuation").await.expect(200);
    who.guest
        .get("/api/reports/valuation?group_by=category")
        .await
        .expect(401);
}

/// `?format=csv` and `Accept: text/csv` give the same rows as the JSON.
async fn csv_of(c: &Client, path: &str) -> (Resp, Resp) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let by_param = c.get(&format!("{path}{sep}format=csv")).await;
    let by_accept = c
        .raw(Raw::new(Method::GET, path).header("Accept", "text/csv"))
        .await;
    (by_param, by_accept)
}

async fn reports_answer_csv_too(app: TestApp) {
    let who = cast(&app).await;
    let k = valued(&who).await;
    for group in ["category", "location", "supplier"] {
        let path = format!("/api/reports/valuation?group_by={group}");
        let json_rows = who.auditor.get(&path).await.expect(200)["rows"]
            .as_array()
            .unwrap()
            .clone();
        let (a, b) = csv_of(&who.auditor, &path).await;
        for r in [&a, &b] {
            let recs = csv_records(r, &["key", "name", "quantity", "value"]);
            assert_eq!(
                recs.len(),
                json_rows.len(),
                "one CSV row per JSON row ({group}): {r:?}"
            );
            for (rec, j) in recs.iter().zip(&json_rows) {
                let key = j["key"].as_i64().map(|k| k.to_string()).unwrap_or_default();
                assert_eq!(rec["key"], key, "{group}: {rec:?} vs {j}");
                assert_eq!(rec["name"], j["name"].as_str().unwrap(), "{group}");
                assert_eq!(rec["quantity"], j["quantity"].to_string(), "{group}");
                assert_eq!(
                    rec["value"],
                    j["value"].as_str().unwrap(),
                    "{group}: money stays exact in CSV"
                );
            }
        }
        assert_eq!(
            a.text, b.text,
            "?format=csv and Accept: text/csv answer the same file"
        );
    }
    let _ = k;
    let today = today();
    let path = format!("/api/reports/movements?since={today}&until={today}");
    let json_rows = who.auditor.get(&path).await.expect(200)["rows"]
        .as_array()
        .unwrap()
        .clone();
    let cols = [
        "period",
        "received",
        "sold",
        "removed",
        "adjusted",
        "transferred",
        "net",
    ];
    let (a, b) = csv_of(&who.auditor, &path).await;
    for r in [&a, &b] {
        let recs = csv_records(r, &cols);
        assert_eq!(recs.len(), json_rows.len(), "{r:?}");
        for (rec, j) in recs.iter().zip(&json_rows) {
            assert_eq!(rec["period"], j["period"].as_str().unwrap());
            for c in &cols[1..] {
                assert_eq!(rec[*c], j[*c].to_string(), "column {c}: {rec:?} vs {j}");
            }
        }
    }
    // A JSON request stays JSON.
    let r = who
        .auditor
        .raw(Raw::new(Method::GET, "/api/reports/valuation").header("Accept", "application/json"))
        .await;
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "{r:?}"
    );
    who.guest
        .get("/api/reports/valuation?format=csv")
        .await
        .expect(401);
}

/// One product's known ledger, all booked today:
/// receive 10 (MAIN), sale 3, remove 1, loss 1, correction −2, transfer 2 MAIN → L2,
/// an order receipt of 5 (MAIN), an audit counting MAIN at 4 (from 6: −2).
/// received 15, sold 3, removed 2, adjusted −4, transferred 0 (out −2, in +2), net 6.
async fn movements_sum_a_known_ledger(app: TestApp) {
    let who = cast(&app).await;
    let root = &who.root;
    let main = main_location(root).await;
    let l2 = conformance::fixtures::location(root, "L2").await;
    let s = supplier(root, "Mover Supply").await;
    let p = product(root, "MOVE-1", json!({})).await;
    link(root, p, s, json!({"unit_cost": "1.00"})).await;
    let other = product(root, "OTHER-1", json!({})).await;
    book(root, other, Some(l2), "receive", 7).await;
    book(&who.employee, other, Some(l2), "sale", 2).await;

    book(&who.employee, p, Some(main), "receive", 10).await;
    book(&who.employee, p, Some(main), "sale", 3).await;
    book(&who.employee, p, Some(main), "remove", 1).await;
    book(&who.manager, p, Some(main), "loss", 1).await;
    let r = who.manager.post("/api/stock-adjustments", json!({"product_id": p, "location_id": main, "kind": "correction", "quantity": -2, "reason": "miscount"})).await;
    r.expect(201);
    let t = who.employee.post("/api/transfers", json!({"product_id": p, "from_location_id": main, "to_location_id": l2, "quantity": 2, "note": ""})).await;
    let t = t.expect(201)["id"].as_i64().unwrap();
    who.manager
        .post_empty(&format!("/api/transfers/{t}/approve"))
        .await
        .expect(200);
    let o = approved_order(&who.employee, &who.manager, order_body(s, vec![line(p, 5)])).await;
    receive(&who.employee, id_of(&o), &[(p, 5)])
        .await
        .expect(200);
    book(&who.manager, p, Some(main), "audit", 4).await;
    assert_eq!(quantity(root, p).await, 6);

    let today = today();
    let get = |q: String| {
        let c = &who.auditor;
        async move {
            let r = c.get(&format!("/api/reports/movements?{q}")).await;
            r.expect(200)["rows"]
                .as_array()
                .unwrap_or_else(|| panic!("rows: {r:?}"))
                .clone()
        }
    };
    let fields = |r: &Value| -> [i64; 6] {
        [
            "received",
            "sold",
            "removed",
            "adjusted",
            "transferred",
            "net",
        ]
        .map(|f| {
            r[f].as_i64()
                .unwrap_or_else(|| panic!("{f} is an integer: {r}"))
        })
    };
    let sum = |rows: &[Value]| -> [i64; 6] {
        rows.iter().map(fields).fold([0; 6], |mut acc, x| {
            for i in 0..6 {
                acc[i] += x[i];
            }
            acc
        })
    };

    // One product, one day.
    let rows = get(format!(
        "since={today}&until={today}&granularity=day&product={p}"
    ))
    .await;
    assert_eq!(rows.len(), 1, "one day, one row: {rows:?}");
    assert_eq!(
        rows[0]["period"],
        json!(today),
        "a day's period is its date: {rows:?}"
    );
    assert_eq!(
        fields(&rows[0]),
        [15, 3, 2, -4, 0, 6],
        "received, sold, removed, adjusted, transferred, net: {rows:?}"
    );
    let f = fields(&rows[0]);
    assert_eq!(
        f[5],
        f[0] - f[1] - f[2] + f[3] + f[4],
        "net = received − sold − removed + adjusted + transferred"
    );

    // By location: the transfer shows on each side.
    let rows = get(format!(
        "since={today}&until={today}&product={p}&location={l2}"
    ))
    .await;
    assert_eq!(
        sum(&rows),
        [0, 0, 0, 0, 2, 2],
        "at L2 only the transfer in: {rows:?}"
    );
    let rows = get(format!(
        "since={today}&until={today}&product={p}&location={main}"
    ))
    .await;
    assert_eq!(
        sum(&rows),
        [15, 3, 2, -4, -2, 4],
        "at MAIN everything but the transfer in: {rows:?}"
    );
    let rows = get(format!("since={today}&until={today}&location={l2}")).await;
    assert_eq!(
        sum(&rows),
        [7, 2, 0, 0, 2, 7],
        "L2 over all products: {rows:?}"
    );

    // The whole ledger: net equals the stock on hand.
    let rows = get(format!("since={today}&until={today}")).await;
    assert_eq!(sum(&rows), [22, 5, 2, -4, 0, 11], "every product: {rows:?}");

    // Week and month group the same movements.
    for g in ["week", "month"] {
        let rows = get(format!(
            "since={today}&until={today}&granularity={g}&product={p}"
        ))
        .await;
        assert_eq!(rows.len(), 1, "one {g}: {rows:?}");
        assert_eq!(sum(&rows), [15, 3, 2, -4, 0, 6], "{g}: {rows:?}");
        assert!(rows[0]["period"].is_string(), "{rows:?}");
    }
    let rows = get(format!(
        "since={today}&until={today}&granularity=month&product={p}"
    ))
    .await;
    assert!(
        rows[0]["period"].as_str().unwrap().starts_with(&today[..7]),
        "a month is labelled by its year and month: {rows:?}"
    );

    // A range reaching back: today's figures appear once, earlier periods are empty.
    let since = (chrono::Utc::now().date_naive() - chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    for g in ["day", "week", "month"] {
        let rows = get(format!(
            "since={since}&until={today}&granularity={g}&product={p}"
        ))
        .await;
        assert_eq!(
            sum(&rows),
            [15, 3, 2, -4, 0, 6],
            "{g} over 21 days: {rows:?}"
        );
        let periods: Vec<&str> = rows.iter().map(|r| r["period"].as_str().unwrap()).collect();
        let mut sorted = periods.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            periods, sorted,
            "periods are distinct and in order ({g}): {periods:?}"
        );
        if g == "day" {
            for r in &rows {
                let d = r["period"].as_str().unwrap();
                assert!(
                    d >= since.as_str() && d <= today.as_str(),
                    "no period outside the range: {d}"
                );
            }
        }
    }
    // A range in the past has no movements.
    let rows = get("since=2020-01-01&until=2020-01-31&granularity=week".into()).await;
    assert_eq!(sum(&rows), [0; 6], "{rows:?}");
    // A product with no movements at all.
    let quiet = product(root, "QUIET-1", json!({})).await;
    let rows = get(format!("since={today}&until={today}&product={quiet}")).await;
    assert_eq!(sum(&rows), [0; 6]);
    who.guest.get("/api/reports/movements").await.expect(401);
}

async fn reports_refuse_bad_input(app: TestApp) {
    let who = cast(&app).await;
    let c = &who.auditor;
    for q in [
        "group_by=brand",
        "group_by=CATEGORY",
        "group_by=category%00",
    ] {
        let r = c.get(&format!("/api/reports/valuation?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "valuation?{q}: {r:?}");
    }
    let today = today();
    let bad = [
        "granularity=hour".to_owned(),
        "granularity=DAY".to_owned(),
        "since=2030-01-02&until=2030-01-01".to_owned(),
        format!("since={today}&until=2000-01-01"),
        "since=2026-13-01".to_owned(),
        "since=2026-02-30".to_owned(),
        "until=yesterday".to_owned(),
        "since=20260101".to_owned(),
        "since=2026-1-1x".to_owned(),
        "until=%FF%FE".to_owned(),
        "product=abc".to_owned(),
        "location=1.5".to_owned(),
        "product=99999999999999999999999".to_owned(),
    ];
    for q in &bad {
        let r = c.get(&format!("/api/reports/movements?{q}")).await;
        assert_eq!(r.status.as_u16(), 400, "movements?{q}: {r:?}");
        assert!(r.body["code"].is_string());
    }
    for q in ["format=xml", "group_by=location&format=pdf"] {
        let r = c.get(&format!("/api/reports/valuation?{q}")).await;
        assert!(
            r.status.is_client_error(),
            "valuation?{q} is refused: {r:?}"
        );
    }
    // Bad input is a 400 in CSV too, never a broken file.
    let r = c
        .get("/api/reports/movements?granularity=hour&format=csv")
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let r = c
        .raw(
            Raw::new(Method::GET, "/api/reports/valuation?group_by=brand")
                .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
}

variants!(
    valuation_groups_stock_value_exactly,
    reports_answer_csv_too,
    movements_sum_a_known_ledger,
    reports_refuse_bad_input,
);
