//! API.md §12 CORS: no CORS headers unless `CORS_ALLOWED_ORIGINS` names the origin; a named
//! origin's preflight is answered and its answers carry `Access-Control-Allow-Origin`;
//! credentials only on `server-cookie`; an unnamed origin's preflight is refused in the
//! contract's error shape, and its plain requests get no CORS headers (so a browser keeps the
//! answer from that page).

use conformance::{variants, Auth, Method, Raw, TestApp};

const SHOP: &str = "https://shop.example.com";

fn shop_allowed(s: &mut inventory_web::Settings) {
    s.cors_allowed_origins = format!("{SHOP}, https://books.example.com");
}

fn preflight(path: &str, origin: &str, method: &str) -> Raw {
    Raw::new(Method::OPTIONS, path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", "content-type")
}

async fn allowed_origins_get_cors_headers(app: TestApp) {
    let guest = app.client();
    let r = guest.raw(preflight("/api/products", SHOP, "POST")).await;
    assert!(r.status.is_success(), "the preflight is answered: {r:?}");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(SHOP)
    );
    let methods = r.header("access-control-allow-methods").unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = r
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
    let credentials = r.header("access-control-allow-credentials");
    match app.auth {
        Auth::Cookie => assert_eq!(credentials.as_deref(), Some("true")),
        Auth::Jwt => assert_eq!(credentials, None, "no credentials on server-jwt"),
    }

    let r = guest
        .raw(Raw::new(Method::GET, "/api/products").header("Origin", SHOP))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(SHOP)
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    // Another origin: its preflight is refused in the error shape, and a plain request is
    // served without any CORS header.
    let r = guest
        .raw(preflight(
            "/api/products",
            "https://evil.example.com",
            "POST",
        ))
        .await;
    r.expect_error(403, "cors_not_allowed");
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = guest
        .raw(Raw::new(Method::GET, "/api/products").header("Origin", "https://evil.example.com"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // A method the API never takes from a browser is refused too.
    let r = guest.raw(preflight("/api/products", SHOP, "TRACE")).await;
    r.expect_error(403, "cors_not_allowed");
}

async fn no_cors_headers_by_default(app: TestApp) {
    let guest = app.client();
    let r = guest.raw(preflight("/api/products", SHOP, "POST")).await;
    // Not a CORS answer: the path's plain OPTIONS, which a browser treats as refused.
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = guest
        .raw(Raw::new(Method::GET, "/api/products").header("Origin", SHOP))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

variants!(with shop_allowed: allowed_origins_get_cors_headers);
variants!(no_cors_headers_by_default);
