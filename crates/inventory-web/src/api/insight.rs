//! Purchase orders, alerts, reorder suggestions, reports and product import/export
//! (API.md §5, §6, and the CSV part of §7).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::alerts::{self, AlertFilter};
use inventory_core::services::audit_log::{self, AuditFilter};
use inventory_core::services::csvio;
use inventory_core::services::insight::{self, MovementQuery};
use inventory_core::services::ledger;
use inventory_core::services::orders::{self, OrderFilter, OrderInput, ReceiveInput};
use serde::Deserialize;

use super::State;
use crate::error::ApiError;
use crate::extract::{blocking, paginated, query, Caller, JsonBody, PageParams};

/// Import bodies may be much larger than the API's 1 MiB JSON limit: 100,000 products is
/// about 8 MiB of CSV.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Deserialize, Default)]
struct FormatQuery {
    format: Option<String>,
}

/// CSV when `?format=csv` or `Accept: text/csv`; JSON otherwise; anything else is a 400.
fn wants_csv(req: &HttpRequest) -> Result<bool, ApiError> {
    let q: FormatQuery = query(req).unwrap_or_default();
    match q.format.as_deref() {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(inventory_core::CoreError::validation(
                "format",
                format!("\"{other}\" is not a valid choice (json, csv)."),
            )
            .into())
        }
        None => {}
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(accept.split(',').any(|a| a.trim().starts_with("text/csv")))
}

fn csv_response(name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(body)
}

#[utoipa::path(get, path = "/api/orders", tag = "orders", params(OrderFilter, PageParams), responses((status = 200, description = "A page of purchase orders", body = crate::extract::PageBody<inventory_core::services::orders::Order>)))]
pub async fn list_orders(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: OrderFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| orders::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/orders", tag = "orders", request_body = OrderInput, responses((status = 201, body = orders::Order)))]
pub async fn create_order(
    st: State,
    caller: Caller,
    body: JsonBody<OrderInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| orders::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, path = "/api/orders/{id}", tag = "orders", responses((status = 200, body = orders::Order)))]
pub async fn get_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::get(core, ctx, id))
        .await
}

#[utoipa::path(put, path = "/api/orders/{id}", tag = "orders", request_body = OrderInput, responses((status = 200, body = orders::Order), (status = 409, description = "Not a draft")))]
pub async fn replace_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<OrderInput>,
) -> Result<HttpResponse, ApiError> {
    update_order(st, caller, id, body).await
}

#[utoipa::path(patch, path = "/api/orders/{id}", tag = "orders", request_body = OrderInput, responses((status = 200, body = orders::Order), (status = 409, description = "Not a draft")))]
pub async fn update_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<OrderInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::update(core, ctx, id, body.0))
        .await
}

#[utoipa::path(delete, path = "/api/orders/{id}", tag = "orders", responses((status = 204, description = "Deleted draft"), (status = 409, description = "Not a draft")))]
pub async fn delete_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| orders::delete(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/orders/{id}/submit", tag = "orders", responses((status = 200, body = orders::Order)))]
pub async fn submit_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::submit(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/orders/{id}/approve", tag = "orders", responses((status = 200, body = orders::Order), (status = 403, description = "self_approval")))]
pub async fn approve_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::approve(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/orders/{id}/receive", tag = "orders", request_body = ReceiveInput, responses((status = 200, body = orders::Order), (status = 409, description = "over_receipt or invalid_transition")))]
pub async fn receive_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<ReceiveInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::receive(core, ctx, id, body.0))
        .await
}

#[utoipa::path(post, path = "/api/orders/{id}/cancel", tag = "orders", responses((status = 200, body = orders::Order)))]
pub async fn cancel_order(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| orders::cancel(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/alerts", tag = "insight", params(AlertFilter, PageParams), responses((status = 200, description = "A page of alerts", body = crate::extract::PageBody<inventory_core::services::alerts::Alert>)))]
pub async fn list_alerts(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: AlertFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| alerts::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/alerts/{id}/acknowledge", tag = "insight", responses((status = 200, body = alerts::Alert)))]
pub async fn acknowledge_alert(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| alerts::acknowledge(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/reorder-suggestions", tag = "insight", params(PageParams), responses((status = 200, description = "A page of suggestions", body = crate::extract::PageBody<inventory_core::services::insight::Suggestion>)))]
pub async fn suggestions(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let all = caller.run(&st, insight::suggestions).await?;
    crate::extract::paginate_vec(&req, page, all)
}

#[utoipa::path(post, path = "/api/reorder-suggestions/orders", tag = "insight", responses((status = 201, body = [orders::Order])))]
pub async fn draft_orders(st: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    let o = caller.run(&st, insight::draft_orders).await?;
    Ok(HttpResponse::Created().json(o))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValuationQuery {
    group_by: Option<String>,
    /// `cost` (default: quantity × average cost) or `price` (quantity × selling price).
    basis: Option<String>,
    /// Value the stock as it stood at this instant (RFC 3339, or a date meaning its midnight
    /// UTC; not in the future), from the ledger: each product's quantity and average cost
    /// after its last movement by then.
    #[param(value_type = Option<String>)]
    as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/reports/valuation", tag = "insight", params(ValuationQuery), responses((status = 200, body = insight::Valuation)))]
pub async fn valuation(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(&req)?;
    let q: ValuationQuery = query(&req)?;
    let group = q.group_by.unwrap_or_else(|| "category".into());
    let basis = insight::Basis::parse(q.basis.as_deref())?;
    let as_of = ledger::parse_as_of(q.as_of.as_deref())?;
    let v = caller
        .run(&st, move |core, ctx| {
            insight::valuation(core, ctx, &group, basis, as_of)
        })
        .await?;
    if csv {
        let body = blocking(move || csvio::to_csv(&v.rows)).await?;
        return Ok(csv_response("valuation", body));
    }
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(get, path = "/api/reports/movements", tag = "insight", params(MovementQuery), responses((status = 200, body = insight::Movements)))]
pub async fn movements(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(&req)?;
    let q: MovementQuery = query(&req)?;
    let m = caller
        .run(&st, move |core, ctx| insight::movements(core, ctx, &q))
        .await?;
    if csv {
        let body = blocking(move || csvio::to_csv(&m.rows)).await?;
        return Ok(csv_response("movements", body));
    }
    Ok(HttpResponse::Ok().json(m))
}

/// Streams the product CSV: a blocking producer reads id-ordered chunks into a small bounded
/// channel, so memory stays flat however many products there are.
#[utoipa::path(get, path = "/api/products/export", tag = "catalog", responses((status = 200, content_type = "text/csv", description = "Every live product")))]
pub async fn export_products(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: FormatQuery = query(&req)?;
    if q.format.as_deref().is_some_and(|f| f != "csv") {
        return Err(inventory_core::CoreError::validation("format", "Only csv is offered.").into());
    }
    // Check access (and read the first chunk) before the 200 goes out.
    let (first, ctx) = caller
        .run(&st, move |core, ctx| {
            Ok((csvio::export_chunk(core, ctx, 0, 1000)?, ctx.clone()))
        })
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    let _ = tx.send(Ok(web::Bytes::from(csvio::header_line()))).await;
    if let Some((last, bytes)) = first {
        let _ = tx.send(Ok(web::Bytes::from(bytes))).await;
        let core = st.core.clone();
        tokio::task::spawn_blocking(move || {
            let mut after = last;
            loop {
                match csvio::export_chunk(&core, &ctx, after, 1000) {
                    Ok(Some((l, bytes))) => {
                        after = l;
                        if tx.blocking_send(Ok(web::Bytes::from(bytes))).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tracing::error!(error = %e, "product export failed midway");
                        let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
                        return;
                    }
                }
            }
        });
    }
    let stream = tokio_stream_from(rx);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"products.csv\"",
        ))
        .streaming(stream))
}

fn tokio_stream_from<T: 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[utoipa::path(post, path = "/api/products/import", tag = "catalog", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = csvio::ImportResult), (status = 400, description = "Per-row errors; nothing changed")))]
pub async fn import_products(
    st: State,
    caller: Caller,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "text/csv" {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the file as text/csv.",
        ));
    }
    // Who is calling, and whether they may import at all, is settled before a byte of the
    // body is read: an anonymous client must not make the server buffer 64 MiB.
    let ctx = caller.resolve(&st).await?;
    ctx.create_catalog().map_err(ApiError::from)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > IMPORT_LIMIT) {
        return Err(import_too_large());
    }
    // A bounded number of files in memory at once, whoever sends them.
    let _permit = st
        .imports
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "Other imports are running; try again shortly.",
            )
        })?;
    let mut body = web::BytesMut::new();
    let idle = crate::extract::body_idle(&req);
    while let Some(chunk) = crate::extract::next_chunk(&mut payload, idle).await? {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("parse_error", "The request body could not be read.")
        })?;
        if body.len() + chunk.len() > IMPORT_LIMIT {
            return Err(import_too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let r = Caller::resolved(ctx)
        .run(&st, move |core, ctx| csvio::import(core, ctx, &body))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

fn import_too_large() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The file is larger than 64 MiB.",
    )
}

/// The audit log as CSV (`GET /api/audit-logs?format=csv`).
pub async fn audit_csv(
    st: State,
    caller: Caller,
    f: AuditFilter,
) -> Result<HttpResponse, ApiError> {
    let body = caller
        .run(&st, move |core, ctx| audit_log::export_csv(core, ctx, &f))
        .await?;
    Ok(csv_response("audit-log", body))
}

pub fn audit_wants_csv(req: &HttpRequest) -> Result<bool, ApiError> {
    wants_csv(req)
}
