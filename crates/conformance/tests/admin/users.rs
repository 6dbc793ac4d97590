//! Users by hand: a superuser adds them (password twice, the API's policy), admins change
//! roles and names, unlock, send a reset link and deactivate; the login attempts and the audit
//! log are read-only lists. No page ever shows a hash.

use conformance::{json, variants, TestApp, USER_PASSWORD};

use crate::support::{follow, root, staff};

async fn users_are_added_changed_unlocked_reset_and_deactivated(app: TestApp) {
    let c = root(&app).await;
    c.get("/admin/users/add/")
        .await
        .expect(200)
        .contains("password2");
    let base = [
        ("username", "dana"),
        ("email", "dana@example.com"),
        ("role", "manager"),
        ("first_name", "Dana"),
        ("last_name", "Lee"),
        ("phone", ""),
        ("_continue", "1"),
    ];
    let mut f = base.to_vec();
    f.extend([
        ("password1", USER_PASSWORD),
        ("password2", "something-else-99"),
    ]);
    let r = c.post("/admin/users/add/", &f).await;
    r.expect(200);
    assert_eq!(
        r.field_errors("password2"),
        vec!["The two password fields didn't match."]
    );
    let mut f = base.to_vec();
    f.extend([("password1", "password123"), ("password2", "password123")]);
    let r = c.post("/admin/users/add/", &f).await;
    r.expect(200);
    assert!(
        !r.field_errors("password1").is_empty(),
        "the API's password policy: {r:?}"
    );
    assert_eq!(r.input_value("username").as_deref(), Some("dana"));
    let mut f = base.to_vec();
    f.extend([("password1", USER_PASSWORD), ("password2", USER_PASSWORD)]);
    let r = c.post("/admin/users/add/", &f).await;
    let id = conformance::admin::id_in(&r.redirects_to());
    let page = c.get(&format!("/admin/users/{id}/change/")).await;
    page.expect(200).contains("dana").lacks("password_hash");
    // Not staff yet: refused by the staff site, fine on the API.
    let dana = conformance::admin::AdminClient::new(&app.base_url);
    dana.login("dana", USER_PASSWORD)
        .await
        .expect(200)
        .contains("cannot use the staff site");
    app.client().login("dana", USER_PASSWORD).await.expect(200);
    // Role change.
    let r = c
        .post(
            &format!("/admin/users/{id}/change/"),
            &[
                ("email", "dana@example.com"),
                ("role", "admin"),
                ("first_name", "Dana"),
                ("last_name", "Lee"),
                ("is_active", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    r.redirects_to();
    let api = app.root().await;
    assert_eq!(
        api.get(&format!("/api/users/{id}")).await.expect(200)["role"],
        json!("admin")
    );
    let log = api
        .get(&format!("/api/audit-logs?object_type=user&object_id={id}"))
        .await
        .page();
    assert!(
        log.iter().any(|e| e["action"] == json!("role_change")),
        "{log:?}"
    );
    // Lock, then unlock with the button.
    let tmp = app.client();
    for _ in 0..5 {
        tmp.login("dana", "Wrong-Password-77").await;
    }
    app.client()
        .login("dana", USER_PASSWORD)
        .await
        .expect_error(403, "account_locked");
    let r = c.post(&format!("/admin/users/{id}/unlock/"), &[]).await;
    let page = follow(&c, &r).await;
    assert!(page.messages().iter().any(|m| m.contains("unlocked")));
    app.client().login("dana", USER_PASSWORD).await.expect(200);
    // Send a password reset: an email goes out.
    c.get(&format!("/admin/users/{id}/password_reset/"))
        .await
        .expect(200)
        .contains("Are you sure");
    let r = c
        .post(
            &format!("/admin/users/{id}/password_reset/"),
            &[("post", "yes")],
        )
        .await;
    follow(&c, &r).await.expect(200);
    app.wait_for_email("dana@example.com", "reset").await;
    // Deactivate (the delete page says so).
    c.get(&format!("/admin/users/{id}/delete/"))
        .await
        .expect(200)
        .contains("deactivate");
    let r = c
        .post(&format!("/admin/users/{id}/delete/"), &[("post", "yes")])
        .await;
    let page = follow(&c, &r).await;
    assert!(page.messages().iter().any(|m| m.contains("deactivated")));
    assert_eq!(
        api.get(&format!("/api/users/{id}")).await.expect(200)["is_active"],
        json!(false)
    );
    c.get("/admin/users/?is_active=false")
        .await
        .expect(200)
        .contains("dana");
    c.get("/admin/users/?role=admin&q=dan")
        .await
        .expect(200)
        .contains("dana");
}

async fn only_a_superuser_adds_users_and_grants_the_staff_site(app: TestApp) {
    let c = root(&app).await;
    let (adm, _, _) = staff(&app, &c, "admin").await;
    adm.get("/admin/users/").await.expect(200);
    let page = adm.get("/admin/users/").await;
    page.lacks("/admin/users/add/");
    adm.get("/admin/users/add/").await.expect(403);
    let other = app.create_user("eve", "employee").await;
    let id = other["id"].as_i64().unwrap();
    let page = adm.get(&format!("/admin/users/{id}/change/")).await;
    page.expect(200).lacks("name=\"is_staff\"");
    // Posting is_staff anyway changes nothing.
    adm.post(
        &format!("/admin/users/{id}/change/"),
        &[
            ("email", "eve@example.com"),
            ("role", "employee"),
            ("is_active", "on"),
            ("is_staff", "on"),
            ("_save", "1"),
        ],
    )
    .await;
    let api = app.root().await;
    assert_eq!(
        api.get(&format!("/api/users/{id}")).await.expect(200)["is_staff"],
        json!(false)
    );
}

async fn the_audit_log_and_login_attempts_are_read_only_lists(app: TestApp) {
    let c = root(&app).await;
    let page = c.get("/admin/login-attempts/").await;
    page.expect(200).contains("root");
    c.get("/admin/login-attempts/?success=false")
        .await
        .expect(200);
    let page = c.get("/admin/audit-log/").await;
    page.expect(200).contains("login");
    let api = app.root().await;
    let entry = api.get("/api/audit-logs").await.page()[0]["id"]
        .as_i64()
        .unwrap();
    c.get(&format!("/admin/audit-log/{entry}/change/"))
        .await
        .expect(200)
        .lacks("name=\"_save\"");
    c.get(&format!("/admin/audit-log/{entry}/delete/"))
        .await
        .expect(403);
    c.get("/admin/audit-log/add/").await.expect(403);
    c.get("/admin/audit-log/?since=2020-01-01&action=login")
        .await
        .expect(200);
    c.get("/admin/audit-log/?since=yesterday").await.expect(200);
}

variants!(
    users_are_added_changed_unlocked_reset_and_deactivated,
    only_a_superuser_adds_users_and_grants_the_staff_site,
    the_audit_log_and_login_attempts_are_read_only_lists,
);
