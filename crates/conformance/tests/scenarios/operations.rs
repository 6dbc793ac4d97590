//! API.md §8 and §1: health, readiness, request ids, the OpenAPI document and the docs page.

use conformance::{variants, Method, Raw, TestApp};

async fn health_and_readiness_answer_ok(app: TestApp) {
    let guest = app.client();
    guest.get("/health").await.expect(200);
    guest.get("/ready").await.expect(200);
}

async fn every_answer_carries_a_request_id_and_echoes_the_callers(app: TestApp) {
    let guest = app.client();
    let a = guest.get("/health").await.header("x-request-id").unwrap();
    let b = guest.get("/health").await.header("x-request-id").unwrap();
    assert_ne!(a, b, "each request gets its own id");
    // The client asserts the echo; these cover a success, a 404 and a 401.
    for path in ["/api/products", "/api/products/987654", "/api/dashboard"] {
        guest
            .raw(Raw::new(Method::GET, path).header("X-Request-Id", "trace-me-123"))
            .await;
    }
}

async fn the_openapi_document_describes_the_api(app: TestApp) {
    let r = app.client().get("/api/openapi.json").await;
    let doc = r.expect(200);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    // Path parameters may be named anything: compare `/api/products/{}`.
    let normalise = |p: &str| -> String {
        let mut out = String::new();
        let mut in_param = false;
        for ch in p.chars() {
            match ch {
                '{' => {
                    in_param = true;
                    out.push('{');
                }
                '}' => {
                    in_param = false;
                    out.push('}');
                }
                _ if in_param => {}
                _ => out.push(ch),
            }
        }
        out
    };
    let paths: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(|k| normalise(k))
        .collect();
    for path in [
        "/api/products",
        "/api/products/{id}",
        "/api/categories",
        "/api/categories/{id}",
        "/api/suppliers",
        "/api/suppliers/{id}",
        "/api/products/{id}/suppliers",
        "/api/users",
        "/api/audit-logs",
        "/api/dashboard",
        "/api/auth/me",
    ] {
        assert!(
            paths.contains(&normalise(path)),
            "the document has {path}; it has {paths:?}"
        );
    }
}

async fn the_interactive_docs_are_served(app: TestApp) {
    let r = app.client().get("/api/docs").await;
    r.expect(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{r:?}"
    );
    assert!(r.text.to_ascii_lowercase().contains("<html"), "{r:?}");
    assert!(
        !r.text.contains("https://cdn") && !r.text.contains("unpkg.com"),
        "docs work offline: no CDN scripts"
    );
}

async fn answers_carry_security_headers(app: TestApp) {
    let r = app.client().get("/api/products").await;
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{r:?}"
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{r:?}"
    );
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{r:?}"
    );
    assert!(
        r.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'")),
        "{r:?}"
    );
    assert_eq!(
        r.header("referrer-policy").as_deref(),
        Some("same-origin"),
        "{r:?}"
    );
    // Plain HTTP on loopback in tests: no HSTS promise.
    assert_eq!(r.header("strict-transport-security"), None, "{r:?}");
}

fn secure_cookies(s: &mut inventory_web::Settings) {
    s.cookie_secure = Some(true);
}

/// With secure cookies on (production behind TLS), browsers are told to stay on HTTPS.
async fn secure_deployments_send_hsts(app: TestApp) {
    let r = app.client().get("/health").await;
    assert!(
        r.header("strict-transport-security")
            .is_some_and(|h| h.contains("max-age=")),
        "{r:?}"
    );
}

variants!(
    health_and_readiness_answer_ok,
    every_answer_carries_a_request_id_and_echoes_the_callers,
    the_openapi_document_describes_the_api,
    the_interactive_docs_are_served,
    answers_carry_security_headers,
);

variants!(with secure_cookies: secure_deployments_send_hsts);
