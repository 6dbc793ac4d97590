//! Health, readiness, dashboard and the audit log.

use actix_web::{HttpRequest, HttpResponse};
use inventory_core::services::{audit_log, dashboard};

use super::State;
use crate::error::ApiError;
use crate::extract::{query, Caller, PageParams};

/// The interactive docs live under `/api/docs/` (Swagger UI, served from the binary).
#[utoipa::path(get, path = "/api/docs", tag = "operations", responses((status = 302, description = "To the interactive docs at /api/docs/")))]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((actix_web::http::header::LOCATION, "/api/docs/"))
        .finish()
}

/// The process is up; says nothing about the database.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Up")))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers; 503 otherwise, so a load balancer stops sending traffic.
#[utoipa::path(get, path = "/ready", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, description = "Database unreachable")))]
pub async fn ready(st: State) -> HttpResponse {
    // Its own thread and its own connection: never queued behind requests waiting for the
    // pool, and answered within a second whatever the database does.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let db = st.core.db.clone();
    let spawned = std::thread::Builder::new()
        .name("ready-probe".into())
        .spawn(move || {
            let _ = tx.send(db.ping());
        });
    let ok = spawned.is_ok()
        && matches!(
            tokio::time::timeout(std::time::Duration::from_secs(1), rx).await,
            Ok(Ok(Ok(())))
        );
    if ok {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(serde_json::json!({
                "detail": "The database is not reachable.", "code": "not_ready"
            }))
    }
}

#[utoipa::path(get, path = "/api/dashboard", tag = "insight", responses((status = 200, body = dashboard::Dashboard)))]
pub async fn get_dashboard(st: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    let d = caller.run(&st, dashboard::dashboard).await?;
    Ok(HttpResponse::Ok().json(d))
}

#[utoipa::path(get, path = "/api/audit-logs", tag = "audit", params(audit_log::AuditFilter, PageParams, crate::extract::CursorParam),
    responses((status = 200, description = "A page of audit entries", body = crate::extract::ListBody<inventory_core::models::AuditEntry>)))]
pub async fn list_audit(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let f: audit_log::AuditFilter = query(&req)?;
    if super::insight::audit_wants_csv(&req)? {
        return super::insight::audit_csv(st, caller, f).await;
    }
    let g = f.clone();
    crate::extract::listed(
        &st,
        caller,
        &req,
        move |core, ctx, page| audit_log::list(core, ctx, &f, page),
        move |core, ctx, cursor| audit_log::list_by_cursor(core, ctx, &g, cursor),
    )
    .await
}
