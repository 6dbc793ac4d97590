//! Per-client-IP rate limit on the endpoints that take passwords or send mail, so brute force
//! and mail bombing run into a wall long before the lockout matters. Backed by `governor`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::client_ip;

/// The paths (after trailing-slash trimming) that count against the budget.
pub const LIMITED: [&str; 10] = [
    "/api/auth/login",
    "/api/token",
    "/api/token/refresh",
    "/api/auth/register",
    "/api/auth/password/reset",
    "/api/auth/password/reset/confirm",
    "/api/auth/verify-email",
    "/api/auth/verify-email/resend",
    // The pages the emails link to spend the same tokens.
    "/verify-email",
    "/reset-password",
];

#[derive(Clone)]
pub struct AuthLimiter {
    local: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    per_minute: u32,
}

impl AuthLimiter {
    /// `per_minute` requests a minute per IP (bursts up to that many); 0 turns it off.
    pub fn new(per_minute: u32) -> Self {
        AuthLimiter {
            local: NonZeroU32::new(per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            per_minute,
        }
    }

    /// The budget as every instance on the database sees it: this process's limiter first
    /// (a flood never reaches the database), then the shared row of the address
    /// (`services::auth_budget`). `Err(seconds)` to wait when over budget. Should the
    /// database fail, the local limit alone decides: the request itself will meet the same
    /// database and answer for it.
    pub async fn check_everywhere(
        &self,
        core: &inventory_core::Core,
        ip: IpAddr,
    ) -> Result<(), u64> {
        self.check(ip)?;
        if self.per_minute == 0 {
            return Ok(());
        }
        let (core, per_minute) = (core.clone(), self.per_minute);
        let now_ms = chrono::Utc::now().timestamp_millis();
        let shared = web::block(move || {
            inventory_core::services::auth_budget::take(
                &core.db,
                &ip.to_string(),
                per_minute,
                now_ms,
            )
        })
        .await;
        match shared {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the shared auth budget could not be read");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "the shared auth budget task failed");
                Ok(())
            }
        }
    }

    /// This process's budget only. `Err(seconds)` to wait when over budget.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(l) = &self.local else { return Ok(()) };
        l.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })?;
        if l.len() > 100_000 {
            l.retain_recent();
        }
        Ok(())
    }
}

pub async fn limit_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if req.method() != actix_web::http::Method::GET && LIMITED.contains(&req.path()) {
        if let Some(st) = req.app_data::<web::Data<AppState>>() {
            let ip = client_ip(req.request(), &st.trusted_proxies)
                .and_then(|s| s.parse::<IpAddr>().ok());
            if let Some(ip) = ip {
                if let Err(secs) = st.limiter.check_everywhere(&st.core, ip).await {
                    let e = ApiError {
                        retry_after: Some(secs.max(1) as i64),
                        ..ApiError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            "throttled",
                            "Request was throttled; try again later.",
                        )
                    };
                    return Ok(req.into_response(e.error_response()).map_into_right_body());
                }
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
