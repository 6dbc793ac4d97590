//! NUL characters anywhere a client can put text, and an import that must not buffer a body
//! for a caller who may not import.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use conformance::fixtures::simple_product;
use conformance::{json, variants, Method, Raw, TestApp};

async fn nul_characters_are_refused_with_400_everywhere(app: TestApp) {
    let root = app.root().await;
    simple_product(&root, "NUL-1", "1.00").await;
    let guest = app.client();
    // Query strings, signed in and not (these were 500 on PostgreSQL).
    for path in [
        "/api/products?search=a%00",
        "/api/categories?search=%00",
        "/api/products/lookup?barcode=40%0006",
        "/api/suppliers?search=x%00y",
        "/api/users?search=%00",
        "/api/audit-logs?action=%00",
    ] {
        for c in [&root, &guest] {
            let r = c.get(path).await;
            assert_eq!(r.status.as_u16(), 400, "{path}: {r:?}");
            assert_eq!(r.code(), "invalid", "{path}: {r:?}");
        }
    }
    // JSON bodies: logins, account emails, and objects.
    let bodies = [
        (
            "/api/auth/password/reset",
            json!({"email": "root\u{0}@example.com"}),
        ),
        (
            "/api/auth/verify-email/resend",
            json!({"email": "a\u{0}@example.com"}),
        ),
        ("/api/auth/verify-email", json!({"token": "abc\u{0}"})),
    ];
    for (path, body) in bodies {
        let r = guest.post(path, body).await;
        assert_eq!(r.status.as_u16(), 400, "{path}: {r:?}");
    }
    let login_path = match app.auth {
        conformance::Auth::Cookie => "/api/auth/login",
        conformance::Auth::Jwt => "/api/token",
    };
    let r = guest
        .post(
            login_path,
            json!({"username": "ro\u{0}ot", "password": "x"}),
        )
        .await;
    r.expect_field_error("username");
    let r = root
        .post("/api/categories", json!({"name": "Tools\u{0}"}))
        .await;
    r.expect_field_error("name");
    let r = root
        .post(
            "/api/suppliers",
            json!({"name": "Acme", "address": "Main St\u{0}"}),
        )
        .await;
    r.expect_field_error("address");
    // A literal backslash followed by u0000 is ordinary text, not a NUL.
    let r = root
        .post("/api/categories", json!({"name": "back\\u0000slash"}))
        .await;
    r.expect(201);
    assert_eq!(r.body["name"], json!("back\\u0000slash"));
    // Nothing else was created by the refused requests.
    assert_eq!(root.get("/api/categories").await.count(), 1);
    assert_eq!(root.get("/api/suppliers").await.count(), 0);
}

/// Sends the head of a request announcing `announced` bytes of body and only `sent` of them,
/// then reads whatever the server answers; returns (status line, seconds until it came).
fn partial_upload(
    port: u16,
    headers: &[(&str, String)],
    announced: usize,
    sent: usize,
) -> (String, f64) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!(
        "POST /api/products/import HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/csv\r\nContent-Length: {announced}\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let started = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; sent];
    let _ = s.write_all(&chunk);
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let line = text.lines().next().unwrap_or("").to_owned();
    (line, started.elapsed().as_secs_f64())
}

async fn an_import_is_refused_before_its_body_is_read(app: TestApp) {
    let port = app.port;
    // Anonymous: 401 while 60 MB are still announced and unsent.
    let (line, secs) =
        tokio::task::spawn_blocking(move || partial_upload(port, &[], 60_000_000, 64 * 1024))
            .await
            .unwrap();
    assert!(line.contains(" 401 "), "anonymous import: {line}");
    assert!(secs < 5.0, "answered without waiting for the body: {secs}s");

    // An auditor may not import: 403, equally before the body.
    let auditor = app.user_with_role("auditor").await;
    let mut headers = vec![];
    if let Some(t) = auditor.access_token() {
        headers.push(("Authorization", format!("Bearer {t}")));
    }
    if let Some(s) = auditor.cookie("sessionid") {
        let csrf = auditor.cookie("csrftoken").unwrap_or_default();
        headers.push(("Cookie", format!("sessionid={s}; csrftoken={csrf}")));
        headers.push(("X-CSRFToken", csrf));
    }
    let (line, secs) =
        tokio::task::spawn_blocking(move || partial_upload(port, &headers, 60_000_000, 64 * 1024))
            .await
            .unwrap();
    assert!(line.contains(" 403 "), "auditor import: {line}");
    assert!(secs < 5.0, "answered without waiting for the body: {secs}s");

    // One who may import but announces more than the limit: 413 at once.
    let employee = app.user_with_role("employee").await;
    let r = employee
        .raw(
            Raw::new(Method::POST, "/api/products/import")
                .body("text/csv", "sku,name,price\nA,B,1\n"),
        )
        .await;
    r.expect(200);
    let mut headers = vec![];
    if let Some(t) = employee.access_token() {
        headers.push(("Authorization", format!("Bearer {t}")));
    }
    if let Some(s) = employee.cookie("sessionid") {
        let csrf = employee.cookie("csrftoken").unwrap_or_default();
        headers.push(("Cookie", format!("sessionid={s}; csrftoken={csrf}")));
        headers.push(("X-CSRFToken", csrf));
    }
    let (line, _) =
        tokio::task::spawn_blocking(move || partial_upload(port, &headers, 70 * 1024 * 1024, 1024))
            .await
            .unwrap();
    assert!(line.contains(" 413 "), "oversized import: {line}");
}

async fn an_import_barcode_clash_names_the_row_on_every_database(app: TestApp) {
    let root = app.root().await;
    conformance::fixtures::product(
        &root,
        json!({"sku": "HOLD", "name": "Holder", "price": "1.00", "barcode": "4006381333931"}),
    )
    .await;
    // Rows after the clashing one used to run in PostgreSQL's aborted transaction: a 500.
    let csv = "sku,name,price,barcode\nNEW-1,First,2.00,\nNEW-2,Second,3.00,4006381333931\nNEW-5,Third,4.00,\n";
    let r = root
        .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", csv))
        .await;
    r.expect_field_error("row 3: barcode");
    // Nothing of the file was kept.
    let r = root.get("/api/products?search=NEW-").await;
    assert_eq!(r.count(), 0, "{r:?}");
    // Two rows of one file with one barcode are refused the same way.
    let csv = "sku,name,price,barcode\nNEW-3,A,2.00,96385074\nNEW-4,B,3.00,96385074\n";
    let r = root
        .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", csv))
        .await;
    r.expect_field_error("row 3: barcode");
}

variants!(
    nul_characters_are_refused_with_400_everywhere,
    an_import_is_refused_before_its_body_is_read,
    an_import_barcode_clash_names_the_row_on_every_database,
);

async fn an_import_over_the_row_limit_is_refused_whole(app: TestApp) {
    let root = app.root().await;
    let mut csv = String::from("sku,name,price\n");
    for i in 0..100_001 {
        csv.push_str(&format!("BIG-{i:06},Big {i},1.00\n"));
    }
    let r = root
        .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", csv))
        .await;
    r.expect(400);
    let said = r.body["errors"]["file"][0].as_str().unwrap_or_default();
    assert!(said.contains("at most 100000 rows"), "{r:?}");
    assert_eq!(root.get("/api/products?search=BIG-").await.count(), 0);
}

async fn writes_go_on_while_a_large_import_runs(app: TestApp) {
    let root = app.root().await;
    let p = conformance::fixtures::product(
        &root,
        json!({"sku": "BUSY", "name": "Busy", "price": "1.00", "quantity": 1000}),
    )
    .await;
    let pid = p["id"].as_i64().unwrap();
    let mut csv = String::from("sku,name,price,category\n");
    for i in 0..30_000 {
        csv.push_str(&format!(
            "IMP-{i:06},Imported {i},{}.00,Cat {}\n",
            i % 90 + 1,
            i % 7
        ));
    }
    let importer = root.duplicate();
    let import = tokio::spawn(async move {
        importer
            .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", csv))
            .await
    });
    // Sales and receipts all through the import: none may fail because it runs.
    let mut statuses = vec![];
    for i in 0..40 {
        let kind = if i % 2 == 0 { "sale" } else { "receive" };
        let r = root
            .post(
                "/api/stock-adjustments",
                json!({"product_id": pid, "kind": kind, "quantity": 1, "reason": "during import"}),
            )
            .await;
        statuses.push(r.status.as_u16());
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let r = import.await.unwrap();
    assert_eq!(r.expect(200)["created"], json!(30_000), "{r:?}");
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let p = root.get(&format!("/api/products/{pid}")).await;
    assert_eq!(p.expect(200)["quantity"], json!(1000));
    assert_eq!(root.get("/api/products?search=IMP-").await.count(), 30_000);
}

variants!(
    writes_go_on_while_a_large_import_runs,
    an_import_over_the_row_limit_is_refused_whole
);
