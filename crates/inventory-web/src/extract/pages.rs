//! Numbered and cursor pages: the parameters' bounds, the `next`/`previous` links built from
//! the address the client used, and the two page shapes a list answers.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::auth::Ctx;
use inventory_core::context::Core;
use inventory_core::cursor::{CursorPage, CursorReq};
use inventory_core::paging::{PageReq, Paged};
use inventory_core::CoreError;
use serde::{Deserialize, Serialize};

use super::Caller;
use crate::app::AppState;
use crate::error::ApiError;

/// `?page=&page_size=` checked against the contract's bounds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub page: Option<String>,
    pub page_size: Option<String>,
}

impl PageParams {
    pub fn from_req(req: &HttpRequest) -> Result<PageReq, ApiError> {
        let q = web::Query::<PageParams>::from_query(req.query_string())
            .map_err(|_| ApiError::bad_request("invalid", "Invalid query string."))?;
        let num = |field: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
            match v.as_deref() {
                None => Ok(None),
                Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
                    CoreError::validation(field, "A valid integer is required.").into()
                }),
            }
        };
        let page = num("page", &q.page)?;
        let size = num("page_size", &q.page_size)?;
        Ok(PageReq::new(page, size)?)
    }
}

/// A list body as DRF's PageNumberPagination writes it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PageBody<T: Serialize> {
    /// How many rows match, across all pages.
    pub count: i64,
    /// The next page's URL; null on the last page.
    pub next: Option<String>,
    /// The previous page's URL; null on the first page.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// The scheme and host clients reach us at: `PUBLIC_URL` when set; what a trusted proxy
/// says (`Forwarded`, `X-Forwarded-Proto`/`-Host`) when the peer is one; else plain http and
/// the `Host` header. A client's forwarding headers never shape links or origin checks.
pub fn external_base(req: &HttpRequest) -> String {
    let Some(st) = req.app_data::<web::Data<AppState>>() else {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    };
    if let Some(u) = &st.settings.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let peer_trusted = req
        .peer_addr()
        .is_some_and(|a| st.trusted_proxies.iter().any(|n| n.contains(&a.ip())));
    if peer_trusted {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| req.app_config().host().to_owned());
    format!("http://{host}")
}

fn page_link(req: &HttpRequest, page: i64) -> String {
    let mut pairs: Vec<(String, String)> = url_pairs(req.query_string())
        .into_iter()
        .filter(|(k, _)| k != "page")
        .collect();
    if page > 1 {
        pairs.push(("page".into(), page.to_string()));
    }
    let qs = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!("{}{}", external_base(req), req.path());
    if qs.is_empty() {
        base
    } else {
        format!("{base}?{qs}")
    }
}

fn url_pairs(qs: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(qs)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?cursor=` (with `page_size`): the list is walked by cursor (API.md §11). `None` when the
/// query has no `cursor` at all; an empty one is the start of the list.
pub struct CursorParams;

/// The `cursor` query parameter, for the lists' OpenAPI parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParam {
    /// Walk the list by cursor: empty for the start, then the `next` or `previous` link's
    /// value. The answer then has no `count`.
    pub cursor: Option<String>,
}

impl CursorParams {
    pub fn from_req(req: &HttpRequest) -> Result<Option<CursorReq>, ApiError> {
        let pairs = url_pairs(req.query_string());
        let Some((_, raw)) = pairs.iter().find(|(k, _)| k == "cursor") else {
            return Ok(None);
        };
        let size = PageParams::from_req(req)?.page_size;
        Ok(Some(CursorReq::parse(raw, size)?))
    }
}

/// A list body walked by cursor: no count, and links that keep their place however the
/// list changes. (Closed to other fields in the document, so a numbered page, which has a
/// `count`, matches only the page schema of [`ListBody`]'s `oneOf`.)
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorBody<T: Serialize> {
    /// The next page's URL; null at the end.
    pub next: Option<String>,
    /// The previous page's URL; null at the start.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// What a list that can be walked by cursor answers: a numbered page, or a cursor page
/// when `cursor` was given.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ListBody<T: Serialize> {
    Page(PageBody<T>),
    Cursor(CursorBody<T>),
}

fn cursor_link(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> = url_pairs(req.query_string())
        .into_iter()
        .filter(|(k, _)| k != "cursor" && k != "page")
        .collect();
    pairs.push(("cursor".into(), cursor.to_owned()));
    let qs = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{}{}?{qs}", external_base(req), req.path())
}

/// Answers one page walked by cursor.
pub fn cursor_paginated<T: Serialize>(req: &HttpRequest, data: CursorPage<T>) -> HttpResponse {
    HttpResponse::Ok().json(CursorBody {
        next: data.next.map(|c| cursor_link(req, &c)),
        previous: data.previous.map(|c| cursor_link(req, &c)),
        results: data.results,
    })
}

/// A list that may be walked by page number or by cursor, as the query asks: runs the
/// matching service for the caller and answers its body.
pub async fn listed<T, P, C>(
    st: &AppState,
    caller: Caller,
    req: &HttpRequest,
    by_page: P,
    by_cursor: C,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    P: FnOnce(&Core, &Ctx, PageReq) -> Result<Paged<T>, CoreError> + Send + 'static,
    C: FnOnce(&Core, &Ctx, &CursorReq) -> Result<CursorPage<T>, CoreError> + Send + 'static,
{
    if let Some(cursor) = CursorParams::from_req(req)? {
        let data = caller
            .run(st, move |core, ctx| by_cursor(core, ctx, &cursor))
            .await?;
        return Ok(cursor_paginated(req, data));
    }
    let page = PageParams::from_req(req)?;
    let data = caller
        .run(st, move |core, ctx| by_page(core, ctx, page))
        .await?;
    Ok(paginated(req, page, data))
}

/// Answers one page with `count`, `next` and `previous` links.
pub fn paginated<T: Serialize>(req: &HttpRequest, page: PageReq, data: Paged<T>) -> HttpResponse {
    let next = (page.offset() + page.page_size < data.count).then(|| page_link(req, page.page + 1));
    let previous = (page.page > 1).then(|| page_link(req, page.page - 1));
    HttpResponse::Ok().json(PageBody {
        count: data.count,
        next,
        previous,
        results: data.results,
    })
}
/// Pages a list that is small by nature (an object's links) in memory.
pub fn paginate_vec<T: Serialize>(
    req: &HttpRequest,
    page: PageReq,
    all: Vec<T>,
) -> Result<HttpResponse, ApiError> {
    Ok(paginated(req, page, page.slice(all)?))
}
