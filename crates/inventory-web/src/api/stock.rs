//! Locations, adjustments, levels, history, transfers and barcodes (API.md §4).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::ledger::{
    self, AdjustmentFilter, AdjustmentInput, LevelFilter, ScanInput,
};
use inventory_core::services::locations::{self, LocationInput, LocationQuery};
use inventory_core::services::products::ProductFilter;
use inventory_core::services::transfers::{self, DecisionInput, TransferFilter, TransferInput};
use serde::Deserialize;

use super::State;
use crate::error::ApiError;
use crate::extract::{
    listed, paginated, query, require_for_put, Caller, CursorParam, JsonBody, OptionalJson,
    PageParams,
};

#[utoipa::path(get, path = "/api/locations", tag = "stock", params(LocationQuery, PageParams), responses((status = 200, description = "A page of locations", body = crate::extract::PageBody<inventory_core::models::Location>)))]
pub async fn list_locations(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let q: LocationQuery = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| locations::list(core, ctx, &q, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/locations", tag = "stock", request_body = LocationInput, responses((status = 201, body = inventory_core::models::Location)))]
pub async fn create_location(
    st: State,
    caller: Caller,
    body: JsonBody<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| locations::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, path = "/api/locations/{id}", tag = "stock", responses((status = 200, body = inventory_core::models::Location)))]
pub async fn get_location(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| locations::get(core, ctx, id))
        .await
}

#[utoipa::path(patch, path = "/api/locations/{id}", tag = "stock", request_body = LocationInput, responses((status = 200, body = inventory_core::models::Location)))]
pub async fn update_location(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| {
            locations::update(core, ctx, id, body.0)
        })
        .await
}

#[utoipa::path(put, path = "/api/locations/{id}", tag = "stock", request_body = LocationInput, responses((status = 200, body = inventory_core::models::Location)))]
pub async fn replace_location(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    require_for_put(&[
        ("code", body.0.code.is_some()),
        ("name", body.0.name.is_some()),
    ])?;
    update_location(st, caller, id, body).await
}

#[utoipa::path(delete, path = "/api/locations/{id}", tag = "stock", responses((status = 204, description = "Deleted"), (status = 409, description = "Holds stock")))]
pub async fn delete_location(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .no_content(&st, move |core, ctx| locations::delete(core, ctx, id))
        .await
}

/// `?as_of=` on the level lists: the instant to answer for.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfParam {
    /// Answer as the stock stood at this instant (RFC 3339, or a date meaning its midnight
    /// UTC; not in the future), from the ledger; quantities only (reservations are not
    /// ledger movements).
    #[param(value_type = Option<String>)]
    as_of: Option<String>,
}

/// The `as_of` of a query string, checked.
fn as_of(req: &HttpRequest) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    let q: AsOfParam = query(req)?;
    Ok(ledger::parse_as_of(q.as_of.as_deref())?)
}

#[utoipa::path(get, path = "/api/stock-levels", tag = "stock", params(LevelFilter, AsOfParam, PageParams), responses((status = 200, description = "A page of stock levels", body = crate::extract::PageBody<ledger::LevelRow>)))]
pub async fn stock_levels(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: LevelFilter = query(&req)?;
    let at = as_of(&req)?;
    let data = caller
        .run(&st, move |core, ctx| match at {
            Some(t) => ledger::stock_levels_at(core, ctx, &f, t, page),
            None => Ok(ledger::stock_levels(core, ctx, &f, page)?.map(ledger::LevelRow::from)),
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(get, path = "/api/inventory/levels", tag = "stock", params(ProductFilter, AsOfParam, PageParams), responses((status = 200, description = "A page of per-product inventory rows", body = crate::extract::PageBody<inventory_core::services::ledger::InventoryRow>)))]
pub async fn inventory_levels(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: ProductFilter = query(&req)?;
    let at = as_of(&req)?;
    let data = caller
        .run(&st, move |core, ctx| match at {
            Some(t) => ledger::inventory_levels_at(core, ctx, &f, t, page),
            None => ledger::inventory_levels(core, ctx, &f, page),
        })
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(get, path = "/api/stock-adjustments", tag = "stock", params(AdjustmentFilter, PageParams, CursorParam), responses((status = 200, description = "A page of ledger rows, newest first", body = crate::extract::ListBody<inventory_core::models::Adjustment>)))]
pub async fn list_adjustments(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let f: AdjustmentFilter = query(&req)?;
    let g = f.clone();
    listed(
        &st,
        caller,
        &req,
        move |core, ctx, page| ledger::list_adjustments(core, ctx, &f, page),
        move |core, ctx, cursor| ledger::adjustments_by_cursor(core, ctx, &g, cursor),
    )
    .await
}

#[utoipa::path(post, path = "/api/stock-adjustments", tag = "stock", request_body = AdjustmentInput,
    responses((status = 201, body = inventory_core::models::Adjustment), (status = 409, description = "insufficient_stock")))]
pub async fn create_adjustment(
    st: State,
    caller: Caller,
    body: JsonBody<AdjustmentInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| {
            ledger::create_adjustment(core, ctx, body.0)
        })
        .await
}

#[utoipa::path(get, path = "/api/stock-adjustments/{id}", tag = "stock", responses((status = 200, body = inventory_core::models::Adjustment)))]
pub async fn get_adjustment(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| ledger::get_adjustment(core, ctx, id))
        .await
}

#[utoipa::path(get, path = "/api/products/{id}/history", tag = "stock", params(PageParams, CursorParam), responses((status = 200, description = "The product's ledger, newest first", body = crate::extract::ListBody<inventory_core::services::ledger::HistoryEntry>)))]
pub async fn history(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    listed(
        &st,
        caller,
        &req,
        move |core, ctx, page| ledger::history(core, ctx, id, page),
        move |core, ctx, cursor| ledger::history_by_cursor(core, ctx, id, cursor),
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    barcode: Option<String>,
}

#[utoipa::path(get, path = "/api/products/lookup", tag = "stock", params(LookupQuery), responses((status = 200, body = inventory_core::models::Product), (status = 404)))]
pub async fn lookup(st: State, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let q: LookupQuery = query(&req)?;
    let code = q.barcode.unwrap_or_default();
    caller
        .ok(&st, move |core, ctx| ledger::lookup(core, ctx, &code))
        .await
}

#[utoipa::path(post, path = "/api/scan", tag = "stock", request_body = ScanInput, responses((status = 201, body = inventory_core::models::Adjustment)))]
pub async fn scan(
    st: State,
    caller: Caller,
    body: JsonBody<ScanInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| ledger::scan(core, ctx, body.0))
        .await
}

/// Draws EAN-13 / UPC-A / EAN-8 where the code is one, Code 128 otherwise.
pub fn barcode_svg_for(code: &str) -> Result<String, String> {
    use barcoders::generators::svg::SVG;
    use barcoders::sym::{code128::Code128, ean13::EAN13, ean8::EAN8};
    let digits = code.chars().all(|c| c.is_ascii_digit());
    let encoded = match (digits, code.len()) {
        (true, 13) => EAN13::new(code).map(|b| b.encode()),
        (true, 12) => EAN13::new(format!("0{code}")).map(|b| b.encode()),
        (true, 8) => EAN8::new(code).map(|b| b.encode()),
        _ => Code128::new(format!("Ɓ{code}")).map(|b| b.encode()),
    }
    .map_err(|e| e.to_string())?;
    // The namespace makes the file an image a browser draws on its own (an <img> or a tab).
    SVG::new(80)
        .generate(&encoded[..])
        .map(|svg| svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1))
        .map_err(|e| e.to_string())
}

#[utoipa::path(get, path = "/api/products/{id}/barcode.svg", tag = "stock", responses((status = 200, content_type = "image/svg+xml", description = "A label barcode")))]
pub async fn barcode_svg(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let code = caller
        .run(&st, move |core, ctx| ledger::label_code(core, ctx, id))
        .await?;
    let svg = barcode_svg_for(&code).map_err(|e| {
        ApiError::bad_request("unencodable", format!("This code cannot be drawn: {e}"))
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .body(svg))
}

#[utoipa::path(get, path = "/api/transfers", tag = "stock", params(TransferFilter, PageParams), responses((status = 200, description = "A page of transfers", body = crate::extract::PageBody<inventory_core::models::Transfer>)))]
pub async fn list_transfers(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::from_req(&req)?;
    let f: TransferFilter = query(&req)?;
    let data = caller
        .run(&st, move |core, ctx| transfers::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}

#[utoipa::path(post, path = "/api/transfers", tag = "stock", request_body = TransferInput, responses((status = 201, body = inventory_core::models::Transfer)))]
pub async fn create_transfer(
    st: State,
    caller: Caller,
    body: JsonBody<TransferInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| transfers::create(core, ctx, body.0))
        .await
}

#[utoipa::path(get, path = "/api/transfers/{id}", tag = "stock", responses((status = 200, body = inventory_core::models::Transfer)))]
pub async fn get_transfer(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| transfers::get(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/transfers/{id}/approve", tag = "stock",
    responses((status = 200, body = inventory_core::models::Transfer), (status = 409, description = "insufficient_stock or invalid_transition")))]
pub async fn approve_transfer(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    caller
        .ok(&st, move |core, ctx| transfers::approve(core, ctx, id))
        .await
}

#[utoipa::path(post, path = "/api/transfers/{id}/reject", tag = "stock", request_body = DecisionInput, responses((status = 200, body = inventory_core::models::Transfer)))]
pub async fn reject_transfer(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: OptionalJson<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = body.0;
    caller
        .ok(&st, move |core, ctx| {
            transfers::reject(core, ctx, id, input)
        })
        .await
}

#[utoipa::path(post, path = "/api/transfers/{id}/cancel", tag = "stock", request_body = DecisionInput, responses((status = 200, body = inventory_core::models::Transfer)))]
pub async fn cancel_transfer(
    st: State,
    caller: Caller,
    id: web::Path<i64>,
    body: OptionalJson<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = body.0;
    caller
        .ok(&st, move |core, ctx| {
            transfers::cancel(core, ctx, id, input)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::barcode_svg_for;

    #[test]
    fn labels_draw_ean_upc_and_code128() {
        for code in ["4006381333931", "036000291452", "96385074", "SKU-123"] {
            let svg = barcode_svg_for(code).expect(code);
            assert!(svg.starts_with("<svg"), "{code}: {svg}");
            assert!(svg.contains("<rect"), "{code}");
        }
    }
}
