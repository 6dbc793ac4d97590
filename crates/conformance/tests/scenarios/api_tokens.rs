//! API.md §11, API tokens: made by a signed-in person, shown once, sent as
//! `Authorization: Token …` on both servers, and dead at once when revoked, when the user is
//! deactivated or changes the password — on every instance.

use conformance::Client;
use conformance::{json, variants, TestApp, Value, USER_PASSWORD};

/// A guest client that sends `secret` as its API token.
fn with_token(app: &TestApp, secret: &str) -> Client {
    let c = app.client();
    c.set_api_token(Some(secret.to_owned()));
    c
}

async fn make_token(owner: &Client, body: Value) -> Value {
    owner
        .post("/api/auth/tokens", body)
        .await
        .expect(201)
        .clone()
}

fn secret(token: &Value) -> String {
    token["token"]
        .as_str()
        .expect("the secret is in the create answer")
        .to_owned()
}

async fn audit_actions(app: &TestApp, object_id: i64) -> Vec<String> {
    let root = app.root().await;
    let r = root
        .get(&format!(
            "/api/audit-logs?object_type=api_token&object_id={object_id}"
        ))
        .await;
    r.expect(200);
    r.page()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn a_token_signs_requests_in_without_a_login_or_csrf_and_is_shown_once(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let t = make_token(&employee, json!({"name": "shop sync"})).await;
    let s = secret(&t);
    assert!(s.starts_with("inv_") && s.len() > 30, "a long secret: {t}");
    assert_eq!(t["name"], "shop sync");
    assert_eq!(t["read_only"], false);
    assert_eq!(
        t["prefix"].as_str(),
        Some(&s[..12]),
        "the prefix is the secret's start"
    );
    assert!(t["last_used_at"].is_null(), "{t}");
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (expires - created).num_days(),
        90,
        "90 days by default: {t}"
    );

    let script = with_token(&app, &s);
    let me = script.get("/api/auth/me").await;
    assert_eq!(me.expect(200)["id"], json!(employee.user_id()));
    // An unsafe request with no session and no CSRF token: the token is enough.
    let c = script
        .post("/api/categories", json!({"name": "Made by a script"}))
        .await;
    c.expect(201);
    assert_eq!(
        json!(c.body["created_by"]),
        json!(employee.user_id()),
        "written in the token owner's name: {c:?}"
    );

    let listed = employee.get("/api/auth/tokens").await;
    listed.expect(200);
    let rows = listed.page();
    assert_eq!(rows.len(), 1, "{listed:?}");
    assert_eq!(rows[0]["id"], t["id"]);
    assert!(
        rows[0].get("token").is_none(),
        "a list never shows the secret: {listed:?}"
    );
    assert!(
        !listed.text.contains(&s[12..]),
        "nor any of its hidden part"
    );
    assert!(
        rows[0]["last_used_at"].is_string(),
        "use is recorded: {listed:?}"
    );
    assert_eq!(
        audit_actions(&app, t["id"].as_i64().unwrap()).await,
        ["token_create"]
    );
}

async fn a_read_only_token_reads_and_no_token_makes_tokens_or_changes_the_password(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let ro = make_token(
        &manager,
        json!({"name": "reports", "read_only": true, "expires_in_days": 7}),
    )
    .await;
    assert_eq!(ro["read_only"], true);
    let reader = with_token(&app, &secret(&ro));
    reader.get("/api/categories").await.expect(200);
    reader.get("/api/dashboard").await.expect(200);
    reader
        .post("/api/categories", json!({"name": "Not allowed"}))
        .await
        .expect(403);
    assert_eq!(
        manager.get("/api/categories").await.count(),
        0,
        "nothing written"
    );

    let rw = make_token(&manager, json!({"name": "full"})).await;
    let writer = with_token(&app, &secret(&rw));
    writer
        .post("/api/auth/tokens", json!({"name": "child"}))
        .await
        .expect(403);
    writer
        .post(
            "/api/auth/password/change",
            json!({"old_password": USER_PASSWORD, "new_password": "An0ther-Long-Passphrase"}),
        )
        .await
        .expect(403);
    assert_eq!(manager.get("/api/auth/tokens").await.count(), 2);
    // The password is still the old one (login panics otherwise).
    app.login(&manager.username(), USER_PASSWORD).await;
}

async fn revoking_a_token_kills_it_at_once_on_every_instance(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let t = make_token(&employee, json!({"name": "pos"})).await;
    let id = t["id"].as_i64().unwrap();
    let second = conformance::instance::second_instance(&app).await;
    let script = with_token(&app, &secret(&t));
    let me_on_second = format!("{}/api/auth/me", second.base_url);
    let on_second = |c: &Client| {
        let raw = conformance::Raw::new(conformance::Method::GET, me_on_second.clone());
        let c = c.duplicate();
        async move { c.raw(raw).await }
    };
    on_second(&script).await.expect(200);

    let other = app.user_with_role("employee").await;
    other
        .delete(&format!("/api/auth/tokens/{id}"))
        .await
        .expect(404);
    on_second(&script).await.expect(200);

    employee
        .delete(&format!("/api/auth/tokens/{id}"))
        .await
        .expect(204);
    on_second(&script)
        .await
        .expect_error(401, "token_not_valid");
    script
        .get("/api/auth/me")
        .await
        .expect_error(401, "token_not_valid");
    assert_eq!(employee.get("/api/auth/tokens").await.count(), 0);
    employee
        .delete(&format!("/api/auth/tokens/{id}"))
        .await
        .expect(404);
    assert_eq!(
        audit_actions(&app, id).await,
        ["token_revoke", "token_create"]
    );
}

async fn deactivation_and_a_password_change_end_every_token(app: TestApp) {
    let root = app.root().await;
    let leaving = app.user_with_role("employee").await;
    let t = make_token(&leaving, json!({"name": "a"})).await;
    let script = with_token(&app, &secret(&t));
    script.get("/api/auth/me").await.expect(200);
    root.delete(&format!("/api/users/{}", leaving.user_id()))
        .await
        .expect(204);
    script
        .get("/api/auth/me")
        .await
        .expect_error(401, "token_not_valid");
    // Coming back does not bring the token back.
    root.patch(
        &format!("/api/users/{}", leaving.user_id()),
        json!({"is_active": true}),
    )
    .await
    .expect(200);
    script
        .get("/api/auth/me")
        .await
        .expect_error(401, "token_not_valid");

    let staying = app.user_with_role("manager").await;
    let t = make_token(&staying, json!({"name": "b"})).await;
    let script = with_token(&app, &secret(&t));
    script.get("/api/auth/me").await.expect(200);
    staying
        .post(
            "/api/auth/password/change",
            json!({"old_password": USER_PASSWORD, "new_password": "An0ther-Long-Passphrase"}),
        )
        .await
        .expect(200);
    script
        .get("/api/auth/me")
        .await
        .expect_error(401, "token_not_valid");
}

async fn admins_see_and_revoke_anyones_tokens_and_bad_input_is_refused(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let t = make_token(&employee, json!({"name": "x"})).await;
    let uid = employee.user_id();
    let path = format!("/api/users/{uid}/tokens");
    employee.get(&path).await.expect(403);
    let seen = root.get(&path).await;
    seen.expect(200);
    assert_eq!(seen.column("id"), vec![t["id"].clone()]);
    root.get("/api/users/999999/tokens").await.expect(404);
    root.delete(&format!("/api/users/{}/tokens/{}", root.user_id(), t["id"]))
        .await
        .expect(404);
    root.delete(&format!("{path}/{}", t["id"]))
        .await
        .expect(204);
    with_token(&app, &secret(&t))
        .get("/api/auth/me")
        .await
        .expect_error(401, "token_not_valid");

    for (body, field) in [
        (
            json!({"name": "x", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": 366}),
            "expires_in_days",
        ),
        (json!({"name": "  "}), "name"),
        (json!({}), "name"),
    ] {
        employee
            .post("/api/auth/tokens", body)
            .await
            .expect_field_error(field);
    }
    employee
        .post("/api/auth/tokens", json!({"name": "x", "scope": "all"}))
        .await
        .expect(400);
    app.client()
        .post("/api/auth/tokens", json!({"name": "x"}))
        .await
        .expect(401);
    for bad in [
        "garbage",
        "inv_0000000000000000000000000000000000000000",
        "",
    ] {
        let r = with_token(&app, bad).get("/api/categories").await;
        r.expect_error(401, "token_not_valid");
    }
    assert_eq!(employee.get("/api/auth/tokens").await.count(), 0);
}

variants!(
    a_token_signs_requests_in_without_a_login_or_csrf_and_is_shown_once,
    a_read_only_token_reads_and_no_token_makes_tokens_or_changes_the_password,
    revoking_a_token_kills_it_at_once_on_every_instance,
    deactivation_and_a_password_change_end_every_token,
    admins_see_and_revoke_anyones_tokens_and_bad_input_is_refused,
);
