//! Users (§2.5), the caller's own profile, and login attempts.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::users::{
    self, AttemptFilter, NewUserInput, ProfilePatch, UserFilter, UserPatch,
};

use super::State;
use crate::error::ApiError;
use crate::extract::{paginated, query, Caller, JsonBody, PageParams};

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = inventory_core::models::User), (status = 401)))]
pub async fn me(st: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller
        .ok(&st, move |core, ctx| {
            users::get(core, ctx, ctx.user()?.user_id)
        })
        .await
}

#[utoipa::path(patch, path = "/api/auth/me", tag = "auth", request_body = ProfilePatch, responses((status = 200, body = inventory_core::models::User)))]
pub async fn update_me(
    st: State,
    caller: Caller,
    body: JsonBody<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    caller
        .ok(&st, move |core, ctx| {
            users::update_profile(core, ctx, body.0)
        })
        .await
}

#[utoipa::path(get, path = "/api/auth/login-attempts", tag = "auth", params(AttemptFilter, PageParams, crate::extract::CursorParam), responses((status = 200, description = "A page of login attempts", body = crate::extract::ListBody<inventory_core::models::LoginAttempt>)))]
pub async fn login_attempts(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let f: AttemptFilter = query(&req)?;
    let g = f.clone();
    crate::extract::listed(
        &st,
        caller,
        &req,
        move |core, ctx, page| users::login_attempts(core, ctx, &f, page),
        move |core, ctx, cursor| users::login_attempts_by_cursor(core, ctx, &g, cursor),
    )
    .await
}

#[utoipa::path(get, operation_id = "list_users", path = "/api/users", tag = "users", params(UserFilter, PageParams), responses((status = 200, description = "A page of users", body = crate::extract::PageBody<inventory_core::models::User>)))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: UserFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| users::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, operation_id = "create_user", path = "/api/users", tag = "users", request_body = NewUserInput, responses((status = 201, body = inventory_core::models::User)))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<NewUserInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| users::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, operation_id = "get_user", path = "/api/users/{id}", tag = "users", responses((status = 200, body = inventory_core::models::User)))]
pub async fn get(st: State, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| users::get(core, ctx, id))
        .await
}

#[utoipa::path(put, operation_id = "replace_user", path = "/api/users/{id}", tag = "users", request_body = UserPatch, responses((status = 200, body = inventory_core::models::User)))]
pub async fn replace(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    update(st, caller, id, body).await
}

#[utoipa::path(patch, operation_id = "update_user", path = "/api/users/{id}", tag = "users", request_body = UserPatch, responses((status = 200, body = inventory_core::models::User)))]
pub async fn update(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| users::patch(core, ctx, id, body.0))
        .await
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", responses((status = 204, description = "Deactivated")))]
pub async fn deactivate(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| users::deactivate(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/users/{id}/unlock", tag = "users", responses((status = 200, body = inventory_core::models::User)))]
pub async fn unlock(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| users::unlock(core, ctx, id))
        .await
}
