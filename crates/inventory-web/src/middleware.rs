//! Middleware shared by both servers: request ids, trailing-slash tolerance, NUL refusal.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};

use crate::extract::RequestId;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn valid_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 200 && s.chars().all(|c| c.is_ascii_graphic()))
        .then(|| s.to_owned())
}

/// Echoes the client's `X-Request-Id` (or makes one) on every response, and keeps it for the
/// log and the audit entries.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(valid_request_id)
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 12]>()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    Ok(res)
}

/// Accepts `/api/token/` for `/api/token` (DRF habits), except under the docs and admin
/// sites whose own routing wants the slash.
pub async fn trim_trailing_slash(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path();
    if path.len() > 1
        && path.ends_with('/')
        && !path.starts_with("/api/docs")
        && !path.starts_with("/admin")
    {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let pq = match req.query_string() {
            "" => trimmed.to_owned(),
            q => format!("{trimmed}?{q}"),
        };
        if let Ok(uri) = pq.parse::<Uri>() {
            let mut parts = req.head().uri.clone().into_parts();
            parts.path_and_query = uri.into_parts().path_and_query;
            if let Ok(new_uri) = Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&new_uri);
                req.head_mut().uri = new_uri;
            }
        }
    }
    next.call(req).await
}

/// True when a path or query string carries a NUL character, raw or percent-encoded.
fn has_nul(s: &str) -> bool {
    s.contains('\0')
        || s.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Refuses a NUL character anywhere in the path or query string with a 400: PostgreSQL cannot
/// store or compare text holding one (it answered 500), and no field of ours means it.
pub async fn reject_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if has_nul(req.path()) || has_nul(req.query_string()) {
        let e = crate::error::nul_refused("query");
        return Ok(req.into_response(e.error_response()).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// HEAD is GET without the body (the connection's codec already knows the request was HEAD
/// and leaves the body out), so every GET route answers it; OPTIONS answers 204 with the
/// path's `Allow`. CORS preflights never get here when CORS is on: its middleware answers them.
pub async fn head_and_options(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    use actix_web::http::Method;
    if req.method() == Method::OPTIONS {
        let path = req.path();
        let allow = if path.starts_with("/admin/")
            || path == "/admin"
            || crate::pages::PATHS.contains(&path)
        {
            Some("GET, HEAD, POST, OPTIONS".to_owned())
        } else if path == "/api/openapi.json" || path.starts_with("/api/docs/") {
            Some("GET, HEAD, OPTIONS".to_owned())
        } else {
            req.app_data::<actix_web::web::Data<crate::AppState>>()
                .and_then(|st| {
                    st.allow
                        .iter()
                        .find(|(def, _)| def.is_match(path))
                        .map(|(_, a)| a.clone())
                })
        };
        if let Some(allow) = allow {
            let res = actix_web::HttpResponse::NoContent()
                .insert_header((actix_web::http::header::ALLOW, allow))
                .finish();
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// When the request arrived, for the access line's duration.
struct StartedAt(std::time::Instant);

/// The signed-in user of a request, set once the handler's service call has resolved who is
/// calling (0: nobody), for the access line.
#[derive(Clone, Default)]
pub struct UserSlot(pub std::sync::Arc<std::sync::atomic::AtomicI64>);

impl UserSlot {
    pub fn set(&self, user_id: Option<i64>) {
        if let Some(id) = user_id {
            self.0.store(id, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn get(&self) -> Option<i64> {
        let id = self.0.load(std::sync::atomic::Ordering::Relaxed);
        (id != 0).then_some(id)
    }
}

/// Log spans carry the client-visible `X-Request-Id`, so a support ticket quoting it finds
/// the log lines (and the audit entries, which store it too). Each request ends with one
/// access line: method, path (never the query string, which may hold a token), status,
/// duration, request id and user; 4xx at info (a client's mistake is not the server's
/// warning), 5xx at error.
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        request
            .extensions_mut()
            .insert(StartedAt(std::time::Instant::now()));
        request.extensions_mut().insert(UserSlot::default());
        // Only our request id: the URL (whose query may hold a token) and a second id of
        // the logger's own stay out of every line logged inside the request.
        tracing::info_span!("request", request_id = %id)
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        let Ok(res) = outcome else {
            tracing::error!(parent: &span, "request failed before an answer was made");
            return;
        };
        let req = res.request();
        let status = res.status().as_u16();
        let ext = req.extensions();
        let ms = ext
            .get::<StartedAt>()
            .map(|s| s.0.elapsed().as_secs_f64() * 1000.0)
            .unwrap_or_default();
        let request_id = ext.get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("");
        let user = ext.get::<UserSlot>().and_then(UserSlot::get);
        let method = req.method().as_str();
        let path = req.path();
        if crate::metrics::enabled() {
            let route = req
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            crate::metrics::record_request(method, route, status, ms / 1000.0);
        }
        if status >= 500 {
            tracing::error!(target: "access", parent: None, method, path, status,
                duration_ms = format!("{ms:.1}"), request_id, user_id = user, "request");
        } else {
            tracing::info!(target: "access", parent: None, method, path, status,
                duration_ms = format!("{ms:.1}"), request_id, user_id = user, "request");
        }
    }
}

/// A CORS preflight the CORS layer refused (an origin, method or header not allowed) is
/// answered in the contract's error shape, like every other refusal, instead of the layer's
/// plain-text 400; browsers only need it to be a non-2xx.
pub async fn cors_refusal(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let preflight = req.method() == actix_web::http::Method::OPTIONS
        && req.headers().contains_key(actix_web::http::header::ORIGIN)
        && req
            .headers()
            .contains_key(actix_web::http::header::ACCESS_CONTROL_REQUEST_METHOD);
    let res = next.call(req).await?;
    if preflight && res.status() == actix_web::http::StatusCode::BAD_REQUEST {
        let err = crate::error::ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "cors_not_allowed",
            "This origin, method or header is not allowed for cross-origin requests \
             (CORS_ALLOWED_ORIGINS).",
        );
        let answer = actix_web::ResponseError::error_response(&err);
        return Ok(res.into_response(answer).map_into_right_body());
    }
    Ok(res.map_into_left_body())
}
