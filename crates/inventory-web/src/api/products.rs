//! Products and their supplier links.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::links::{self, LinkInput};
use inventory_core::services::products::{self, ProductFilter, ProductInput};
use serde::Deserialize;

use super::State;
use crate::error::ApiError;
use crate::extract::{paginate_vec, query, require_for_put, Caller, JsonBody, PageParams};

#[utoipa::path(get, operation_id = "list_products", path = "/api/products", tag = "catalog", params(ProductFilter, PageParams, crate::extract::CursorParam), responses((status = 200, description = "A page of products", body = crate::extract::ListBody<inventory_core::models::ProductView>)))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let f: ProductFilter = query(&req)?;
    let g = f.clone();
    crate::extract::listed(
        &st,
        caller,
        &req,
        move |core, ctx, page| products::list(core, ctx, &f, page),
        move |core, ctx, cursor| products::list_by_cursor(core, ctx, &g, cursor),
    )
    .await
}

#[utoipa::path(post, operation_id = "create_product", path = "/api/products", tag = "catalog", request_body = ProductInput, responses((status = 201, body = inventory_core::models::ProductView)))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<ProductInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| products::create(core, ctx, body.0))
        .await
}

#[derive(Deserialize)]
struct DetailQuery {
    include_deleted: Option<bool>,
}

#[utoipa::path(get, operation_id = "get_product", path = "/api/products/{id}", tag = "catalog", responses((status = 200, body = inventory_core::models::ProductView)))]
pub async fn get(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let q: DetailQuery = query(&req)?;
    let include_deleted = q.include_deleted == Some(true);
    caller
        .ok(&st, move |core, ctx| {
            products::get(core, ctx, id, include_deleted)
        })
        .await
}

#[utoipa::path(patch, operation_id = "update_product", path = "/api/products/{id}", tag = "catalog", request_body = ProductInput, responses((status = 200, body = inventory_core::models::ProductView)))]
pub async fn update(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<ProductInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            products::update(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(put, operation_id = "replace_product", path = "/api/products/{id}", tag = "catalog", request_body = ProductInput, responses((status = 200, body = inventory_core::models::ProductView)))]
pub async fn replace(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<ProductInput>,
) -> Result<HttpResponse, ApiError> {
    let b = &body.0;
    require_for_put(&[
        ("sku", b.sku.is_some()),
        ("name", b.name.is_some()),
        ("price", b.price.is_some()),
    ])?;
    update(st, caller, id, body).await
}

#[utoipa::path(delete, operation_id = "delete_product", path = "/api/products/{id}", tag = "catalog", responses((status = 204, description = "Soft-deleted")))]
pub async fn delete(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| products::delete(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/products/{id}/suppliers", tag = "catalog", params(PageParams), responses((status = 200, description = "A page of the product's supplier links", body = crate::extract::PageBody<inventory_core::models::LinkView>)))]
pub async fn list_links(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = PageParams::from_req(&req)?;
    let l = caller
        .run(&st, move |core, ctx| links::list_for_product(core, ctx, id))
        .await?;
    paginate_vec(&req, page, l)
}

#[utoipa::path(get, path = "/api/products/{id}/suppliers/{supplier_id}", tag = "catalog", responses((status = 200, body = inventory_core::models::LinkView)))]
pub async fn get_link(
    st: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, sid) = path.into_inner();
    caller
        .ok(&st, move |core, ctx| links::get(core, ctx, id, sid))
        .await
}

#[utoipa::path(post, path = "/api/products/{id}/suppliers", tag = "catalog", request_body = LinkInput, responses((status = 201, body = inventory_core::models::LinkView), (status = 409, description = "Duplicate link")))]
pub async fn create_link(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<LinkInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .created(&st, move |core, ctx| links::create(core, ctx, id, body.0))
        .await
}

#[utoipa::path(put, path = "/api/products/{id}/suppliers/{supplier_id}", tag = "catalog", request_body = LinkInput, responses((status = 200, body = inventory_core::models::LinkView)))]
pub async fn replace_link(
    st: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    body: JsonBody<LinkInput>,
) -> Result<HttpResponse, ApiError> {
    update_link(st, caller, path, body).await
}

#[utoipa::path(patch, path = "/api/products/{id}/suppliers/{supplier_id}", tag = "catalog", request_body = LinkInput, responses((status = 200, body = inventory_core::models::LinkView)))]
pub async fn update_link(
    st: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    body: JsonBody<LinkInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, sid) = path.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            links::update(core, ctx, id, sid, body.0)
        })
        .await
}

#[utoipa::path(delete, path = "/api/products/{id}/suppliers/{supplier_id}", tag = "catalog", responses((status = 204, description = "Unlinked")))]
pub async fn delete_link(
    st: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, sid) = path.into_inner();
    caller
        .no_content(&st, move |core, ctx| links::delete(core, ctx, id, sid))
        .await
}
