//! API tokens (§11): the caller's own, and an admin's view of anyone's.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::api_tokens::{self, TokenInput};

use super::State;
use crate::error::ApiError;
use crate::extract::{paginated, Caller, JsonBody, PageParams};

#[utoipa::path(post, path = "/api/auth/tokens", tag = "auth", request_body = TokenInput,
    responses((status = 201, description = "The token, with its secret shown this once", body = api_tokens::CreatedToken),
        (status = 400), (status = 401), (status = 403, description = "Made with a token")))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<TokenInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| api_tokens::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, path = "/api/auth/tokens", tag = "auth", params(PageParams),
    responses((status = 200, description = "A page of the caller's live tokens (never their secrets)", body = crate::extract::PageBody<api_tokens::ApiToken>), (status = 401)))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let data = caller
        .run(&st, move |core, ctx| api_tokens::list_mine(core, ctx, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(delete, path = "/api/auth/tokens/{id}", tag = "auth",
    responses((status = 204, description = "Revoked"), (status = 401), (status = 404)))]
pub async fn revoke(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| api_tokens::revoke_mine(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/users/{id}/tokens", tag = "users", params(PageParams),
    responses((status = 200, description = "A page of the user's live tokens", body = crate::extract::PageBody<api_tokens::ApiToken>), (status = 403), (status = 404)))]
pub async fn list_for_user(
    st: State,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let id = id.into_inner();
    let data = caller
        .run(&st, move |core, ctx| {
            api_tokens::list_for_user(core, ctx, id, page)
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(delete, path = "/api/users/{id}/tokens/{token_id}", tag = "users",
    responses((status = 204, description = "Revoked"), (status = 403), (status = 404)))]
pub async fn revoke_for_user(
    st: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    caller
        .no_content(&st, move |core, ctx| {
            api_tokens::revoke_for_user(core, ctx, id, token_id)
        })
        .await
}
