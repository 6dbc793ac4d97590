//! A sweep of hostile input over every operation the OpenAPI document lists: NUL characters,
//! huge and negative numbers, a body past the limit, JSON nested thousands deep, look-alike
//! Unicode, wrong types and nulls, in every query parameter and body. The harness's client
//! fails the test on any 5xx or any 4xx without the contract's error shape.

use conformance::{json, variants, Method, Raw, TestApp, Value};

fn hostile_strings() -> Vec<String> {
    vec![
        "a\u{0}b".into(),
        "99999999999999999999999999".into(),
        "-1".into(),
        "1e308".into(),
        "ａｄｍｉｎ".into(),
        "\u{202E}evil".into(),
        "'; DROP TABLE products; --".into(),
        "x".repeat(20_000),
    ]
}

fn hostile_values() -> Vec<Value> {
    vec![
        json!("a\u{0}b"),
        json!(99999999999999999999999999.0),
        json!(-9223372036854775808i64),
        json!(9223372036854775807i64),
        json!("ａｄｍｉｎ"),
        json!(null),
        json!([]),
        json!({"nested": true}),
        json!("x".repeat(20_000)),
    ]
}

fn deep_json(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn every_operation_survives_hostile_input(app: TestApp) {
    let root = app.root().await;
    let doc = root.get("/api/openapi.json").await;
    let doc = doc.expect(200).clone();
    // Something real for the ids to find.
    conformance::fixtures::simple_product(&root, "SW-1", "1.00").await;
    conformance::fixtures::category(&root, "Sweep").await;
    let mut sent = 0usize;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let paths = doc["paths"].as_object().unwrap().clone();
    for (path, item) in &paths {
        for (method, op) in item.as_object().unwrap() {
            let m = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            // Logging out would end the sweep's own login.
            if path.contains("logout") || path.contains("blacklist") {
                continue;
            }
            for id in ["1", "99999999999999999999999"] {
                let concrete = path.replace("{id}", id).replace("{supplier_id}", id);
                let params: Vec<String> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] != json!("path"))
                            .filter_map(|p| p["name"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut requests: Vec<Raw> = vec![];
                for v in hostile_strings() {
                    // A URI has at most 64 KiB: the long value is shared out among the
                    // parameters (each still thousands of characters long).
                    let cap = 60_000 / (params.len() + 1);
                    let v = if v.is_ascii() && v.len() > cap {
                        &v[..cap]
                    } else {
                        &v[..]
                    };
                    let qs: Vec<String> = params
                        .iter()
                        .map(|p| format!("{p}={}", encode(v)))
                        .chain(std::iter::once(format!("page={}", encode(v))))
                        .collect();
                    requests.push(Raw::new(m.clone(), format!("{concrete}?{}", qs.join("&"))));
                }
                if m != Method::GET && m != Method::DELETE {
                    let fields: Vec<String> = op["requestBody"]["content"]["application/json"]
                        ["schema"]["properties"]
                        .as_object()
                        .map(|o| o.keys().cloned().collect())
                        .unwrap_or_else(|| vec!["name".into(), "quantity".into(), "price".into()]);
                    for v in hostile_values() {
                        let body: serde_json::Map<String, Value> =
                            fields.iter().map(|f| (f.clone(), v.clone())).collect();
                        requests
                            .push(Raw::new(m.clone(), concrete.clone()).json(&Value::Object(body)));
                    }
                    requests.push(
                        Raw::new(m.clone(), concrete.clone())
                            .body("application/json", deep_json(5000)),
                    );
                    requests.push(Raw::new(m.clone(), concrete.clone()).body(
                        "application/json",
                        format!("{{\"name\": \"{}\"}}", "y".repeat(2 * 1024 * 1024)),
                    ));
                    requests.push(
                        Raw::new(m.clone(), concrete.clone())
                            .body("application/json", "{\"name\": 1e400}"),
                    );
                    requests.push(
                        Raw::new(m.clone(), concrete.clone())
                            .body("text/csv", "sku,name,price\n\u{0},x,1\n"),
                    );
                }
                for r in requests {
                    let resp = root.raw(r).await;
                    *statuses.entry(resp.status.as_u16()).or_default() += 1;
                    sent += 1;
                }
            }
        }
    }
    assert!(sent > 500, "the sweep reached the operations: {sent}");
    assert!(statuses.keys().all(|s| *s < 500), "{statuses:?}");
    // The session survived its own sweep, and the data still holds together (checked again
    // by the harness when the test ends).
    root.get("/api/auth/me").await.expect(200);
    eprintln!(
        "hostile sweep ({:?}/{:?}): {sent} requests over {} paths, statuses {statuses:?}",
        app.auth,
        app.backend,
        paths.len()
    );
}

variants!(every_operation_survives_hostile_input);
