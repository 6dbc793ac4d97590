//! API.md §2.3: signing in and out, lockout, password change, profile and account endpoints,
//! the same on both servers.

use conformance::mail::token_in;
use conformance::{json, variants, Auth, TestApp, ROOT_PASSWORD, ROOT_USERNAME, USER_PASSWORD};

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(app: TestApp) {
    let wrong = app
        .client()
        .login(ROOT_USERNAME, "Not-The-Password-1")
        .await;
    wrong.expect_error(401, "invalid_credentials");
    let unknown = app
        .client()
        .login("nobody-here", "Not-The-Password-1")
        .await;
    unknown.expect_error(401, "invalid_credentials");
    assert_eq!(
        wrong.body, unknown.body,
        "no user enumeration through the answer"
    );
}

async fn a_login_without_credentials_is_invalid_input(app: TestApp) {
    let path = match app.auth {
        Auth::Cookie => "/api/auth/login",
        Auth::Jwt => "/api/token",
    };
    let guest = app.client();
    let r = guest.post(path, json!({"username": ROOT_USERNAME})).await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    let r = guest.post(path, json!({})).await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
}

async fn me_answers_the_signed_in_user(app: TestApp) {
    let root = app.root().await;
    let me = root.get("/api/auth/me").await;
    let u = me.expect(200);
    assert_eq!(u["username"], ROOT_USERNAME);
    assert_eq!(u["is_superuser"], true);
    assert_eq!(u["is_staff"], true);
    assert_eq!(u["role"], "admin");
    assert!(
        u["last_login"].is_string(),
        "last_login is set by signing in: {u}"
    );
}

async fn signing_out_ends_the_session(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    employee.logout().await.expect(204);
    employee.get("/api/auth/me").await.expect(401);
    employee
        .post("/api/categories", json!({"name": "After logout"}))
        .await;
    let root = app.root().await;
    assert_eq!(
        root.get("/api/categories").await.count(),
        0,
        "nothing was created after logout"
    );
}

async fn five_failed_logins_lock_the_account_until_an_admin_unlocks_it(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let name = employee.username();
    for _ in 0..5 {
        app.client()
            .login(&name, "Wrong-Password-123")
            .await
            .expect(401);
    }
    let locked = app.client().login(&name, USER_PASSWORD).await;
    locked.expect_error(403, "account_locked");
    assert!(
        locked
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok()),
        "Retry-After: {locked:?}"
    );

    // Other accounts are not locked: this one signs in.
    let admin = app.user_with_role("admin").await;
    let r = admin
        .post_empty(&format!("/api/users/{}/unlock", employee.user_id()))
        .await;
    assert!(r.status.is_success(), "an admin unlocks: {r:?}");
    let r = app.client().login(&name, USER_PASSWORD).await;
    r.expect(200);
}

async fn a_successful_login_resets_the_failure_count(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let name = employee.username();
    for _ in 0..4 {
        app.client()
            .login(&name, "Wrong-Password-123")
            .await
            .expect(401);
    }
    app.login(&name, USER_PASSWORD).await;
    for _ in 0..4 {
        app.client()
            .login(&name, "Wrong-Password-123")
            .await
            .expect(401);
    }
    app.login(&name, USER_PASSWORD).await;
}

async fn only_admins_unlock_accounts(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let manager = app.user_with_role("manager").await;
    manager
        .post_empty(&format!("/api/users/{}/unlock", employee.user_id()))
        .await
        .expect(403);
}

async fn changing_the_password_revokes_the_users_other_sessions(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let elsewhere = app.login(&employee.username(), USER_PASSWORD).await;
    let new_password = "Another-Long-Secret-77";
    let r = employee
        .post(
            "/api/auth/password/change",
            json!({"old_password": USER_PASSWORD, "new_password": new_password}),
        )
        .await;
    r.expect(200);

    elsewhere.get("/api/auth/me").await.expect(401);
    if app.auth == Auth::Cookie {
        employee.get("/api/auth/me").await.expect(200);
    }
    app.client()
        .login(&employee.username(), USER_PASSWORD)
        .await
        .expect(401);
    app.login(&employee.username(), new_password).await;
}

async fn a_password_change_needs_the_old_password_and_a_strong_new_one(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let r = employee
        .post(
            "/api/auth/password/change",
            json!({"old_password": "Wrong-Password-123", "new_password": "Another-Long-Secret-77"}),
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        400,
        "a wrong old password is refused: {r:?}"
    );
    employee
        .post(
            "/api/auth/password/change",
            json!({"old_password": USER_PASSWORD, "new_password": "short"}),
        )
        .await
        .expect_field_error("new_password");
    app.login(&employee.username(), USER_PASSWORD).await;
    app.client()
        .post(
            "/api/auth/password/change",
            json!({"old_password": "a", "new_password": "b"}),
        )
        .await
        .expect(401);
}

async fn a_user_edits_their_own_profile(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let r = employee
        .patch(
            "/api/auth/me",
            json!({"first_name": "Grace", "last_name": "Hopper", "phone": "+1 555 0199"}),
        )
        .await;
    assert_eq!(r.expect(200)["first_name"], "Grace");
    let me = employee.get("/api/auth/me").await;
    assert_eq!(me.expect(200)["last_name"], "Hopper");
    assert_eq!(me.body["phone"], "+1 555 0199");
    assert_eq!(me.body["role"], "employee");
}

async fn registration_is_closed_by_default(app: TestApp) {
    let guest = app.client();
    let r = guest
        .post(
            "/api/auth/register",
            json!({"username": "walkin", "email": "walkin@example.com", "password": USER_PASSWORD}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "registration is off: {r:?}"
    );
    app.client()
        .login("walkin", USER_PASSWORD)
        .await
        .expect(401);
}

fn registration_open(s: &mut inventory_web::Settings) {
    s.registration = true;
}

/// Registration open, and mail going to an SMTP port where nothing listens.
fn registration_with_mail_down(s: &mut inventory_web::Settings) {
    s.registration = true;
    s.email_url = Some(inventory_web::settings::Secret::new("smtp://127.0.0.1:9"));
}

/// Asking for a new verification link says nothing about whether the address exists, and only
/// an unverified account gets mail.
async fn resending_a_verification_link_does_not_reveal_accounts(app: TestApp) {
    let guest = app.client();
    guest
        .post(
            "/api/auth/register",
            json!({"username": "late", "email": "late@example.com", "password": USER_PASSWORD}),
        )
        .await
        .expect(201);
    let before = app.outbox().len();
    let known = guest
        .post(
            "/api/auth/verify-email/resend",
            json!({"email": "late@example.com"}),
        )
        .await;
    let unknown = guest
        .post(
            "/api/auth/verify-email/resend",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known.status.as_u16(), 202, "{known:?}");
    assert_eq!(unknown.status.as_u16(), 202, "{unknown:?}");
    assert_eq!(known.body, unknown.body, "the same answer either way");
    let mail = app.wait_for_email("late@example.com", "verify-email").await;
    assert!(!mail.is_empty());
    assert_eq!(
        app.outbox().len(),
        before + 1,
        "one new message, for the real account"
    );
}

/// Email goes out after the commit: a mail server that is down costs the message, never the
/// change it announces.
async fn a_failed_email_never_loses_the_change(app: TestApp) {
    let guest = app.client();
    let r = guest
        .post(
            "/api/auth/register",
            json!({"username": "offline", "email": "offline@example.com", "password": USER_PASSWORD}),
        )
        .await;
    let u = r.expect(201);
    let root = app.root().await;
    let r = root.get("/api/users?search=offline").await;
    let listed = r.page();
    assert_eq!(listed.len(), 1, "the registration committed");
    assert_eq!(listed[0]["id"], u["id"]);
    guest
        .post(
            "/api/auth/password/reset",
            json!({"email": "root@example.com"}),
        )
        .await
        .expect(202);
}

async fn a_registered_user_is_inactive_until_the_email_is_verified(app: TestApp) {
    let guest = app.client();
    let r = guest
        .post(
            "/api/auth/register",
            json!({"username": "walkin", "email": "walkin@example.com", "password": USER_PASSWORD}),
        )
        .await;
    let u = r.expect(201);
    assert_eq!(u["is_active"], false);
    assert_eq!(u["email_verified"], false);
    assert_eq!(u["is_staff"], false);
    assert_eq!(u["role"], "employee");
    let login = app.client().login("walkin", USER_PASSWORD).await;
    assert!(
        matches!(login.status.as_u16(), 401 | 403),
        "an unverified user cannot sign in: {login:?}"
    );
    let weak = guest
        .post(
            "/api/auth/register",
            json!({"username": "weak", "email": "weak@example.com", "password": "12345"}),
        )
        .await;
    weak.expect_field_error("password");
    guest
        .post(
            "/api/auth/verify-email",
            json!({"token": "not-a-real-token"}),
        )
        .await
        .expect(400);
}

async fn a_password_reset_is_accepted_whether_or_not_the_email_exists(app: TestApp) {
    let guest = app.client();
    guest
        .post(
            "/api/auth/password/reset",
            json!({"email": "root@example.com"}),
        )
        .await
        .expect(202);
    guest
        .post(
            "/api/auth/password/reset",
            json!({"email": "nobody@example.com"}),
        )
        .await
        .expect(202);
    let r = guest
        .post(
            "/api/auth/password/reset/confirm",
            json!({"token": "forged-token", "new_password": "Another-Long-Secret-77"}),
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        400,
        "a forged reset token is refused: {r:?}"
    );
    app.login(ROOT_USERNAME, ROOT_PASSWORD).await;
}

async fn a_password_reset_sets_a_new_password_once_and_signs_the_user_out(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let email = employee.user()["email"].as_str().unwrap().to_owned();
    let guest = app.client();
    guest
        .post("/api/auth/password/reset", json!({ "email": email }))
        .await
        .expect(202);
    let mail = app.wait_for_email(&email, "").await;
    let token =
        token_in(&mail).unwrap_or_else(|| panic!("the reset email carries a token: {mail}"));

    let new_password = "Fresh-Start-Password-99";
    guest
        .post(
            "/api/auth/password/reset/confirm",
            json!({"token": token, "new_password": new_password}),
        )
        .await
        .expect(200);
    employee.get("/api/auth/me").await.expect(401);
    if let Some(refresh) = employee.refresh_token() {
        guest
            .post("/api/token/refresh", json!({ "refresh": refresh }))
            .await
            .expect(401);
    }
    app.client()
        .login(&employee.username(), USER_PASSWORD)
        .await
        .expect(401);
    app.login(&employee.username(), new_password).await;
    let again = guest
        .post(
            "/api/auth/password/reset/confirm",
            json!({"token": token, "new_password": "Yet-Another-Password-11"}),
        )
        .await;
    again.expect(400);
}

async fn login_attempts_are_recorded_for_admins_and_auditors(app: TestApp) {
    app.client()
        .login("mallory", "Wrong-Password-123")
        .await
        .expect(401);
    let employee = app.user_with_role("employee").await;
    let auditor = app.user_with_role("auditor").await;
    let rows = auditor
        .get("/api/auth/login-attempts?username=mallory")
        .await
        .page();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let a = &rows[0];
    for field in [
        "id",
        "username",
        "user_id",
        "ip",
        "user_agent",
        "success",
        "reason",
        "at",
    ] {
        assert!(a.get(field).is_some(), "a login attempt has `{field}`: {a}");
    }
    assert_eq!(a["success"], false);
    assert_eq!(a["ip"], "127.0.0.1");
    assert!(a["user_id"].is_null());
    let ok = auditor
        .get(&format!(
            "/api/auth/login-attempts?username={}&success=true",
            employee.username()
        ))
        .await
        .page();
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert_eq!(ok[0]["user_id"], employee.user_id());
    employee.get("/api/auth/login-attempts").await.expect(403);
}

variants!(
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    a_login_without_credentials_is_invalid_input,
    me_answers_the_signed_in_user,
    signing_out_ends_the_session,
    five_failed_logins_lock_the_account_until_an_admin_unlocks_it,
    a_successful_login_resets_the_failure_count,
    only_admins_unlock_accounts,
    changing_the_password_revokes_the_users_other_sessions,
    a_password_change_needs_the_old_password_and_a_strong_new_one,
    a_user_edits_their_own_profile,
    registration_is_closed_by_default,
    a_password_reset_is_accepted_whether_or_not_the_email_exists,
    a_password_reset_sets_a_new_password_once_and_signs_the_user_out,
    login_attempts_are_recorded_for_admins_and_auditors,
);
async fn verifying_the_email_activates_a_registered_account_once(app: TestApp) {
    let guest = app.client();
    guest
        .post(
            "/api/auth/register",
            json!({"username": "walkin", "email": "walkin@example.com", "password": USER_PASSWORD}),
        )
        .await
        .expect(201);
    let mail = app.wait_for_email("walkin@example.com", "").await;
    let token =
        token_in(&mail).unwrap_or_else(|| panic!("the verification email carries a token: {mail}"));
    guest
        .post("/api/auth/verify-email", json!({ "token": token }))
        .await
        .expect(200);
    let me = app.login("walkin", USER_PASSWORD).await;
    let u = me.get("/api/auth/me").await;
    assert_eq!(u.expect(200)["email_verified"], true);
    assert_eq!(u.body["is_active"], true);
    guest
        .post("/api/auth/verify-email", json!({ "token": token }))
        .await
        .expect(400);
}

fn rate_limited(s: &mut inventory_web::Settings) {
    s.auth_rate_limit_per_minute = 3;
}

async fn too_many_logins_from_one_address_are_rate_limited(app: TestApp) {
    for _ in 0..3 {
        let r = app.client().login(ROOT_USERNAME, ROOT_PASSWORD).await;
        r.expect(200);
    }
    let limited = app.client().login(ROOT_USERNAME, ROOT_PASSWORD).await;
    limited.expect(429);
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok()),
        "Retry-After: {limited:?}"
    );
}

/// Two instances on one database share one budget per address: 3 a minute in total, not 3
/// each (the second_instance helper itself signs in once, on the first instance).
async fn the_rate_limit_holds_across_instances(app: TestApp) {
    let second = conformance::instance::second_instance(&app).await;
    app.client()
        .login(ROOT_USERNAME, ROOT_PASSWORD)
        .await
        .expect(200);
    second
        .client()
        .login(ROOT_USERNAME, ROOT_PASSWORD)
        .await
        .expect(200);
    for (name, c) in [("second", second.client()), ("first", app.client())] {
        let r = c.login(ROOT_USERNAME, ROOT_PASSWORD).await;
        assert_eq!(r.status.as_u16(), 429, "the {name} instance: {r:?}");
        assert!(r
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    }
}

variants!(with rate_limited: too_many_logins_from_one_address_are_rate_limited, the_rate_limit_holds_across_instances);

variants!(with registration_with_mail_down: a_failed_email_never_loses_the_change);

variants!(
    with registration_open: a_registered_user_is_inactive_until_the_email_is_verified,
    resending_a_verification_link_does_not_reveal_accounts,
    verifying_the_email_activates_a_registered_account_once
);
