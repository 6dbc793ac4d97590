//! Staff members for the scenarios: users made through the API, given the staff site by the
//! superuser on the user's page (the only way there is), then signed in.

use conformance::admin::{AdminClient, Page};
use conformance::{TestApp, ROOT_PASSWORD, ROOT_USERNAME, USER_PASSWORD};

/// The superuser, signed in to the staff site.
pub async fn root(app: &TestApp) -> AdminClient {
    let c = AdminClient::new(&app.base_url);
    c.login_ok(ROOT_USERNAME, ROOT_PASSWORD).await;
    c
}

/// Grants `is_staff` to user `id` through the superuser's form, keeping the rest as it is.
pub async fn grant_staff(root: &AdminClient, id: i64, role: &str, username: &str) {
    let path = format!("/admin/users/{id}/change/");
    root.get(&path).await.expect(200);
    let email = format!("{username}@example.com");
    let r = root
        .post(
            &path,
            &[
                ("email", email.as_str()),
                ("first_name", "Test"),
                ("last_name", role),
                ("phone", ""),
                ("role", role),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(r.redirects_to(), "/admin/users/", "granting staff: {r:?}");
}

/// A new staff member with `role`, signed in; also returns its user id and username.
pub async fn staff(app: &TestApp, root: &AdminClient, role: &str) -> (AdminClient, i64, String) {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let username = format!("{role}_{n}");
    let user = app.create_user(&username, role).await;
    let id = user["id"].as_i64().unwrap();
    grant_staff(root, id, role, &username).await;
    let c = AdminClient::new(&app.base_url);
    c.login_ok(&username, USER_PASSWORD).await;
    (c, id, username)
}

/// Adds an object through its add form with `_continue`; returns its id.
#[track_caller]
pub fn add<'a>(
    c: &'a AdminClient,
    model: &'a str,
    fields: &'a [(&'a str, &'a str)],
) -> impl std::future::Future<Output = i64> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let path = format!("/admin/{model}/add/");
        c.get(&path).await.expect(200);
        let mut all = fields.to_vec();
        all.push(("_continue", "1"));
        let r = c.post(&path, &all).await;
        assert_eq!(r.status, 302, "adding to {model} (at {caller}): {r:?}");
        conformance::admin::id_in(&r.location().unwrap_or_default())
    }
}

/// The page after following a redirect.
pub async fn follow(c: &AdminClient, r: &Page) -> Page {
    let to = r.redirects_to();
    c.get(&to).await
}
