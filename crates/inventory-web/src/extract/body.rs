//! Request bodies and query strings read strictly: the contract's 413, 415 and field-named
//! 400s come from here, so no handler parses input its own way.

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::BytesMut;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use inventory_core::FieldErrors;
use serde::de::DeserializeOwned;

use super::BODY_LIMIT;
use crate::app::AppState;
use crate::error::ApiError;

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
