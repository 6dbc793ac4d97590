//! API.md §2.3: verification and reset emails carry a link under `PUBLIC_URL` (never the
//! request's `Host`), and the page it opens completes the step with a plain form: opening the
//! link spends nothing, the POST does, once; a weak or mistyped password is shown beside the
//! field; a used or forged token gets a page that says so, never a 5xx. On `server-cookie` a
//! browser that also holds an API session needs no CSRF token for these token-authenticated
//! forms.

use conformance::mail::token_in;
use conformance::{json, variants, Method, Raw, TestApp, USER_PASSWORD};

fn open_with_public_url(s: &mut inventory_web::Settings) {
    s.registration = true;
    s.public_url = Some("https://inv.example.com/".into());
}

fn form(path: &str, body: &str) -> Raw {
    Raw::new(Method::POST, path).body("application/x-www-form-urlencoded", body.to_owned())
}

async fn emailed_links_open_pages_that_complete_the_step(app: TestApp) {
    let guest = app.client();
    // The root client holds a session (cookie server) or a token (JWT server): the forms
    // must work either way.
    let browser = app.root().await;
    guest
        .post(
            "/api/auth/register",
            json!({"username": "linked", "email": "linked@example.com", "password": USER_PASSWORD}),
        )
        .await
        .expect(201);
    let mail = app
        .wait_for_email("linked@example.com", "verify-email")
        .await;
    let token = token_in(&mail).expect("a token");
    assert!(
        mail.contains(&format!(
            "https://inv.example.com/verify-email?token={token}"
        )),
        "the link is under PUBLIC_URL: {mail}"
    );

    let page = guest
        .raw(Raw::new(
            Method::GET,
            format!("/verify-email?token={token}"),
        ))
        .await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Confirm my address"), "{}", page.text);
    assert!(
        page.text.contains(&format!("value=\"{token}\"")),
        "{}",
        page.text
    );
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("script-src 'self'")),
        "{page:?}"
    );
    // Opening the link (as a mail scanner would) spends nothing.
    app.client()
        .login("linked", USER_PASSWORD)
        .await
        .expect(401);

    let done = browser
        .raw(form("/verify-email", &format!("token={token}")))
        .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(
        done.text.contains("Your address is confirmed"),
        "{}",
        done.text
    );
    app.client()
        .login("linked", USER_PASSWORD)
        .await
        .expect(200);
    let again = browser
        .raw(form("/verify-email", &format!("token={token}")))
        .await;
    assert_eq!(again.status, 400);
    assert!(
        again.text.contains("invalid, used or expired"),
        "{}",
        again.text
    );
    let missing = guest.raw(Raw::new(Method::GET, "/verify-email")).await;
    assert_eq!(missing.status, 400);
    assert!(missing.text.contains("incomplete"), "{}", missing.text);

    // Reset, asked with a forged Host: the link still starts with PUBLIC_URL.
    guest
        .raw(
            Raw::new(Method::POST, "/api/auth/password/reset")
                .json(&json!({"email": "linked@example.com"}))
                .header("Host", "evil.example.com"),
        )
        .await;
    let mail = app
        .wait_for_email("linked@example.com", "reset-password")
        .await;
    let token = token_in(&mail).expect("a reset token");
    assert!(
        mail.contains(&format!(
            "https://inv.example.com/reset-password?token={token}"
        )),
        "{mail}"
    );
    assert!(!mail.contains("evil.example.com"), "{mail}");
    let page = guest
        .raw(Raw::new(
            Method::GET,
            format!("/reset-password?token={token}"),
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("name=\"new_password\""), "{}", page.text);

    let new_password = "Brand-New-Garden-Hose-42";
    let mistyped = browser
        .raw(form(
            "/reset-password",
            &format!("token={token}&new_password={new_password}&new_password_again=other"),
        ))
        .await;
    assert_eq!(mistyped.status, 400);
    assert!(
        mistyped.text.contains("The two passwords differ."),
        "{}",
        mistyped.text
    );
    let weak = browser
        .raw(form(
            "/reset-password",
            &format!("token={token}&new_password=1234567890&new_password_again=1234567890"),
        ))
        .await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.text.contains("class=\"errorlist\""),
        "reasons beside the field: {}",
        weak.text
    );
    assert!(
        weak.text.contains("name=\"new_password\""),
        "the form is shown again"
    );
    let done = browser
        .raw(form(
            "/reset-password",
            &format!("token={token}&new_password={new_password}&new_password_again={new_password}"),
        ))
        .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(
        done.text.contains("Your password is changed"),
        "{}",
        done.text
    );
    app.client()
        .login("linked", USER_PASSWORD)
        .await
        .expect(401);
    app.client().login("linked", new_password).await.expect(200);
    let again = browser
        .raw(form(
            "/reset-password",
            &format!("token={token}&new_password={new_password}&new_password_again={new_password}"),
        ))
        .await;
    assert_eq!(again.status, 400);
    assert!(
        again.text.contains("invalid, used or expired"),
        "{}",
        again.text
    );
    // A body that is not a form is the same plain refusal.
    let junk = guest
        .raw(Raw::new(Method::POST, "/reset-password").json(&json!({"token": 1})))
        .await;
    assert_eq!(junk.status, 400);
}

variants!(with open_with_public_url: emailed_links_open_pages_that_complete_the_step);
