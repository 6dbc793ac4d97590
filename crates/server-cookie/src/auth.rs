//! Login, logout, and the middleware that turns a session into a `Principal` and enforces CSRF.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use inventory_core::models::User;
use inventory_core::services::users;
use inventory_core::CoreError;
use inventory_web::api::no_content;
use std::sync::Arc;

use inventory_web::extract::{LoginRef, PendingAuth, PendingFn};
use inventory_web::login::password_login;
use inventory_web::session::{
    constant_eq, new_csrf_token, origin_allowed, CSRF, CSRF_COOKIE, LOGIN_ID, UID,
};
use inventory_web::{blocking, ApiError, AppState, Caller, JsonBody};
use serde::Deserialize;

const CSRF_HEADER: &str = "x-csrftoken";

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    username: String,
    password: String,
}

fn csrf_failed(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", detail)
}

/// `POST /api/auth/login`: a new session id at every login (no fixation) and a CSRF token.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, description = "Signed in; sets sessionid and csrftoken"), (status = 401, description = "invalid_credentials"), (status = 403, description = "account_locked or foreign Origin")))]
pub async fn login(
    st: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: JsonBody<LoginInput>,
) -> Result<HttpResponse, ApiError> {
    if !origin_allowed(&req, &st) {
        return Err(csrf_failed(
            "Origin checking failed: the request's origin is not trusted.",
        ));
    }
    let ctx = Caller::from_request_parts(&req);
    let LoginInput { username, password } = body.0;
    let user = password_login(&st, ctx, username, password).await?;
    session.renew();
    let token = new_csrf_token();
    session
        .insert(UID, user.id)
        .and_then(|_| session.insert(CSRF, &token))
        .and_then(|_| session.insert(LOGIN_ID, hex::encode(rand::random::<[u8; 16]>())))
        .map_err(ApiError::internal)?;
    let cookie = Cookie::build(CSRF_COOKIE, token)
        .path("/")
        .http_only(false)
        .secure(st.settings.cookie_secure())
        .same_site(SameSite::Lax)
        .finish();
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .json(serde_json::json!({ "user": User::from(user) })))
}

/// `POST /api/auth/logout`: deletes the session on the server, so the old cookie is dead.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204, description = "Signed out")))]
pub async fn logout(
    st: web::Data<AppState>,
    caller: Caller,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.resolve(&st).await?;
    ctx.user()?;
    let core = st.core.clone();
    blocking(move || core.db.write(|c| users::record_logout(c, &ctx))).await?;
    session.purge();
    let mut res = no_content();
    let mut gone = Cookie::build(CSRF_COOKIE, "").path("/").finish();
    gone.make_removal();
    res.add_removal_cookie(&gone).map_err(ApiError::internal)?;
    Ok(res)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Session → `Principal`. Unsafe requests made with a session must carry `X-CSRFToken` equal
/// to the session's token and an acceptable `Origin`; login is exempt (it has no session yet).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    // The staff site checks its own CSRF field and loads its own user (admin::auth).
    // The emailed-link pages authenticate by their token and never read the session.
    if req.path().starts_with("/admin") || inventory_web::pages::PATHS.contains(&req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    // An API token stands on its own: no session is read and no CSRF token is asked for.
    if let Some(pending) = inventory_web::extract::api_token_auth(req.request()) {
        req.extensions_mut().insert(pending);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let session = req.get_session();
    let uid: Option<i64> = session.get(UID).unwrap_or(None);
    if let (Some(uid), Some(st)) = (uid, req.app_data::<web::Data<AppState>>().cloned()) {
        let is_login = req.path().trim_end_matches('/') == "/api/auth/login";
        if is_unsafe(req.method()) && !is_login {
            let expected: Option<String> = session.get(CSRF).unwrap_or(None);
            let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let ok = matches!((&expected, given), (Some(e), Some(g)) if !e.is_empty() && constant_eq(e, g));
            if !ok {
                let e = csrf_failed("CSRF token missing or incorrect.");
                return Ok(req.into_response(e.error_response()).map_into_right_body());
            }
            if !origin_allowed(req.request(), &st) {
                let e = csrf_failed("Origin checking failed: the request's origin is not trusted.");
                return Ok(req.into_response(e.error_response()).map_into_right_body());
            }
        }
        if let Ok(Some(lid)) = session.get::<String>(LOGIN_ID) {
            req.extensions_mut().insert(LoginRef(lid));
        }
        // The session says who; whether that user is still active is looked up with the
        // handler's own database work (a deactivated user's request runs as a guest's).
        let pending: Arc<PendingFn> = Arc::new(move |core| {
            core.db
                .read(|conn| Ok(users::load_principal(conn, uid)?.map(|(principal, _)| principal)))
        });
        req.extensions_mut().insert(PendingAuth(pending));
    } else if req.app_data::<web::Data<AppState>>().is_some_and(|st| {
        inventory_web::openapi::needs_credentials(
            &st.allow,
            req.method(),
            req.path(),
            st.settings.public_read,
        )
    }) {
        let e = ApiError::from(CoreError::not_authenticated());
        return Ok(req.into_response(e.error_response()).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
