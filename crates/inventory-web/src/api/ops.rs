//! Health, readiness, dashboard and the audit log.

use actix_web::{web, HttpRequest, HttpResponse};
use inventory_core::services::{audit_log, dashboard};

use super::{resource, State};
use crate::error::ApiError;
use crate::extract::{paginated, query, Caller, PageParams};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(health)))
        .service(resource("/ready").route(web::get().to(ready)))
        .service(resource("/api/docs").route(web::get().to(docs_redirect)))
        .service(resource("/api/dashboard").route(web::get().to(get_dashboard)))
        .service(resource("/api/audit-logs").route(web::get().to(list_audit)));
}

/// The interactive docs live under `/api/docs/` (Swagger UI, served from the binary).
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
    let r = web::block(move || st.core.db.ping()).await;
    match r {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        _ => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "detail": "The database is not reachable.", "code": "not_ready"
        })),
    }
}

#[utoipa::path(get, path = "/api/dashboard", tag = "insight", responses((status = 200, body = dashboard::Dashboard)))]
pub async fn get_dashboard(st: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    let d = caller.run(&st, dashboard::dashboard).await?;
    Ok(HttpResponse::Ok().json(d))
}

#[utoipa::path(get, path = "/api/audit-logs", tag = "audit", params(audit_log::AuditFilter, PageParams),
    responses((status = 200, description = "A page of audit entries")))]
pub async fn list_audit(
    st: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let f: audit_log::AuditFilter = query(&req)?;
    if super::insight::audit_wants_csv(&req)? {
        return super::insight::audit_csv(st, caller, f).await;
    }
    let page = PageParams::from_req(&req)?;
    let data = caller
        .run(&st, move |core, ctx| audit_log::list(core, ctx, &f, page))
        .await?;
    Ok(paginated(&req, page, data))
}
