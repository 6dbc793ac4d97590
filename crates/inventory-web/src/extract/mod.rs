//! Extractors: who is calling (`Caller`), a strict JSON body (`JsonBody`), page parameters,
//! and the helper that runs core services off the async workers.

use std::future::{ready, Ready};
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use inventory_core::auth::{Ctx, Principal};
use inventory_core::context::Core;
use inventory_core::CoreError;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiError;

mod body;
mod pages;
pub use body::*;
pub use pages::*;

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
