//! API.md §2.4 and §2.5: users, who may manage them, and the password policy.

use conformance::fixtures::all_pages;
use conformance::{json, variants, TestApp, Value, USER_PASSWORD};

const USER_FIELDS: [&str; 13] = [
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "phone",
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
    "email_verified",
    "date_joined",
    "last_login",
];

fn new_user(username: &str, role: &str) -> Value {
    json!({
        "username": username, "email": format!("{username}@example.com"), "password": USER_PASSWORD,
        "role": role, "first_name": "Ada", "last_name": "Lovelace"
    })
}

async fn the_superuser_creates_active_verified_users_without_staff_rights(app: TestApp) {
    let root = app.root().await;
    let r = root.post("/api/users", new_user("ada", "manager")).await;
    let u = r.expect(201).clone();
    for field in USER_FIELDS {
        assert!(u.get(field).is_some(), "a User has `{field}`: {u}");
    }
    assert_eq!(u["username"], "ada");
    assert_eq!(u["email"], "ada@example.com");
    assert_eq!(u["role"], "manager");
    assert_eq!(u["first_name"], "Ada");
    assert_eq!(u["is_active"], true);
    assert_eq!(u["email_verified"], true);
    assert_eq!(u["is_staff"], false);
    assert_eq!(u["is_superuser"], false);
    app.login("ada", USER_PASSWORD).await;
}

async fn staff_and_superuser_flags_cannot_be_set_through_the_api(app: TestApp) {
    let root = app.root().await;
    let mut body = new_user("eve", "employee");
    body["is_staff"] = json!(true);
    body["is_superuser"] = json!(true);
    let r = root.post("/api/users", body).await;
    if r.status.as_u16() == 201 {
        assert_eq!(r.body["is_staff"], false, "{r:?}");
        assert_eq!(r.body["is_superuser"], false, "{r:?}");
    } else {
        r.expect(400);
    }
    let admin = app.user_with_role("admin").await;
    let employee = app.user_with_role("employee").await;
    let r = admin
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"is_staff": true, "is_superuser": true}),
        )
        .await;
    if r.status.as_u16() == 200 {
        let u = root
            .get(&format!("/api/users/{}", employee.user_id()))
            .await;
        assert_eq!(u.expect(200)["is_staff"], false);
        assert_eq!(u.body["is_superuser"], false);
    } else {
        assert!(matches!(r.status.as_u16(), 400 | 403), "{r:?}");
    }
}

async fn admins_cannot_create_users(app: TestApp) {
    let admin = app.user_with_role("admin").await;
    admin
        .post("/api/users", new_user("eve", "admin"))
        .await
        .expect(403);
    for role in ["manager", "employee", "auditor"] {
        let who = app.user_with_role(role).await;
        who.post("/api/users", new_user(&format!("x{role}"), "admin"))
            .await
            .expect(403);
    }
    app.client()
        .post("/api/users", new_user("guest", "admin"))
        .await
        .expect(401);
}

async fn only_admins_change_or_deactivate_users(app: TestApp) {
    let target = app.user_with_role("employee").await;
    let path = format!("/api/users/{}", target.user_id());
    for role in ["manager", "auditor", "employee"] {
        let who = app.user_with_role(role).await;
        let r = who.delete(&path).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "a(n) {role} may not deactivate users: {r:?}"
        );
        let r = who.patch(&path, json!({"first_name": "Renamed"})).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "a(n) {role} may not change users: {r:?}"
        );
    }
    target.get("/api/auth/me").await.expect(200);
    let admin = app.user_with_role("admin").await;
    admin
        .patch(&path, json!({"first_name": "Renamed"}))
        .await
        .expect(200);
    admin.delete(&path).await.expect(204);
}

async fn admins_list_users_and_others_may_not(app: TestApp) {
    let admin = app.user_with_role("admin").await;
    let rows = admin.get("/api/users").await.page();
    assert!(rows.len() >= 2, "root and the admin are listed: {rows:?}");
    for role in ["manager", "employee"] {
        let r = app.user_with_role(role).await.get("/api/users").await;
        assert_eq!(
            r.status.as_u16(),
            403,
            "a(n) {role} may not list users: {r:?}"
        );
    }
}

async fn auditors_do_not_read_users(app: TestApp) {
    // §2.4: listing users is for admins; §2.5: a record is for admins or the user itself.
    let employee = app.user_with_role("employee").await;
    let auditor = app.user_with_role("auditor").await;
    auditor.get("/api/users").await.expect(403);
    let r = auditor
        .get(&format!("/api/users/{}", employee.user_id()))
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    auditor
        .get(&format!("/api/users/{}", auditor.user_id()))
        .await
        .expect(200);
}

async fn users_filter_by_role_activity_and_search(app: TestApp) {
    let root = app.root().await;
    for (name, role) in [
        ("alice", "manager"),
        ("bob", "employee"),
        ("carol", "employee"),
    ] {
        root.post("/api/users", new_user(name, role))
            .await
            .expect(201);
    }
    let bob = root.get("/api/users?search=bob").await.page();
    assert_eq!(bob.len(), 1);
    let bob_id = bob[0]["id"].as_i64().unwrap();
    root.delete(&format!("/api/users/{bob_id}"))
        .await
        .expect(204);

    let names = |rows: Vec<Value>| -> Vec<String> {
        let mut n: Vec<String> = rows
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(root.get("/api/users?role=employee").await.page()),
        ["bob", "carol"]
    );
    assert_eq!(
        names(
            root.get("/api/users?role=employee&is_active=true")
                .await
                .page()
        ),
        ["carol"]
    );
    assert_eq!(
        names(root.get("/api/users?is_active=false").await.page()),
        ["bob"]
    );
    assert_eq!(
        names(root.get("/api/users?search=ALI").await.page()),
        ["alice"]
    );
}

async fn a_user_reads_their_own_record_but_no_one_elses(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let other = app.user_with_role("employee").await;
    let me = employee
        .get(&format!("/api/users/{}", employee.user_id()))
        .await;
    assert_eq!(me.expect(200)["username"], json!(employee.username()));
    let r = employee
        .get(&format!("/api/users/{}", other.user_id()))
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "another user's record is hidden: {r:?}"
    );
    let admin = app.user_with_role("admin").await;
    admin
        .get(&format!("/api/users/{}", other.user_id()))
        .await
        .expect(200);
}

async fn a_user_cannot_raise_their_own_role(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let r = employee
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"role": "admin"}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    let r = employee
        .patch("/api/auth/me", json!({"role": "admin"}))
        .await;
    assert_eq!(r.status.as_u16(), 400, "role is not a profile field: {r:?}");
    assert_eq!(
        employee.get("/api/auth/me").await.expect(200)["role"],
        "employee"
    );
}

async fn an_admin_changes_a_role_and_it_takes_effect(app: TestApp) {
    let admin = app.user_with_role("admin").await;
    let employee = app.user_with_role("employee").await;
    let r = admin
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"role": "auditor"}),
        )
        .await;
    assert_eq!(r.expect(200)["role"], "auditor");
    let again = app.login(&employee.username(), USER_PASSWORD).await;
    again
        .post("/api/categories", json!({"name": "Nope"}))
        .await
        .expect(403);
    again.get("/api/audit-logs").await.page();
    admin
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"role": "wizard"}),
        )
        .await
        .expect_field_error("role");
}

async fn usernames_and_emails_are_unique_ignoring_case(app: TestApp) {
    let root = app.root().await;
    root.post("/api/users", new_user("Alice", "employee"))
        .await
        .expect(201);
    root.post("/api/users", new_user("alice", "employee"))
        .await
        .expect(409);
    let mut same_email = new_user("alice2", "employee");
    same_email["email"] = json!("ALICE@example.com");
    root.post("/api/users", same_email).await.expect(409);
}

async fn changing_an_email_to_a_taken_one_is_a_conflict(app: TestApp) {
    let admin = app.user_with_role("admin").await;
    let employee = app.user_with_role("employee").await;
    let r = admin
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"email": "ROOT@example.com"}),
        )
        .await;
    r.expect(409);
    let r = admin
        .patch(
            &format!("/api/users/{}", employee.user_id()),
            json!({"email": "new@example.com"}),
        )
        .await;
    assert_eq!(r.expect(200)["email"], "new@example.com");
}

async fn a_weak_password_is_refused_with_reasons(app: TestApp) {
    let root = app.root().await;
    let too_long = "Ab3$".repeat(19);
    for (i, password) in [
        "Sh0rt!",
        "12345678901234",
        "password123",
        "qwertyuiop",
        too_long.as_str(),
    ]
    .iter()
    .enumerate()
    {
        let mut body = new_user(&format!("weak{i}"), "employee");
        body["password"] = json!(password);
        root.post("/api/users", body)
            .await
            .expect_field_error("password");
    }
    let mut body = new_user("johnsmith", "employee");
    body["password"] = json!("johnsmith-Quiet-Harbor-42");
    root.post("/api/users", body)
        .await
        .expect_field_error("password");
    let all = all_pages(&root, "/api/users").await;
    assert_eq!(all.len(), 1, "no weak password made a user: {all:?}");
}

async fn an_invalid_role_or_email_is_refused(app: TestApp) {
    let root = app.root().await;
    root.post("/api/users", new_user("zed", "overlord"))
        .await
        .expect_field_error("role");
    let mut body = new_user("zed", "employee");
    body["email"] = json!("not-an-email");
    root.post("/api/users", body)
        .await
        .expect_field_error("email");
}

async fn deactivating_a_user_keeps_them_listed_and_signs_them_out(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let id = employee.user_id();
    let product = conformance::fixtures::simple_product(&employee, "MINE", "1.00").await;
    root.delete(&format!("/api/users/{id}")).await.expect(204);

    let u = root.get(&format!("/api/users/{id}")).await;
    assert_eq!(u.expect(200)["is_active"], false);
    let owned = root.get(&format!("/api/products/{product}")).await;
    assert_eq!(
        owned.expect(200)["created_by"],
        json!(id),
        "history keeps pointing at the user"
    );
    employee.get("/api/auth/me").await.expect(401);
    let r = app
        .client()
        .login(&employee.username(), USER_PASSWORD)
        .await;
    assert!(
        matches!(r.status.as_u16(), 401 | 403),
        "an inactive user cannot sign in: {r:?}"
    );
}

async fn no_answer_ever_contains_password_material(app: TestApp) {
    // The client checks every answer for hashes and `password` keys; walk the places users appear.
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    root.get("/api/users").await.page();
    root.get(&format!("/api/users/{}", employee.user_id()))
        .await
        .expect(200);
    employee.get("/api/auth/me").await.expect(200);
    let r = employee
        .post(
            "/api/auth/password/change",
            json!({"old_password": USER_PASSWORD, "new_password": "Brand-New-Pass-Phrase-7"}),
        )
        .await;
    r.expect(200);
    root.get("/api/audit-logs?page_size=100").await.page();
    root.get("/api/audit-logs?format=csv").await;
    root.get("/api/auth/login-attempts").await.page();
}

variants!(
    the_superuser_creates_active_verified_users_without_staff_rights,
    staff_and_superuser_flags_cannot_be_set_through_the_api,
    admins_cannot_create_users,
    admins_list_users_and_others_may_not,
    auditors_do_not_read_users,
    only_admins_change_or_deactivate_users,
    users_filter_by_role_activity_and_search,
    a_user_reads_their_own_record_but_no_one_elses,
    a_user_cannot_raise_their_own_role,
    an_admin_changes_a_role_and_it_takes_effect,
    usernames_and_emails_are_unique_ignoring_case,
    changing_an_email_to_a_taken_one_is_a_conflict,
    a_weak_password_is_refused_with_reasons,
    an_invalid_role_or_email_is_refused,
    deactivating_a_user_keeps_them_listed_and_signs_them_out,
    no_answer_ever_contains_password_material,
);
