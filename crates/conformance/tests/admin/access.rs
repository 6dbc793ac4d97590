//! Who gets in (ADMIN.md): staff only, API-made users refused without a session, the API's
//! lockout, rate limit and attempt log, a new session id at login, CSRF on every POST, logout
//! by POST, and on `server-jwt` a staff session that never opens `/api/`.

use conformance::admin::AdminClient;
use conformance::{json, variants, Auth, TestApp, ROOT_PASSWORD, ROOT_USERNAME, USER_PASSWORD};

use crate::support::{root, staff};

async fn guests_are_sent_to_the_login_page_with_next(app: TestApp) {
    let c = AdminClient::new(&app.base_url);
    for path in [
        "/admin/",
        "/admin/products/",
        "/admin/users/1/change/",
        "/admin/scan/?code=X",
    ] {
        let r = c.get(path).await;
        let to = r.redirects_to();
        assert!(to.starts_with("/admin/login/?next="), "{path} → {to}");
    }
    let r = c.get("/admin/products/").await;
    assert_eq!(r.redirects_to(), "/admin/login/?next=/admin/products/");
    // Without a trailing slash, the slash is added first (as Django does).
    let r = c.get("/admin/products").await;
    assert_eq!(r.redirects_to(), "/admin/products/");
    // The login page itself is open, with a CSRF token and labelled inputs.
    let page = c.get("/admin/login/?next=/admin/products/").await;
    page.expect(200)
        .contains("name=\"username\"")
        .contains("name=\"password\"")
        .contains("<label for=\"id_username\">")
        .contains("value=\"/admin/products/\"");
    assert!(page.csrf().is_some());
}

async fn staff_sign_in_rotates_the_session_and_goes_to_next(app: TestApp) {
    let c = AdminClient::new(&app.base_url);
    c.get("/admin/login/").await.expect(200);
    let before = c.cookie("sessionid");
    let r = c
        .post(
            "/admin/login/",
            &[
                ("username", ROOT_USERNAME),
                ("password", ROOT_PASSWORD),
                ("next", "/admin/categories/"),
            ],
        )
        .await;
    assert_eq!(r.redirects_to(), "/admin/categories/");
    let after = c.cookie("sessionid");
    assert!(after.is_some(), "a session after login");
    assert_ne!(before, after, "the session id changes at login");
    c.get("/admin/categories/")
        .await
        .expect(200)
        .contains("Signed in as");
    // `next` never leaves the site.
    let c2 = AdminClient::new(&app.base_url);
    c2.get("/admin/login/").await;
    let r = c2
        .post(
            "/admin/login/",
            &[
                ("username", ROOT_USERNAME),
                ("password", ROOT_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.redirects_to(), "/admin/");
    // The login is in the API's attempt log and the audit log.
    let api = app.root().await;
    let attempts = api
        .get("/api/auth/login-attempts?username=root")
        .await
        .page();
    assert!(
        attempts
            .iter()
            .filter(|a| a["success"] == json!(true))
            .count()
            >= 2
    );
}

async fn a_user_made_through_the_api_is_refused_without_a_session(app: TestApp) {
    app.create_user("clerk", "admin").await;
    let c = AdminClient::new(&app.base_url);
    for _ in 0..6 {
        let r = c.login("clerk", USER_PASSWORD).await;
        r.expect(200)
            .contains("This account cannot use the staff site.");
        assert!(
            c.cookie("sessionid").is_none()
                || app.auth == Auth::Cookie && {
                    // The cookie server may keep an anonymous session cookie; it must not sign in.
                    true
                }
        );
        let home = c.get("/admin/").await;
        assert!(home.redirects_to().starts_with("/admin/login/"));
    }
    // Logged with reason not_staff, and not counted toward the lockout: the API login works.
    let api = app.root().await;
    let attempts = api
        .get("/api/auth/login-attempts?username=clerk")
        .await
        .page();
    assert!(
        attempts.iter().any(|a| a["reason"] == json!("not_staff")),
        "{attempts:?}"
    );
    let clerk = app.client();
    clerk.login("clerk", USER_PASSWORD).await.expect(200);
}

async fn wrong_passwords_lock_the_staff_login_like_the_api(app: TestApp) {
    app.create_user("victim", "manager").await;
    let c = AdminClient::new(&app.base_url);
    for _ in 0..5 {
        c.login("victim", "wrong-password-123")
            .await
            .expect(200)
            .contains("correct username and password");
    }
    let r = c.login("victim", USER_PASSWORD).await;
    r.expect(403).contains("locked");
    assert!(r.headers.get("retry-after").is_some());
    // The API sees the same lock (same counters).
    let api = app.client();
    api.login("victim", USER_PASSWORD)
        .await
        .expect_error(403, "account_locked");
}

fn limited(s: &mut inventory_web::Settings) {
    s.auth_rate_limit_per_minute = 3;
}

async fn the_staff_login_shares_the_api_rate_limit(app: TestApp) {
    let c = AdminClient::new(&app.base_url);
    c.get("/admin/login/").await;
    let mut statuses = vec![];
    for _ in 0..5 {
        let r = c
            .post(
                "/admin/login/",
                &[("username", "nobody"), ("password", "x-wrong-pass")],
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    assert_eq!(statuses[3..], [429, 429], "{statuses:?}");
    // The API's login counts against the same budget.
    let api = app.client();
    let r = api.login("nobody", "x-wrong-pass").await;
    assert_eq!(r.status.as_u16(), 429);
}

async fn every_post_needs_the_csrf_token_and_logout_is_a_post(app: TestApp) {
    let c = root(&app).await;
    c.get("/admin/categories/add/").await.expect(200);
    let r = c
        .post_raw(
            "/admin/categories/add/",
            &[
                ("name".into(), "NoToken".into()),
                ("_save".into(), "1".into()),
            ],
        )
        .await;
    r.expect(403).contains("CSRF");
    let r = c
        .post_raw(
            "/admin/categories/add/",
            &[
                ("csrfmiddlewaretoken".into(), "0".repeat(64)),
                ("name".into(), "BadToken".into()),
            ],
        )
        .await;
    r.expect(403);
    let api = app.root().await;
    assert_eq!(
        api.get("/api/categories").await.count(),
        0,
        "nothing saved without a token"
    );
    // The login form needs it too.
    let anon = AdminClient::new(&app.base_url);
    let r = anon
        .post_raw(
            "/admin/login/",
            &[
                ("username".into(), ROOT_USERNAME.into()),
                ("password".into(), ROOT_PASSWORD.into()),
            ],
        )
        .await;
    r.expect(403);
    // Logout is a POST; a GET changes nothing.
    c.get("/admin/logout/").await.expect(405);
    c.get("/admin/").await.expect(200);
    let old = c.cookie("sessionid").unwrap();
    let r = c.post("/admin/logout/", &[]).await;
    r.expect(200).contains("signed out");
    c.get("/admin/").await.redirects_to();
    // The old session cookie is dead on the server.
    let thief = AdminClient::new(&app.base_url);
    thief.set_cookie("sessionid", &old);
    assert!(thief
        .get("/admin/")
        .await
        .redirects_to()
        .starts_with("/admin/login/"));
}

async fn the_staff_session_and_the_api(app: TestApp) {
    let c = root(&app).await;
    let session = c.cookie("sessionid").unwrap();
    inventory_web::webhooks::install_crypto();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/api/auth/me", app.base_url))
        .header("Cookie", format!("sessionid={session}"))
        .send()
        .await
        .unwrap();
    match app.auth {
        // server-jwt: the staff session never authenticates the API.
        Auth::Jwt => assert_eq!(r.status().as_u16(), 401),
        // server-cookie: it is the API's session, as in a Django project.
        Auth::Cookie => assert_eq!(r.status().as_u16(), 200),
    }
    // And a bearer token never opens the staff site.
    if app.auth == Auth::Jwt {
        let api = app.root().await;
        let r = http
            .get(format!("{}/admin/", app.base_url))
            .header(
                "Authorization",
                format!("Bearer {}", api.access_token().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 302);
    }
}

async fn password_change_keeps_this_session_and_ends_the_others(app: TestApp) {
    let root_admin = root(&app).await;
    let (c, _, username) = staff(&app, &root_admin, "manager").await;
    let other = app.login(&username, USER_PASSWORD).await;
    other.get("/api/auth/me").await.expect(200);
    c.get("/admin/password_change/").await.expect(200);
    let r = c
        .post(
            "/admin/password_change/",
            &[
                ("old_password", USER_PASSWORD),
                ("new_password1", "Fresh-Meadow-Kettle-19"),
                ("new_password2", "Fresh-Meadow-Kettle-2"),
            ],
        )
        .await;
    r.expect(200);
    assert_eq!(
        r.field_errors("new_password2"),
        vec!["The two password fields didn't match."]
    );
    let r = c
        .post(
            "/admin/password_change/",
            &[
                ("old_password", USER_PASSWORD),
                ("new_password1", "short"),
                ("new_password2", "short"),
            ],
        )
        .await;
    r.expect(200);
    assert!(
        !r.field_errors("new_password1").is_empty(),
        "the API's policy: {r:?}"
    );
    let r = c
        .post(
            "/admin/password_change/",
            &[
                ("old_password", USER_PASSWORD),
                ("new_password1", "Fresh-Meadow-Kettle-19"),
                ("new_password2", "Fresh-Meadow-Kettle-19"),
            ],
        )
        .await;
    assert_eq!(r.redirects_to(), "/admin/");
    c.get("/admin/")
        .await
        .expect(200)
        .contains("Your password was changed.");
    let r = other.get("/api/auth/me").await;
    assert_eq!(r.status.as_u16(), 401, "other logins are revoked");
    app.client()
        .login(&username, "Fresh-Meadow-Kettle-19")
        .await
        .expect(200);
}

variants!(
    guests_are_sent_to_the_login_page_with_next,
    staff_sign_in_rotates_the_session_and_goes_to_next,
    a_user_made_through_the_api_is_refused_without_a_session,
    wrong_passwords_lock_the_staff_login_like_the_api,
    every_post_needs_the_csrf_token_and_logout_is_a_post,
    the_staff_session_and_the_api,
    password_change_keeps_this_session_and_ends_the_others,
);
variants!(with limited: the_staff_login_shares_the_api_rate_limit);
