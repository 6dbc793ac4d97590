//! `Idempotency-Key` on POST (API.md §11), the same on both servers: the web half of
//! `inventory_core::services::idempotency`. It sits inside the server's auth layer, so it
//! knows the caller, and outside the handlers, so it sees the exact answer to keep.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;
use inventory_core::services::idempotency::{self as keys, Claim};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{blocking, IdempotencyClaim, PendingAuth, BODY_LIMIT};

const HEADER: &str = "idempotency-key";

fn answer(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(e.error_response())
}

/// Runs a keyed POST at most once per user, method, path and key: replays a finished one's
/// answer, refuses a running or differently-bodied one, and keeps this one's answer (2xx and
/// 4xx) once it is done. Guests' requests (no one to own the key) and other methods pass.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let pass = req.method() != Method::POST || !req.headers().contains_key(HEADER);
    let pending = req.extensions().get::<PendingAuth>().cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(pending), Some(st), false) = (pending, state, pass) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let raw = req
        .headers()
        .get(HEADER)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    if !keys::valid_key(&raw) {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        );
        return Ok(answer(req, e));
    }
    let key = String::from_utf8_lossy(&raw).into_owned();

    // The body is read here to be compared, then handed on unchanged.
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Ok(answer(req, crate::extract::too_large()));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let hash = keys::body_hash(&body);
    req.set_payload(Payload::from(body));

    let method = req.method().to_string();
    let path = req.path().to_owned();
    let core = st.core.clone();
    let claimed = blocking(move || {
        let Some(principal) = (pending.0)(&core)? else {
            return Ok(None);
        };
        keys::claim(&core.db, principal.user_id, &method, &path, &key, &hash).map(Some)
    })
    .await;
    let id = match claimed {
        Err(e) => return Ok(answer(req, e)),
        Ok(None) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        Ok(Some(Claim::Replay {
            status,
            content_type,
            body,
        })) => {
            let mut res =
                HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            res.insert_header(("Idempotency-Replayed", "true"));
            if let Some(ct) = content_type {
                res.insert_header((header::CONTENT_TYPE, ct));
            }
            return Ok(req.into_response(res.body(body)));
        }
        Ok(Some(Claim::Run(id))) => id,
    };
    req.extensions_mut().insert(IdempotencyClaim(id));
    let released = |st: web::Data<AppState>| async move {
        let db = st.core.db.clone();
        if let Err(e) = blocking(move || keys::release(&db, id)).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
    };
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            released(st).await;
            return Err(e);
        }
    };
    if res.status().is_server_error() {
        released(st).await;
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes: Bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            released(st).await;
            let e = ApiError::internal("the answer could not be read to keep it");
            return Ok(ServiceResponse::new(http_req, e.error_response()));
        }
    };
    let status = head.status().as_u16();
    let content_type = head
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let kept = bytes.clone();
    let db = st.core.db.clone();
    if let Err(e) =
        blocking(move || keys::finish(&db, id, status, content_type.as_deref(), &kept)).await
    {
        // The change is made and its answer goes out; a retry will get 409 until the key
        // expires rather than a second change.
        tracing::warn!(error = %e, "could not keep an idempotent answer");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}
