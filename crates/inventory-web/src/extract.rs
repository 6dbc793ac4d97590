//! Extractors: who is calling (`Caller`), a strict JSON body (`JsonBody`), page parameters,
//! and the helper that runs core services off the async workers.

use std::future::{ready, Ready};
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::BytesMut;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use inventory_core::auth::{Ctx, Principal};
use inventory_core::context::Core;
use inventory_core::cursor::{CursorPage, CursorReq};
use inventory_core::paging::{PageReq, Paged};
use inventory_core::{CoreError, FieldErrors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::ApiError;

/// The largest request body we read (API.md §1).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The current login's identity (a session's login id, a token family), set by the server's
/// auth layer so "revoke my other logins" can spare it.
#[derive(Clone, Debug)]
pub struct LoginRef(pub String);

/// The idempotency key row this request claimed, set by `idempotency::guard`.
#[derive(Clone, Copy, Debug)]
pub struct IdempotencyClaim(pub i64);

/// The request id, set by the request-id middleware.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Runs a core service on the blocking pool: diesel and bcrypt must never run on async workers.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, CoreError> + Send + 'static,
{
    match web::block(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The client address: the socket peer, or `X-Forwarded-For` when the peer is a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if !trusted.is_empty() && trusted.iter().any(|n| n.contains(&peer)) {
        if let Some(xff) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            // Walk from the right past our own proxies; the first untrusted hop is the client.
            for hop in xff.rsplit(',').map(str::trim) {
                match hop.parse::<IpAddr>() {
                    Ok(ip) if trusted.iter().any(|n| n.contains(&ip)) => continue,
                    Ok(ip) => return Some(ip.to_string()),
                    Err(_) => break,
                }
            }
        }
    }
    Some(peer.to_string())
}

/// Authentication whose database half is still to do: the server's middleware checks what it
/// can without the database (a token's signature and expiry, a session's user id and CSRF
/// token) and leaves the lookup (user active? token revoked?) to run in the same blocking call
/// as the handler's own work, saving a thread hop per request.
#[derive(Clone)]
pub struct PendingAuth(pub Arc<PendingFn>);

/// Resolves to the principal, `None` for a guest, or an error (a revoked token) in the
/// request's own blocking call.
pub type PendingFn = dyn Fn(&Core) -> Result<Option<Principal>, CoreError> + Send + Sync;

/// The pending authentication of `Authorization: Token <secret>` (API.md §11), the same on
/// both servers: no session and no CSRF token is involved, since a browser never sends the
/// header by itself. `None` when the request has no such header.
pub fn api_token_auth(req: &HttpRequest) -> Option<PendingAuth> {
    let value = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    let value = String::from_utf8_lossy(value);
    let mut parts = value.trim().splitn(2, ' ');
    if !parts.next()?.eq_ignore_ascii_case("token") {
        return None;
    }
    // `Token` with nothing after it is a bad token (401), not a guest.
    let secret = parts.next().unwrap_or("").trim().to_owned();
    let unsafe_method = !matches!(
        *req.method(),
        actix_web::http::Method::GET
            | actix_web::http::Method::HEAD
            | actix_web::http::Method::OPTIONS
            | actix_web::http::Method::TRACE
    );
    let pending: Arc<PendingFn> = Arc::new(move |core| {
        inventory_core::services::api_tokens::authenticate(core, &secret, unsafe_method).map(Some)
    });
    Some(PendingAuth(pending))
}

/// The caller of a request: principal (if any, or still pending), address, request id and
/// user agent.
pub struct Caller {
    pub ctx: Ctx,
    pending: Option<PendingAuth>,
    /// Where the access log learns who the caller turned out to be.
    user: Option<crate::middleware::UserSlot>,
}

impl Caller {
    /// The request's context; the principal is left to the pending authentication the
    /// server's middleware set (resolved in the handler's own blocking call).
    pub fn from_request_parts(req: &HttpRequest) -> Ctx {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.clone())
            .unwrap_or_default();
        Ctx {
            principal: None,
            ip: client_ip(req, &trusted),
            request_id,
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            login_ref: req.extensions().get::<LoginRef>().map(|l| l.0.clone()),
            idempotency: req.extensions().get::<IdempotencyClaim>().map(|c| c.0),
        }
    }
}

impl Caller {
    /// Runs a core service for this caller on the blocking pool, resolving pending
    /// authentication first on the same thread.
    pub async fn run<T, F>(self, st: &AppState, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &Ctx) -> Result<T, CoreError> + Send + 'static,
    {
        let Caller {
            mut ctx,
            pending,
            user,
        } = self;
        let core = st.core.clone();
        blocking(move || {
            if let Some(p) = pending {
                ctx.principal = (p.0)(&core)?;
            }
            if let Some(slot) = &user {
                slot.set(ctx.user_id());
            }
            f(&core, &ctx)
        })
        .await
    }

    /// Runs the service and answers 200 with its result.
    pub async fn ok<T, F>(self, st: &AppState, f: F) -> Result<HttpResponse, ApiError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&Core, &Ctx) -> Result<T, CoreError> + Send + 'static,
    {
        Ok(HttpResponse::Ok().json(self.run(st, f).await?))
    }

    /// Runs the service and answers 201 with what it made.
    pub async fn created<T, F>(self, st: &AppState, f: F) -> Result<HttpResponse, ApiError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&Core, &Ctx) -> Result<T, CoreError> + Send + 'static,
    {
        Ok(HttpResponse::Created().json(self.run(st, f).await?))
    }

    /// Runs the service and answers 204.
    pub async fn no_content<T, F>(self, st: &AppState, f: F) -> Result<HttpResponse, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &Ctx) -> Result<T, CoreError> + Send + 'static,
    {
        self.run(st, f).await?;
        Ok(HttpResponse::NoContent().finish())
    }

    /// A caller whose authentication is already resolved.
    pub fn resolved(ctx: Ctx) -> Caller {
        Caller {
            ctx,
            pending: None,
            user: None,
        }
    }

    /// The finished context, for the few handlers that need the principal before their
    /// service call (it costs its own blocking call when authentication is pending).
    pub async fn resolve(self, st: &AppState) -> Result<Ctx, ApiError> {
        if self.pending.is_none() {
            return Ok(self.ctx);
        }
        self.run(st, |_, ctx| Ok(ctx.clone())).await
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pending = req.extensions().get::<PendingAuth>().cloned();
        ready(Ok(Caller {
            ctx: Caller::from_request_parts(req),
            pending,
            user: req
                .extensions()
                .get::<crate::middleware::UserSlot>()
                .cloned(),
        }))
    }
}

/// A JSON body read strictly: `application/json` only (415), at most 1 MiB (413), and every
/// parse problem a 400 naming the field it is in.
pub struct JsonBody<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Request body is larger than 1 MiB.",
    )
}

/// How long a body may pause between two of its chunks (`BODY_TIMEOUT_SECONDS`).
pub fn body_idle(req: &HttpRequest) -> std::time::Duration {
    let secs = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.body_timeout_seconds)
        .unwrap_or(20);
    std::time::Duration::from_secs(secs.max(1))
}

/// The next chunk of a body, or 408 when none arrives within `idle`: a client that stops
/// sending must not hold a connection and its buffer for ever.
pub async fn next_chunk<S, T>(
    payload: &mut S,
    idle: std::time::Duration,
) -> Result<Option<T>, ApiError>
where
    S: futures_util::Stream<Item = T> + Unpin,
{
    tokio::time::timeout(idle, payload.next())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body stopped arriving.",
            )
        })
}

/// Reads a body up to the limit.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    let idle = body_idle(req);
    while let Some(chunk) = next_chunk(payload, idle).await? {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("parse_error", "The request body could not be read.")
        })?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The field (top-level key, or `non_field_errors`) of a JSON string holding an escaped NUL
/// character, if any. Only bodies that contain the escape are parsed twice.
fn nul_field(bytes: &[u8]) -> Option<String> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return None;
    }
    fn holds_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(holds_nul),
            serde_json::Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
            _ => false,
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Object(m) => m
            .iter()
            .find(|(k, v)| k.contains('\0') || holds_nul(v))
            .map(|(k, _)| {
                if k.contains('\0') {
                    "non_field_errors".to_owned()
                } else {
                    k.clone()
                }
            }),
        v if holds_nul(&v) => Some("non_field_errors".to_owned()),
        _ => None,
    }
}

/// Turns a serde failure into the contract's error body, with the field path when known.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "parse_error",
            "The request body is empty; JSON was expected.",
        ));
    }
    if let Some(field) = nul_field(bytes) {
        return Err(crate::error::nul_refused(&field));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            if de.end().is_err() {
                return Err(ApiError::bad_request(
                    "parse_error",
                    "Malformed JSON: trailing characters.",
                ));
            }
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(ApiError::bad_request(
                    "parse_error",
                    format!("Malformed JSON: {inner}"),
                ));
            }
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            let mut errors = FieldErrors::new();
            let field = if let Some(rest) = msg.strip_prefix("unknown field `") {
                rest.split('`')
                    .next()
                    .unwrap_or("non_field_errors")
                    .to_owned()
            } else if let Some(rest) = msg.strip_prefix("missing field `") {
                rest.split('`')
                    .next()
                    .unwrap_or("non_field_errors")
                    .to_owned()
            } else if path == "." || path.is_empty() {
                "non_field_errors".to_owned()
            } else {
                path
            };
            let nice = if msg.starts_with("unknown field") {
                "Unknown field.".to_owned()
            } else if msg.starts_with("missing field") {
                "This field is required.".to_owned()
            } else {
                msg
            };
            errors.insert(field, vec![nice]);
            Err(ApiError::bad_request("invalid", "Invalid input.").with_errors(errors))
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Content-Type must be application/json.",
                ));
            }
            let body = read_body(&req, &mut payload).await?;
            parse_json(&body).map(JsonBody)
        })
    }
}

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

/// A query string parsed into `T`, with a contract-shaped 400 when it does not fit.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    serde_urlencoded_like::<T>(req.query_string())
}

fn serde_urlencoded_like<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    web::Query::<T>::from_query(qs)
        .map(|q| q.into_inner())
        .map_err(|e| {
            let msg = e.to_string();
            let mut errors = FieldErrors::new();
            errors.insert("query".into(), vec![msg]);
            ApiError::bad_request("invalid", "Invalid query parameter.").with_errors(errors)
        })
}

/// A JSON body that may be left out entirely (action endpoints such as `/cancel`): no body
/// means `T::default()`; a body present is read as strictly as [`JsonBody`].
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            if !is_json(&req) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Content-Type must be application/json.",
                ));
            }
            parse_json(&body).map(OptionalJson)
        })
    }
}

/// `PUT` replaces an object, so (as in DRF) every required field must be present; `PATCH`
/// changes only what it names.
pub fn require_for_put(present: &[(&str, bool)]) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    for (field, there) in present {
        if !there {
            errors.insert(
                (*field).to_owned(),
                vec!["This field is required.".to_owned()],
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request("invalid", "Invalid input.").with_errors(errors))
    }
}

/// Pages a list that is small by nature (an object's links) in memory.
pub fn paginate_vec<T: Serialize>(
    req: &HttpRequest,
    page: PageReq,
    all: Vec<T>,
) -> Result<HttpResponse, ApiError> {
    Ok(paginated(req, page, page.slice(all)?))
}
