//! Token endpoints and the bearer middleware.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use inventory_core::services::{tokens as store, users};
use inventory_web::api::no_content;
use std::sync::Arc;

use inventory_core::auth::Principal;
use inventory_core::CoreError;
use inventory_web::extract::{LoginRef, PendingAuth, PendingFn};
use inventory_web::login::password_login;
use inventory_web::{blocking, ApiError, AppState, Caller, JsonBody};
use serde::Deserialize;

use crate::tokens::{random_id, Claims, Keys};

fn token_not_valid() -> ApiError {
    CoreError::token_not_valid().into()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObtainInput {
    username: String,
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    refresh: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyInput {
    token: String,
}

fn pair_body(access: String, refresh: String) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "access": access, "refresh": refresh }))
}

/// `POST /api/token`: password login; starts a new token family.
#[utoipa::path(post, path = "/api/token", tag = "auth", request_body = ObtainInput,
    responses((status = 200, description = "{access, refresh}"), (status = 401, description = "invalid_credentials"), (status = 403, description = "account_locked")))]
pub async fn obtain(
    st: web::Data<AppState>,
    keys: web::Data<Keys>,
    req: HttpRequest,
    body: JsonBody<ObtainInput>,
) -> Result<HttpResponse, ApiError> {
    let ctx = Caller::from_request_parts(&req);
    let ObtainInput { username, password } = body.0;
    let user = password_login(&st, ctx, username, password).await?;
    let core = st.core.clone();
    let keys = keys.get_ref().clone();
    let pair = blocking(move || {
        let fam = random_id();
        let pair = keys
            .pair(user.id, &fam)
            .map_err(inventory_core::CoreError::Internal)?;
        store::start_family(
            &core.db,
            user.id,
            &fam,
            &pair.refresh_claims.jti,
            pair.refresh_claims.expires_at(),
        )?;
        Ok(pair)
    })
    .await?;
    Ok(pair_body(pair.access, pair.refresh))
}

/// `POST /api/token/refresh`: rotates the refresh token; presenting a rotated one again is
/// treated as theft and revokes the whole family.
#[utoipa::path(post, path = "/api/token/refresh", tag = "auth", request_body = RefreshInput,
    responses((status = 200, description = "{access, refresh}"), (status = 401, description = "token_not_valid")))]
pub async fn refresh(
    st: web::Data<AppState>,
    keys: web::Data<Keys>,
    body: JsonBody<RefreshInput>,
) -> Result<HttpResponse, ApiError> {
    let claims = keys
        .check(&body.0.refresh, Some("refresh"))
        .ok_or_else(token_not_valid)?;
    let core = st.core.clone();
    let keys = keys.get_ref().clone();
    let pair = blocking(move || {
        let active = core.db.read(|c| users::load_principal(c, claims.user_id))?;
        if active.is_none() {
            return Ok(None);
        }
        let pair = keys
            .pair(claims.user_id, &claims.fam)
            .map_err(inventory_core::CoreError::Internal)?;
        let outcome = store::rotate(
            &core.db,
            &claims.jti,
            claims.user_id,
            &claims.fam,
            &pair.refresh_claims.jti,
            pair.refresh_claims.expires_at(),
        )?;
        Ok(match outcome {
            store::Rotation::Rotated => Some(pair),
            store::Rotation::Reused => {
                tracing::warn!(
                    user_id = claims.user_id,
                    "rotated refresh token presented again; family revoked"
                );
                None
            }
            store::Rotation::Invalid => None,
        })
    })
    .await?;
    let pair = pair.ok_or_else(token_not_valid)?;
    Ok(pair_body(pair.access, pair.refresh))
}

fn check_live(core: &inventory_core::Core, c: &Claims) -> Result<bool, inventory_core::CoreError> {
    core.db.read(|conn| {
        if store::is_revoked(conn, &c.jti, &c.fam)? {
            return Ok(false);
        }
        Ok(users::load_principal(conn, c.user_id)?.is_some())
    })
}

/// `POST /api/token/verify`: 200 `{}` for a valid, unrevoked token of an active user.
#[utoipa::path(post, path = "/api/token/verify", tag = "auth", request_body = VerifyInput,
    responses((status = 200, description = "{}"), (status = 401, description = "token_not_valid")))]
pub async fn verify(
    st: web::Data<AppState>,
    keys: web::Data<Keys>,
    body: JsonBody<VerifyInput>,
) -> Result<HttpResponse, ApiError> {
    let claims = keys
        .check(&body.0.token, None)
        .ok_or_else(token_not_valid)?;
    let core = st.core.clone();
    if blocking(move || check_live(&core, &claims)).await? {
        Ok(HttpResponse::Ok().json(serde_json::json!({})))
    } else {
        Err(token_not_valid())
    }
}

/// `POST /api/token/blacklist`: that refresh token never works again.
#[utoipa::path(post, path = "/api/token/blacklist", tag = "auth", request_body = RefreshInput,
    responses((status = 204, description = "Blacklisted"), (status = 401, description = "token_not_valid")))]
pub async fn blacklist(
    st: web::Data<AppState>,
    keys: web::Data<Keys>,
    body: JsonBody<RefreshInput>,
) -> Result<HttpResponse, ApiError> {
    let claims = keys
        .check(&body.0.refresh, Some("refresh"))
        .ok_or_else(token_not_valid)?;
    let core = st.core.clone();
    if blocking(move || store::blacklist(&core.db, &claims.jti)).await? {
        Ok(no_content())
    } else {
        Err(token_not_valid())
    }
}

/// `POST /api/auth/logout`: blacklists the refresh token and revokes the presented access
/// token at once.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshInput,
    responses((status = 204, description = "Signed out"), (status = 401, description = "token_not_valid")))]
pub async fn logout(
    st: web::Data<AppState>,
    keys: web::Data<Keys>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<RefreshInput>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.resolve(&st).await?;
    let user_id = ctx.user()?.user_id;
    let access = req
        .extensions()
        .get::<Claims>()
        .cloned()
        .ok_or_else(token_not_valid)?;
    let refresh = keys
        .check(&body.0.refresh, Some("refresh"))
        .ok_or_else(token_not_valid)?;
    if refresh.user_id != user_id {
        return Err(token_not_valid());
    }
    let core = st.core.clone();
    blocking(move || {
        store::blacklist(&core.db, &refresh.jti)?;
        core.db.write(|c| {
            store::revoke_access(
                c,
                &access.jti,
                access.user_id,
                &access.fam,
                access.expires_at(),
            )?;
            users::record_logout(c, &ctx)
        })
    })
    .await?;
    Ok(no_content())
}

/// `Authorization: Bearer <access>` → `Principal`. A bad, expired, revoked or wrong-kind token
/// is a 401 `token_not_valid`; no header at all is a guest.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(pending) = inventory_web::extract::api_token_auth(req.request())
        .filter(|_| !req.path().starts_with("/admin"))
    {
        req.extensions_mut().insert(pending);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        });
    // The staff site signs in with its own session, never with a token.
    let bearer = bearer.filter(|_| !req.path().starts_with("/admin"));
    if let Some(token) = bearer {
        let Some(keys) = req.app_data::<web::Data<Keys>>().cloned() else {
            return Ok(req
                .into_response(ApiError::internal("auth state missing").error_response())
                .map_into_right_body());
        };
        let Some(claims) = keys.check(&token, Some("access")) else {
            return Ok(req
                .into_response(token_not_valid().error_response())
                .map_into_right_body());
        };
        // Signature and expiry are checked; whether the user is active and the token (or its
        // login) still unrevoked is looked up with the handler's own database work.
        let c2 = claims.clone();
        let pending: Arc<PendingFn> = Arc::new(move |core| {
            core.db.read(
                |conn| match store::user_for_access(conn, c2.user_id, &c2.jti, &c2.fam)? {
                    Some(u) => Ok(Some(Principal::from_user(&u)?)),
                    None => Err(CoreError::token_not_valid()),
                },
            )
        });
        req.extensions_mut().insert(PendingAuth(pending));
        req.extensions_mut().insert(LoginRef(claims.fam.clone()));
        req.extensions_mut().insert(claims);
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

/// Every 401 of this server names the scheme, as RFC 6750 asks.
pub async fn www_authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"api\""),
        );
    }
    Ok(res)
}
