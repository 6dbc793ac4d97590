//! Users (§2.5), the caller's own profile, and login attempts.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::users::{
    self, AttemptFilter, NewUserInput, ProfilePatch, UserFilter, UserPatch,
};

use super::{no_content, resource, State};
use crate::error::ApiError;
use crate::extract::{paginated, query, Caller, JsonBody, PageParams};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/api/auth/me")
            .route(web::get().to(me))
            .route(web::patch().to(update_me)),
    )
    .service(resource("/api/auth/login-attempts").route(web::get().to(login_attempts)))
    .service(
        resource("/api/users")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        resource(r"/api/users/{id:\d+}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::put().to(update))
            .route(web::delete().to(deactivate)),
    )
    .service(resource(r"/api/users/{id:\d+}/unlock").route(web::post().to(unlock)));
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = inventory_core::models::User), (status = 401)))]
pub async fn me(st: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    let u = caller
        .run(&st, move |core, ctx| {
            users::get(core, ctx, ctx.user()?.user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(u))
}

#[utoipa::path(patch, path = "/api/auth/me", tag = "auth", request_body = ProfilePatch, responses((status = 200, body = inventory_core::models::User)))]
pub async fn update_me(
    st: State,
    caller: Caller,
    body: JsonBody<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let u = caller
        .run(&st, move |core, ctx| {
            users::update_profile(core, ctx, body.0)
        })
        .await?;
    Ok(HttpResponse::Ok().json(u))
}

#[utoipa::path(get, path = "/api/auth/login-attempts", tag = "auth", params(AttemptFilter, PageParams), responses((status = 200, description = "A page of login attempts")))]
pub async fn login_attempts(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: AttemptFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| {
            users::login_attempts(core, ctx, &f, page)
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(get, path = "/api/users", tag = "users", params(UserFilter, PageParams), responses((status = 200, description = "A page of users")))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: UserFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| users::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/users", tag = "users", request_body = NewUserInput, responses((status = 201, body = inventory_core::models::User)))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<NewUserInput>,
) -> Result<HttpResponse, ApiError> {
    let u = caller
        .run(&st, move |core, ctx| users::create(core, ctx, body.0))
        .await?;
    Ok(HttpResponse::Created().json(u))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", responses((status = 200, body = inventory_core::models::User)))]
pub async fn get(st: State, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let u = caller
        .run(&st, move |core, ctx| users::get(core, ctx, id))
        .await?;
    Ok(HttpResponse::Ok().json(u))
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", request_body = UserPatch, responses((status = 200, body = inventory_core::models::User)))]
pub async fn update(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let u = caller
        .run(&st, move |core, ctx| users::patch(core, ctx, id, body.0))
        .await?;
    Ok(HttpResponse::Ok().json(u))
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", responses((status = 204, description = "Deactivated")))]
pub async fn deactivate(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .run(&st, move |core, ctx| users::deactivate(core, ctx, id))
        .await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/users/{id}/unlock", tag = "users", responses((status = 200, body = inventory_core::models::User)))]
pub async fn unlock(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let u = caller
        .run(&st, move |core, ctx| users::unlock(core, ctx, id))
        .await?;
    Ok(HttpResponse::Ok().json(u))
}
