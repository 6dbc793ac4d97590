//! Registration, email verification, password reset and change (API.md §2.3).

use actix_web::HttpResponse;
use inventory_core::services::accounts::{
    self, ChangePasswordInput, EmailInput, RegisterInput, ResetConfirmInput, TokenInput,
};

use super::State;
use crate::error::ApiError;
use crate::extract::{blocking, Caller, JsonBody};

fn detail(text: &str) -> serde_json::Value {
    serde_json::json!({ "detail": text })
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterInput,
    responses((status = 201, body = inventory_core::models::User), (status = 403, description = "registration_closed")))]
pub async fn register(
    st: State,
    caller: Caller,
    body: JsonBody<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .created(&st, move |core, ctx| accounts::register(core, ctx, body.0))
        .await
}

#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenInput, responses((status = 200, description = "Activated"), (status = 400, description = "Invalid or used token")))]
pub async fn verify_email(
    st: State,
    caller: Caller,
    body: JsonBody<TokenInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .run(&st, move |core, ctx| {
            accounts::verify_email(core, ctx, &body.0.token)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail("Email verified; the account is active.")))
}

#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "auth", request_body = EmailInput, responses((status = 202, description = "Sent if the address has an unverified account")))]
pub async fn resend(st: State, body: JsonBody<EmailInput>) -> Result<HttpResponse, ApiError> {
    blocking(move || accounts::resend_verification(&st.core, &body.0.email)).await?;
    Ok(HttpResponse::Accepted().json(detail(
        "If the address has an unverified account, a new link is on its way.",
    )))
}

#[utoipa::path(post, path = "/api/auth/password/reset", tag = "auth", request_body = EmailInput, responses((status = 202, description = "Sent if the address exists")))]
pub async fn reset(
    st: State,
    caller: Caller,
    body: JsonBody<EmailInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .run(&st, move |core, ctx| {
            accounts::request_reset(core, ctx, &body.0.email)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(detail(
        "If the address has an account, a reset link is on its way.",
    )))
}

#[utoipa::path(post, path = "/api/auth/password/reset/confirm", tag = "auth", request_body = ResetConfirmInput, responses((status = 200, description = "Password set; every login revoked")))]
pub async fn reset_confirm(
    st: State,
    caller: Caller,
    body: JsonBody<ResetConfirmInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .run(&st, move |core, ctx| {
            accounts::confirm_reset(core, ctx, body.0)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail(
        "Password changed; every session and token was revoked.",
    )))
}

#[utoipa::path(post, path = "/api/auth/password/change", tag = "auth", request_body = ChangePasswordInput, responses((status = 200, description = "Password changed; other logins revoked")))]
pub async fn change(
    st: State,
    caller: Caller,
    body: JsonBody<ChangePasswordInput>,
) -> Result<HttpResponse, ApiError> {
    caller
        .run(&st, move |core, ctx| {
            accounts::change_password(core, ctx, body.0)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail(
        "Password changed; your other sessions and tokens were revoked.",
    )))
}
