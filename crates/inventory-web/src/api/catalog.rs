//! Categories and suppliers.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::catalog::{self, CategoryInput, ListQuery, SupplierInput};
use inventory_core::services::links;

use super::State;
use crate::error::ApiError;
use crate::extract::{
    paginate_vec, paginated, query, require_for_put, Caller, JsonBody, PageParams,
};

#[utoipa::path(get, path = "/api/categories", tag = "catalog", params(ListQuery, PageParams), responses((status = 200, description = "A page of categories", body = crate::extract::PageBody<inventory_core::models::Category>)))]
pub async fn list_categories(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let q: ListQuery = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| {
            catalog::list_categories(core, ctx, &q, page)
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/categories", tag = "catalog", request_body = CategoryInput, responses((status = 201, body = inventory_core::models::Category)))]
pub async fn create_category(
    st: State,
    caller: Caller,
    body: JsonBody<CategoryInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| {
            catalog::create_category(core, ctx, body.0)
        })
        .await
}

#[utoipa::path(get, path = "/api/categories/{id}", tag = "catalog", responses((status = 200, body = inventory_core::models::Category)))]
pub async fn get_category(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| catalog::get_category(core, ctx, id))
        .await
}

#[utoipa::path(patch, path = "/api/categories/{id}", tag = "catalog", request_body = CategoryInput, responses((status = 200, body = inventory_core::models::Category)))]
pub async fn update_category(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<CategoryInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            catalog::update_category(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(put, path = "/api/categories/{id}", tag = "catalog", request_body = CategoryInput, responses((status = 200, body = inventory_core::models::Category)))]
pub async fn replace_category(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<CategoryInput>,
) -> Result<HttpResponse, ApiError> {
    require_for_put(&[("name", body.0.name.is_some())])?;
    update_category(st, caller, id, body).await
}

#[utoipa::path(delete, path = "/api/categories/{id}", tag = "catalog", responses((status = 204, description = "Deleted"), (status = 409, description = "In use")))]
pub async fn delete_category(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| {
            catalog::delete_category(core, ctx, id)
        })
        .await
}

#[utoipa::path(get, path = "/api/suppliers", tag = "catalog", params(ListQuery, PageParams), responses((status = 200, description = "A page of suppliers", body = crate::extract::PageBody<inventory_core::models::Supplier>)))]
pub async fn list_suppliers(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let q: ListQuery = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| {
            catalog::list_suppliers(core, ctx, &q, page)
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/suppliers", tag = "catalog", request_body = SupplierInput, responses((status = 201, body = inventory_core::models::Supplier)))]
pub async fn create_supplier(
    st: State,
    caller: Caller,
    body: JsonBody<SupplierInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| {
            catalog::create_supplier(core, ctx, body.0)
        })
        .await
}

#[utoipa::path(get, path = "/api/suppliers/{id}", tag = "catalog", responses((status = 200, body = inventory_core::models::Supplier)))]
pub async fn get_supplier(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| catalog::get_supplier(core, ctx, id))
        .await
}

#[utoipa::path(patch, path = "/api/suppliers/{id}", tag = "catalog", request_body = SupplierInput, responses((status = 200, body = inventory_core::models::Supplier)))]
pub async fn update_supplier(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<SupplierInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            catalog::update_supplier(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(put, path = "/api/suppliers/{id}", tag = "catalog", request_body = SupplierInput, responses((status = 200, body = inventory_core::models::Supplier)))]
pub async fn replace_supplier(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<SupplierInput>,
) -> Result<HttpResponse, ApiError> {
    require_for_put(&[("name", body.0.name.is_some())])?;
    update_supplier(st, caller, id, body).await
}

#[utoipa::path(delete, path = "/api/suppliers/{id}", tag = "catalog", responses((status = 204, description = "Deleted")))]
pub async fn delete_supplier(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| {
            catalog::delete_supplier(core, ctx, id)
        })
        .await
}

#[utoipa::path(get, path = "/api/suppliers/{id}/products", tag = "catalog", params(PageParams), responses((status = 200, description = "A page of the supplier's product links", body = crate::extract::PageBody<inventory_core::models::LinkView>)))]
pub async fn supplier_products(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = PageParams::from_req(&req)?;
    let l = caller
        .run(&st, move |core, ctx| {
            links::list_for_supplier(core, ctx, id)
        })
        .await?;
    paginate_vec(&req, page, l)
}
