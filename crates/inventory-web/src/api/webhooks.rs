//! Webhooks (§11), admins only: registering receivers, their delivery log, and a ping.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::webhooks::{self, WebhookInput};

use super::State;
use crate::error::ApiError;
use crate::extract::{paginated, Caller, JsonBody, PageParams};

#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks", params(PageParams),
    responses((status = 200, description = "A page of webhooks (never their secrets)", body = crate::extract::PageBody<webhooks::Webhook>), (status = 401), (status = 403)))]
pub async fn list_webhooks(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let data = caller
        .run(&st, move |core, ctx| webhooks::list(core, ctx, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "The webhook, with its signing secret shown this once", body = webhooks::CreatedWebhook),
        (status = 400, description = "A bad URL (or one reaching a private address) or event"), (status = 401), (status = 403)))]
pub async fn create_webhook(
    st: State,
    caller: Caller,
    body: JsonBody<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| webhooks::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "webhooks",
    responses((status = 200, body = webhooks::Webhook), (status = 401), (status = 403), (status = 404)))]
pub async fn get_webhook(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| webhooks::get(core, ctx, id))
        .await
}

#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks", request_body = WebhookInput,
    responses((status = 200, body = webhooks::Webhook), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_webhook(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            webhooks::update(core, ctx, id, body.0, false)
        })
        .await
}

#[utoipa::path(put, path = "/api/webhooks/{id}", tag = "webhooks", request_body = WebhookInput,
    responses((status = 200, body = webhooks::Webhook), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn replace_webhook(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            webhooks::update(core, ctx, id, body.0, true)
        })
        .await
}

#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    responses((status = 204, description = "Deleted, with its queued deliveries"), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_webhook(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| webhooks::delete(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks", params(PageParams),
    responses((status = 200, description = "A page of delivery attempts, newest first", body = crate::extract::PageBody<webhooks::Attempt>),
        (status = 401), (status = 403), (status = 404)))]
pub async fn webhook_deliveries(
    st: State,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let id = id.into_inner();
    let data = caller
        .run(&st, move |core, ctx| {
            webhooks::attempts(core, ctx, id, page)
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/webhooks/{id}/ping", tag = "webhooks",
    responses((status = 202, description = "A ping is queued for this webhook", body = webhooks::Queued),
        (status = 401), (status = 403), (status = 404)))]
pub async fn ping_webhook(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let queued = caller
        .run(&st, move |core, ctx| webhooks::ping(core, ctx, id))
        .await?;
    Ok(HttpResponse::Accepted().json(queued))
}
