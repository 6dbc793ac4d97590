//! The smaller findings of the probe: look-alike usernames, links shaped by a client's
//! forwarding headers, a body that stops arriving, and an Origin of the wrong scheme.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use conformance::{json, server_variants, variants, Auth, Method, Raw, TestApp, USER_PASSWORD};

async fn look_alike_usernames_are_refused(app: TestApp) {
    let root = app.root().await;
    let user = |name: &str| json!({"username": name, "email": format!("{}@example.com", name.len()), "password": USER_PASSWORD, "role": "employee"});
    root.post("/api/users", user("dana")).await.expect(201);
    for look_alike in ["ｄａｎａ", "DANA", "d\u{0430}na", "dаnа"] {
        let r = root.post("/api/users", user(look_alike)).await;
        assert!(
            matches!(r.status.as_u16(), 400 | 409),
            "{look_alike:?} beside dana is refused: {r:?}"
        );
        assert!(r.body["errors"]["username"].is_array(), "{r:?}");
    }
    assert_eq!(root.get("/api/users?search=d").await.count(), 1);
    // The fullwidth spelling signs in as the plain name (one account, one lockout counter).
    let c = app.client();
    c.login("ｄａｎａ", USER_PASSWORD).await.expect(200);
    assert_eq!(c.username(), "dana");
}

async fn pagination_links_ignore_a_clients_forwarding_headers(app: TestApp) {
    let root = app.root().await;
    for i in 0..3 {
        conformance::fixtures::simple_product(&root, &format!("L-{i}"), "1.00").await;
    }
    let r = root
        .raw(
            Raw::new(Method::GET, "/api/products?page_size=1")
                .header("X-Forwarded-Host", "evil.example")
                .header("X-Forwarded-Proto", "https")
                .header("Forwarded", "host=evil.example;proto=https"),
        )
        .await;
    let next = r.expect(200)["next"].as_str().unwrap().to_owned();
    assert!(!next.contains("evil"), "{next}");
    assert!(
        next.starts_with(&format!("http://127.0.0.1:{}/api/products", app.port)),
        "{next}"
    );
}

fn public_url(s: &mut inventory_web::Settings) {
    s.public_url = Some("https://inv.example.com".into());
}

async fn links_use_the_public_url_when_set(app: TestApp) {
    let root = app.root().await;
    for i in 0..2 {
        conformance::fixtures::simple_product(&root, &format!("P-{i}"), "1.00").await;
    }
    let r = root.get("/api/products?page_size=1").await;
    let next = r.expect(200)["next"].as_str().unwrap().to_owned();
    assert_eq!(
        next,
        "https://inv.example.com/api/products?page_size=1&page=2"
    );
}

fn quick_body_timeout(s: &mut inventory_web::Settings) {
    s.body_timeout_seconds = 1;
}

async fn a_body_that_stops_arriving_is_answered_408(app: TestApp) {
    let port = app.port;
    let (line, secs) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let started = Instant::now();
        s.write_all(b"POST /api/auth/password/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
            .unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        (text.lines().next().unwrap_or("").to_owned(), started.elapsed().as_secs_f64())
    })
    .await
    .unwrap();
    assert!(line.contains(" 408 "), "{line}");
    assert!(secs < 10.0, "within the timeout, not the client's: {secs}");
}

async fn an_origin_of_the_wrong_scheme_is_not_ours(app: TestApp) {
    let root = app.root().await;
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "X"}))
                .header("Origin", &format!("https://127.0.0.1:{}", app.port)),
        )
        .await;
    r.expect_error(403, "csrf_failed");
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Y"}))
                .header("Origin", &format!("http://127.0.0.1:{}", app.port)),
        )
        .await;
    r.expect(201);
    assert_eq!(app.auth, Auth::Cookie);
}

variants!(
    look_alike_usernames_are_refused,
    pagination_links_ignore_a_clients_forwarding_headers,
);
variants!(with public_url: links_use_the_public_url_when_set);
variants!(with quick_body_timeout: a_body_that_stops_arriving_is_answered_408);
server_variants!(Cookie, an_origin_of_the_wrong_scheme_is_not_ours);
