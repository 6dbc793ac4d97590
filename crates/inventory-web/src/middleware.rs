//! Middleware shared by both servers: request ids, trailing-slash tolerance, security headers.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

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

/// Log spans carry the client-visible `X-Request-Id`, so a support ticket quoting it finds
/// the log lines (and the audit entries, which store it too).
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        tracing_actix_web::root_span!(request, x_request_id = %id)
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
