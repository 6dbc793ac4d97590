//! Sales orders: drafts, confirmation (reservation), shipments, cancellation.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::sales::{
    self, ReturnInput, SalesFilter, SalesOrder, SalesOrderInput, SalesReturn, ShipInput,
};

use super::State;
use crate::error::ApiError;
use crate::extract::{paginate_vec, paginated, query, Caller, JsonBody, PageParams};

#[utoipa::path(get, operation_id = "list_sales_orders", path = "/api/sales-orders", tag = "sales", params(SalesFilter, PageParams), responses((status = 200, description = "A page of sales orders, newest first", body = crate::extract::PageBody<SalesOrder>)))]
pub async fn list(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: SalesFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| sales::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, operation_id = "create_sales_order", path = "/api/sales-orders", tag = "sales", request_body = SalesOrderInput, responses((status = 201, description = "A draft", body = SalesOrder)))]
pub async fn create(
    st: State,
    caller: Caller,
    body: JsonBody<SalesOrderInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| sales::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, operation_id = "get_sales_order", path = "/api/sales-orders/{id}", tag = "sales", responses((status = 200, body = SalesOrder)))]
pub async fn get(st: State, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| sales::get(core, ctx, id))
        .await
}

#[utoipa::path(patch, operation_id = "update_sales_order", path = "/api/sales-orders/{id}", tag = "sales", request_body = SalesOrderInput, responses((status = 200, body = SalesOrder), (status = 409, description = "Not a draft")))]
pub async fn update(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<SalesOrderInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| sales::update(core, ctx, id, body.0))
        .await
}

#[utoipa::path(delete, operation_id = "delete_sales_order", path = "/api/sales-orders/{id}", tag = "sales", responses((status = 204, description = "Deleted draft"), (status = 409, description = "Not a draft")))]
pub async fn delete(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| sales::delete(core, ctx, id))
        .await
}

/// The three moves without a body share one shape: the order after the move.
async fn act(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    f: fn(
        &inventory_core::context::Core,
        &inventory_core::auth::Ctx,
        i64,
    ) -> inventory_core::error::CoreResult<SalesOrder>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller.ok(&st, move |core, ctx| f(core, ctx, id)).await
}

#[utoipa::path(post, operation_id = "confirm_sales_order", path = "/api/sales-orders/{id}/confirm", tag = "sales", responses((status = 200, description = "Confirmed: every line reserved", body = SalesOrder), (status = 409, description = "insufficient_stock (nothing reserved) or invalid_transition")))]
pub async fn confirm(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    act(st, caller, id, sales::confirm).await
}

#[utoipa::path(post, operation_id = "ship_sales_order", path = "/api/sales-orders/{id}/ship", tag = "sales", request_body = ShipInput, responses((status = 200, body = SalesOrder), (status = 409, description = "over_shipment or invalid_transition")))]
pub async fn ship(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<ShipInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| sales::ship(core, ctx, id, body.0))
        .await
}

#[utoipa::path(post, operation_id = "cancel_sales_order", path = "/api/sales-orders/{id}/cancel", tag = "sales", responses((status = 200, description = "Cancelled: reservations released", body = SalesOrder), (status = 409, description = "invalid_transition")))]
pub async fn cancel(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    act(st, caller, id, sales::cancel).await
}

#[utoipa::path(post, operation_id = "return_sales_order_goods", path = "/api/sales-orders/{id}/returns", tag = "sales", request_body = ReturnInput, responses((status = 201, body = SalesReturn), (status = 409, description = "over_return or invalid_transition")))]
pub async fn take_return(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<ReturnInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .created(&st, move |core, ctx| {
            sales::take_return(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(get, operation_id = "list_sales_order_returns", path = "/api/sales-orders/{id}/returns", tag = "sales", params(PageParams), responses((status = 200, description = "The order's returns, oldest first", body = crate::extract::PageBody<SalesReturn>)))]
pub async fn list_returns(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let id = id.into_inner();
    let all = caller
        .run(&st, move |core, ctx| sales::list_returns(core, ctx, id))
        .await?;
    paginate_vec(&req, page, all)
}
