//! API.md §2.1: what only the cookie server does: session and CSRF cookies, CSRF checks,
//! the Origin check on login, server-side session deletion and idle expiry.

use conformance::{json, server_variants, Method, Raw, TestApp, ROOT_PASSWORD, ROOT_USERNAME};
use std::time::Duration;

async fn login_sets_an_http_only_session_cookie_and_a_readable_csrf_cookie(app: TestApp) {
    let c = app.client();
    let r = c.login(ROOT_USERNAME, ROOT_PASSWORD).await;
    assert_eq!(r.expect(200)["user"]["username"], ROOT_USERNAME);
    let cookies = r.set_cookies();
    let session = cookies
        .iter()
        .find(|c| c.name == "sessionid")
        .unwrap_or_else(|| panic!("sessionid is set: {r:?}"));
    assert!(
        session.has("httponly"),
        "sessionid is HttpOnly: {session:?}"
    );
    assert!(
        session
            .attribute("samesite")
            .flatten()
            .is_some_and(|v| v.eq_ignore_ascii_case("lax")),
        "sessionid is SameSite=Lax: {session:?}"
    );
    assert!(!session.value.is_empty());
    let csrf = c
        .cookie("csrftoken")
        .unwrap_or_else(|| panic!("csrftoken is set: {r:?}"));
    assert!(!csrf.is_empty());
    if let Some(header) = cookies.iter().find(|c| c.name == "csrftoken") {
        assert!(
            !header.has("httponly"),
            "csrftoken is readable by scripts: {header:?}"
        );
    }
}

async fn an_unsafe_request_without_the_csrf_header_is_forbidden(app: TestApp) {
    let root = app.root().await;
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Tools"}))
                .without_csrf(),
        )
        .await;
    r.expect_error(403, "csrf_failed");
    let id = root
        .post("/api/categories", json!({"name": "Tools"}))
        .await
        .id();
    let path = format!("/api/categories/{id}");
    let r = root
        .raw(
            Raw::new(Method::PATCH, &path)
                .json(&json!({"name": "Paint"}))
                .without_csrf(),
        )
        .await;
    r.expect_error(403, "csrf_failed");
    let r = root
        .raw(Raw::new(Method::DELETE, &path).without_csrf())
        .await;
    r.expect_error(403, "csrf_failed");
    let r = root
        .raw(
            Raw::new(Method::PUT, &path)
                .json(&json!({"name": "Paint"}))
                .without_csrf(),
        )
        .await;
    r.expect_error(403, "csrf_failed");
    assert_eq!(root.get(&path).await.expect(200)["name"], "Tools");
}

async fn an_unsafe_request_with_a_wrong_csrf_token_is_forbidden(app: TestApp) {
    let root = app.root().await;
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Tools"}))
                .without_csrf()
                .header("X-CSRFToken", "0123456789abcdef0123456789abcdef"),
        )
        .await;
    r.expect_error(403, "csrf_failed");
    assert_eq!(root.get("/api/categories").await.count(), 0);
}

async fn safe_requests_need_no_csrf_header(app: TestApp) {
    let root = app.root().await;
    root.raw(Raw::new(Method::GET, "/api/auth/me").without_csrf())
        .await
        .expect(200);
}

async fn a_login_from_a_foreign_origin_is_forbidden(app: TestApp) {
    let creds = json!({"username": ROOT_USERNAME, "password": ROOT_PASSWORD});
    let r = app
        .client()
        .raw(
            Raw::new(Method::POST, "/api/auth/login")
                .json(&creds)
                .header("Origin", "http://evil.example"),
        )
        .await;
    r.expect(403);
    assert!(
        r.set_cookies()
            .iter()
            .all(|c| c.name != "sessionid" || c.value.is_empty()),
        "no session for a foreign origin"
    );
    let own = app.base_url.clone();
    let r = app
        .client()
        .raw(
            Raw::new(Method::POST, "/api/auth/login")
                .json(&creds)
                .header("Origin", &own),
        )
        .await;
    r.expect(200);
}

async fn logging_out_deletes_the_session_on_the_server(app: TestApp) {
    let root = app.root().await;
    let session = root.cookie("sessionid").unwrap();
    let csrf = root.cookie("csrftoken").unwrap();
    root.logout().await.expect(204);

    let replay = app.client();
    replay.set_cookie("sessionid", &session);
    replay.set_cookie("csrftoken", &csrf);
    replay.get("/api/auth/me").await.expect(401);
    let r = replay
        .post("/api/categories", json!({"name": "Replayed"}))
        .await;
    assert!(
        matches!(r.status.as_u16(), 401 | 403),
        "the old cookie does not authenticate: {r:?}"
    );
}

async fn every_login_gets_a_new_session_id(app: TestApp) {
    let c = app.client();
    c.set_cookie("sessionid", "fixated-by-an-attacker");
    c.login(ROOT_USERNAME, ROOT_PASSWORD).await.expect(200);
    let first = c.cookie("sessionid").unwrap();
    assert_ne!(first, "fixated-by-an-attacker");
    c.login(ROOT_USERNAME, ROOT_PASSWORD).await.expect(200);
    let second = c.cookie("sessionid").unwrap();
    assert_ne!(first, second, "the session id is new at every login");

    let old = app.client();
    old.set_cookie("sessionid", &first);
    old.get("/api/auth/me").await.expect(401);
}

fn short_sessions(s: &mut inventory_web::Settings) {
    s.session_idle_seconds = 1;
}

async fn an_idle_session_expires(app: TestApp) {
    let root = app.root().await;
    root.get("/api/auth/me").await.expect(200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    root.get("/api/auth/me").await.expect(401);
}

async fn a_bearer_token_means_nothing_to_the_cookie_server(app: TestApp) {
    let c = app.client();
    c.set_access_token(Some(
        "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl".to_owned(),
    ));
    let r = c.get("/api/auth/me").await;
    r.expect(401);
}

async fn an_unsafe_request_from_a_foreign_origin_is_forbidden(app: TestApp) {
    let root = app.root().await;
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Tools"}))
                .header("Origin", "http://evil.example"),
        )
        .await;
    r.expect(403);
    let own = app.base_url.clone();
    let r = root
        .raw(
            Raw::new(Method::POST, "/api/categories")
                .json(&json!({"name": "Tools"}))
                .header("Origin", &own),
        )
        .await;
    r.expect(201);
}

fn trusted_origin(s: &mut inventory_web::Settings) {
    s.trusted_origins = "http://trusted.example".into();
}

async fn a_login_from_a_trusted_origin_is_allowed(app: TestApp) {
    let creds = json!({"username": ROOT_USERNAME, "password": ROOT_PASSWORD});
    let c = app.client();
    let r = c
        .raw(
            Raw::new(Method::POST, "/api/auth/login")
                .json(&creds)
                .header("Origin", "http://trusted.example"),
        )
        .await;
    r.expect(200);
    let r = app
        .client()
        .raw(
            Raw::new(Method::POST, "/api/auth/login")
                .json(&creds)
                .header("Origin", "http://evil.example"),
        )
        .await;
    r.expect(403);
}

fn secure_cookies(s: &mut inventory_web::Settings) {
    s.cookie_secure = Some(true);
}

async fn cookies_are_secure_when_configured(app: TestApp) {
    let r = app.client().login(ROOT_USERNAME, ROOT_PASSWORD).await;
    r.expect(200);
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.name == "sessionid")
        .expect("sessionid is set");
    assert!(
        session.has("secure"),
        "sessionid is Secure when configured: {session:?}"
    );
}

async fn session_cookies_are_not_secure_on_plain_loopback_tests(app: TestApp) {
    let r = app.client().login(ROOT_USERNAME, ROOT_PASSWORD).await;
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.name == "sessionid")
        .expect("sessionid is set");
    assert!(
        !session.has("secure"),
        "COOKIE_SECURE=false leaves Secure off: {session:?}"
    );
}

server_variants!(
    Cookie,
    an_unsafe_request_from_a_foreign_origin_is_forbidden,
    session_cookies_are_not_secure_on_plain_loopback_tests,
    login_sets_an_http_only_session_cookie_and_a_readable_csrf_cookie,
    an_unsafe_request_without_the_csrf_header_is_forbidden,
    an_unsafe_request_with_a_wrong_csrf_token_is_forbidden,
    safe_requests_need_no_csrf_header,
    a_login_from_a_foreign_origin_is_forbidden,
    logging_out_deletes_the_session_on_the_server,
    every_login_gets_a_new_session_id,
    a_bearer_token_means_nothing_to_the_cookie_server,
);
server_variants!(Cookie, with short_sessions: an_idle_session_expires);
server_variants!(Cookie, with trusted_origin: a_login_from_a_trusted_origin_is_allowed);
server_variants!(Cookie, with secure_cookies: cookies_are_secure_when_configured);
