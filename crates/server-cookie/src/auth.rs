//! Login, logout, and the middleware that turns a session into a `Principal` and enforces CSRF.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use inventory_core::models::User;
use inventory_core::services::users;
use inventory_web::api::{no_content, resource};
use std::sync::Arc;

use inventory_web::extract::{LoginRef, PendingAuth, PendingFn};
use inventory_web::login::password_login;
use inventory_web::{blocking, ApiError, AppState, Caller, JsonBody};
use serde::Deserialize;

/// Session keys: the user's id and the session's CSRF secret.
pub const UID: &str = "uid";
pub const CSRF: &str = "csrf";
/// Identifies this login across session-key renewals, so a password change can spare it.
pub const LOGIN_ID: &str = "lid";
const CSRF_COOKIE: &str = "csrftoken";
const CSRF_HEADER: &str = "x-csrftoken";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/auth/login").route(web::post().to(login)))
        .service(resource("/api/auth/logout").route(web::post().to(logout)));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    username: String,
    password: String,
}

fn csrf_failed(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", detail)
}

/// True when `Origin` is absent, the server's own, or a configured trusted origin.
fn origin_allowed(req: &HttpRequest, st: &AppState) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    if origin.eq_ignore_ascii_case(&own) {
        return true;
    }
    // Behind a TLS proxy the scheme we see may be http while the browser says https.
    let host_only = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    if st.settings.trusted_proxies.is_empty()
        && host_only.eq_ignore_ascii_case(info.host())
        && origin.starts_with("https://")
    {
        return true;
    }
    st.settings
        .trusted_origins
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .any(|o| !o.is_empty() && o.eq_ignore_ascii_case(origin))
}

fn new_csrf_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
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
        let pending: Arc<PendingFn> = Arc::new(move |conn| {
            Ok(users::load_principal(conn, uid)?.map(|(principal, _)| principal))
        });
        req.extensions_mut().insert(PendingAuth(pending));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
