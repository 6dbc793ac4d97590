//! API.md §2.2: what only the JWT server does: token pairs, rotation, verification,
//! blacklisting, logout, and the refusal of every kind of bad token.

use conformance::jwt::{claims, header, unsigned, with_bad_signature, with_claims};
use conformance::{
    json, server_variants, Client, Method, Raw, Resp, TestApp, ROOT_PASSWORD, ROOT_USERNAME,
};
use std::time::Duration;

/// Asserts the answer to a bad token: 401 `token_not_valid` with `WWW-Authenticate: Bearer`.
#[track_caller]
fn assert_token_refused(r: &Resp) {
    r.expect_error(401, "token_not_valid");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "a refused token is answered with WWW-Authenticate: Bearer: {r:?}"
    );
}

/// `GET /api/auth/me` with exactly this bearer token.
async fn me_with(app: &TestApp, token: &str) -> Resp {
    app.client()
        .raw(
            Raw::new(Method::GET, "/api/auth/me")
                .header("Authorization", &format!("Bearer {token}")),
        )
        .await
}

async fn refresh(c: &Client, token: &str) -> Resp {
    c.post("/api/token/refresh", json!({ "refresh": token }))
        .await
}

async fn a_token_pair_carries_the_documented_claims(app: TestApp) {
    let root = app.root().await;
    let access = root.access_token().unwrap();
    let refresh = root.refresh_token().unwrap();
    assert_eq!(header(&access)["alg"], "HS256");
    let a = claims(&access);
    let r = claims(&refresh);
    assert_eq!(a["token_type"], "access");
    assert_eq!(r["token_type"], "refresh");
    for c in [&a, &r] {
        let user_id = c["user_id"]
            .as_i64()
            .or_else(|| c["user_id"].as_str().and_then(|s| s.parse().ok()));
        assert_eq!(user_id, Some(root.user_id()), "{c}");
        assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()), "{c}");
    }
    assert_ne!(a["jti"], r["jti"]);
    let life = |c: &serde_json::Value| c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap();
    assert_eq!(life(&a), app.settings.jwt_access_ttl_seconds);
    assert_eq!(life(&r), app.settings.jwt_refresh_ttl_seconds);
}

async fn refreshing_rotates_the_refresh_token(app: TestApp) {
    let root = app.root().await;
    let old = root.refresh_token().unwrap();
    let r = refresh(&root, &old).await;
    let pair = r.expect(200).clone();
    let new_access = pair["access"].as_str().unwrap();
    let new_refresh = pair["refresh"].as_str().unwrap();
    assert_ne!(new_refresh, old);
    me_with(&app, new_access).await.expect(200);

    assert_token_refused(&refresh(&app.client(), &old).await);
}

async fn presenting_a_rotated_refresh_token_again_revokes_its_descendants(app: TestApp) {
    let root = app.root().await;
    let first = root.refresh_token().unwrap();
    let pair = refresh(&root, &first).await.expect(200).clone();
    let second = pair["refresh"].as_str().unwrap().to_owned();
    let second_access = pair["access"].as_str().unwrap().to_owned();
    me_with(&app, &second_access).await.expect(200);
    // A thief replays the first token: it fails, and every token of that login dies with it.
    assert_token_refused(&refresh(&app.client(), &first).await);
    assert_token_refused(&refresh(&app.client(), &second).await);
    assert_token_refused(&me_with(&app, &second_access).await);
    // Another login is a new family and unaffected.
    app.root().await.get("/api/auth/me").await.expect(200);
}

async fn verify_accepts_good_tokens_and_refuses_bad_ones(app: TestApp) {
    let root = app.root().await;
    let guest = app.client();
    let access = root.access_token().unwrap();
    let r = guest
        .post("/api/token/verify", json!({ "token": access }))
        .await;
    assert_eq!(r.expect(200), &json!({}));
    guest
        .post(
            "/api/token/verify",
            json!({ "token": root.refresh_token().unwrap() }),
        )
        .await
        .expect(200);
    assert_token_refused(
        &guest
            .post(
                "/api/token/verify",
                json!({ "token": with_bad_signature(&access) }),
            )
            .await,
    );
    assert_token_refused(
        &guest
            .post("/api/token/verify", json!({ "token": "not.a.token" }))
            .await,
    );
    let r = guest.post("/api/token/verify", json!({})).await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
}

async fn a_blacklisted_refresh_token_never_works_again(app: TestApp) {
    let root = app.root().await;
    let token = root.refresh_token().unwrap();
    app.client()
        .post("/api/token/blacklist", json!({ "refresh": token }))
        .await
        .expect(204);
    assert_token_refused(&refresh(&app.client(), &token).await);
    let r = app
        .client()
        .post("/api/token/verify", json!({ "token": token }))
        .await;
    assert_token_refused(&r);
}

async fn logging_out_revokes_the_access_token_at_once(app: TestApp) {
    let root = app.root().await;
    let access = root.access_token().unwrap();
    let refresh_token = root.refresh_token().unwrap();
    root.logout().await.expect(204);
    assert_token_refused(&me_with(&app, &access).await);
    assert_token_refused(&refresh(&app.client(), &refresh_token).await);
    // The user can still sign in again.
    app.root().await.get("/api/auth/me").await.expect(200);
}

async fn a_tampered_or_unsigned_token_is_refused(app: TestApp) {
    let root = app.root().await;
    let access = root.access_token().unwrap();
    assert_token_refused(&me_with(&app, &with_bad_signature(&access)).await);
    assert_token_refused(&me_with(&app, &unsigned(&access)).await);
    let mut forged = claims(&access);
    forged["exp"] = json!(forged["exp"].as_i64().unwrap() + 86_400);
    assert_token_refused(&me_with(&app, &with_claims(&access, &forged)).await);
    assert_token_refused(&me_with(&app, "garbage").await);
    assert_token_refused(&me_with(&app, "a.b.c").await);
}

async fn a_token_for_another_user_cannot_be_forged_from_a_real_one(app: TestApp) {
    let employee = app.user_with_role("employee").await;
    let root = app.root().await;
    let access = employee.access_token().unwrap();
    let mut forged = claims(&access);
    forged["user_id"] = json!(root.user_id());
    assert_token_refused(&me_with(&app, &with_claims(&access, &forged)).await);
    let mut other_alg = header(&access);
    other_alg["alg"] = json!("HS512");
    let (_, rest) = access.split_once('.').unwrap();
    let token = format!(
        "{}.{rest}",
        conformance::jwt::b64url_encode(other_alg.to_string().as_bytes())
    );
    assert_token_refused(&me_with(&app, &token).await);
}

async fn a_refresh_token_is_not_an_access_token_and_vice_versa(app: TestApp) {
    let root = app.root().await;
    assert_token_refused(&me_with(&app, &root.refresh_token().unwrap()).await);
    assert_token_refused(&refresh(&app.client(), &root.access_token().unwrap()).await);
}

async fn a_deactivated_users_tokens_stop_working(app: TestApp) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    root.delete(&format!("/api/users/{}", employee.user_id()))
        .await
        .expect(204);
    assert_token_refused(&employee.get("/api/auth/me").await);
    assert_token_refused(&refresh(&app.client(), &employee.refresh_token().unwrap()).await);
}

async fn a_malformed_authorization_header_is_refused(app: TestApp) {
    let root = app.root().await;
    let access = root.access_token().unwrap();
    for value in [
        format!("Token {access}"),
        "Bearer".to_owned(),
        format!("Bearer {access} extra"),
    ] {
        let r = app
            .client()
            .raw(Raw::new(Method::GET, "/api/auth/me").header("Authorization", &value))
            .await;
        r.expect(401);
    }
}

async fn the_token_endpoints_accept_a_trailing_slash(app: TestApp) {
    let guest = app.client();
    let r = guest
        .post(
            "/api/token/",
            json!({"username": ROOT_USERNAME, "password": ROOT_PASSWORD}),
        )
        .await;
    let pair = r.expect(200).clone();
    let access = pair["access"].as_str().unwrap();
    let refresh_token = pair["refresh"].as_str().unwrap();
    guest
        .post("/api/token/verify/", json!({ "token": access }))
        .await
        .expect(200);
    let r = guest
        .post("/api/token/refresh/", json!({ "refresh": refresh_token }))
        .await;
    let rotated = r.expect(200)["refresh"].as_str().unwrap().to_owned();
    guest
        .post("/api/token/blacklist/", json!({ "refresh": rotated }))
        .await
        .expect(204);
}

async fn the_jwt_server_needs_no_csrf_token(app: TestApp) {
    let root = app.root().await;
    assert!(root.cookie("csrftoken").is_none());
    root.post("/api/categories", json!({"name": "Tools"}))
        .await
        .expect(201);
    assert!(
        root.cookie("sessionid").is_none(),
        "the JWT server sets no session cookie"
    );
}

fn short_tokens(s: &mut inventory_web::Settings) {
    s.jwt_access_ttl_seconds = 1;
}

async fn an_expired_access_token_is_refused(app: TestApp) {
    let root = app.root().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_token_refused(&root.get("/api/auth/me").await);
    let fresh = refresh(&app.client(), &root.refresh_token().unwrap()).await;
    let access = fresh.expect(200)["access"].as_str().unwrap().to_owned();
    me_with(&app, &access).await.expect(200);
}

server_variants!(
    Jwt,
    a_token_pair_carries_the_documented_claims,
    refreshing_rotates_the_refresh_token,
    presenting_a_rotated_refresh_token_again_revokes_its_descendants,
    verify_accepts_good_tokens_and_refuses_bad_ones,
    a_blacklisted_refresh_token_never_works_again,
    logging_out_revokes_the_access_token_at_once,
    a_tampered_or_unsigned_token_is_refused,
    a_token_for_another_user_cannot_be_forged_from_a_real_one,
    a_refresh_token_is_not_an_access_token_and_vice_versa,
    a_deactivated_users_tokens_stop_working,
    a_malformed_authorization_header_is_refused,
    the_token_endpoints_accept_a_trailing_slash,
    the_jwt_server_needs_no_csrf_token,
);
server_variants!(Jwt, with short_tokens: an_expired_access_token_is_refused);
