//! Customers (sales).

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::models::Customer;
use inventory_core::services::customers::{self, CustomerInput, CustomerQuery};

use super::State;
use crate::error::ApiError;
use crate::extract::{paginated, query, require_for_put, Caller, JsonBody, PageParams};

#[utoipa::path(get, operation_id = "list_customers", path = "/api/customers", tag = "sales", params(CustomerQuery, PageParams), responses((status = 200, description = "A page of customers", body = crate::extract::PageBody<Customer>)))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let q: CustomerQuery = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| customers::list(core, ctx, &q, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, operation_id = "create_customer", path = "/api/customers", tag = "sales", request_body = CustomerInput, responses((status = 201, body = Customer)))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<CustomerInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| customers::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, operation_id = "get_customer", path = "/api/customers/{id}", tag = "sales", responses((status = 200, body = Customer)))]
pub async fn get(st: State, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| customers::get(core, ctx, id))
        .await
}

#[utoipa::path(patch, operation_id = "update_customer", path = "/api/customers/{id}", tag = "sales", request_body = CustomerInput, responses((status = 200, body = Customer)))]
pub async fn update(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<CustomerInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            customers::update(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(put, operation_id = "replace_customer", path = "/api/customers/{id}", tag = "sales", request_body = CustomerInput, responses((status = 200, body = Customer)))]
pub async fn replace(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<CustomerInput>,
) -> Result<HttpResponse, ApiError> {
    require_for_put(&[("name", body.0.name.is_some())])?;
    update(st, caller, id, body).await
}

#[utoipa::path(delete, operation_id = "delete_customer", path = "/api/customers/{id}", tag = "sales", responses((status = 204, description = "Deleted")))]
pub async fn delete(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| customers::delete(core, ctx, id))
        .await
}
